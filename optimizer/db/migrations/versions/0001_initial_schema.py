"""Initial schema: goals, strategies, audit templates, audits, action plans, actions.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Spelled out here rather than imported, so this revision never changes.
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
NAME = sa.String(length=255)
STATE = sa.String(length=20)
UUID = sa.String(length=36)
LIVE_ONLY = {"sqlite_where": sa.text("deleted_at IS NULL"),
             "postgresql_where": sa.text("deleted_at IS NULL")}


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _timestamps() -> list[sa.Column]:
    return [_timestamp("created_at"), _timestamp("updated_at")]


def upgrade() -> None:
    op.create_table(
        "goals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", NAME, nullable=False, unique=True),
        sa.Column("display_name", NAME, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
    )
    op.create_table(
        "strategies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", NAME, nullable=False, unique=True),
        sa.Column("goal", NAME, nullable=False),
        sa.Column("display_name", NAME, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("parameters_schema", JSON_DOCUMENT, nullable=False),
    )
    op.create_table(
        "audit_templates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uuid", UUID, nullable=False, unique=True),
        sa.Column("name", NAME, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("goal", NAME, nullable=False),
        sa.Column("strategy", NAME, nullable=True),
        sa.Column("parameters", JSON_DOCUMENT, nullable=False),
        sa.Column("scope", JSON_DOCUMENT, nullable=False),
        sa.Column("auto_trigger", sa.Boolean(), nullable=False),
        _timestamp("deleted_at", nullable=True),
        *_timestamps(),
    )
    op.create_index("ix_audit_templates_live_name", "audit_templates", ["name"], unique=True,
                    **LIVE_ONLY)
    op.create_table(
        "audits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uuid", UUID, nullable=False, unique=True),
        sa.Column("name", NAME, nullable=False),
        sa.Column("audit_type", STATE, nullable=False),
        sa.Column("state", STATE, nullable=False),
        sa.Column("goal", NAME, nullable=False),
        sa.Column("strategy", NAME, nullable=True),
        sa.Column("parameters", JSON_DOCUMENT, nullable=False),
        sa.Column("scope", JSON_DOCUMENT, nullable=False),
        sa.Column("interval", NAME, nullable=True),
        _timestamp("start_time", nullable=True),
        _timestamp("end_time", nullable=True),
        sa.Column("auto_trigger", sa.Boolean(), nullable=False),
        sa.Column("template_id", sa.Integer(), sa.ForeignKey("audit_templates.id"),
                  nullable=True),
        sa.Column("status_message", sa.Text(), nullable=True),
        _timestamp("deleted_at", nullable=True),
        *_timestamps(),
    )
    op.create_index("ix_audits_live_name", "audits", ["name"], unique=True, **LIVE_ONLY)
    op.create_index("ix_audits_state", "audits", ["state"])
    op.create_table(
        "action_plans",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uuid", UUID, nullable=False, unique=True),
        sa.Column("audit_id", sa.Integer(), sa.ForeignKey("audits.id"), nullable=False),
        sa.Column("strategy", NAME, nullable=False),
        sa.Column("state", STATE, nullable=False),
        sa.Column("global_efficacy", JSON_DOCUMENT, nullable=False),
        sa.Column("estimated_duration_s", sa.Float(), nullable=True),
        sa.Column("host_changes", JSON_DOCUMENT, nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        _timestamp("deleted_at", nullable=True),
        *_timestamps(),
    )
    op.create_index("ix_action_plans_audit_id", "action_plans", ["audit_id"])
    op.create_index("ix_action_plans_state", "action_plans", ["state"])
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uuid", UUID, nullable=False, unique=True),
        sa.Column("action_plan_id", sa.Integer(), sa.ForeignKey("action_plans.id"),
                  nullable=False),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("type", NAME, nullable=False),
        sa.Column("parameters", JSON_DOCUMENT, nullable=False),
        sa.Column("parents", JSON_DOCUMENT, nullable=False),
        sa.Column("state", STATE, nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("action_plan_id", "index", name="uq_actions_plan_index"),
    )
    op.create_table(
        "efficacy_indicators",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("action_plan_id", sa.Integer(), sa.ForeignKey("action_plans.id"),
                  nullable=False),
        sa.Column("name", NAME, nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("unit", NAME, nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
    )
    op.create_index("ix_efficacy_indicators_action_plan_id", "efficacy_indicators",
                    ["action_plan_id"])


def downgrade() -> None:
    for table in ("efficacy_indicators", "actions", "action_plans", "audits",
                  "audit_templates", "strategies", "goals"):
        op.drop_table(table)
