"""Audits: stored requests to optimise, and their life cycle."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from optimizer import states
from optimizer.db import query, state_log
from optimizer.db.errors import AlreadyExists, InvalidValue, NotFound, StillRunning
from optimizer.db.query import Page, Table
from optimizer.db.schema import ActionPlanRow, AuditRow, AuditTemplateRow
from optimizer.db.types import utcnow
from optimizer.states import ActionPlanState, AuditState, AuditType

AUDITS = Table(
    AuditRow, "audit",
    filters=("state", "audit_type", "goal", "strategy", "name", "template_id", "auto_trigger"),
    sort_keys=("id", "name", "created_at", "updated_at", "state", "audit_type", "goal"),
    editable=("name", "state", "status_message", "parameters", "scope", "interval",
              "start_time", "end_time", "auto_trigger"),
    by_name=True,
)


def create_audit(session: Session, *, goal: str, audit_type: str = AuditType.ONESHOT,
                 name: str | None = None, strategy: str | None = None,
                 parameters: Mapping[str, Any] | None = None, scope: list | None = None,
                 interval: str | int | None = None, start_time: datetime | None = None,
                 end_time: datetime | None = None, auto_trigger: bool = False,
                 force: bool = False, template: AuditTemplateRow | None = None) -> AuditRow:
    """A new PENDING audit; without a name it is called ``<goal>-<UTC time>``."""
    if audit_type not in states.AUDIT_TYPES:
        raise InvalidValue(f"audit type {audit_type!r} does not exist "
                                 f"(types: {', '.join(states.AUDIT_TYPES)})")
    if audit_type == AuditType.CONTINUOUS and interval is None:
        raise InvalidValue("a CONTINUOUS audit needs an interval "
                                 "(seconds, or a cron expression such as '0 * * * *')")
    for field, value in (("start_time", start_time), ("end_time", end_time)):
        if value is not None and value.tzinfo is None:
            raise InvalidValue(f"audit {field} {value.isoformat()} needs a time zone "
                               "(e.g. 2025-01-31T22:00:00+00:00)")
    name = name or _default_name(session, goal)
    _check_name_free(session, name)
    row = AuditRow(
        name=name, audit_type=audit_type, state=states.INITIAL_STATE["audit"], goal=goal,
        strategy=strategy, parameters=dict(parameters or {}), scope=list(scope or []),
        interval=None if interval is None else str(interval), start_time=start_time,
        end_time=end_time, auto_trigger=auto_trigger, force=force,
        template_id=template.id if template is not None else None)
    session.add(row)
    session.flush()
    state_log.note(session, "audit", row.uuid, None, row.state)
    return row


def create_audit_from_template(session: Session, template: AuditTemplateRow,
                               **overrides: Any) -> AuditRow:
    """A new audit with the template's goal, strategy, parameters and scope."""
    fields = {"goal": template.goal, "strategy": template.strategy,
              "parameters": template.parameters, "scope": template.scope,
              "auto_trigger": template.auto_trigger}
    return create_audit(session, template=template, **{**fields, **overrides})


def get_audit(session: Session, ident: str, include_deleted: bool = False) -> AuditRow:
    """The audit with this uuid or name (deleted ones only if asked)."""
    return query.find(session, AUDITS, ident, include_deleted)


def list_audits(session: Session, filters: Mapping[str, Any] | None = None,
                page: Page | None = None, include_deleted: bool = False) -> list[AuditRow]:
    """One page of audits matching ``filters``."""
    return query.list_rows(session, AUDITS, filters, page, include_deleted)


def update_audit(session: Session, ident: str, expect_state: str | None = None,
                 **changes: Any) -> AuditRow:
    """Change an audit; a state change must follow the audit life cycle.

    With ``expect_state`` the change happens only if the audit is still in it.
    """
    row = get_audit(session, ident)
    if "name" in changes and changes["name"] != row.name:
        _check_name_free(session, changes["name"])
    return query.change(session, AUDITS, row, changes, expect_state)


def set_audit_state(session: Session, ident: str, state: str,
                    message: str | None = None, expect: str | None = None) -> AuditRow:
    """Move an audit to ``state``, recording why; only from ``expect`` when given."""
    return update_audit(session, ident, expect_state=expect, state=state,
                        status_message=message)


def delete_audit(session: Session, ident: str) -> AuditRow:
    """Soft-delete an audit and its finished plans.

    A plan still RECOMMENDED is cancelled first (nothing has run); a plan
    PENDING, ONGOING or CANCELLING must be stopped by the applier, so the
    deletion is refused naming it.
    """
    from optimizer.db.action_plans import PLANS  # action_plans imports this module

    row = get_audit(session, ident)
    plans = session.scalars(select(ActionPlanRow).where(
        ActionPlanRow.audit_id == row.id, ActionPlanRow.state != ActionPlanState.DELETED)).all()
    busy = [p for p in plans if p.state in (ActionPlanState.PENDING, ActionPlanState.ONGOING,
                                            ActionPlanState.CANCELLING)]
    if busy:
        raise StillRunning(
            f"audit {row.name} ({row.uuid}) cannot be deleted: action plan {busy[0].uuid} "
            f"is {busy[0].state}; cancel it first")
    for plan in plans:
        if plan.state == ActionPlanState.RECOMMENDED:
            query.change(session, PLANS, plan, {"state": ActionPlanState.CANCELLED})
        query.change(session, PLANS, plan, {"state": ActionPlanState.DELETED})
    return query.change(session, AUDITS, row, {"state": AuditState.DELETED})


def _default_name(session: Session, goal: str) -> str:
    """``<goal>-<UTC time to the second>``, with ``-2``, ``-3``... if that is taken."""
    base = f"{goal}-{utcnow():%Y%m%dT%H%M%SZ}"
    taken = set(session.scalars(select(AuditRow.name).where(
        AuditRow.name.startswith(base, autoescape=True), AuditRow.deleted_at.is_(None))))
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}-{k}"
    return name


def _check_name_free(session: Session, name: str) -> None:
    try:
        get_audit(session, name)
    except NotFound:
        return
    raise AlreadyExists(f"audit {name!r} already exists")
