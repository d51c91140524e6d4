"""The applier's record in the database: claiming a plan, batched action writes, heartbeats.

Only one applier runs a plan. It claims a PENDING plan with a conditional
state change (two claimers: one wins, the other gets ConcurrentUpdate) and
writes its ``owner``; every later write is fenced by that owner, so an
applier that was presumed dead and taken over cannot write any more. Each
commit also refreshes ``heartbeat_at`` and reads the plan's state, which is
how a pause or a cancel requested elsewhere is noticed.

Action changes are batched: one executemany per commit. The executor
commits before starting anything, so a step never starts before its
ONGOING state is stored.
"""
from __future__ import annotations

import os
import socket
import uuid as uuidlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import bindparam, select, update

from optimizer import states
from optimizer.db import get_action_plan, update_action_plan
from optimizer.db.engine import Database
from optimizer.db.errors import ConcurrentUpdate
from optimizer.db.schema import ActionPlanRow, ActionRow
from optimizer.db.types import utcnow
from optimizer.models.errors import UserError
from optimizer.observability.logs import state_changed
from optimizer.states import ActionPlanState

PLANS = ActionPlanRow.__table__
ACTIONS = ActionRow.__table__
RUNNING_PLAN_STATES = (ActionPlanState.ONGOING, ActionPlanState.PAUSED,
                       ActionPlanState.CANCELLING)


class PlanBusy(UserError):
    """Another live applier is running the plan."""


class LostOwnership(UserError):
    """Another applier took the plan over; this one must stop writing."""


@dataclass
class StoredAction:
    """One action as the applier reads and writes it."""

    id: int
    index: int
    type: str
    parameters: dict
    parents: list[int]
    state: str
    status_message: str | None
    operation: str | None
    attempts: int
    moved_memory_mb: float | None
    uuid: str = ""
    duration_s: float | None = None  # start to final state, when this applier saw both
    # the state last stored: a change is logged once its commit is done
    stored_state: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.stored_state is None:
            self.stored_state = self.state


@dataclass(frozen=True)
class ClaimedPlan:
    """A plan this applier now owns."""

    id: int
    uuid: str
    state: str
    failure_policy: str | None
    revert_on_failure: bool | None
    resumed_from: str | None  # the previous owner when taken over
    audit_uuid: str | None = None


def new_owner() -> str:
    """This applier's name: host, process id and a token unique to this run."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuidlib.uuid4().hex[:8]}"


def owner_is_gone(owner: str | None) -> bool:
    """True when ``owner`` names a process of this host that no longer exists."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class PlanJournal:
    """Reads and writes of one plan by the applier that owns it."""

    def __init__(self, database: Database, plan_uuid: str, owner: str | None = None):
        self.database = database
        self.plan_uuid = plan_uuid
        self.owner = owner or new_owner()
        self.plan_id: int | None = None
        self.audit_uuid: str | None = None

    def claim(self, heartbeat_timeout_s: float) -> ClaimedPlan:
        """Own the plan: PENDING → ONGOING, or take over a running one whose applier died."""
        with self.database.session() as session:
            plan = get_action_plan(session, self.plan_uuid)
            previous = None
            if plan.state == ActionPlanState.PENDING:
                update_action_plan(session, plan.uuid, expect_state=ActionPlanState.PENDING,
                                   state=ActionPlanState.ONGOING,
                                   owner=self.owner, heartbeat_at=utcnow(),
                                   status_message=f"executing ({self.owner})")
            elif plan.state in RUNNING_PLAN_STATES:
                previous = plan.owner
                self._check_abandoned(plan, heartbeat_timeout_s)
                taken = session.execute(
                    update(PLANS).where(PLANS.c.id == plan.id, PLANS.c.state == plan.state,
                                        _same_owner(previous))
                    .values(owner=self.owner, heartbeat_at=utcnow()))
                if taken.rowcount != 1:
                    raise ConcurrentUpdate(f"action plan {plan.uuid} was taken over meanwhile")
                session.refresh(plan)
            else:
                raise UserError(f"action plan {plan.uuid} is {plan.state}; only a PENDING plan "
                                "can be executed (or a running one taken over)")
            self.plan_id, self.audit_uuid = plan.id, plan.audit.uuid
            return ClaimedPlan(plan.id, plan.uuid, plan.state, plan.failure_policy,
                               plan.revert_on_failure, previous, plan.audit.uuid)

    def _check_abandoned(self, plan: ActionPlanRow, heartbeat_timeout_s: float) -> None:
        if plan.owner == self.owner or owner_is_gone(plan.owner):
            return
        beat = plan.heartbeat_at
        age = (utcnow() - beat).total_seconds() if beat else float("inf")
        if age <= heartbeat_timeout_s:
            raise PlanBusy(f"action plan {plan.uuid} is {plan.state} under applier {plan.owner} "
                           f"(heard of {age:.1f} s ago; taken over after "
                           f"{heartbeat_timeout_s:g} s of silence)")

    def load_actions(self) -> list[StoredAction]:
        """Every action of the plan, in plan order."""
        columns = [ACTIONS.c[name] for name in (
            "id", "index", "type", "parameters", "parents", "state", "status_message",
            "operation", "attempts", "moved_memory_mb", "uuid", "duration_s")]
        with self.database.engine.connect() as connection:
            rows = connection.execute(select(*columns).where(
                ACTIONS.c.action_plan_id == self.plan_id).order_by(ACTIONS.c.index))
            return [StoredAction(*row) for row in rows]

    def commit(self, writes: Sequence[StoredAction],
               decide: Callable[[str], Sequence[StoredAction]] | None = None) -> str:
        """Store ``writes`` (and what ``decide(plan state)`` adds) with a heartbeat, in one
        transaction; the plan's state. :class:`LostOwnership` if another applier owns it."""
        with self.database.engine.begin() as connection:
            state = self._beat(connection)
            if decide is not None:
                writes = [*writes, *decide(state)]
            if writes:
                now = utcnow()
                connection.execute(_ACTION_UPDATE, [
                    {"b_id": a.id, "b_state": a.state, "b_message": a.status_message,
                     "b_operation": a.operation, "b_attempts": a.attempts,
                     "b_moved": a.moved_memory_mb, "b_duration": a.duration_s,
                     "b_now": now} for a in writes])
        for action in writes:
            if action.state != action.stored_state:
                state_changed("action", action.uuid, action.stored_state, action.state,
                              audit=self.audit_uuid, action_plan=self.plan_uuid)
                action.stored_state = action.state
        return state

    def finish(self, state: str, message: str) -> str:
        """Move the plan to its final ``state`` with ``message``; the state it ended in."""
        with self.database.engine.begin() as connection:
            current = self._beat(connection)
            if current == state:
                return state
            if current == ActionPlanState.PAUSED and state != ActionPlanState.CANCELLED:
                # everything ended while paused: the plan ends as if resumed
                states.check_transition("action plan", current, ActionPlanState.ONGOING)
                current = ActionPlanState.ONGOING
            states.check_transition("action plan", current, state)
            connection.execute(update(PLANS).where(PLANS.c.id == self.plan_id)
                               .values(state=state, status_message=message,
                                       updated_at=utcnow()))
        self._log_plan(current, state)
        return state

    def pause(self, message: str) -> str:
        """ONGOING → PAUSED with ``message`` (other states are kept); the plan's state."""
        with self.database.engine.begin() as connection:
            current = self._beat(connection)
            if current != ActionPlanState.ONGOING:
                return current
            connection.execute(update(PLANS).where(PLANS.c.id == self.plan_id)
                               .values(state=ActionPlanState.PAUSED, status_message=message,
                                       updated_at=utcnow()))
        self._log_plan(current, ActionPlanState.PAUSED)
        return ActionPlanState.PAUSED

    def _log_plan(self, old: str, new: str) -> None:
        state_changed("action_plan", self.plan_uuid, old, new, audit=self.audit_uuid)

    def release(self) -> None:
        """Give the plan up, unfinished: with no owner, any applier may take it at once."""
        with self.database.engine.begin() as connection:
            self._beat(connection)
            connection.execute(update(PLANS).where(PLANS.c.id == self.plan_id)
                               .values(owner=None))

    def _beat(self, connection) -> str:
        beat = connection.execute(update(PLANS).where(PLANS.c.id == self.plan_id,
                                                      PLANS.c.owner == self.owner)
                                  .values(heartbeat_at=utcnow()))
        if beat.rowcount != 1:
            raise LostOwnership(f"action plan {self.plan_uuid} was taken over by another "
                                "applier; this one stops")
        return connection.execute(select(PLANS.c.state)
                                  .where(PLANS.c.id == self.plan_id)).scalar_one()


def _same_owner(owner: str | None):
    return PLANS.c.owner.is_(None) if owner is None else PLANS.c.owner == owner


_ACTION_UPDATE = (
    update(ACTIONS).where(ACTIONS.c.id == bindparam("b_id"))
    .values(state=bindparam("b_state"), status_message=bindparam("b_message"),
            operation=bindparam("b_operation"), attempts=bindparam("b_attempts"),
            moved_memory_mb=bindparam("b_moved"), duration_s=bindparam("b_duration"),
            updated_at=bindparam("b_now")))


def stale_before(seconds: float):
    """The heartbeat time older than which an applier counts as dead."""
    return utcnow() - timedelta(seconds=seconds)
