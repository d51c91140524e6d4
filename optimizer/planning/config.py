"""What the planner is told (limits, speeds) and how it says no."""
from __future__ import annotations

from dataclasses import dataclass

from optimizer.models.errors import UserError


class PlanInfeasible(UserError):
    """No safe action graph exists for a solution; the message names the hosts involved."""


@dataclass(frozen=True)
class PlannerConfig:
    """Rules and limits for turning a solution into an action graph.

    ``max_migrations_per_host`` (counting a host as source or destination)
    and ``max_parallel_migrations`` are stored on the graph for the applier
    to enforce; the planner uses them only to estimate the duration.
    """

    disable_before_evacuation: bool = True
    max_migrations_per_host: int = 2
    max_parallel_migrations: int = 10
    migration_bandwidth_mb_s: float = 1000.0  # memory moved per second per migration
    action_overhead_s: float = 5.0

    def __post_init__(self) -> None:
        for name in ("max_migrations_per_host", "max_parallel_migrations"):
            if getattr(self, name) < 1:
                raise UserError(f"planner setting {name} must be at least 1, "
                                f"got {getattr(self, name)!r}")
        for name in ("migration_bandwidth_mb_s",):
            if not getattr(self, name) > 0:
                raise UserError(f"planner setting {name} must be positive, "
                                f"got {getattr(self, name)!r}")
        if self.action_overhead_s < 0:
            raise UserError(f"planner setting action_overhead_s must not be negative, "
                            f"got {self.action_overhead_s!r}")
