"""``/v1/actions``: the steps of action plans; a PENDING one can be skipped.

Actions are stored with ``parents`` as indices into their plan; the API
shows them as the parents' uuids, as Watcher does, resolved with one query
per page.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from optimizer import operations
from optimizer.api.action_plans import check_uuid
from optimizer.api.errors import BadRequest, Conflict
from optimizer.api.microversion import SKIP_ACTION, version_of
from optimizer.api.pagination import next_link, parse_list_query
from optimizer.api.patch import PatchOperation, apply_patch
from optimizer.api.views import iso, links
from optimizer.db import get_action, get_audit, set_action_state
from optimizer.db.action_plans import ACTIONS
from optimizer.db.errors import NotFound
from optimizer.db.query import _paginate as paginate
from optimizer.db.schema import ActionPlanRow, ActionRow
from optimizer.states import ActionState

router = APIRouter(prefix="/v1/actions", tags=["actions"])

# "id" is the storage order, which is each plan's execution order
SORT_KEYS = ("id", "created_at", "updated_at", "state", "action_type")
FILTERS = ("action_plan_uuid", "audit_uuid", "state", "action_type")
_COLUMNS = {"action_type": "type"}
_ROW_COLUMNS = (ActionRow.id, ActionRow.uuid, ActionRow.action_plan_id, ActionRow.index,
                ActionRow.type, ActionRow.parameters, ActionRow.parents, ActionRow.state,
                ActionRow.reason, ActionRow.status_message, ActionRow.created_at,
                ActionRow.updated_at)
# what a list without detail shows: no parameters to decode, no times to format
_SHORT_COLUMNS = (ActionRow.id, ActionRow.uuid, ActionRow.action_plan_id, ActionRow.index,
                  ActionRow.type, ActionRow.parents, ActionRow.state)


def actions_view(request: Request, session: Session, rows: list[ActionRow]) -> list[dict]:
    """Watcher's representation of a page of actions."""
    plan_uuids = dict(session.execute(
        select(ActionPlanRow.id, ActionPlanRow.uuid)
        .where(ActionPlanRow.id.in_({row.action_plan_id for row in rows}))).all())
    parents = _parent_uuids(session, rows)
    with_message = version_of(request) >= SKIP_ACTION
    views = []
    for row in rows:
        view = {"uuid": row.uuid, "action_plan_uuid": plan_uuids.get(row.action_plan_id),
                "action_type": row.type, "input_parameters": row.parameters,
                "state": row.state, "description": row.reason,
                "parents": [parents[(row.action_plan_id, p)] for p in row.parents],
                "created_at": iso(row.created_at), "updated_at": iso(row.updated_at),
                "deleted_at": None, "links": links(request, "actions", row.uuid)}
        if with_message:
            view["status_message"] = row.status_message
        views.append(view)
    return views


def _parent_uuids(session: Session, rows: list[ActionRow]) -> dict[tuple[int, int], str]:
    known = {(row.action_plan_id, row.index): row.uuid for row in rows}
    wanted = sorted({(row.action_plan_id, p) for row in rows for p in row.parents} - set(known))
    for start in range(0, len(wanted), 400):  # keeps bound parameters well under limits
        chunk = wanted[start:start + 400]
        known.update(((plan, index), uuid) for plan, index, uuid in session.execute(
            select(ActionRow.action_plan_id, ActionRow.index, ActionRow.uuid)
            .where(tuple_(ActionRow.action_plan_id, ActionRow.index).in_(chunk))))
    return known


def _plan_key(session: Session, uuid: str):
    """The id and uuid of a live plan (a whole ORM plan, its audit and indicators
    is three times the work, and a list needs only these)."""
    key = session.execute(select(ActionPlanRow.id, ActionPlanRow.uuid).where(
        ActionPlanRow.uuid == uuid, ActionPlanRow.deleted_at.is_(None)).limit(1)).first()
    if key is None:
        raise NotFound(f"action plan {uuid!r} not found")
    return key


def _short_view(request: Request, session: Session, rows: list, plan=None) -> list[dict]:
    """The short representation of a page of actions (lists without ``detail``)."""
    plan_ids = {row.action_plan_id for row in rows}
    if plan is not None and plan_ids <= {plan.id}:  # the plan asked for: no need to look
        plan_uuids = {plan.id: plan.uuid}
    else:
        plan_uuids = dict(session.execute(
            select(ActionPlanRow.id, ActionPlanRow.uuid)
            .where(ActionPlanRow.id.in_(plan_ids))).all())
    parents = _parent_uuids(session, rows)
    return [{"uuid": row.uuid, "parents": [parents[(row.action_plan_id, p)] for p in row.parents],
             "state": row.state, "action_plan_uuid": plan_uuids.get(row.action_plan_id),
             "action_type": row.type, "links": links(request, "actions", row.uuid)}
            for row in rows]


def _action_rows(session: Session, plan, filters: dict[str, Any], page,
                 columns: tuple = _ROW_COLUMNS) -> list:
    """A page of actions as plain rows: the storage layer's filters and keyset paging,
    without building ORM objects (a third of the time of a 1000-action page)."""
    base = select(*columns)
    if plan is not None:
        base = base.where(ActionRow.action_plan_id == plan.id)
    for name, value in filters.items():
        if name not in ACTIONS.filters:
            raise BadRequest(f"cannot filter actions by {name!r}")
        column = getattr(ActionRow, name)
        base = base.where(column.in_(value) if isinstance(value, list) else column == value)
    return list(session.execute(paginate(session, ACTIONS, base, page)))


def _list(request: Request, detail: bool) -> dict:
    query = parse_list_query(request, FILTERS, SORT_KEYS)
    filters: dict[str, Any] = {_COLUMNS.get(k, k): v for k, v in query.filters.items()}
    page = query.page
    if page.sort_key in _COLUMNS:
        page = type(page)(page.limit, page.marker, _COLUMNS[page.sort_key], page.sort_dir)
    with request.app.state.ctx.database.session() as session:
        plan = None
        try:
            if "action_plan_uuid" in filters:
                plan = _plan_key(session, check_uuid("action plan",
                                                     filters.pop("action_plan_uuid")))
            if "audit_uuid" in filters:
                audit = get_audit(session, filters.pop("audit_uuid"))
                filters["action_plan_id"] = list(session.scalars(
                    select(ActionPlanRow.id).where(ActionPlanRow.audit_id == audit.id)))
        except NotFound:
            return {"actions": [], "next": None}  # an unknown plan or audit has no actions
        if detail:
            items = actions_view(request, session, _action_rows(session, plan, filters, page))
        else:
            rows = _action_rows(session, plan, filters, page, _SHORT_COLUMNS)
            items = _short_view(request, session, rows, plan)
    resource = "actions/detail" if detail else "actions"
    return {"actions": items, "next": next_link(request, resource, query, items)}


@router.get("", summary="List actions", response_model=None)
def list_all(request: Request) -> JSONResponse:
    # a page holds up to 1000 actions: plain JSON values go straight to json.dumps
    return JSONResponse(_list(request, detail=False))


@router.get("/detail", summary="List actions with details", response_model=None)
def list_detail(request: Request) -> JSONResponse:
    return JSONResponse(_list(request, detail=True))


@router.get("/{action}", summary="Show an action")
def show(request: Request, action: str) -> dict:
    with request.app.state.ctx.database.session() as session:
        row = get_action(session, check_uuid("action", action))
        return actions_view(request, session, [row])[0]


@router.patch("/{action}", summary="Skip a PENDING action (API 1.5)")
def patch(request: Request, action: str, operations_: list[PatchOperation]) -> dict:
    uuid = check_uuid("action", action)
    if version_of(request) < SKIP_ACTION:
        raise BadRequest(f"changing an action needs API version {SKIP_ACTION} or later")
    ctx = request.app.state.ctx
    with ctx.database.session() as session:
        row = get_action(session, uuid)
        current = {"state": row.state, "status_message": row.status_message}
    changed = apply_patch(current, operations_, ("state", "status_message"))
    state = changed.get("state", current["state"])
    message = changed.get("status_message", current["status_message"])
    if message is not None and not isinstance(message, str):
        raise BadRequest("status_message must be a string")
    if state != ActionState.SKIPPED:
        raise BadRequest(f"an action's state can only be set to SKIPPED, not {state!r}")
    if "state" in changed:
        if current["state"] != ActionState.PENDING:
            raise Conflict(f"action {uuid} is {current['state']}; only a PENDING action "
                           "can be skipped")
        operations.skip_action(ctx, uuid, message or "skipped by request")
    elif "status_message" in changed:
        with ctx.database.session() as session:
            set_action_state(session, uuid, ActionState.SKIPPED, message)
    with ctx.database.session() as session:
        return actions_view(request, session, [get_action(session, uuid)])[0]
