"""Guard rails on audit templates: limits for automatic execution.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("audit_templates") as batch:
        batch.add_column(sa.Column("guard_rails", JSON_DOCUMENT, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_templates") as batch:
        batch.drop_column("guard_rails")
