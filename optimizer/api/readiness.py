"""``/v1/readiness``: could the cluster the collector sees survive K host failures?

``failures`` (default 1) and ``by`` (``host``, ``zone`` or ``aggregate``)
as for ``optimizer readiness``; the answer is
:meth:`optimizer.readiness.check.Readiness.to_dict` with the cluster's name.
"""
from __future__ import annotations

from fastapi import APIRouter, Request

from optimizer.api.errors import BadRequest

router = APIRouter(prefix="/v1/readiness", tags=["readiness"])

PARAMETERS = ("by", "failures")


@router.get("", summary="Whether every instance could be rebuilt if hosts failed")
def readiness(request: Request) -> dict:
    from optimizer.readiness.check import ReadinessError, check_readiness

    unknown = sorted(set(request.query_params) - set(PARAMETERS))
    if unknown:
        raise BadRequest(f"unknown query parameter(s) {', '.join(unknown)} "
                         f"(allowed: {', '.join(PARAMETERS)})")
    raw = request.query_params.get("failures", "1")
    try:
        failures = int(raw)
    except ValueError:
        raise BadRequest(f"failures must be a whole number, got {raw!r}") from None
    by = request.query_params.get("by", "host")
    snapshot = request.app.state.ctx.collector.collect()
    try:
        result = check_readiness(snapshot, failures, by)
    except ReadinessError as exc:
        raise BadRequest(str(exc)) from None
    return {"cluster": snapshot.name, **result.to_dict()}
