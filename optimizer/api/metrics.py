"""``GET /metrics``: the process's Prometheus metrics, and the API's own request metrics.

No token is needed (Prometheus scrapes without one): the figures are counts
and durations, never names or contents. The app reports to the process's
metrics (:func:`optimizer.observability.current_metrics`) when a service set them,
else to metrics of its own, which then hold only the API's figures.
"""
from __future__ import annotations

import time

from fastapi import APIRouter, FastAPI, Request, Response

from optimizer.observability import current_metrics
from optimizer.observability.metrics import CONTENT_TYPE, Metrics

router = APIRouter(tags=["observability"])


@router.get("/metrics", summary="Prometheus metrics (text exposition format)",
            response_class=Response, include_in_schema=False)
def scrape(request: Request) -> Response:
    return Response(request.app.state.metrics.exposition(), media_type=CONTENT_TYPE)


def install(app: FastAPI) -> None:
    """Give ``app`` its metrics, ``GET /metrics`` and the request middleware."""
    sink = current_metrics()
    app.state.metrics = sink if isinstance(sink, Metrics) else Metrics()
    app.include_router(router)
    app.add_middleware(RequestMetrics, sink=app.state.metrics)


class RequestMetrics:
    """ASGI middleware counting and timing every HTTP request by method, route and status."""

    def __init__(self, app, sink: Metrics):
        self.app, self.sink = app, sink

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            self.sink.api_request(scope["method"], getattr(route, "path", "unmatched"), status,
                                  time.perf_counter() - started)
