"""Stored rows as plain dicts: what ``show`` and ``list`` print, in JSON or tables."""
from __future__ import annotations

from typing import Any

from optimizer.db.schema import ActionPlanRow, ActionRow, AuditRow, AuditTemplateRow

TEMPLATE_COLUMNS = ("uuid", "name", "goal", "strategy", "auto_trigger", "description")
AUDIT_COLUMNS = ("uuid", "name", "audit_type", "state", "goal", "strategy", "interval",
                 "created_at")
PLAN_COLUMNS = ("uuid", "audit", "strategy", "state", "estimated_duration_s", "created_at")
ACTION_COLUMNS = ("uuid", "index", "type", "state", "parents", "subject", "change")


def template_view(row: AuditTemplateRow) -> dict[str, Any]:
    return {"uuid": row.uuid, "name": row.name, "description": row.description,
            "goal": row.goal, "strategy": row.strategy, "parameters": row.parameters,
            "scope": row.scope, "auto_trigger": row.auto_trigger,
            "guard_rails": row.guard_rails or {},
            "created_at": row.created_at, "updated_at": row.updated_at}


def audit_view(row: AuditRow) -> dict[str, Any]:
    return {"uuid": row.uuid, "name": row.name, "audit_type": row.audit_type,
            "state": row.state, "goal": row.goal, "strategy": row.strategy,
            "parameters": row.parameters, "scope": row.scope, "interval": row.interval,
            "start_time": row.start_time, "end_time": row.end_time,
            "auto_trigger": row.auto_trigger, "force": row.force, "hostname": row.hostname,
            "template": row.template.name if row.template is not None else None,
            "status_message": row.status_message,
            "created_at": row.created_at, "updated_at": row.updated_at}


def plan_view(row: ActionPlanRow) -> dict[str, Any]:
    return {"uuid": row.uuid, "audit": row.audit.name, "audit_uuid": row.audit.uuid,
            "strategy": row.strategy, "state": row.state,
            "status_message": row.status_message,
            "estimated_duration_s": row.estimated_duration_s,
            "indicators": [indicator_view(i) for i in row.indicators],
            "global_efficacy": row.global_efficacy,
            "created_at": row.created_at, "updated_at": row.updated_at}


def indicator_view(row) -> dict[str, Any]:
    return {"name": row.name, "value": row.value, "unit": row.unit,
            "description": row.description}


def action_view(row: ActionRow) -> dict[str, Any]:
    subject, change = describe_action(row.type, row.parameters)
    return {"uuid": row.uuid, "index": row.index, "type": row.type, "state": row.state,
            "parents": list(row.parents), "parameters": row.parameters,
            "subject": subject, "change": change, "reason": row.reason,
            "status_message": row.status_message}


def describe_action(kind: str, parameters: dict[str, Any]) -> tuple[str, str]:
    """(what the action acts on, what it changes) in a few words."""
    if kind == "migrate":
        mode = parameters.get("migration_type", "")
        change = f"{parameters.get('source')} → {parameters.get('destination')}"
        return str(parameters.get("instance", "")), f"{change} ({mode})" if mode else change
    if kind in ("change_service_state", "change_power_state"):
        return str(parameters.get("host", "")), str(parameters.get("state", ""))
    return "", ", ".join(f"{k}={v}" for k, v in parameters.items())
