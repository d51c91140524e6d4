"""Running a plan's action graph against an actuator, safely and resumably.

One round of the loop, repeated until nothing is left:

1. pick the actions whose parents all SUCCEEDED or were SKIPPED, in plan
   order, within the migration limits (per host as source or destination,
   and in total), and check their pre-conditions;
2. commit, in one transaction: the outcomes of the last round, the heartbeat,
   and — only if the plan is still ONGOING — the picked actions as ONGOING;
3. start the picked actions (nothing starts before its ONGOING is stored);
4. poll the running ones: finished, failed (retried with backoff when the
   error is transient), or timed out (aborted, then FAILED).

A failed action's dependents are CANCELLED and never start; independent
branches go on unless the failure policy is ``stop``. A PAUSED plan starts
nothing new; a CANCELLING one also aborts what is in flight. SUCCEEDED is
only written after the cloud said so; recovery.py finds steps that a killed
applier left in flight.
"""
from __future__ import annotations

import heapq
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from optimizer import states
from optimizer.applier.actions import ActionPlugin, InvalidParameters, Phase, Step
from optimizer.applier.actuator import Actuator
from optimizer.applier.journal import PlanJournal, StoredAction
from optimizer.applier.policy import STOP, ExecutionPolicy, MigrationSlots
from optimizer.applier.progress import PlanProgress, progress_of
from optimizer.applier.recovery import reconcile_action
from optimizer.applier.revert import revert_completed
from optimizer.observability import current_metrics
from optimizer.states import ActionPlanState, ActionState
from optimizer.tracing import current_span, end_span, start_span

LOG = logging.getLogger(__name__)
_P, _X = ActionPlanState, ActionState
SATISFIED = (_X.SUCCEEDED, _X.SKIPPED)
FINAL = (_X.SUCCEEDED, _X.SKIPPED, _X.FAILED, _X.CANCELLED)


@dataclass(frozen=True)
class PlanResult:
    """How a plan ended: its state, why, its progress and the failed actions."""

    plan_uuid: str
    state: str
    message: str
    progress: PlanProgress
    seconds: float
    failures: tuple[str, ...] = ()


class Executor:
    """Runs one claimed plan to its end."""

    def __init__(self, journal: PlanJournal, actuator: Actuator,
                 plugins: Mapping[str, ActionPlugin], policy: ExecutionPolicy,
                 on_progress: Callable[[PlanProgress], None] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.journal, self.actuator, self.plugins = journal, actuator, plugins
        self.policy, self.on_progress = policy, on_progress
        self.clock, self.sleep = clock, sleep
        self.slots = MigrationSlots(policy.max_migrations_per_host,
                                    policy.max_parallel_migrations)
        self.plan_state = _P.ONGOING
        self.stop_reason: str | None = None
        self.message = ""
        # polled every round; True asks to pause the plan and return once nothing runs
        self.interrupt: Callable[[], bool] | None = None
        self.releasing = False
        # tracing: the plan's span and each running action's (empty while tracing is off)
        self.plan_span: Any = None
        self.spans: dict[int, Any] = {}

    # ----- setting up ----------------------------------------------------------------

    def load(self, actions: list[StoredAction]) -> None:
        """Take the stored actions: parse them, reconcile in-flight ones, find the ready ones."""
        self.actions = actions
        count = len(actions)
        self.plugin: list[ActionPlugin | None] = [None] * count
        self.params: list[Any] = [None] * count
        self.hosts: list[tuple[str, str] | None] = [None] * count
        self.children: list[list[int]] = [[] for _ in range(count)]
        self.waiting = [0] * count
        self.counts = Counter(a.state for a in actions)
        self.moved = sum(a.moved_memory_mb or 0.0 for a in actions if a.state == _X.SUCCEEDED)
        self.dirty: dict[int, StoredAction] = {}
        self.ready_migrations: list[int] = []
        self.ready_other: list[int] = []
        self.retries: list[tuple[float, int]] = []
        self.running: dict[int, float] = {}    # index -> when it started (clock)
        self.abort_sent: set[int] = set()
        self.holding: set[int] = set()        # migrations holding a slot
        for action in actions:
            for parent in action.parents:
                self.children[parent].append(action.index)
            if action.state in (_X.PENDING, _X.ONGOING):
                self._parse(action)
        for action in actions:
            if action.state == _X.PENDING:
                self._count_parents(action.index)
        for action in actions:  # after counting: a recovered step may release children
            if action.state == _X.ONGOING and self.plugin[action.index] is not None:
                self._recover(action.index)

    def _parse(self, action: StoredAction) -> None:
        plugin = self.plugins.get(action.type)
        if plugin is None:
            self._fail(action.index, f"unknown action type {action.type!r} "
                                     f"(known: {', '.join(sorted(self.plugins))})")
            return
        try:
            params = plugin.parse(action.parameters or {})
        except InvalidParameters as exc:
            self._fail(action.index, f"bad parameters: {exc}")
            return
        self.plugin[action.index], self.params[action.index] = plugin, params
        self.hosts[action.index] = plugin.migration_hosts(params)

    def _recover(self, i: int) -> None:
        step = reconcile_action(self.plugin[i], self.actuator, self.params[i],
                                self.actions[i], self.policy)
        if step is None:
            self._make_ready(i)
        else:
            if step.phase == Phase.RUNNING:
                self._take_slot(i)
            self._handle(i, step)

    def _count_parents(self, i: int) -> None:
        for parent in self.actions[i].parents:
            state = self.actions[parent].state
            if state in (_X.FAILED, _X.CANCELLED):
                self._cancel_dependents(parent)
                return
            if state not in SATISFIED:
                self.waiting[i] += 1
        if self.waiting[i] == 0:
            self._make_ready(i)

    # ----- the loop ------------------------------------------------------------------

    def run(self, plan_uuid: str) -> PlanResult:
        """Run every action to a final state, then end the plan; its result."""
        began = self.clock()
        self.plan_span = current_span()
        while True:
            if not self.releasing and self.interrupt is not None and self.interrupt():
                self._begin_release()
            picked = self._pick() if self._may_start() else []
            started = self._commit_round(picked)
            if self.plan_state == _P.CANCELLING:
                self._abort_running()
            for i in started:
                self._start(i)
            progressed = self._poll_running() or bool(picked)
            self._report()
            if self._over():
                break
            if not progressed:
                self.sleep(self._idle_wait())
        if self.releasing and self.counts[_X.PENDING] + self.counts[_X.ONGOING]:
            return self._release(plan_uuid, self.clock() - began)
        # (interrupted when nothing was left to do: the plan simply ends)
        self._close_remaining()
        self.journal.commit(self._take_dirty())
        return self._finish(plan_uuid, self.clock() - began)

    def _may_start(self) -> bool:
        return self.plan_state == _P.ONGOING and self.stop_reason is None \
            and not self.releasing

    def _begin_release(self) -> None:
        """Interrupted: pause the plan now, start nothing more, let what runs end."""
        self.releasing = True
        self.plan_state = self.journal.pause("paused: its applier was interrupted")
        LOG.warning("action plan %s: interrupted, %s; waiting for %d running action(s)",
                    self.journal.plan_uuid, self.plan_state, len(self.running))

    def _release(self, plan_uuid: str, seconds: float) -> PlanResult:
        """Store what ended, give the plan up unfinished (PAUSED, or CANCELLING), report."""
        # a retry not yet started stays ONGOING with no operation: whoever goes on starts it
        self.journal.commit(self._take_dirty())
        self.journal.release()
        self.message = f"{self.plan_state}: interrupted; nothing runs it now"
        progress = self._progress()
        if self.on_progress:
            self.on_progress(progress)
        LOG.info("action plan %s given up %s after %.2f s", plan_uuid, self.plan_state, seconds)
        return PlanResult(plan_uuid, self.plan_state, self.message, progress, seconds)

    def _pick(self) -> list[int]:
        """Ready actions to start now, their pre-conditions checked (skips are recorded)."""
        now = self.clock()
        while self.retries and self.retries[0][0] <= now:
            self._make_ready(heapq.heappop(self.retries)[1])
        candidates, self.ready_other = self.ready_other, []
        blocked = []
        while self.ready_migrations and not self.slots.full:
            i = heapq.heappop(self.ready_migrations)
            if self.slots.fits(self.hosts[i]):
                self._take_slot(i)
                candidates.append(i)
            else:
                blocked.append(i)
        for i in blocked:
            heapq.heappush(self.ready_migrations, i)
        picked = []
        for i in sorted(candidates):
            step = self._guarded(i, self.plugin[i].pre_condition)
            if step is None:
                picked.append(i)
            else:
                self._handle(i, step)
        return picked

    def _commit_round(self, picked: list[int]) -> list[int]:
        """Store what happened and, if still allowed, the picked actions as ONGOING."""
        started: list[int] = []

        def decide(plan_state: str) -> list[StoredAction]:
            self.plan_state = plan_state
            if plan_state != _P.ONGOING:
                return []
            for i in picked:
                self._set(i, _X.ONGOING, self.actions[i].status_message)
                started.append(i)
            return [self.actions[i] for i in picked]

        self.journal.commit(self._take_dirty(), decide)
        for i in picked:
            if i not in started:  # paused or cancelled meanwhile: back in the queue
                self._release_slot(i)
                self._make_ready(i)
        return started

    def _start(self, i: int) -> None:
        self.running[i] = self.clock()
        if self.plan_span is not None:
            action = self.actions[i]
            end_span(self.spans.pop(i, None), error="retried")
            self.spans[i] = start_span(f"action {action.type}", self.plan_span,
                                       action_id=action.id, attempt=action.attempts)
        self._handle(i, self._guarded(i, self.plugin[i].execute))

    def _poll_running(self) -> bool:
        finished = False
        now = self.clock()
        for i in list(self.running):
            operation = self.actions[i].operation
            step = self._guarded(i, self.plugin[i].poll, operation)
            if step.phase == Phase.RUNNING and now - self.running[i] > self.policy.action_timeout_s:
                step = self._time_out(i, operation)
            if step.phase != Phase.RUNNING:
                finished = True
            self._handle(i, step)
        return finished

    def _time_out(self, i: int, operation: str | None) -> Step:
        aborted = bool(operation) and self._guarded(i, self.plugin[i].abort, operation,
                                                    default=False)
        late = aborted if isinstance(aborted, Step) else self._guarded(
            i, self.plugin[i].poll, operation)
        if late.phase == Phase.DONE:
            return late  # it finished while being aborted
        note = "" if aborted else " (the cloud refused to abort it)"
        return Step(Phase.FAILED, f"timed out after {self.policy.action_timeout_s:g} s{note}",
                    operation=operation)

    def _abort_running(self) -> None:
        """Abort what is in flight after a cancel; an abort that ends a step at once is
        recorded at once (the others end at their next poll, as the cloud says)."""
        for i in list(self.running):
            if i not in self.abort_sent and self.actions[i].operation:
                self.abort_sent.add(i)
                outcome = self._guarded(i, self.plugin[i].abort, self.actions[i].operation,
                                        default=False)
                if isinstance(outcome, Step):
                    self._handle(i, outcome)

    def _over(self) -> bool:
        if self.running:
            return False
        if self.releasing:
            return True
        if self.plan_state == _P.CANCELLING or self.stop_reason is not None:
            return True
        if self.plan_state == _P.PAUSED:
            return self.counts[_X.PENDING] + self.counts[_X.ONGOING] == 0
        return not (self.ready_migrations or self.ready_other or self.retries)

    def _idle_wait(self) -> float:
        wait = self.policy.poll_interval_s
        if self.retries:
            wait = min(wait, max(self.retries[0][0] - self.clock(), 0.0))
        return wait

    # ----- outcomes ------------------------------------------------------------------

    def _guarded(self, i: int, call: Callable, *args: Any, default: Any = None) -> Any:
        """``call(actuator, params, *args)``; an exception fails the action, not the plan."""
        try:
            return call(self.actuator, self.params[i], *args)
        except Exception as exc:  # a broken plugin or cloud client
            LOG.exception("action %d (%s) raised", i, self.actions[i].type)
            if default is not None:
                return default
            return Step(Phase.FAILED, f"{type(exc).__name__}: {exc}")

    def _handle(self, i: int, step: Step) -> None:
        action = self.actions[i]
        if step.phase == Phase.RUNNING:
            self.running.setdefault(i, self.clock())
            if step.operation != action.operation:
                action.operation = step.operation
                self.dirty[action.id] = action
            return
        began = self.running.pop(i, None)
        if began is not None:  # measured efficacy reports how long each action took
            action.duration_s = self.clock() - began
        self._release_slot(i)
        if step.operation:
            action.operation = step.operation
        if step.phase == Phase.DONE:
            current_metrics().action_done(action.type, began, self.clock())
            self.moved += step.moved_memory_mb or 0.0
            action.moved_memory_mb = step.moved_memory_mb
            self._set(i, _X.SUCCEEDED, step.message or None)
            self._release_children(i)
        elif step.phase == Phase.SKIPPED and action.state == _X.PENDING:
            self._set(i, _X.SKIPPED, step.message)
            self._release_children(i)
        elif i in self.abort_sent and self.plan_state == _P.CANCELLING:
            self._set(i, _X.CANCELLED, f"cancelled: {step.message}")
        elif step.transient and action.attempts < self.policy.max_retries:
            self._retry(i, step.message)
        else:
            self._fail(i, step.message)

    def _retry(self, i: int, reason: str) -> None:
        action = self.actions[i]
        action.attempts += 1
        action.operation = None  # the next attempt's operation is found anew after a crash
        wait = self.policy.backoff_s(action.attempts)
        self._set(i, _X.ONGOING, f"{reason}; retry {action.attempts} of "
                                 f"{self.policy.max_retries} in {wait:g} s")
        heapq.heappush(self.retries, (self.clock() + wait, i))

    def _fail(self, i: int, reason: str) -> None:
        action = self.actions[i]
        if action.attempts:
            reason = f"{reason} (after {action.attempts} retries)"
        if action.state == _X.PENDING:  # failed before it started: it did start checking
            self._set(i, _X.ONGOING, None)
        self._set(i, _X.FAILED, reason)
        self.running.pop(i, None)
        self._release_slot(i)
        self._cancel_dependents(i)
        if self.policy.failure_policy == STOP and self.stop_reason is None:
            self.stop_reason = f"action {i} failed"

    def _cancel_dependents(self, failed: int) -> None:
        stack = [(child, f"parent {failed} failed") for child in self.children[failed]]
        while stack:
            child, why = stack.pop()
            if self.actions[child].state != _X.PENDING:
                continue
            self._set(child, _X.CANCELLED, why)
            stack += [(c, f"parent {child} cancelled (action {failed} failed)")
                      for c in self.children[child]]

    def _release_children(self, i: int) -> None:
        for child in self.children[i]:
            if self.actions[child].state == _X.PENDING:
                self.waiting[child] -= 1
                if self.waiting[child] == 0:
                    self._make_ready(child)

    def _make_ready(self, i: int) -> None:
        if self.hosts[i]:
            heapq.heappush(self.ready_migrations, i)
        else:
            self.ready_other.append(i)

    def _take_slot(self, i: int) -> None:
        if self.hosts[i] and i not in self.holding:
            self.holding.add(i)
            self.slots.take(self.hosts[i])

    def _release_slot(self, i: int) -> None:
        if i in self.holding:
            self.holding.discard(i)
            self.slots.release(self.hosts[i])

    def _set(self, i: int, state: str, message: str | None) -> None:
        action = self.actions[i]
        if state != action.state:
            states.check_transition("action", action.state, state)
            self.counts[action.state] -= 1
            self.counts[state] += 1
            action.state = state
            current_metrics().action_state(action.type, state)
            if i in self.spans and state in FINAL:
                end_span(self.spans.pop(i), error=message if state == _X.FAILED else None,
                         state=state)
        action.status_message = message
        self.dirty[action.id] = action

    def _take_dirty(self) -> list[StoredAction]:
        writes, self.dirty = list(self.dirty.values()), {}
        return writes

    # ----- the end -------------------------------------------------------------------

    def _close_remaining(self) -> None:
        """Cancel what never ran: after a cancel, a stop, or (a bug) an unreachable action."""
        if self.plan_state == _P.CANCELLING:
            why = "plan cancelled"
        elif self.stop_reason:
            why = f"not started: {self.stop_reason} and the failure policy is stop"
        else:
            why = "never became ready"
        for action in self.actions:
            if action.state in (_X.PENDING, _X.ONGOING):
                self._set(action.index, _X.CANCELLED, why)

    def _finish(self, plan_uuid: str, seconds: float) -> PlanResult:
        failures = tuple(self._describe_failure(a) for a in self.actions
                         if a.state == _X.FAILED)
        failed = self.counts[_X.FAILED] + self.counts[_X.CANCELLED] > 0
        if self.plan_state == _P.CANCELLING:
            state, message = _P.CANCELLED, "cancelled"
        elif failed:
            state = _P.FAILED
            message = (f"{len(failures)} action(s) failed: " + "; ".join(failures[:5])
                       if failures else f"{self.counts[_X.CANCELLED]} action(s) cancelled")
            if len(failures) > 5:
                message += f"; and {len(failures) - 5} more"
            if self.policy.revert_on_failure:
                message += "; " + revert_completed(self)
        else:
            state, message = _P.SUCCEEDED, f"{self.counts[_X.SUCCEEDED]} action(s) succeeded"
        self.message = message
        state = self.journal.finish(state, message)
        self.plan_state = state
        current_metrics().plan_ended(state)
        progress = self._progress()
        if self.on_progress:
            self.on_progress(progress)
        LOG.info("action plan %s %s in %.2f s: %s", plan_uuid, state, seconds, message)
        return PlanResult(plan_uuid, state, message, progress, seconds, failures)

    def _describe_failure(self, action: StoredAction) -> str:
        plugin = self.plugin[action.index]
        what = plugin.describe(self.params[action.index]) if plugin else ""
        return f"#{action.index} {action.type}{' ' + what if what else ''}: " \
               f"{action.status_message}"

    def _progress(self) -> PlanProgress:
        return progress_of(self.journal.plan_uuid, self.plan_state, self.counts, self.moved,
                           self.message)

    def _report(self) -> None:
        current_metrics().applier_queue(self, len(self.ready_migrations) + len(self.ready_other)
                                + len(self.retries), len(self.running))
        if self.on_progress:
            self.on_progress(self._progress())
