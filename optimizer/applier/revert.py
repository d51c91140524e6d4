"""Undoing a failed plan: the completed actions' reverses, newest first.

Reverses that give capacity back (enable a service, power a host on) run
first, and those that take it away last, so instances can move back to
hosts the plan had disabled. An action already reverted is marked in its
status message, so a restarted applier does not revert it twice; a reverse
migration already in flight after a crash is adopted, not started again.
Every failed reverse is retried (``max_retries`` times, with backoff).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optimizer.applier.actions import ActionPlugin, Phase, Step
from optimizer.states import ActionState

if TYPE_CHECKING:
    from optimizer.applier.executor import Executor

REVERTED = "reverted"


def revert_completed(ex: Executor) -> str:
    """Revert every SUCCEEDED action of ``ex``'s plan; a summary of what happened."""
    todo = []
    for action in reversed(ex.actions):
        plugin, params = ex.plugin[action.index], ex.params[action.index]
        if (action.state != ActionState.SUCCEEDED or plugin is None
                or (action.status_message or "").startswith(REVERTED)):
            continue
        back = plugin.reverse(params)
        if back is not None:
            todo.append((action, plugin, back))
    todo.sort(key=lambda item: not _gives_capacity(item[2]))  # stable: newest first within
    reverted, problems = 0, []
    for action, plugin, back in todo:
        step = _run_to_end(ex, plugin, back)
        if step.phase in (Phase.DONE, Phase.SKIPPED):
            reverted += 1
            action.status_message = REVERTED + (f" ({step.message})" if step.message else "")
        else:
            problems.append(f"#{action.index}: {step.message}")
            action.status_message = f"revert failed: {step.message}"
        ex.journal.commit([action])
    summary = f"reverted {reverted} action(s)"
    if problems:
        summary += f", {len(problems)} revert(s) failed: " + "; ".join(problems[:5])
    return summary


def _gives_capacity(params: Any) -> bool:
    return getattr(params, "state", None) in ("enabled", "on")


def _run_to_end(ex: Executor, plugin: ActionPlugin, params: Any) -> Step:
    """Run one reverse action to its end, with the plan's retries and timeout."""
    policy, actuator = ex.policy, ex.actuator
    attempts = 0
    step = plugin.reconcile(actuator, params, None)  # already under way before a crash?
    while True:
        if step is None:
            step = plugin.pre_condition(actuator, params) or plugin.execute(actuator, params)
        deadline = ex.clock() + policy.action_timeout_s
        while step.phase == Phase.RUNNING:
            if ex.clock() > deadline:
                plugin.abort(actuator, params, step.operation)
                return Step(Phase.FAILED, f"timed out after {policy.action_timeout_s:g} s")
            ex.sleep(policy.poll_interval_s)
            ex.journal.commit([])  # keeps the heartbeat while waiting
            step = plugin.poll(actuator, params, step.operation)
        # Undoing must try hard: a failed reverse migration left the instance where it
        # was, so any failure is retried, not only transient refusals.
        if not (step.phase == Phase.FAILED and attempts < policy.max_retries):
            return step
        attempts += 1
        ex.sleep(policy.backoff_s(attempts))
        step = None
