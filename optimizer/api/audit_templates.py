"""``/v1/audit_templates``: saved audit definitions (goal, strategy, scope, parameters)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from optimizer.api.errors import BadRequest
from optimizer.api.goals import goal_name
from optimizer.api.microversion import DEFAULT_PARAMETERS, version_of
from optimizer.api.pagination import next_link, parse_list_query
from optimizer.api.patch import PatchOperation, apply_patch
from optimizer.api.strategies import strategy_name
from optimizer.api.views import goal_uuid, iso, links, only, strategy_uuid
from optimizer.db import (
    create_audit_template,
    delete_audit_template,
    get_audit_template,
    list_audit_templates,
    update_audit_template,
)
from optimizer.operations import check_audit_request
from optimizer.strategies.base import our_names

router = APIRouter(prefix="/v1/audit_templates", tags=["audit templates"])

SHORT = ("uuid", "name", "goal_uuid", "goal_name", "strategy_uuid", "strategy_name", "links")
SORT_KEYS = ("id", "name", "created_at", "updated_at", "goal")
FILTERS = ("goal", "strategy", "name")
EDITABLE = ("name", "description", "goal", "strategy", "scope", "default_parameters")


class AuditTemplateCreate(BaseModel):
    """The body of ``POST /v1/audit_templates``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    goal: str = Field(min_length=1, description="uuid or name of the goal")
    strategy: str | None = Field(None, description="uuid or name of the strategy")
    description: str = ""
    scope: list[Any] | dict[str, Any] | None = None
    default_parameters: dict[str, Any] | None = None


def template_view(request: Request, row) -> dict:
    view = {"uuid": row.uuid, "name": row.name, "description": row.description,
            "goal_uuid": goal_uuid(row.goal), "goal_name": row.goal,
            "strategy_uuid": strategy_uuid(row.strategy), "strategy_name": row.strategy,
            "scope": row.scope, "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at), "deleted_at": iso(row.deleted_at),
            "links": links(request, "audit_templates", row.uuid)}
    if version_of(request) >= DEFAULT_PARAMETERS:
        view["default_parameters"] = row.parameters
    return view


def _checked(request: Request, goal: str, strategy: str | None, parameters: dict | None,
             scope: Any) -> dict[str, Any]:
    """Names, validated parameters and normalised scope of a template."""
    goal, strategy = our_names(goal_name(request, goal),
                               strategy_name(request, strategy) if strategy else None)
    checked, scope = check_audit_request(request.app.state.ctx, goal, strategy,
                                         parameters or {}, scope)
    return {"goal": goal, "strategy": strategy, "parameters": checked, "scope": scope}


def _check_version(request: Request, parameters: Any) -> None:
    if parameters and version_of(request) < DEFAULT_PARAMETERS:
        raise BadRequest(f"default_parameters needs API version {DEFAULT_PARAMETERS} or later")


def _list(request: Request, detail: bool) -> dict:
    query = parse_list_query(request, FILTERS, SORT_KEYS)
    filters = dict(query.filters)
    if "goal" in filters:
        filters["goal"] = goal_name(request, filters["goal"])
    if "strategy" in filters:
        filters["strategy"] = strategy_name(request, filters["strategy"])
    with request.app.state.ctx.database.session() as session:
        rows = list_audit_templates(session, filters, query.page)
        items = [template_view(request, row) for row in rows]
    resource = "audit_templates/detail" if detail else "audit_templates"
    return {"audit_templates": [item if detail else only(item, SHORT) for item in items],
            "next": next_link(request, resource, query, items)}


@router.get("", summary="List audit templates")
def list_all(request: Request) -> dict:
    return _list(request, detail=False)


@router.get("/detail", summary="List audit templates with details")
def list_detail(request: Request) -> dict:
    return _list(request, detail=True)


@router.get("/{template}", summary="Show an audit template")
def show(request: Request, template: str) -> dict:
    with request.app.state.ctx.database.session() as session:
        return template_view(request, get_audit_template(session, template))


@router.post("", status_code=201, summary="Create an audit template")
def create(request: Request, response: Response, body: AuditTemplateCreate) -> dict:
    _check_version(request, body.default_parameters)
    fields = _checked(request, body.goal, body.strategy, body.default_parameters, body.scope)
    with request.app.state.ctx.database.session() as session:
        row = create_audit_template(session, name=body.name, description=body.description,
                                    **fields)
        view = template_view(request, row)
    response.headers["Location"] = view["links"][0]["href"]
    return view


@router.patch("/{template}", summary="Change an audit template with a JSON patch")
def patch(request: Request, template: str, operations: list[PatchOperation]) -> dict:
    with request.app.state.ctx.database.session() as session:
        row = get_audit_template(session, template)
        current = {"name": row.name, "description": row.description, "goal": row.goal,
                   "strategy": row.strategy, "scope": row.scope,
                   "default_parameters": row.parameters}
    changed = apply_patch(current, operations, EDITABLE)
    _check_version(request, "default_parameters" in changed)
    merged = {**current, **changed}
    if not isinstance(merged["name"], str) or not merged["name"]:
        raise BadRequest("name must be a non-empty string")
    if not isinstance(merged["description"] or "", str):
        raise BadRequest("description must be a string")
    if not isinstance(merged["goal"], str) or not merged["goal"]:
        raise BadRequest("goal must be the uuid or name of a goal")
    if merged["strategy"] is not None and not isinstance(merged["strategy"], str):
        raise BadRequest("strategy must be the uuid or name of a strategy")
    if not isinstance(merged["default_parameters"] or {}, dict):
        raise BadRequest("default_parameters must be an object")
    fields = _checked(request, merged["goal"], merged["strategy"],
                      merged["default_parameters"], merged["scope"])
    fields.update(name=merged["name"], description=merged["description"] or "")
    with request.app.state.ctx.database.session() as session:
        row = update_audit_template(session, template, **fields)
        return template_view(request, row)


@router.delete("/{template}", status_code=204, summary="Delete an audit template")
def delete(request: Request, template: str) -> Response:
    with request.app.state.ctx.database.session() as session:
        delete_audit_template(session, template)
    return Response(status_code=204)
