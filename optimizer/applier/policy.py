"""How a plan is run: failure policy, retries with backoff, timeouts, concurrency limits."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from optimizer.models.errors import UserError

if TYPE_CHECKING:
    from optimizer.context import Context

CONTINUE, STOP = "continue", "stop"
FAILURE_POLICIES = (CONTINUE, STOP)


@dataclass(frozen=True)
class ExecutionPolicy:
    """Everything the executor decides by, from ``[applier]``, ``[planner]`` and the plan."""

    max_retries: int = 2
    retry_backoff_s: float = 1.0
    action_timeout_s: float = 600.0
    poll_interval_s: float = 0.2
    failure_policy: str = CONTINUE
    revert_on_failure: bool = False
    heartbeat_timeout_s: float = 30.0
    max_migrations_per_host: int = 2
    max_parallel_migrations: int = 10

    def __post_init__(self) -> None:
        if self.failure_policy not in FAILURE_POLICIES:
            raise UserError(f"failure policy must be one of {', '.join(FAILURE_POLICIES)}, "
                            f"got {self.failure_policy!r}")

    def backoff_s(self, attempt: int) -> float:
        """Wait before retry number ``attempt`` (1, 2, …): doubled each time."""
        return self.retry_backoff_s * 2 ** max(attempt - 1, 0)

    def for_plan(self, failure_policy: str | None, revert_on_failure: bool | None
                 ) -> ExecutionPolicy:
        """This policy with the plan's own choices, where it made any."""
        changes: dict = {}
        if failure_policy is not None:
            changes["failure_policy"] = failure_policy
        if revert_on_failure is not None:
            changes["revert_on_failure"] = revert_on_failure
        return replace(self, **changes)


def policy_from(ctx: Context) -> ExecutionPolicy:
    """The policy configured for ``ctx`` (its ``[applier]`` options and planner limits)."""
    applier = getattr(ctx.settings, "applier", None)
    values = dict(applier.__dict__) if applier is not None else {}
    values.pop("measure_efficacy", None)  # read by execute_plan, not a policy
    return ExecutionPolicy(**values,
                           max_migrations_per_host=ctx.planner.max_migrations_per_host,
                           max_parallel_migrations=ctx.planner.max_parallel_migrations)


class MigrationSlots:
    """Migrations in flight, per host (as source or destination) and in total."""

    def __init__(self, per_host: int, total: int):
        self.per_host, self.total = per_host, total
        self.by_host: Counter[str] = Counter()
        self.running = 0

    def fits(self, hosts: tuple[str, str]) -> bool:
        return (self.running < self.total
                and all(self.by_host[h] < self.per_host for h in set(hosts)))

    @property
    def full(self) -> bool:
        return self.running >= self.total

    def take(self, hosts: tuple[str, str]) -> None:
        self.running += 1
        for host in set(hosts):
            self.by_host[host] += 1

    def release(self, hosts: tuple[str, str]) -> None:
        self.running -= 1
        for host in set(hosts):
            self.by_host[host] -= 1
