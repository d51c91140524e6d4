"""What users ask of audits and plans, checked once for the CLI and the API alike.

Each function takes the :class:`~optimizer.context.Context`, does one
request in its own transactions and returns plain rows; bad requests raise
:class:`optimizer.models.errors.UserError` with the reason.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from optimizer.db import (
    create_audit,
    create_audit_from_template,
    get_action,
    get_action_plan,
    get_audit,
    get_audit_template,
    list_actions,
    set_action_plan_state,
    set_action_state,
    update_action_plan,
)
from optimizer.db.schema import ActionPlanRow, ActionRow, AuditRow
from optimizer.models.errors import UserError
from optimizer.observability import current_metrics
from optimizer.states import ActionPlanState, ActionState, AuditType
from optimizer.strategies.base import GOALS, our_names

if TYPE_CHECKING:  # the decision engine brings the planner and numpy: imported where it runs
    from optimizer.context import Context
    from optimizer.decision.engine import AuditOutcome


def check_audit_request(ctx: Context, goal: str, strategy: str | None,
                        parameters: Mapping[str, Any], scope: Any) -> tuple[dict, list]:
    """Validated parameters (as JSON values) and normalised scope for an audit."""
    if goal not in GOALS:
        raise UserError(f"unknown goal {goal!r} (goals: {', '.join(GOALS)})")
    if strategy is not None:
        found = ctx.strategies.loaded.get(strategy)
        if found is None:
            raise UserError(f"unknown strategy {strategy!r} "
                            f"(installed: {', '.join(sorted(ctx.strategies.loaded))})")
        if found.goal != goal:
            raise UserError(f"strategy {strategy} serves goal {found.goal}, not {goal}")
        typed = found.validate(parameters)
        parameters = {k: list(v) if isinstance(v, tuple) else v
                      for k, v in typed.__dict__.items() if k in parameters}
    elif parameters:
        raise UserError("parameters need a strategy: name one with --strategy")
    from optimizer.decision.scope import normalize_scope

    normalized = normalize_scope(scope)
    return dict(parameters), [normalized] if normalized else []


def new_audit(ctx: Context, *, goal: str | None = None, strategy: str | None = None,
              parameters: Mapping[str, Any] | None = None, scope: Any = None,
              name: str | None = None, audit_type: str = AuditType.ONESHOT,
              interval: str | int | None = None, start_time: datetime | None = None,
              end_time: datetime | None = None, auto_trigger: bool | None = None,
              template: str | None = None, force: bool = False) -> AuditRow:
    """Store a new PENDING audit after checking goal, strategy, parameters and scope."""
    with ctx.database.session() as session:
        base = get_audit_template(session, template) if template else None
        goal = goal or (base.goal if base else None)
        if goal is None:
            raise UserError("an audit needs a goal (--goal) or a template (--template)")
        strategy = strategy or (base.strategy if base else None)
        goal, strategy = our_names(goal, strategy)
        merged = {**(base.parameters if base else {}), **(parameters or {})}
        scope = scope if scope is not None else (base.scope if base else None)
        checked, scope = check_audit_request(ctx, goal, strategy, merged, scope)
        fields = dict(goal=goal, strategy=strategy, parameters=checked, scope=scope, name=name,
                      audit_type=audit_type, interval=interval, start_time=start_time,
                      end_time=end_time, force=force)
        if auto_trigger is not None:
            fields["auto_trigger"] = auto_trigger
        if base is not None:
            return create_audit_from_template(session, base, **fields)
        return create_audit(session, **fields)


def run_audit(ctx: Context, ident: str) -> AuditOutcome:
    """Run a stored audit now, in this process."""
    return ctx.decision_engine().run_audit(ident)


def start_action_plan(ctx: Context, uuid: str) -> ActionPlanRow:
    """Approve a RECOMMENDED plan: PENDING, or SUPERSEDED when the cloud moved on."""
    with ctx.database.session() as session:
        plan = get_action_plan(session, uuid)
        if plan.state != ActionPlanState.RECOMMENDED:
            raise UserError(f"action plan {uuid} is {plan.state}; only a RECOMMENDED plan "
                            "can be started")
        pending = [{"type": a.type, "parameters": a.parameters}
                   for a in list_actions(session, plan, page=None)
                   if a.state == ActionState.PENDING]
    from optimizer.decision.premises import broken_premises

    problems = broken_premises(ctx.collector.collect(), pending)
    with ctx.database.session() as session:
        if problems:
            return set_action_plan_state(
                session, uuid, ActionPlanState.SUPERSEDED,
                "the cloud changed since the audit: " + "; ".join(problems),
                expect=ActionPlanState.RECOMMENDED)
        return set_action_plan_state(session, uuid, ActionPlanState.PENDING,
                                     expect=ActionPlanState.RECOMMENDED)


def cancel_action_plan(ctx: Context, uuid: str) -> ActionPlanRow:
    """Cancel a plan: at once when nothing runs, else CANCELLING for the applier to finish."""
    with ctx.database.session() as session:
        plan = get_action_plan(session, uuid)
        if plan.state in (ActionPlanState.RECOMMENDED, ActionPlanState.PENDING):
            return set_action_plan_state(session, uuid, ActionPlanState.CANCELLED,
                                         "cancelled before it started", expect=plan.state)
        return set_action_plan_state(session, uuid, ActionPlanState.CANCELLING,
                                     "cancel requested", expect=plan.state)


def skip_action(ctx: Context, uuid: str, reason: str = "skipped by request") -> ActionRow:
    """Mark a PENDING action SKIPPED: its dependents may run without it."""
    with ctx.database.session() as session:
        action = get_action(session, uuid)
        if action.state != ActionState.PENDING:
            raise UserError(f"action {uuid} is {action.state}; only a PENDING action "
                            "can be skipped")
        return set_action_state(session, uuid, ActionState.SKIPPED, reason,
                                expect=ActionState.PENDING)


def audit_of(ctx: Context, ident: str) -> AuditRow:
    with ctx.database.session() as session:
        return get_audit(session, ident)


def guard_rail_breaches(ctx: Context, plan_uuid: str, now: datetime | None = None) -> list[str]:
    """Why the plan may not start by itself now (empty: it may)."""
    from optimizer.guard_rails import GuardRails, PlanLoad, breaches

    now = now or datetime.now(UTC)
    with ctx.database.session() as session:
        plan = get_action_plan(session, plan_uuid)
        template = plan.audit.template
        migrations = [a.parameters.get("instance") for a in list_actions(session, plan)
                      if a.type == "migrate"]
        moved = session.scalar(
            select(func.coalesce(func.sum(ActionRow.moved_memory_mb), 0.0))
            .where(ActionRow.type == "migrate",
                   ActionRow.state.in_((ActionState.SUCCEEDED, ActionState.ONGOING)),
                   ActionRow.updated_at >= now - timedelta(hours=1)))
        memory_gb = next((i.value for i in plan.indicators if i.name == "migrated_memory_gb"),
                         None)
    if memory_gb is None:
        snapshot = ctx.collector.collect()
        known = [snapshot.instance_ids.get(u) for u in migrations]
        memory_gb = float(sum(snapshot.inst_size[i, 1] for i in known if i is not None)) / 1024
    load = PlanLoad(len(migrations), float(memory_gb), float(moved or 0.0) / 1024)
    settings = ctx.settings.guard_rails if ctx.settings is not None else None
    reasons = breaches(GuardRails(**settings.__dict__) if settings else GuardRails(), load, now,
                       "configuration")
    if template is not None and template.guard_rails:
        rails = GuardRails.from_mapping(template.guard_rails,
                                        where=f"audit template {template.name}")
        reasons += breaches(rails, load, now, f"audit template {template.name}")
    return reasons


def auto_start(ctx: Context, plan_uuid: str, now: datetime | None = None) -> ActionPlanRow:
    """Active mode: start a recommended plan unless a guard rail says no.

    A plan held back stays RECOMMENDED, its status message naming every
    guard rail it breaks, for a person to review and start.
    """
    reasons = guard_rail_breaches(ctx, plan_uuid, now)
    if reasons:
        return hold_back(ctx, plan_uuid, reasons)
    return start_action_plan(ctx, plan_uuid)


def hold_back(ctx: Context, plan_uuid: str, reasons: list[str]) -> ActionPlanRow:
    """Leave the plan RECOMMENDED, saying which guard rails kept it from starting."""
    current_metrics().guard_rail_holds(reasons)
    with ctx.database.session() as session:
        return update_action_plan(session, plan_uuid, status_message=(
            "not started automatically: " + "; ".join(reasons)))
