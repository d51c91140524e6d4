"""``GET /healthz``: can this API serve? Its database, broker and collector, checked.

200 with ``status`` ``ok`` (or ``degraded``: slow, or a stale live model)
and 503 with ``fail`` when a dependency fails; each check says its status,
latency and error (see :mod:`optimizer.observability.health`). No token is
needed, so load balancers and probes can ask.
"""
from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from optimizer.observability.health import (
    FAIL,
    Health,
    broker_check,
    cached,
    collector_check,
    database_check,
)

router = APIRouter(tags=["observability"])
COLLECTOR_CACHE_S = 10.0  # a probe every second must not collect the cloud every second


@router.get("/healthz", summary="Health of the API and its dependencies",
            include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    answer = request.app.state.health.run()
    request.app.state.metrics.health({name: {"ok": check["status"] != FAIL,
                                             "latency_s": check["latency_s"]}
                                      for name, check in answer["checks"].items()})
    return JSONResponse(answer, status_code=503 if answer["status"] == FAIL else 200)


def install(app: FastAPI) -> None:
    """Give ``app`` ``GET /healthz`` over its context's database, broker and collector."""
    ctx = app.state.ctx
    settings = ctx.settings
    stale_s = 2 * settings.service.resync_interval_s if settings is not None else 1200.0
    app.state.health = Health({
        # the context's database is read when asked: tests and workers may replace it
        "database": lambda: database_check(ctx.database)(),
        "broker": broker_check(settings.transport_url if settings is not None else "fake://"),
        "collector": cached(collector_check(lambda: ctx.collector, stale_s), COLLECTOR_CACHE_S),
    })
    app.include_router(router)
