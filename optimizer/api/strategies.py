"""``/v1/strategies``: the installed strategies, their parameters and readiness."""
from __future__ import annotations

from fastapi import APIRouter, Request

from optimizer.api.errors import ResourceNotFound
from optimizer.api.goals import goal_name
from optimizer.api.pagination import next_link, page_in_memory, parse_list_query
from optimizer.api.views import goal_uuid, links, only, strategy_uuid
from optimizer.db import list_strategies

router = APIRouter(prefix="/v1/strategies", tags=["strategies"])

SHORT = ("uuid", "name", "display_name", "goal_uuid", "goal_name", "links")
SORT_KEYS = ("id", "uuid", "name", "display_name", "goal_name")


def strategy_view(request: Request, row) -> dict:
    uuid = strategy_uuid(row.name)
    return {"uuid": uuid, "name": row.name, "display_name": row.display_name,
            "goal_uuid": goal_uuid(row.goal), "goal_name": row.goal,
            "description": row.description, "parameters_spec": row.parameters_schema,
            "created_at": None, "updated_at": None, "deleted_at": None, "id": row.id,
            "links": links(request, "strategies", uuid)}


def all_strategies(request: Request, goal: str | None = None) -> list[dict]:
    with request.app.state.ctx.database.session() as session:
        return [strategy_view(request, row) for row in list_strategies(session, goal)]


def find_strategy(request: Request, ident: str) -> dict:
    """The strategy with this uuid or name; 404 otherwise."""
    for strategy in all_strategies(request):
        if ident in (strategy["uuid"], strategy["name"]):
            return strategy
    raise ResourceNotFound(f"strategy {ident!r} not found")


def strategy_name(request: Request, ident: str) -> str:
    """A strategy's name from its uuid or name (an unknown name is kept as given)."""
    for strategy in all_strategies(request):
        if ident in (strategy["uuid"], strategy["name"]):
            return strategy["name"]
    return ident


def _list(request: Request, detail: bool) -> dict:
    query = parse_list_query(request, ("goal",), SORT_KEYS)
    goal = query.filters.get("goal")
    items = all_strategies(request, goal_name(request, goal) if goal else None)
    items = page_in_memory(items, query.page)
    shown = [dict(item) if detail else only(item, SHORT) for item in items]
    for item in shown:
        item.pop("id", None)
    resource = "strategies/detail" if detail else "strategies"
    return {"strategies": shown, "next": next_link(request, resource, query, items)}


@router.get("", summary="List strategies")
def list_all(request: Request) -> dict:
    return _list(request, detail=False)


@router.get("/detail", summary="List strategies with details")
def list_detail(request: Request) -> dict:
    return _list(request, detail=True)


@router.get("/{strategy}", summary="Show a strategy")
def show(request: Request, strategy: str) -> dict:
    found = find_strategy(request, strategy)
    found.pop("id", None)
    return found


@router.get("/{strategy}/state", summary="What a strategy needs, and whether it is there")
def state(request: Request, strategy: str) -> list[dict]:
    """Watcher's strategy state: the data source, metrics and cluster model it relies on."""
    found = find_strategy(request, strategy)
    ctx = request.app.state.ctx
    plugin = ctx.strategies.loaded.get(found["name"])
    metrics = plugin.sections().get("Metrics", "") if plugin is not None else ""
    collector = getattr(getattr(ctx.settings, "collector", None), "name", None)
    return [
        {"type": "Datasource", "state": collector or "unknown", "mandatory": True,
         "comment": "the collector that builds the cluster data model"},
        {"type": "Metrics", "state": " ".join(metrics.split()) or "none",
         "mandatory": False, "comment": ""},
        {"type": "CDM", "state": [{"compute_model": "available"}], "mandatory": True,
         "comment": ""},
        {"type": "Name", "state": found["name"], "mandatory": "", "comment": ""},
    ]
