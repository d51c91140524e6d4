"""Picking up after a crash: in-flight steps found again, abandoned plans taken over.

An applier killed at any moment leaves each action in a stored state that
tells what may have happened: PENDING ones never started (ONGOING is stored
before any start), final ones are done. Only ONGOING actions are uncertain;
each is reconciled with the cloud by its plugin:

- its operation id was stored → ask the cloud how that operation stands;
- no id (killed between storing ONGOING and storing the id) → a migration of
  the instance to its destination still running is adopted; an instance
  already on its destination is SUCCEEDED;
- no trace in the cloud → the start never happened, so it is started now
  (after its pre-condition is checked again); this is not a retry.

So no step runs twice and none is lost. A plan whose applier died (its
process is gone, or its heartbeat is older than ``heartbeat_timeout_s``) is
taken over by :func:`recover` or by :func:`~optimizer.applier.execute_plan`.

A plan a person started is PENDING until an applier claims it; its launch
request can be lost (the broker restarted, no applier was up). One still
PENDING ``heartbeat_timeout_s`` after it was started is run by :func:`recover`
too: the claim (PENDING → ONGOING, a conditional write) lets only one of
several appliers have it. RECOMMENDED plans wait for a person and are never
touched.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from optimizer.applier.actions import ActionPlugin, Phase, Step
from optimizer.applier.actuator import Actuator
from optimizer.applier.journal import PLANS, RUNNING_PLAN_STATES, StoredAction, owner_is_gone
from optimizer.applier.policy import ExecutionPolicy, policy_from
from optimizer.db.errors import ConcurrentUpdate
from optimizer.db.types import utcnow
from optimizer.states import ActionPlanState

if TYPE_CHECKING:
    from optimizer.applier.executor import PlanResult
    from optimizer.context import Context

LOG = logging.getLogger(__name__)


def reconcile_action(plugin: ActionPlugin, actuator: Actuator, params: Any,
                     action: StoredAction, policy: ExecutionPolicy) -> Step | None:
    """The step an ONGOING action left in the cloud, or None when it must be started."""
    try:
        step = plugin.reconcile(actuator, params, action.operation)
    except Exception as exc:  # a broken plugin fails its action, not the recovery
        LOG.exception("reconciling action %d failed", action.index)
        return Step(Phase.FAILED, f"cannot tell what happened after a restart: "
                                  f"{type(exc).__name__}: {exc}")
    found = "nothing in the cloud: starting it" if step is None else step.phase
    LOG.info("action %d (%s, operation %s) after a restart: %s", action.index, action.type,
             action.operation, found)
    return step


def abandoned_plans(ctx: Context, heartbeat_timeout_s: float) -> list[str]:
    """Uuids of running plans whose applier is gone or silent for too long."""
    with ctx.database.engine.connect() as connection:
        rows = connection.execute(select(PLANS.c.uuid, PLANS.c.owner, PLANS.c.heartbeat_at)
                                  .where(PLANS.c.state.in_(RUNNING_PLAN_STATES),
                                         PLANS.c.deleted_at.is_(None))).all()
    now = utcnow()
    return [uuid for uuid, owner, beat in rows
            if owner_is_gone(owner) or beat is None
            or (now - beat).total_seconds() > heartbeat_timeout_s]


def ownerless(ctx: Context, uuid: str, heartbeat_timeout_s: float | None = None) -> str | None:
    """Why no applier runs the running plan ``uuid`` (its process is gone, it is silent, it
    gave the plan up), or None when one does or the plan is not running."""
    timeout = policy_from(ctx).heartbeat_timeout_s if heartbeat_timeout_s is None \
        else heartbeat_timeout_s
    with ctx.database.engine.connect() as connection:
        row = connection.execute(select(PLANS.c.state, PLANS.c.owner, PLANS.c.heartbeat_at)
                                 .where(PLANS.c.uuid == uuid)).first()
    if row is None or row.state not in RUNNING_PLAN_STATES:
        return None
    if not row.owner:
        return "no applier holds it"
    if owner_is_gone(row.owner):
        return f"its applier ({row.owner}) is gone"
    age = (utcnow() - row.heartbeat_at).total_seconds() if row.heartbeat_at else float("inf")
    if age > timeout:
        return f"its applier ({row.owner}) has been silent for {age:.0f} s"
    return None


def forgotten_plans(ctx: Context, timeout_s: float) -> list[str]:
    """Uuids of plans started (PENDING) more than ``timeout_s`` ago that no applier claimed."""
    cutoff = utcnow() - timedelta(seconds=timeout_s)
    with ctx.database.engine.connect() as connection:
        return list(connection.scalars(
            select(PLANS.c.uuid).where(PLANS.c.state == ActionPlanState.PENDING,
                                       PLANS.c.deleted_at.is_(None),
                                       PLANS.c.updated_at < cutoff)
            .order_by(PLANS.c.id)))


def recover(ctx: Context, *, actuator: Actuator | None = None,
            on_progress=None) -> list[PlanResult]:
    """Finish every abandoned plan and run every forgotten one, one after the other.

    A plan another applier claims or takes over first is left to it.
    """
    from optimizer.applier import PlanBusy, execute_plan

    results = []
    timeout = policy_from(ctx).heartbeat_timeout_s
    forgotten = forgotten_plans(ctx, timeout)
    for uuid in forgotten:
        LOG.warning("action plan %s was started but no applier took it (its request was "
                    "lost?): running it", uuid)
    for uuid in abandoned_plans(ctx, timeout) + forgotten:
        try:
            results.append(execute_plan(ctx, uuid, on_progress=on_progress,
                                        actuator=actuator))
        except (PlanBusy, ConcurrentUpdate) as exc:
            LOG.info("action plan %s: %s", uuid, exc)
    return results
