"""``/v1/services``: the optimizer's services and whether they are alive.

Which services exist is not this module's business: the app is given a
callable listing them (``optimizer serve`` passes its worker records); by
default the three parts of an embedded process are listed as ACTIVE.
"""
from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from fastapi import APIRouter, Request

from optimizer.api.errors import ResourceNotFound
from optimizer.api.pagination import base_url, page_in_memory, parse_list_query

router = APIRouter(prefix="/v1/services", tags=["services"])

SHORT = ("id", "name", "host", "status", "links")
SORT_KEYS = ("id", "name", "host", "status")
ServiceLister = Callable[[], list[dict]]


def embedded_services() -> list[dict]:
    """The API, decision engine and applier of one process, alive now."""
    host, now = socket.gethostname(), datetime.now(UTC).isoformat()
    names = ("optimizer-api", "optimizer-decision-engine", "optimizer-applier")
    return [{"id": number, "name": name, "host": host, "status": "ACTIVE",
             "last_seen_up": now} for number, name in enumerate(names, start=1)]


def _view(request: Request, service: dict) -> dict:
    base = base_url(request)
    return {"created_at": None, "updated_at": None, "deleted_at": None, **service,
            "uuid": str(service["id"]),
            "links": [{"href": f"{base}/v1/services/{service['id']}", "rel": "self"},
                      {"href": f"{base}/services/{service['id']}", "rel": "bookmark"}]}


def _all(request: Request) -> list[dict]:
    return [_view(request, s) for s in request.app.state.services()]


def _list(request: Request, detail: bool) -> dict:
    query = parse_list_query(request, (), SORT_KEYS)
    # services are few and their ids are not uuids: no marker, always one page
    items = page_in_memory(_all(request), replace(query.page, marker=None))
    shown = [{k: v for k, v in item.items() if k != "uuid"} for item in items]
    if not detail:
        shown = [{k: item[k] for k in SHORT} for item in shown]
    return {"services": shown, "next": None}


@router.get("", summary="List services")
def list_all(request: Request) -> dict:
    return _list(request, detail=False)


@router.get("/detail", summary="List services with details")
def list_detail(request: Request) -> dict:
    return _list(request, detail=True)


@router.get("/{service}", summary="Show a service (by id or name)")
def show(request: Request, service: str) -> dict:
    for item in _all(request):
        if service in (str(item["id"]), item["name"]):
            item.pop("uuid")
            return item
    raise ResourceNotFound(f"service {service!r} not found")
