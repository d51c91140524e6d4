"""How far a plan has got: counts of actions by state and the memory moved so far."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from optimizer.db import get_action_plan
from optimizer.db.schema import ActionRow
from optimizer.states import ActionState

if TYPE_CHECKING:
    from optimizer.context import Context


@dataclass(frozen=True)
class PlanProgress:
    """A plan's state and its actions counted by state; ``message`` says what happened last."""

    plan_uuid: str
    state: str
    total: int
    pending: int
    running: int
    succeeded: int
    failed: int
    skipped: int
    cancelled: int
    moved_memory_mb: float
    message: str = ""

    @property
    def done(self) -> int:
        """Actions that reached a final state."""
        return self.succeeded + self.failed + self.skipped + self.cancelled


def progress_of(plan_uuid: str, plan_state: str, counts: Counter, moved_memory_mb: float,
                message: str = "") -> PlanProgress:
    """A :class:`PlanProgress` from action counts keyed by action state."""
    return PlanProgress(
        plan_uuid=plan_uuid, state=plan_state, total=sum(counts.values()),
        pending=counts[ActionState.PENDING], running=counts[ActionState.ONGOING],
        succeeded=counts[ActionState.SUCCEEDED], failed=counts[ActionState.FAILED],
        skipped=counts[ActionState.SKIPPED], cancelled=counts[ActionState.CANCELLED],
        moved_memory_mb=float(moved_memory_mb), message=message)


def plan_progress(ctx: Context, plan_uuid: str) -> PlanProgress:
    """The progress of ``plan_uuid`` as stored in the database (no cloud is asked)."""
    with ctx.database.session() as session:
        plan = get_action_plan(session, plan_uuid)
        rows = session.execute(
            select(ActionRow.state, func.count(), func.sum(ActionRow.moved_memory_mb))
            .where(ActionRow.action_plan_id == plan.id).group_by(ActionRow.state)).all()
        counts = Counter({state: count for state, count, _ in rows})
        moved = sum(memory or 0.0 for state, _, memory in rows
                    if state == ActionState.SUCCEEDED)
        return progress_of(plan.uuid, plan.state, counts, moved, plan.status_message or "")
