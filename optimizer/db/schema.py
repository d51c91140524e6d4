"""The stored tables: goals, strategies, audit templates, audits, plans and actions.

Rows refer to goals and strategies by name, not by key, so an audit keeps
its meaning when a strategy plugin is uninstalled. Every audit-side table
has a 36-character ``uuid`` that users see and an integer ``id`` that joins
use. Changing a table means a new Alembic revision under ``migrations``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from optimizer.db.types import UUID_LENGTH, JSONDocument, UTCDateTime, new_uuid, utcnow

NAME_LENGTH = 255
STATE_LENGTH = 20


class Base(DeclarativeBase):
    """Declarative base of every optimizer table."""

    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONDocument,
                           list[Any]: JSONDocument}


class Timestamps:
    """``created_at`` and ``updated_at``, kept by the ORM."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _uuid_column() -> Mapped[str]:
    return mapped_column(String(UUID_LENGTH), unique=True, default=new_uuid)


class GoalRow(Base):
    """A goal audits can ask for, synced from the installed strategies."""

    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    display_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")


class StrategyRow(Base):
    """An installed strategy and the JSON schema of its parameters."""

    __tablename__ = "strategies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    goal: Mapped[str] = mapped_column(String(NAME_LENGTH))
    display_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")
    parameters_schema: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AuditTemplateRow(Timestamps, Base):
    """A saved audit definition: goal, strategy, parameters and scope under a name."""

    __tablename__ = "audit_templates"
    # Names are unique among templates that are not deleted, so a name can be reused.
    __table_args__ = (Index("ix_audit_templates_live_name", "name", unique=True,
                            sqlite_where=text("deleted_at IS NULL"),
                            postgresql_where=text("deleted_at IS NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = _uuid_column()
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")
    goal: Mapped[str] = mapped_column(String(NAME_LENGTH))
    strategy: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    scope: Mapped[list[Any]] = mapped_column(default=list)
    auto_trigger: Mapped[bool] = mapped_column(default=False)
    # limits on automatic execution of its audits' plans (see optimizer.guard_rails)
    guard_rails: Mapped[dict[str, Any] | None] = mapped_column(default=dict)
    deleted_at: Mapped[datetime | None]


class AuditRow(Timestamps, Base):
    """One request to optimise: once, on a schedule or on an event."""

    __tablename__ = "audits"
    __table_args__ = (Index("ix_audits_live_name", "name", unique=True,
                            sqlite_where=text("deleted_at IS NULL"),
                            postgresql_where=text("deleted_at IS NULL")),
                      Index("ix_audits_state", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = _uuid_column()
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    audit_type: Mapped[str] = mapped_column(String(STATE_LENGTH))
    state: Mapped[str] = mapped_column(String(STATE_LENGTH))
    goal: Mapped[str] = mapped_column(String(NAME_LENGTH))
    strategy: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    scope: Mapped[list[Any]] = mapped_column(default=list)
    # Seconds between runs ("3600") or a cron expression ("0 * * * *").
    interval: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    start_time: Mapped[datetime | None]
    end_time: Mapped[datetime | None]
    auto_trigger: Mapped[bool] = mapped_column(default=False)
    # Watcher's force: run even while an action plan is ONGOING
    force: Mapped[bool] = mapped_column(default=False, server_default=false())
    # the decision engine host that last ran the audit
    hostname: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("audit_templates.id"))
    status_message: Mapped[str | None] = mapped_column(Text)
    deleted_at: Mapped[datetime | None]

    template: Mapped[AuditTemplateRow | None] = relationship(lazy="joined")


class ActionPlanRow(Timestamps, Base):
    """What an audit proposes: ordered actions, their effect and their state."""

    __tablename__ = "action_plans"
    __table_args__ = (Index("ix_action_plans_state", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = _uuid_column()
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id"), index=True)
    strategy: Mapped[str] = mapped_column(String(NAME_LENGTH))
    state: Mapped[str] = mapped_column(String(STATE_LENGTH))
    global_efficacy: Mapped[list[Any]] = mapped_column(default=list)
    estimated_duration_s: Mapped[float | None] = mapped_column(Float)
    # {host name: {"instances_before": n, "instances_after": m, ...}}
    host_changes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status_message: Mapped[str | None] = mapped_column(Text)
    deleted_at: Mapped[datetime | None]
    # Set by the applier: how failures are handled, and who runs the plan (with a heartbeat).
    failure_policy: Mapped[str | None] = mapped_column(String(STATE_LENGTH))
    revert_on_failure: Mapped[bool | None]
    owner: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    heartbeat_at: Mapped[datetime | None]
    # predicted beside measured indicators once the plan ended (optimizer.efficacy)
    measured_efficacy: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)

    audit: Mapped[AuditRow] = relationship(lazy="joined")
    indicators: Mapped[list[IndicatorRow]] = relationship(
        lazy="selectin", order_by="IndicatorRow.id", viewonly=True)


class ActionRow(Timestamps, Base):
    """One step of a plan; ``parents`` are indices of actions that must finish first."""

    __tablename__ = "actions"
    __table_args__ = (UniqueConstraint("action_plan_id", "index",
                                       name="uq_actions_plan_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = _uuid_column()
    action_plan_id: Mapped[int] = mapped_column(ForeignKey("action_plans.id"))
    index: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(NAME_LENGTH))
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    parents: Mapped[list[Any]] = mapped_column(default=list)
    state: Mapped[str] = mapped_column(String(STATE_LENGTH))
    status_message: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")
    # The actuator's id of the step in flight, so a restarted applier can find it.
    operation: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    moved_memory_mb: Mapped[float | None] = mapped_column(Float)
    # seconds from start to final state, as the applier saw them
    duration_s: Mapped[float | None] = mapped_column(Float)


class IndicatorRow(Base):
    """One efficacy indicator of a plan, e.g. hosts released."""

    __tablename__ = "efficacy_indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_plan_id: Mapped[int] = mapped_column(ForeignKey("action_plans.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    value: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    description: Mapped[str] = mapped_column(Text, default="")


class MigrationBandwidthRow(Base):
    """Migration bandwidth learnt from measured durations, per host pair ("*", "*": all)."""

    __tablename__ = "migration_bandwidth"
    __table_args__ = (UniqueConstraint("source", "destination",
                                       name="uq_migration_bandwidth_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(NAME_LENGTH))
    destination: Mapped[str] = mapped_column(String(NAME_LENGTH))
    mb_s: Mapped[float] = mapped_column(Float)
    samples: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TraceSpanRow(Base):
    """One finished span of a trace (see :mod:`optimizer.tracing`), for ``audit show --trace``.

    ``audit_uuid`` is set on the spans that know their audit; the others
    belong to it through their ``trace_id``.
    """

    __tablename__ = "trace_spans"

    id: Mapped[int] = mapped_column(primary_key=True)
    trace_id: Mapped[str] = mapped_column(String(32), index=True)
    span_id: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    service: Mapped[str | None] = mapped_column(String(64))
    audit_uuid: Mapped[str | None] = mapped_column(String(UUID_LENGTH), index=True)
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(STATE_LENGTH), default="OK")
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)


TABLE_NAMES = tuple(Base.metadata.tables)
