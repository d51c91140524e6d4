"""``/v1/action_plans``: what audits recommend; started, cancelled or deleted here.

Starting a plan (``POST .../start``, or a PATCH of its state to PENDING)
checks that the cloud still matches what the audit saw: the plan becomes
PENDING and is handed to the applier (``dispatcher.launch_plan``), or
SUPERSEDED with the reason in ``status_message``.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from optimizer import operations
from optimizer.api.errors import BadRequest, Conflict
from optimizer.api.microversion import SKIP_ACTION, version_of
from optimizer.api.pagination import next_link, parse_list_query
from optimizer.api.patch import PatchOperation, apply_patch
from optimizer.api.strategies import strategy_name
from optimizer.api.views import iso, links, only, strategy_uuid
from optimizer.db import delete_action_plan, get_action_plan, get_audit
from optimizer.db.action_plans import PLANS
from optimizer.db.errors import NotFound
from optimizer.db.query import is_uuid, list_columns
from optimizer.db.schema import ActionPlanRow, AuditRow, IndicatorRow
from optimizer.states import ActionPlanState
from optimizer.strategies.base import global_efficacy

router = APIRouter(prefix="/v1/action_plans", tags=["action plans"])

SHORT = ("uuid", "audit_uuid", "strategy_uuid", "strategy_name", "state",
         "efficacy_indicators", "global_efficacy", "updated_at", "links")
SORT_KEYS = ("id", "created_at", "updated_at", "state")
FILTERS = ("audit_uuid", "strategy", "state")


def check_uuid(kind: str, ident: str) -> str:
    """``ident`` if it is written as a UUID; a 400 naming it otherwise."""
    if not is_uuid(ident):
        raise BadRequest(f"{kind} id {ident!r} is not a UUID")
    return ident


def plan_view(request: Request, row, audit_uuid: str | None = None,
              indicators: Sequence[Any] | None = None) -> dict:
    """Watcher's representation of a plan: an ORM row, or a listed row with its
    audit's uuid and its indicators given beside it."""
    audit_uuid = row.audit.uuid if audit_uuid is None else audit_uuid
    indicators = row.indicators if indicators is None else indicators
    view = {"uuid": row.uuid, "audit_uuid": audit_uuid,
            "strategy_uuid": strategy_uuid(row.strategy), "strategy_name": row.strategy,
            "state": row.state,
            "efficacy_indicators": [{"name": i.name, "description": i.description,
                                     "unit": i.unit, "value": _finite(i.value)}
                                    for i in indicators],
            "global_efficacy": _global_efficacy(request, row.strategy, indicators,
                                                row.global_efficacy),
            "hostname": None, "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at), "deleted_at": iso(row.deleted_at),
            "links": links(request, "action_plans", row.uuid)}
    if version_of(request) >= SKIP_ACTION:
        view["status_message"] = row.status_message
    return view


def _global_efficacy(request: Request, strategy: str, indicators: Sequence[Any],
                     stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The goal's summary figure as Watcher gives it, else the stored figures.

    Only numbers: Watcher's clients print each entry as a number with its
    unit, so the stored strategy comparison (a list) stays in the CLI's view.
    """
    found = request.app.state.ctx.strategies.loaded.get(strategy)
    summary = found and global_efficacy(found.goal, {i.name: i.value for i in indicators})
    entries = summary or stored
    return [_efficacy(entry) for entry in entries
            if isinstance(entry.get("value"), int | float | None)]


def _efficacy(entry: dict[str, Any]) -> dict[str, Any]:
    return {"name": entry.get("name"), "value": _finite(entry.get("value")),
            "unit": entry.get("unit", ""), "description": entry.get("description", "")}


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: an indicator without a finite value is null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


# A listed plan as plain columns: building ORM plans, audits and templates
# was most of a list's time, and a list shows none of their other fields.
_LISTED = (select(ActionPlanRow.id, ActionPlanRow.uuid, AuditRow.uuid.label("audit_uuid"),
                  ActionPlanRow.strategy, ActionPlanRow.state, ActionPlanRow.global_efficacy,
                  ActionPlanRow.status_message, ActionPlanRow.created_at,
                  ActionPlanRow.updated_at, ActionPlanRow.deleted_at)
           .join(AuditRow, ActionPlanRow.audit_id == AuditRow.id))


def _indicators_of(session: Session, plan_ids: list[int]) -> dict[int, list[Any]]:
    """The efficacy indicators of these plans, in their stored order, in one query."""
    found: dict[int, list[Any]] = {}
    if plan_ids:
        for row in session.execute(
                select(IndicatorRow.action_plan_id, IndicatorRow.name, IndicatorRow.description,
                       IndicatorRow.unit, IndicatorRow.value)
                .where(IndicatorRow.action_plan_id.in_(plan_ids)).order_by(IndicatorRow.id)):
            found.setdefault(row.action_plan_id, []).append(row)
    return found


def _list(request: Request, detail: bool) -> dict:
    query = parse_list_query(request, FILTERS, SORT_KEYS)
    filters: dict[str, Any] = dict(query.filters)
    if "strategy" in filters:
        filters["strategy"] = strategy_name(request, filters["strategy"])
    with request.app.state.ctx.database.session() as session:
        if "audit_uuid" in filters:
            try:
                filters["audit_id"] = get_audit(session, filters.pop("audit_uuid")).id
            except NotFound:
                filters["audit_id"] = -1  # an unknown audit has no plans
        rows = list_columns(session, PLANS, _LISTED, filters, query.page)
        indicators = _indicators_of(session, [row.id for row in rows])
        items = [plan_view(request, row, row.audit_uuid, indicators.get(row.id, ()))
                 for row in rows]
    resource = "action_plans/detail" if detail else "action_plans"
    return {"action_plans": [item if detail else only(item, SHORT) for item in items],
            "next": next_link(request, resource, query, items)}


# Lists are plain JSON values: they go straight to json.dumps, not through
# FastAPI's encoder, which walks every value again.
@router.get("", summary="List action plans", response_model=None)
def list_all(request: Request) -> JSONResponse:
    return JSONResponse(_list(request, detail=False))


@router.get("/detail", summary="List action plans with details", response_model=None)
def list_detail(request: Request) -> JSONResponse:
    return JSONResponse(_list(request, detail=True))


@router.get("/{plan}", summary="Show an action plan")
def show(request: Request, plan: str) -> dict:
    with request.app.state.ctx.database.session() as session:
        row = get_action_plan(session, check_uuid("action plan", plan))
        # beside Watcher's fields: predicted vs measured once the plan has ended
        return {**plan_view(request, row), "measured_efficacy": row.measured_efficacy}


@router.post("/{plan}/start", summary="Start a RECOMMENDED action plan")
def start(request: Request, plan: str) -> dict:
    return _start(request, check_uuid("action plan", plan))


def _start(request: Request, uuid: str) -> dict:
    ctx = request.app.state.ctx
    with ctx.database.session() as session:
        state = get_action_plan(session, uuid).state
    if state != ActionPlanState.RECOMMENDED:
        raise Conflict(f"action plan {uuid} is {state}; only a RECOMMENDED plan can be started")
    started = operations.start_action_plan(ctx, uuid)
    with ctx.database.session() as session:  # as started: the applier may soon change it
        view = plan_view(request, get_action_plan(session, uuid))
    if started.state == ActionPlanState.PENDING:
        request.app.state.dispatcher.launch_plan(uuid)
    return view


@router.patch("/{plan}", summary="Start or cancel an action plan with a JSON patch")
def patch(request: Request, plan: str, operations_: list[PatchOperation]) -> dict:
    uuid = check_uuid("action plan", plan)
    ctx = request.app.state.ctx
    with ctx.database.session() as session:
        current = {"state": get_action_plan(session, uuid).state}
    changed = apply_patch(current, operations_, ("state",))
    state = changed.get("state")
    if state is None:
        with ctx.database.session() as session:
            return plan_view(request, get_action_plan(session, uuid))
    if state == ActionPlanState.PENDING:
        return _start(request, uuid)
    if state in (ActionPlanState.CANCELLED, ActionPlanState.CANCELLING):
        operations.cancel_action_plan(ctx, uuid)
        with ctx.database.session() as session:
            return plan_view(request, get_action_plan(session, uuid))
    raise BadRequest(f"an action plan's state can be set to PENDING (start), CANCELLING or "
                     f"CANCELLED, not {state!r}")


@router.delete("/{plan}", status_code=204, summary="Delete a finished action plan")
def delete(request: Request, plan: str) -> Response:
    with request.app.state.ctx.database.session() as session:
        delete_action_plan(session, check_uuid("action plan", plan))
    return Response(status_code=204)
