"""``/v1/goals``: what audits can aim at."""
from __future__ import annotations

from fastapi import APIRouter, Request

from optimizer.api.errors import ResourceNotFound
from optimizer.api.pagination import next_link, page_in_memory, parse_list_query
from optimizer.api.views import goal_uuid, links, only
from optimizer.db import list_goals
from optimizer.strategies.base import GOALS

router = APIRouter(prefix="/v1/goals", tags=["goals"])

# Watcher keeps the specification in its short view too: the OSC table needs it
SHORT = ("uuid", "name", "display_name", "efficacy_specification", "links")
SORT_KEYS = ("id", "uuid", "name", "display_name")


def goal_view(request: Request, row) -> dict:
    uuid = goal_uuid(row.name)
    known = GOALS.get(row.name)
    specification = [spec.as_dict() for spec in known.efficacy_specification] if known else []
    return {"uuid": uuid, "name": row.name, "display_name": row.display_name,
            "description": row.description, "efficacy_specification": specification,
            "created_at": None, "updated_at": None, "deleted_at": None, "id": row.id,
            "links": links(request, "goals", uuid)}


def all_goals(request: Request) -> list[dict]:
    with request.app.state.ctx.database.session() as session:
        return [goal_view(request, row) for row in list_goals(session)]


def find_goal(request: Request, ident: str) -> dict:
    """The goal with this uuid or name; 404 otherwise."""
    for goal in all_goals(request):
        if ident in (goal["uuid"], goal["name"]):
            return goal
    raise ResourceNotFound(f"goal {ident!r} not found")


def goal_name(request: Request, ident: str) -> str:
    """A goal's name from its uuid or name (an unknown name is kept: it filters to nothing)."""
    for goal in all_goals(request):
        if ident in (goal["uuid"], goal["name"]):
            return goal["name"]
    return ident


def _list(request: Request, detail: bool) -> dict:
    query = parse_list_query(request, (), SORT_KEYS)
    items = page_in_memory(all_goals(request), query.page)
    resource = "goals/detail" if detail else "goals"
    shown = [item if detail else only(item, SHORT) for item in items]
    for item in shown:
        item.pop("id", None)
    return {"goals": shown, "next": next_link(request, resource, query, items)}


@router.get("", summary="List goals")
def list_all(request: Request) -> dict:
    return _list(request, detail=False)


@router.get("/detail", summary="List goals with details")
def list_detail(request: Request) -> dict:
    return _list(request, detail=True)


@router.get("/{goal}", summary="Show a goal")
def show(request: Request, goal: str) -> dict:
    found = find_goal(request, goal)
    found.pop("id", None)
    return found
