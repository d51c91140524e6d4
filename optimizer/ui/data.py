"""The console's JSON: the cluster, a plan's figures, hosts and actions, and live progress.

Reads go straight to the collector and the database with the session's
role checked (any role may read); writes never come here — they go
through :mod:`optimizer.ui.proxy` to the ``/v1`` API.
"""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse

from optimizer.api.errors import BadRequest
from optimizer.db.errors import NotFound
from optimizer.operations import guard_rail_breaches
from optimizer.states import ActionPlanState, is_final
from optimizer.ui import plan_data
from optimizer.ui.cluster import cluster_columns
from optimizer.ui.identity import DataUser
from optimizer.ui.snapshots import current_snapshot

POLL_S = 0.5
RAILS_FRESH_S = 30.0
_RAILS: dict[str, tuple[float, list[str]]] = {}
KEEPALIVE_S = 15.0
router = APIRouter(prefix="/data")
events = APIRouter(prefix="/events")


def _json(document: dict, status: int = 200) -> JSONResponse:
    return JSONResponse(document, status_code=status, headers={"Cache-Control": "no-store"})


def _gone(error: Exception) -> JSONResponse:
    return _json({"error": str(error), "gone": True}, 404)


@router.get("/cluster", include_in_schema=False)
def cluster(request: Request, who: DataUser) -> JSONResponse:
    return _json(cluster_columns(current_snapshot(request.app.state)))


@router.get("/plans/{uuid}", include_in_schema=False)
def plan(request: Request, who: DataUser, uuid: str) -> JSONResponse:
    try:
        with request.app.state.ctx.database.session() as session:
            return _json(plan_data.summary(session, uuid))
    except (NotFound, BadRequest) as error:
        return _gone(error)


@router.get("/plans/{uuid}/hosts", include_in_schema=False)
def plan_hosts(request: Request, who: DataUser, uuid: str) -> JSONResponse:
    ctx = request.app.state.ctx
    try:
        with ctx.database.session() as session:
            changes = plan_data.plan_row(session, uuid).host_changes or {}
    except (NotFound, BadRequest) as error:
        return _gone(error)
    return _json(plan_data.hosts_before_after(current_snapshot(request.app.state), changes))


@router.get("/plans/{uuid}/actions", include_in_schema=False)
def plan_actions(request: Request, who: DataUser, uuid: str, offset: int = 0,
                 limit: int = 100,
                 state: str | None = None) -> JSONResponse:
    try:
        with request.app.state.ctx.database.session() as session:
            return _json(plan_data.actions_page(session, uuid, offset, limit, state or None))
    except (NotFound, BadRequest) as error:
        return _gone(error)


@router.get("/plans/{uuid}/rails", include_in_schema=False)
def plan_rails(request: Request, who: DataUser, uuid: str) -> JSONResponse:
    """Why the plan may not start by itself now (active mode's guard rails)."""
    ctx = request.app.state.ctx
    try:
        with ctx.database.session() as session:
            state = plan_data.plan_row(session, uuid).state
        if state != ActionPlanState.RECOMMENDED:
            return _json({"applies": False, "reasons": []})
        return _json({"applies": True, "reasons": _breaches(ctx, uuid)})
    except (NotFound, BadRequest) as error:
        return _gone(error)


def _breaches(ctx, uuid: str) -> list[str]:
    """The guard rails' answer for a plan, kept :data:`RAILS_FRESH_S` seconds: it reads
    every action of the plan (seconds for 50,000), and reloading a page should not redo it."""
    kept = _RAILS.get(uuid)
    if kept is not None and time.monotonic() - kept[0] < RAILS_FRESH_S:
        return kept[1]
    reasons = guard_rail_breaches(ctx, uuid)
    _RAILS[uuid] = (time.monotonic(), reasons)
    while len(_RAILS) > 64:
        _RAILS.pop(next(iter(_RAILS)))
    return reasons


@events.get("/plans/{uuid}", include_in_schema=False)
async def plan_events(request: Request, who: DataUser, uuid: str) -> StreamingResponse:
    """Server-sent events: the plan's :func:`~optimizer.ui.plan_data.progress` on each change."""
    return StreamingResponse(_progress_stream(request, uuid), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _read_progress(request: Request, uuid: str) -> dict | None:
    try:
        with request.app.state.ctx.database.session() as session:
            return plan_data.progress(session, uuid)
    except (NotFound, BadRequest):
        return None


async def _progress_stream(request: Request, uuid: str) -> AsyncIterator[str]:
    """Poll the database every :data:`POLL_S` and push what changed, until the plan ends."""
    last, quiet = None, 0.0
    while not await request.is_disconnected():
        now = await run_in_threadpool(_read_progress, request, uuid)
        if now is None:
            yield "event: gone\ndata: {}\n\n"
            return
        if now != last:
            yield f"data: {json.dumps(now)}\n\n"
            last, quiet = now, 0.0
            if is_final("action plan", now["state"]):
                yield "event: done\ndata: {}\n\n"
                return
        elif quiet >= KEEPALIVE_S:
            yield ": still here\n\n"  # a comment line keeps proxies from closing the stream
            quiet = 0.0
        await asyncio.sleep(POLL_S)
        quiet += POLL_S
