"""``/v1/scoring_engines``: the installed scoring engines (Watcher's scorer plugins)."""
from __future__ import annotations

from fastapi import APIRouter, Request

from optimizer.api.errors import ResourceNotFound
from optimizer.api.pagination import next_link, page_in_memory, parse_list_query
from optimizer.api.views import links, only, scoring_engine_uuid
from optimizer.plugins import load_scoring_engines

router = APIRouter(prefix="/v1/scoring_engines", tags=["scoring engines"])

SHORT = ("uuid", "name", "description", "links")
SORT_KEYS = ("id", "uuid", "name", "description")


def _view(request: Request, engine) -> dict:
    uuid = scoring_engine_uuid(engine.name)
    return {"uuid": uuid, "name": engine.name, "description": engine.description,
            "metainfo": engine.metainfo, "created_at": None, "updated_at": None,
            "deleted_at": None, "links": links(request, "scoring_engines", uuid)}


def _all(request: Request) -> list[dict]:
    engines = load_scoring_engines().loaded.values()
    return [_view(request, engine) for engine in engines]


def _list(request: Request, detail: bool) -> dict:
    query = parse_list_query(request, (), SORT_KEYS, default_sort="name")
    items = page_in_memory(_all(request), query.page)
    resource = "scoring_engines/detail" if detail else "scoring_engines"
    shown = items if detail else [only(item, SHORT) for item in items]
    return {"scoring_engines": shown, "next": next_link(request, resource, query, items)}


@router.get("", summary="List scoring engines")
def list_all(request: Request) -> dict:
    return _list(request, detail=False)


@router.get("/detail", summary="List scoring engines with details")
def list_detail(request: Request) -> dict:
    return _list(request, detail=True)


@router.get("/{engine}", summary="Show a scoring engine")
def show(request: Request, engine: str) -> dict:
    for item in _all(request):
        if engine in (item["uuid"], item["name"]):
            return item
    raise ResourceNotFound(f"scoring engine {engine!r} not found")
