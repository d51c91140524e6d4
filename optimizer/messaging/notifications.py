"""Notifications of audits, action plans and actions, in Watcher's versioned format.

Nothing in the storage layer knows about them: :func:`watch_database` hooks
SQLAlchemy session events on the service's database and records every
row created, every state change and every soft deletion of the three
tables; after the transaction commits (never before, never on rollback)
the records go to a :class:`NotificationEmitter`, which sends them from
its own thread so commits do not wait on the message bus.

A message looks like Watcher's::

    event_type "audit.update", publisher_id "infra-optim:<host>", priority INFO,
    payload {"watcher_object.name": "AuditUpdatePayload",
             "watcher_object.namespace": "watcher", "watcher_object.version": "1.0",
             "watcher_object.data": {"uuid": ..., "state": "ONGOING", ...,
                 "state_update": {"watcher_object.name": "AuditStateUpdatePayload",
                                  "watcher_object.data": {"old_state": "PENDING",
                                                          "state": "ONGOING"}}}}
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import oslo_messaging
from sqlalchemy import event, select

from optimizer.db.bulk import add_insert_listener
from optimizer.db.engine import Database
from optimizer.db.schema import ActionPlanRow, ActionRow, AuditRow
from optimizer.messaging.transport import notification_transport
from optimizer.observability import current_metrics

LOG = logging.getLogger(__name__)

# table name -> (event prefix, payload name prefix)
KINDS = {"audits": ("audit", "Audit"), "action_plans": ("action_plan", "ActionPlan"),
         "actions": ("action", "Action")}
ROW_TYPES = {AuditRow: "audits", ActionPlanRow: "action_plans", ActionRow: "actions"}
TABLES = {table: row_type.__table__ for row_type, table in ROW_TYPES.items()}
VERB = {"create": "Create", "update": "Update", "delete": "Delete"}
_PENDING = "optimizer_notifications"


def payload(table: str, verb: str, row: Mapping[str, Any], old_state: str | None = None,
            refs: Mapping[str, Any] | None = None) -> tuple[str, dict]:
    """(event type, versioned payload) for one change of one row."""
    prefix, name = KINDS[table]
    data = _fields(table, row, refs or {})
    if verb == "update":
        data["state_update"] = _object(f"{name}StateUpdatePayload",
                                       {"old_state": old_state, "state": row["state"]})
    return f"{prefix}.{verb}", _object(f"{name}{VERB[verb]}Payload", data)


def _object(name: str, data: dict) -> dict:
    return {"watcher_object.name": name, "watcher_object.namespace": "watcher",
            "watcher_object.version": "1.0", "watcher_object.data": data}


def _fields(table: str, row: Mapping[str, Any], refs: Mapping[str, Any]) -> dict:
    common = {"uuid": row["uuid"], "state": row["state"],
              "created_at": _time(row.get("created_at")),
              "updated_at": _time(row.get("updated_at")),
              "deleted_at": _time(row.get("deleted_at"))}
    if table == "audits":
        return {**common, "name": row.get("name"), "audit_type": row.get("audit_type"),
                "goal": row.get("goal"), "strategy": row.get("strategy"),
                "parameters": row.get("parameters") or {}, "scope": row.get("scope") or [],
                "interval": row.get("interval"), "auto_trigger": bool(row.get("auto_trigger")),
                "start_time": _time(row.get("start_time")),
                "end_time": _time(row.get("end_time"))}
    if table == "action_plans":
        return {**common, "audit_uuid": refs.get("audit_uuid"),
                "strategy_name": row.get("strategy"),
                "global_efficacy": row.get("global_efficacy") or []}
    return {**common, "action_type": row.get("type"),
            "input_parameters": row.get("parameters") or {}, "parents": row.get("parents") or [],
            "action_plan_uuid": refs.get("action_plan_uuid")}


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


class NotificationEmitter:
    """Sends notifications from a background thread through an oslo.messaging Notifier."""

    def __init__(self, transport_url: str, topic: str, host: str,
                 database: Database | None = None):
        self.notifier = oslo_messaging.Notifier(
            notification_transport(transport_url), publisher_id=f"infra-optim:{host}",
            driver="messagingv2", topics=[topic])
        self.database = database
        self._queue: queue.Queue = queue.Queue()
        self._uuids: dict[tuple[str, int], str] = {}
        self._thread = threading.Thread(target=self._send_loop, name="notifications",
                                        daemon=True)
        self._thread.start()

    def submit(self, changes: list[tuple]) -> None:
        """Queue (table, verb, row, old_state) changes committed together."""
        self._queue.put((time.monotonic(), changes))

    def flush(self) -> None:
        """Wait until everything submitted so far is sent."""
        self._queue.join()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _send_loop(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                committed, changes = item
                for table, verb, row, old_state in changes:
                    try:
                        event_type, body = payload(table, verb, row, old_state,
                                                   self._refs(table, row))
                        self.notifier.info({}, event_type, body)
                    except Exception:  # a lost notification must not stop the others
                        LOG.exception("notification of %s %s not sent", table, row.get("uuid"))
                current_metrics().notifications_sent(len(changes), time.monotonic() - committed)
            finally:
                self._queue.task_done()

    def _refs(self, table: str, row: Mapping[str, Any]) -> dict:
        if table == "action_plans":
            return {"audit_uuid": self._uuid(AuditRow, row.get("audit_id"))}
        if table == "actions":
            return {"action_plan_uuid": self._uuid(ActionPlanRow, row.get("action_plan_id"))}
        return {}

    def _uuid(self, row_type: type, ident: int | None) -> str | None:
        if ident is None or self.database is None:
            return None
        key = (row_type.__tablename__, ident)
        if key not in self._uuids:
            with self.database.engine.connect() as conn:
                self._uuids[key] = conn.scalar(select(row_type.uuid).where(row_type.id == ident))
        return self._uuids[key]


def watch_database(database: Database, emitter: NotificationEmitter) -> Callable[[], None]:
    """Hook the emitter to sessions of ``database``; returns a function that unhooks it."""
    sessions = database.sessions
    hooks = [("after_flush", _after_flush), ("do_orm_execute", _do_orm_execute),
             ("after_commit", lambda session: _after_commit(session, emitter)),
             ("after_rollback", _after_rollback)]
    for name, hook in hooks:
        event.listen(sessions, name, hook)

    def bulk_inserted(session, table: str, rows: Callable[[], list[dict]]) -> None:
        # a plan's actions are stored by one bulk insert, which the ORM's events miss
        if table in KINDS and session.get_bind() is database.engine:
            _pending(session).extend((table, "create", row, None) for row in rows()
                                     if "uuid" in row)

    remove_bulk_hook = add_insert_listener(bulk_inserted)

    def unhook() -> None:
        for name, hook in hooks:
            event.remove(sessions, name, hook)
        remove_bulk_hook()

    return unhook


def _pending(session) -> list:
    return session.info.setdefault(_PENDING, [])


def _row_dict(obj) -> dict:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


def _after_flush(session, _flush_context) -> None:
    for obj in session.new:
        table = ROW_TYPES.get(type(obj))
        if table:
            _pending(session).append((table, "create", _row_dict(obj), None))
    for obj in session.dirty:
        table = ROW_TYPES.get(type(obj))
        if not table:
            continue
        history = event_history(obj, "state")
        if history is not None:
            verb = "delete" if obj.state == "DELETED" else "update"
            _pending(session).append((table, verb, _row_dict(obj), history))


def event_history(obj, attribute: str) -> str | None:
    """The value ``attribute`` had before this flush, if it changed."""
    from sqlalchemy import inspect

    added, _, deleted = inspect(obj).attrs[attribute].history
    return deleted[0] if added and deleted else None


def _do_orm_execute(state):
    statement = state.statement
    table = getattr(getattr(statement, "table", None), "name", None)
    if table not in KINDS:
        return None
    if state.is_insert:
        rows = state.parameters if isinstance(state.parameters, list) else [state.parameters]
        result = state.invoke_statement()
        _pending(state.session).extend((table, "create", dict(r), None) for r in rows
                                       if r and "uuid" in r)
        return result
    if not state.is_update or statement.whereclause is None:
        return None
    plain = TABLES[table]
    before = dict(state.session.execute(
        select(plain.c.id, plain.c.state).where(statement.whereclause)).all())
    result = state.invoke_statement()
    if before:
        after = state.session.execute(select(plain).where(
            plain.c.id.in_(list(before)))).mappings().all()
        for row in after:
            old = before.get(row["id"])
            if old != row["state"]:
                verb = "delete" if row["state"] == "DELETED" else "update"
                _pending(state.session).append((table, verb, dict(row), old))
    return result


def _after_commit(session, emitter: NotificationEmitter) -> None:
    changes = session.info.pop(_PENDING, None)
    if changes:
        emitter.submit(changes)


def _after_rollback(session) -> None:
    session.info.pop(_PENDING, None)
