"""Applier columns: in-flight operations, attempts, moved memory; plan owner and policy.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("actions") as batch:
        # The actuator's id of the step in flight (e.g. a migration id), for recovery.
        batch.add_column(sa.Column("operation", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("moved_memory_mb", sa.Float(), nullable=True))
    with op.batch_alter_table("action_plans") as batch:
        batch.add_column(sa.Column("failure_policy", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("revert_on_failure", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("owner", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action_plans") as batch:
        for name in ("heartbeat_at", "owner", "revert_on_failure", "failure_policy"):
            batch.drop_column(name)
    with op.batch_alter_table("actions") as batch:
        for name in ("moved_memory_mb", "attempts", "operation"):
            batch.drop_column(name)
