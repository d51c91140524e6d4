"""An action plan as the console draws it: summary, hosts before / after, actions by page.

Everything is read straight from the database in a few column queries (a
50,000-action plan is never loaded as ORM rows), and sent as compact JSON:
the page pages through actions and draws hosts on a canvas.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from optimizer.api.action_plans import check_uuid
from optimizer.commands.views import describe_action
from optimizer.db.errors import NotFound
from optimizer.db.schema import ActionPlanRow, ActionRow, AuditRow, IndicatorRow
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.ui.cluster import _rounded, host_flags, memory_allocation

MAX_PAGE = 500
_STAGES: OrderedDict[int, list[int]] = OrderedDict()  # plan id -> stage of each action
_STAGES_KEPT = 16


def plan_row(session: Session, uuid: str):
    """The plan's stored columns and its audit's name, or NotFound."""
    check_uuid("action plan", uuid)
    row = session.execute(
        select(ActionPlanRow.id, ActionPlanRow.uuid, ActionPlanRow.state,
               ActionPlanRow.strategy, ActionPlanRow.status_message,
               ActionPlanRow.estimated_duration_s, ActionPlanRow.global_efficacy,
               ActionPlanRow.host_changes, ActionPlanRow.created_at, ActionPlanRow.updated_at,
               AuditRow.uuid.label("audit_uuid"), AuditRow.name.label("audit_name"))
        .join(AuditRow, ActionPlanRow.audit_id == AuditRow.id)
        .where(ActionPlanRow.uuid == uuid, ActionPlanRow.deleted_at.is_(None))).first()
    if row is None:
        raise NotFound(f"action plan {uuid} does not exist (it may have been deleted)")
    return row


def stages_of(session: Session, plan_id: int) -> list[int]:
    """The stage (1-based) of every action by index: one more than its latest parent's.

    A plan's graph never changes once stored, so the last few are kept.
    """
    if plan_id in _STAGES:
        _STAGES.move_to_end(plan_id)
        return _STAGES[plan_id]
    texts = session.scalars(select(cast(ActionRow.parents, Text))
                            .where(ActionRow.action_plan_id == plan_id)
                            .order_by(ActionRow.index)).all()
    parents = orjson.loads("[" + ",".join(t or "[]" for t in texts) + "]")
    stage: list[int] = []
    for before in parents:
        stage.append(1 + max(stage[p] for p in before) if before else 1)
    _STAGES[plan_id] = stage
    while len(_STAGES) > _STAGES_KEPT:
        _STAGES.popitem(last=False)
    return stage


def progress(session: Session, uuid: str) -> dict[str, Any]:
    """What changes while a plan runs: its state, actions by state, retries, moved memory."""
    plan = plan_row(session, uuid)
    states = dict(session.execute(
        select(ActionRow.state, func.count()).where(ActionRow.action_plan_id == plan.id)
        .group_by(ActionRow.state)).all())
    retried, moved = session.execute(
        select(func.count().filter(ActionRow.attempts > 1),
               func.coalesce(func.sum(ActionRow.moved_memory_mb).filter(
                   ActionRow.state == "SUCCEEDED"), 0.0))
        .where(ActionRow.action_plan_id == plan.id)).one()
    running = _some(session, plan.id, "ONGOING")
    failed = _some(session, plan.id, "FAILED")
    return {"uuid": plan.uuid, "state": plan.state, "status_message": plan.status_message,
            "states": states, "total": sum(states.values()), "retried": int(retried),
            "moved_memory_gb": round(float(moved) / 1024, 2),
            "running": running, "failed": failed}


def _some(session: Session, plan_id: int, state: str, limit: int = 10) -> list[dict]:
    rows = session.execute(select(ActionRow.index, ActionRow.type, ActionRow.parameters,
                                  ActionRow.status_message)
                           .where(ActionRow.action_plan_id == plan_id, ActionRow.state == state)
                           .order_by(ActionRow.index).limit(limit)).all()
    return [{"index": r.index, "type": r.type, "what": " ".join(describe_action(r.type,
                                                                                r.parameters)),
             "message": r.status_message} for r in rows]


def summary(session: Session, uuid: str) -> dict[str, Any]:
    """The plan's page figures: indicators, counts by type and stage, and :func:`progress`."""
    plan = plan_row(session, uuid)
    indicators = [{"name": i.name, "value": i.value, "unit": i.unit,
                   "description": i.description}
                  for i in session.execute(select(IndicatorRow).where(
                      IndicatorRow.action_plan_id == plan.id).order_by(IndicatorRow.id))
                  .scalars()]
    types = dict(session.execute(select(ActionRow.type, func.count())
                                 .where(ActionRow.action_plan_id == plan.id)
                                 .group_by(ActionRow.type)).all())
    stage = stages_of(session, plan.id)
    per_stage = np.bincount(np.asarray(stage, dtype=np.int64),
                            minlength=2)[1:].tolist() if stage else []
    return {**progress(session, uuid), "strategy": plan.strategy,
            "audit_uuid": plan.audit_uuid, "audit_name": plan.audit_name,
            "estimated_duration_s": plan.estimated_duration_s, "indicators": indicators,
            "types": types, "stages": per_stage, "hosts_changed": len(plan.host_changes or {})}


def actions_page(session: Session, uuid: str, offset: int, limit: int,
                 state: str | None = None) -> dict[str, Any]:
    """A page of the plan's actions in execution order, each with its stage and parents."""
    plan = plan_row(session, uuid)
    limit = max(1, min(limit, MAX_PAGE))
    query = select(ActionRow.index, ActionRow.uuid, ActionRow.type, ActionRow.parameters,
                   ActionRow.parents, ActionRow.state, ActionRow.attempts,
                   ActionRow.status_message).where(ActionRow.action_plan_id == plan.id)
    count = select(func.count()).select_from(ActionRow).where(
        ActionRow.action_plan_id == plan.id)
    if state:
        query, count = query.where(ActionRow.state == state), count.where(
            ActionRow.state == state)
    rows = session.execute(query.order_by(ActionRow.index).offset(max(offset, 0))
                           .limit(limit)).all()
    stage = stages_of(session, plan.id)
    items = []
    for r in rows:
        subject, change = describe_action(r.type, r.parameters)
        items.append({"index": r.index, "uuid": r.uuid, "type": r.type, "subject": subject,
                      "change": change, "state": r.state, "parents": list(r.parents),
                      "stage": stage[r.index] if r.index < len(stage) else None,
                      "attempts": r.attempts, "message": r.status_message})
    return {"total": session.scalar(count), "offset": max(offset, 0), "actions": items}


def hosts_before_after(snapshot: ClusterSnapshot, host_changes: dict[str, dict]
                       ) -> dict[str, Any]:
    """Every host's CPU load and memory allocation before and after the plan.

    Hosts the plan touches take the figures stored with the plan (the model
    the audit planned on); the others are as the cluster is now, unchanged.
    """
    names = list(snapshot.host_names)
    cpu = _rounded(snapshot.host_load())
    memory = _rounded(memory_allocation(snapshot))
    flags = host_flags(snapshot).tolist()
    cpu_after, memory_after = list(cpu), list(memory)
    index = {name: h for h, name in enumerate(names)}
    changed = [0] * len(names)
    changes = {}
    for name, change in host_changes.items():
        h = index.get(name)
        if h is None:  # gone from the cluster since: still shown, at the end
            h = len(names)
            names.append(name)
            for column in (cpu, memory, cpu_after, memory_after, flags, changed):
                column.append(0)
        changed[h] = 1
        if change.get("cpu_load"):
            cpu[h], cpu_after[h] = change["cpu_load"]
        if change.get("memory_allocated_pct"):
            memory[h], memory_after[h] = (round(v / 100, 3)
                                          for v in change["memory_allocated_pct"])
        changes[name] = change
    return {"hosts": names, "cpu_before": cpu, "cpu_after": cpu_after,
            "memory_before": memory, "memory_after": memory_after, "flags": flags,
            "changed": changed, "changes": changes}
