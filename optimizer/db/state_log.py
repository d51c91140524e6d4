"""State changes made in a session, logged once its transaction commits.

The storage functions that change a state call :func:`note` with the ids
they know; the lines (:func:`optimizer.observability.logs.state_changed`)
are written by the session's ``after_commit`` event, so a change rolled
back or retried is never logged as done. Nothing is kept when the
``optimizer.state`` logger is off (the CLI's default).
"""
from __future__ import annotations

import logging

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from optimizer.observability.logs import STATE_LOG, state_changed

_CHANGES = "optimizer_state_changes"


def note(session: Session, kind: str, uuid: str, old: str | None, new: str,
         **ids: str | None) -> None:
    """Log ``kind`` ``uuid`` ``old`` → ``new`` when ``session`` commits."""
    if STATE_LOG.isEnabledFor(logging.INFO):
        session.info.setdefault(_CHANGES, []).append((kind, uuid, old, new, ids))


def wanted() -> bool:
    """Whether noted changes are logged at all (worth an extra query for an id)."""
    return STATE_LOG.isEnabledFor(logging.INFO)


@event.listens_for(Session, "after_commit")
def _log_committed(session: Session) -> None:
    for kind, uuid, old, new, ids in session.info.pop(_CHANGES, ()):
        state_changed(kind, uuid, old, new, **ids)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_CHANGES, None)


def note_row(session: Session, kind: str, row, old: str | None) -> None:
    """:func:`note` for a stored ``row`` of ``kind`` (audit, action plan, action) now in
    ``row.state``, with the uuids of the audit and the plan it belongs to."""
    if not wanted():
        return
    from optimizer.db.schema import ActionPlanRow, AuditRow

    ids: dict[str, str | None] = {}
    if kind == "action plan":
        ids["audit"] = session.scalar(select(AuditRow.uuid).where(AuditRow.id == row.audit_id))
    elif kind == "action":
        plan = session.execute(select(ActionPlanRow.uuid, AuditRow.uuid)
                               .join(AuditRow, AuditRow.id == ActionPlanRow.audit_id)
                               .where(ActionPlanRow.id == row.action_plan_id)).first()
        if plan is not None:
            ids = {"action_plan": plan[0], "audit": plan[1]}
    note(session, kind.replace(" ", "_"), row.uuid, old, row.state, **ids)


def note_many(session: Session, kind: str, uuids, old: str, new: str,
              **ids: str | None) -> None:
    """:func:`note` for rows a bulk update moved together from ``old`` to ``new``."""
    for uuid in uuids:
        note(session, kind, uuid, old, new, **ids)
