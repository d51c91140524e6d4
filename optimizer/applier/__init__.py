"""The applier: carries out action plans on a cloud, safely and resumably.

- :func:`execute_plan` runs a PENDING plan (or takes over a running one whose
  applier died) to its end in this process and returns a :class:`PlanResult`;
- :func:`plan_progress` reads a plan's :class:`PlanProgress` from the database;
- :func:`pause_plan` / :func:`resume_plan` hold and release a running plan
  (cancel with :func:`optimizer.operations.cancel_action_plan`);
- :func:`recover` finishes every plan whose applier died, and runs started
  plans whose launch request was lost;
- :func:`ownerless` says why no applier runs a running plan (or None);
- :func:`open_actuator` opens the cloud the plans act on.

``python -m optimizer.applier PLAN_UUID`` runs :func:`execute_plan` as a
process of its own.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from optimizer.applier.actions import BUILTIN_ACTIONS, ActionPlugin, Step, load_actions
from optimizer.applier.actuator import Actuator, SimulatedActuator, open_actuator
from optimizer.applier.executor import Executor, PlanResult
from optimizer.applier.journal import LostOwnership, PlanBusy, PlanJournal
from optimizer.applier.policy import ExecutionPolicy, policy_from
from optimizer.applier.progress import PlanProgress, plan_progress
from optimizer.applier.recovery import ownerless, recover
from optimizer.db import set_action_plan_state
from optimizer.db.schema import ActionPlanRow
from optimizer.states import ActionPlanState, ActionState
from optimizer.tracing import span

if TYPE_CHECKING:
    from optimizer.context import Context
    from optimizer.efficacy.recorder import EfficacyRecorder

__all__ = [
    "BUILTIN_ACTIONS", "ActionPlugin", "Actuator", "ExecutionPolicy", "LostOwnership",
    "PlanBusy", "PlanProgress", "PlanResult", "SimulatedActuator", "Step", "execute_plan",
    "load_actions", "open_actuator", "ownerless", "pause_plan", "plan_progress", "recover",
    "resume_plan",
]


def execute_plan(ctx: Context, plan_uuid: str, *,
                 on_progress: Callable[[PlanProgress], None] | None = None,
                 actuator: Actuator | None = None,
                 interrupt: Callable[[], bool] | None = None) -> PlanResult:
    """Run the plan ``plan_uuid`` to its end here; how it ended.

    A PENDING plan is claimed (PENDING → ONGOING; of two appliers only one
    wins, the other gets ConcurrentUpdate). A running plan (ONGOING, PAUSED
    or CANCELLING) is taken over when its applier's process is gone or its
    heartbeat is older than ``[applier] heartbeat_timeout_s``, else
    :class:`PlanBusy`. ``on_progress`` is called after every round that
    changed something. ``actuator`` defaults to :func:`open_actuator`.
    ``interrupt`` is asked every round; once it says True the plan is paused,
    nothing new starts, the running actions end and are stored, and the plan
    is given up (no owner), PAUSED, for any applier to go on with. Once
    the plan has ended, its measured efficacy is stored beside the predicted
    one (:mod:`optimizer.efficacy`) unless ``[applier] measure_efficacy`` is off
    or ``actuator`` was given.
    """
    policy = policy_from(ctx)
    journal = PlanJournal(ctx.database, plan_uuid)
    claimed = journal.claim(policy.heartbeat_timeout_s)
    policy = policy.for_plan(claimed.failure_policy, claimed.revert_on_failure)
    owned = actuator is None
    actuator = actuator or open_actuator(ctx)
    try:
        executor = Executor(journal, actuator, load_actions(), policy, on_progress)
        executor.plan_state = claimed.state
        executor.interrupt = interrupt
        actions = journal.load_actions()
        # a caller's own actuator may act on another cloud than the collector reads
        recorder = _recorder(ctx, claimed.uuid, actions) if owned else None
        executor.load(actions)
        with span("action plan", service="applier", plan_uuid=claimed.uuid,
                  audit_uuid=claimed.audit_uuid) as current:
            result = executor.run(claimed.uuid)
            if current is not None:
                current.set_attribute("optimizer.plan_state", result.state)
        if recorder is not None:
            recorder.finish(result)
        return result
    finally:
        if owned:
            actuator.close()


def _recorder(ctx: Context, plan_uuid: str, actions: list) -> EfficacyRecorder | None:
    """What measures the plan's efficacy once it ended, unless ``[applier]`` turns it off."""
    if not ctx.settings.applier.measure_efficacy:
        return None
    from optimizer.efficacy.recorder import EfficacyRecorder

    begun = any(a.state != ActionState.PENDING for a in actions)
    return EfficacyRecorder.start(ctx, plan_uuid, taken_over=begun)


def pause_plan(ctx: Context, uuid: str) -> ActionPlanRow:
    """ONGOING → PAUSED: nothing new starts; what runs finishes. IllegalTransition otherwise."""
    with ctx.database.session() as session:
        return set_action_plan_state(session, uuid, ActionPlanState.PAUSED, "paused by request")


def resume_plan(ctx: Context, uuid: str) -> ActionPlanRow:
    """PAUSED → ONGOING: the applier starts actions again."""
    with ctx.database.session() as session:
        return set_action_plan_state(session, uuid, ActionPlanState.ONGOING,
                                     "resumed by request")
