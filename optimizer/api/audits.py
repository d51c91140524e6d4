"""``/v1/audits``: requests to optimise, once, on a schedule or on an event.

Creating a ONESHOT audit dispatches it at once (``dispatcher.trigger_audit``);
CONTINUOUS audits are picked up by the scheduler, EVENT audits by
``POST /v1/webhooks/{audit}``.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from optimizer import operations
from optimizer.api.errors import BadRequest
from optimizer.api.goals import goal_name
from optimizer.api.microversion import FORCE, SKIP_ACTION, START_END_TIME, version_of
from optimizer.api.pagination import next_link, parse_list_query
from optimizer.api.patch import PatchOperation, apply_patch
from optimizer.api.strategies import strategy_name
from optimizer.api.views import goal_uuid, iso, links, only, strategy_uuid
from optimizer.db import delete_audit, get_audit, get_audit_template, list_audits, update_audit
from optimizer.db.errors import NotFound
from optimizer.scheduler.next_runs import next_run_times
from optimizer.states import AUDIT_TYPES, AuditState, AuditType

router = APIRouter(prefix="/v1/audits", tags=["audits"])

SHORT = ("uuid", "name", "audit_type", "state", "goal_uuid", "goal_name", "strategy_uuid",
         "strategy_name", "interval", "scope", "auto_trigger", "next_run_time", "links")
SORT_KEYS = ("id", "name", "created_at", "updated_at", "state", "audit_type", "goal")
FILTERS = ("goal", "strategy", "audit_template", "state", "audit_type", "name")
EDITABLE = ("state", "name", "parameters", "interval", "scope", "auto_trigger",
            "start_time", "end_time")
# What a user may ask of an audit's state; the rest belongs to the engine.
USER_STATES = (AuditState.SUSPENDED, AuditState.ONGOING, AuditState.CANCELLED)


class AuditCreate(BaseModel):
    """The body of ``POST /v1/audits`` (Watcher's fields)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=255)
    audit_template_uuid: str | None = Field(None, description="uuid or name of a template")
    goal: str | None = Field(None, description="uuid or name of the goal")
    strategy: str | None = Field(None, description="uuid or name of the strategy")
    audit_type: str = AuditType.ONESHOT
    parameters: dict[str, Any] = Field(default_factory=dict)
    interval: str | int | None = None
    scope: list[Any] | dict[str, Any] | None = None
    auto_trigger: bool | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    force: bool | None = None


def audit_view(request: Request, row, next_run: datetime | None = None) -> dict:
    """An audit as Watcher shows it; ``next_run`` from :func:`next_run_times`."""
    version = version_of(request)
    view = {"uuid": row.uuid, "name": row.name, "audit_type": row.audit_type,
            "state": row.state, "goal_uuid": goal_uuid(row.goal), "goal_name": row.goal,
            "strategy_uuid": strategy_uuid(row.strategy), "strategy_name": row.strategy,
            "parameters": row.parameters, "interval": row.interval, "scope": row.scope,
            "auto_trigger": row.auto_trigger, "next_run_time": iso(next_run),
            "hostname": row.hostname,
            "audit_template_uuid": row.template.uuid if row.template else None,
            "audit_template_name": row.template.name if row.template else None,
            "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
            "deleted_at": iso(row.deleted_at), "links": links(request, "audits", row.uuid)}
    if version >= START_END_TIME:
        view["start_time"], view["end_time"] = iso(row.start_time), iso(row.end_time)
    if version >= FORCE:
        view["force"] = row.force
    if version >= SKIP_ACTION:
        view["status_message"] = row.status_message
    return view


def _list(request: Request, detail: bool) -> dict:
    query = parse_list_query(request, FILTERS, SORT_KEYS)
    filters: dict[str, Any] = dict(query.filters)
    if "goal" in filters:
        filters["goal"] = goal_name(request, filters["goal"])
    if "strategy" in filters:
        filters["strategy"] = strategy_name(request, filters["strategy"])
    with request.app.state.ctx.database.session() as session:
        if "audit_template" in filters:
            try:
                filters["template_id"] = get_audit_template(
                    session, filters.pop("audit_template")).id
            except NotFound:
                filters["template_id"] = -1  # an unknown template has no audits
        rows = list_audits(session, filters, query.page)
        due = next_run_times(session, [r.uuid for r in rows
                                       if r.audit_type == AuditType.CONTINUOUS])
        items = [audit_view(request, row, due.get(row.uuid)) for row in rows]
    resource = "audits/detail" if detail else "audits"
    return {"audits": [item if detail else only(item, SHORT) for item in items],
            "next": next_link(request, resource, query, items)}


@router.get("", summary="List audits")
def list_all(request: Request) -> dict:
    return _list(request, detail=False)


@router.get("/detail", summary="List audits with details")
def list_detail(request: Request) -> dict:
    return _list(request, detail=True)


@router.get("/{audit}", summary="Show an audit")
def show(request: Request, audit: str) -> dict:
    with request.app.state.ctx.database.session() as session:
        return _shown(request, session, get_audit(session, audit))


def _shown(request: Request, session, row) -> dict:
    due = next_run_times(session, [row.uuid]) if row.audit_type == AuditType.CONTINUOUS else {}
    return audit_view(request, row, due.get(row.uuid))


@router.post("", status_code=201, summary="Create an audit (a ONESHOT one runs at once)")
def create(request: Request, response: Response, body: AuditCreate) -> dict:
    _check_create(request, body)
    ctx = request.app.state.ctx
    row = operations.new_audit(
        ctx, goal=goal_name(request, body.goal) if body.goal else None,
        strategy=strategy_name(request, body.strategy) if body.strategy else None,
        parameters=body.parameters, scope=body.scope, name=body.name,
        audit_type=body.audit_type, interval=body.interval,
        start_time=_utc(body.start_time), end_time=_utc(body.end_time),
        auto_trigger=body.auto_trigger, template=body.audit_template_uuid,
        force=bool(body.force))
    # the answer shows the audit as created: once dispatched it may already be running
    with ctx.database.session() as session:
        view = audit_view(request, get_audit(session, row.uuid))
    if row.audit_type == AuditType.ONESHOT:
        request.app.state.dispatcher.trigger_audit(row.uuid)
    response.headers["Location"] = view["links"][0]["href"]
    return view


def _check_create(request: Request, body: AuditCreate) -> None:
    version = version_of(request)
    if body.audit_type not in AUDIT_TYPES:
        raise BadRequest(f"audit_type {body.audit_type!r} does not exist "
                         f"(types: {', '.join(AUDIT_TYPES)})")
    if body.goal and body.audit_template_uuid:
        raise BadRequest("give either audit_template_uuid or goal, not both")
    if not body.goal and not body.audit_template_uuid:
        raise BadRequest("an audit needs a goal or an audit_template_uuid")
    if body.audit_type == AuditType.ONESHOT and body.interval is not None:
        raise BadRequest("a ONESHOT audit takes no interval")
    if body.audit_type == AuditType.ONESHOT and (body.start_time or body.end_time):
        raise BadRequest("a ONESHOT audit takes no start_time or end_time")
    if (body.start_time or body.end_time) and version < START_END_TIME:
        raise BadRequest(f"start_time and end_time need API version {START_END_TIME} or later")
    if body.force is not None and version < FORCE:
        raise BadRequest(f"force needs API version {FORCE} or later")


@router.patch("/{audit}", summary="Change an audit with a JSON patch (e.g. suspend it)")
def patch(request: Request, audit: str, operations_: list[PatchOperation]) -> dict:
    ctx = request.app.state.ctx
    with ctx.database.session() as session:
        row = get_audit(session, audit)
        current = {"state": row.state, "name": row.name, "parameters": row.parameters,
                   "interval": row.interval, "scope": row.scope,
                   "auto_trigger": row.auto_trigger, "start_time": iso(row.start_time),
                   "end_time": iso(row.end_time)}
        uuid, kind, goal, strategy = row.uuid, row.audit_type, row.goal, row.strategy
    changed = apply_patch(current, operations_, EDITABLE)
    changes = _checked_changes(request, changed, kind, goal, strategy, current)
    if not changes:
        with ctx.database.session() as session:
            return _shown(request, session, get_audit(session, uuid))
    with ctx.database.session() as session:
        return _shown(request, session, update_audit(session, uuid, **changes))


def _checked_changes(request: Request, changed: dict, kind: str, goal: str,
                     strategy: str | None, current: dict) -> dict[str, Any]:
    changes = dict(changed)
    if "state" in changes and changes["state"] not in USER_STATES:
        raise BadRequest(f"state can be set to {', '.join(USER_STATES)} only, "
                         f"not {changes['state']!r}")
    if changes.get("state") == AuditState.SUSPENDED and kind == AuditType.ONESHOT:
        raise BadRequest("a ONESHOT audit cannot be suspended (only CONTINUOUS and EVENT ones)")
    if "name" in changes and (not isinstance(changes["name"], str) or not changes["name"]):
        raise BadRequest("name must be a non-empty string")
    if "auto_trigger" in changes and not isinstance(changes["auto_trigger"], bool):
        raise BadRequest("auto_trigger must be true or false")
    if "interval" in changes:
        value = changes["interval"]
        if kind != AuditType.CONTINUOUS:
            raise BadRequest(f"a {kind} audit has no interval")
        if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
            raise BadRequest("interval must be seconds or a cron expression")
        changes["interval"] = str(value)
    for field in ("start_time", "end_time"):
        if field in changes:
            changes[field] = _utc(_parse_time(field, changes[field]))
    if "parameters" in changes or "scope" in changes:
        parameters = changes.get("parameters", current["parameters"])
        if not isinstance(parameters, dict):
            raise BadRequest("parameters must be an object")
        checked, scope = operations.check_audit_request(
            request.app.state.ctx, goal, strategy, parameters,
            changes.get("scope", current["scope"]))
        if "parameters" in changes:
            changes["parameters"] = checked
        if "scope" in changes:
            changes["scope"] = scope
    return changes


def _parse_time(field: str, value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return TypeAdapter(datetime).validate_python(value)
    except ValidationError:
        raise BadRequest(f"{field} {value!r} is not an ISO 8601 time") from None


def _utc(moment: datetime | None) -> datetime | None:
    """Times without a zone are taken as UTC, as Watcher's API documents."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


@router.delete("/{audit}", status_code=204, summary="Delete an audit and its finished plans")
def delete(request: Request, audit: str) -> Response:
    with request.app.state.ctx.database.session() as session:
        delete_audit(session, audit)
    return Response(status_code=204)
