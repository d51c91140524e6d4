"""The workload_balance strategy: even out host CPU load in few migrations."""
from __future__ import annotations

from dataclasses import dataclass

from optimizer.models.snapshot import CPU_SIZINGS, ClusterSnapshot
from optimizer.strategies.balancing import (
    BalanceSettings,
    MetricGoal,
    balance,
    balancing_solution,
    check_metrics,
)
from optimizer.strategies.base import Strategy
from optimizer.strategies.parameters import param
from optimizer.strategies.solution import Solution

NAME = "workload_balance"
GOAL = "workload_balancing"


@dataclass(frozen=True)
class WorkloadBalanceParameters:
    threshold: float = param(0.05, help="Standard deviation of host load to reach, per metric.",
                             minimum=0.0, maximum=1.0)
    metrics: tuple[str, ...] = param(("cpu",), help="Loads to balance: cpu, or cpu,ram "
                                     "(RAM load: allocated over allocatable memory).")
    max_migrations: int = param(0, help="Most migrations to plan; 0 for no limit.", minimum=0)
    cpu_sizing: str = param("mean", help="CPU demand of an instance: its mean use or a "
                            "percentile of its CPU series.", choices=CPU_SIZINGS)
    max_cpu_load: float = param(1.0, help="No host may end above this CPU load; hosts above "
                                "it are relieved first.", minimum=0.01, maximum=10.0)

    def __post_init__(self) -> None:
        check_metrics(self.metrics, strategy=NAME)


def plan_workload_balance(snapshot: ClusterSnapshot,
                          params: WorkloadBalanceParameters) -> Solution:
    """Migrate instances from the busiest hosts to the quietest until load is even.

    Optimizes:
        The standard deviation of host CPU load (and optionally RAM load)
        across the hosts running instances, down to ``threshold``, with as
        few migrations as possible; every host ends at or below
        ``max_cpu_load``. Unlike Watcher's workload_balance, which makes one
        migration an audit, it plans every move the goal needs at once.
    Metrics:
        CPU demand per instance (vcpus x cpu_util, or a percentile of its
        CPU series with ``cpu_sizing``); allocations and allocatable capacity.
    Parameters:
        threshold, metrics, max_migrations, cpu_sizing, max_cpu_load.
    Limits:
        Greedy: each step moves one instance off the busiest host (overloaded
        hosts first) onto one of the 16 quietest hosts that can take it,
        choosing the pair that lowers the stdevs still above threshold most
        (without pushing another metric over its threshold), and stops when
        no pair helps. Each instance moves at most once; no host is emptied and
        empty hosts are not filled (that is consolidation's business).
        Affinity group members stay where they are. Destinations are up and
        enabled hosts with room in vcpus, memory and disk after ratios and
        reserves; anti-affinity holds after every move.
    """
    cpu = MetricGoal("cpu", params.threshold if "cpu" in params.metrics else float("inf"),
                     1.0 if "cpu" in params.metrics else 0.0)
    goals = [cpu] + [MetricGoal(m, params.threshold) for m in params.metrics if m != "cpu"]
    settings = BalanceSettings(metrics=tuple(goals), cpu_sizing=params.cpu_sizing,
                               max_cpu_load=params.max_cpu_load,
                               max_migrations=params.max_migrations, hinge_at_threshold=True)
    result = balance(snapshot, settings)
    return balancing_solution(snapshot, result, strategy=NAME, goal=GOAL,
                              reported=("cpu", *(m for m in params.metrics if m != "cpu")))


strategy = Strategy(name=NAME, goal=GOAL, parameters=WorkloadBalanceParameters,
                    execute=plan_workload_balance, display_name="Workload balance")
