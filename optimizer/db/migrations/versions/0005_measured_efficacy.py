"""Measured efficacy: what a finished plan really did, per-action durations, learnt bandwidth.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Spelled out here rather than imported, so this revision never changes.
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("action_plans") as batch:
        # predicted beside measured indicators, written once the plan has ended
        batch.add_column(sa.Column("measured_efficacy", JSON_DOCUMENT, nullable=True))
    with op.batch_alter_table("actions") as batch:
        # seconds from start to final state, as the applier saw them
        batch.add_column(sa.Column("duration_s", sa.Float(), nullable=True))
    op.create_table(
        "migration_bandwidth",
        sa.Column("id", sa.Integer(), primary_key=True),
        # "*" and "*" is the learnt bandwidth over every pair
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("destination", sa.String(255), nullable=False),
        sa.Column("mb_s", sa.Float(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source", "destination", name="uq_migration_bandwidth_pair"),
    )


def downgrade() -> None:
    op.drop_table("migration_bandwidth")
    with op.batch_alter_table("actions") as batch:
        batch.drop_column("duration_s")
    with op.batch_alter_table("action_plans") as batch:
        batch.drop_column("measured_efficacy")
