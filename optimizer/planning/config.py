"""What the planner is told (limits, speeds) and how it says no."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from optimizer.models.errors import UserError


class PlanInfeasible(UserError):
    """No safe action graph exists for a solution; the message names the hosts involved."""


@dataclass(frozen=True)
class PlannerConfig:
    """Rules and limits for turning a solution into an action graph.

    ``max_migrations_per_host`` (counting a host as source or destination)
    and ``max_parallel_migrations`` are stored on the graph for the applier
    to enforce; the planner uses them only to estimate the duration.
    ``pair_bandwidth_mb_s`` holds bandwidths learnt per (source, destination)
    host pair (:mod:`optimizer.efficacy.calibration`); a migration between
    a pair it does not hold gets ``migration_bandwidth_mb_s``.
    """

    disable_before_evacuation: bool = True
    max_migrations_per_host: int = 2
    max_parallel_migrations: int = 10
    migration_bandwidth_mb_s: float = 1000.0  # memory moved per second per migration
    action_overhead_s: float = 5.0
    pair_bandwidth_mb_s: Mapping[tuple[str, str], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("max_migrations_per_host", "max_parallel_migrations"):
            if getattr(self, name) < 1:
                raise UserError(f"planner setting {name} must be at least 1, "
                                f"got {getattr(self, name)!r}")
        for name in ("migration_bandwidth_mb_s",):
            if not getattr(self, name) > 0:
                raise UserError(f"planner setting {name} must be positive, "
                                f"got {getattr(self, name)!r}")
        bad = [pair for pair, rate in self.pair_bandwidth_mb_s.items() if not rate > 0]
        if bad:
            raise UserError(f"planner bandwidth of {bad[0][0]} → {bad[0][1]} must be positive, "
                            f"got {self.pair_bandwidth_mb_s[bad[0]]!r}")
        if self.action_overhead_s < 0:
            raise UserError(f"planner setting action_overhead_s must not be negative, "
                            f"got {self.action_overhead_s!r}")

    def bandwidth_mb_s(self, source: str, destination: str) -> float:
        """Bandwidth a migration from ``source`` to ``destination`` is expected to get."""
        if not self.pair_bandwidth_mb_s:
            return self.migration_bandwidth_mb_s
        return self.pair_bandwidth_mb_s.get((source, destination), self.migration_bandwidth_mb_s)
