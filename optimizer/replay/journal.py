"""Where the replay's executor keeps its plan: in memory, or in a SQLite database.

The executor (:class:`optimizer.applier.executor.Executor`) writes every state
change of a plan through a journal. Production's
:class:`~optimizer.applier.journal.PlanJournal` is DB-backed; the replay can
use it on a SQLite database in memory (``--journal sqlite``: the plan stored
with the production ``add_action_plan``, claimed, heartbeaten and finished
as in production). That costs several SQL statements per executor poll, so
by default (``--journal memory``) :class:`MemoryJournal` keeps the same
records in memory behind the same interface: same state checks, same
batching, no SQL. The executor's logic is the production one either way.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from optimizer import states
from optimizer.applier.journal import ClaimedPlan, PlanJournal, StoredAction
from optimizer.states import ActionPlanState, ActionState

JOURNALS = ("memory", "sqlite")


class MemoryJournal:
    """A plan and its actions as the executor reads and writes them, kept in memory.

    ``records`` are the planner's actions in execution order (``type``,
    ``parameters``, ``parents`` as positions), as the decision engine stores them.
    """

    def __init__(self, plan_uuid: str, records: Sequence[dict]):
        self.plan_uuid = plan_uuid
        self.state = ActionPlanState.PENDING
        self.message = ""
        self.actions = [StoredAction(id=k, index=k, type=r["type"], parameters=r["parameters"],
                                     parents=list(r["parents"]), state=ActionState.PENDING,
                                     status_message=None, operation=None, attempts=0,
                                     moved_memory_mb=None)
                        for k, r in enumerate(records)]

    def claim(self, heartbeat_timeout_s: float) -> ClaimedPlan:
        """PENDING → ONGOING (nobody else can hold a plan of this replay)."""
        self._move(ActionPlanState.ONGOING)
        return ClaimedPlan(0, self.plan_uuid, self.state, None, None, None)

    def load_actions(self) -> list[StoredAction]:
        return self.actions

    def commit(self, writes: Sequence[StoredAction],
               decide: Callable[[str], Sequence[StoredAction]] | None = None) -> str:
        # the executor's StoredAction objects are these very records: writes are in place
        if decide is not None:
            decide(self.state)
        return self.state

    def finish(self, state: str, message: str) -> str:
        if self.state == ActionPlanState.PAUSED and state != ActionPlanState.CANCELLED:
            self._move(ActionPlanState.ONGOING)
        if self.state != state:
            self._move(state)
        self.message = message
        return state

    def pause(self, message: str) -> str:
        if self.state == ActionPlanState.ONGOING:
            self._move(ActionPlanState.PAUSED)
            self.message = message
        return self.state

    def release(self) -> None:
        """Nobody else could take the plan over: nothing to give up."""

    def _move(self, state: str) -> None:
        states.check_transition("action plan", self.state, state)
        self.state = state


def sqlite_journal(database, plan_uuid: str) -> PlanJournal:
    """Production's journal on the replay's database (the plan already stored there)."""
    return PlanJournal(database, plan_uuid)
