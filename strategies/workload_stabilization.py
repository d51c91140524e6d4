"""The workload_stabilization strategy: Watcher's multi-metric balancing, many moves at once."""
from __future__ import annotations

from dataclasses import dataclass

from optimizer.models.snapshot import CPU_SIZINGS, ClusterSnapshot
from optimizer.strategies.balancing import (
    METRICS,
    BalanceSettings,
    MetricGoal,
    balance,
    balancing_solution,
    check_metrics,
)
from optimizer.strategies.base import Strategy
from optimizer.strategies.parameters import ParameterError, param
from optimizer.strategies.solution import Solution

NAME = "workload_stabilization"
GOAL = "workload_balancing"
SOURCE_HOSTS = 4  # busiest hosts whose instances each step simulates


def parse_metric_values(pairs: tuple[str, ...], field: str,
                        problems: list[str]) -> dict[str, float]:
    """``("cpu=0.1", "ram=0.2")`` → ``{"cpu": 0.1, "ram": 0.2}``; bad pairs go to ``problems``."""
    out: dict[str, float] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        name = name.strip()
        if not sep or name not in METRICS:
            problems.append(f"parameter {field!r}: expected metric=number with metric one of "
                            f"{', '.join(METRICS)}, got {pair!r}")
            continue
        try:
            value = float(raw)
        except ValueError:
            problems.append(f"parameter {field!r}: {name} must be a number, got {raw!r}")
            continue
        if not 0.0 <= value < float("inf"):
            problems.append(f"parameter {field!r}: {name} must be 0 or more, got {raw!r}")
            continue
        out[name] = value
    return out


@dataclass(frozen=True)
class WorkloadStabilizationParameters:
    metrics: tuple[str, ...] = param(("cpu", "ram"), help="Loads to balance: cpu and/or ram "
                                     "(RAM load: allocated over allocatable memory).")
    thresholds: tuple[str, ...] = param(("cpu=0.1", "ram=0.1"), help="Standard deviation of "
                                        "host load to reach, per metric, as metric=value.")
    weights: tuple[str, ...] = param(("cpu=1.0", "ram=1.0"), help="Weight of each metric's "
                                     "standard deviation in the score, as metric=value.")
    retry_count: int = param(1, help="Destinations drawn at random per step, besides the 16 "
                             "quietest hosts (Watcher's 'retry' host choice).",
                             minimum=0, maximum=1000)
    seed: int = param(0, help="Seed of the random destination draws.", minimum=0)
    max_migrations: int = param(0, help="Most migrations to plan; 0 for no limit.", minimum=0)
    cpu_sizing: str = param("mean", help="CPU demand of an instance: its mean use or a "
                            "percentile of its CPU series.", choices=CPU_SIZINGS)
    max_cpu_load: float = param(1.0, help="No host may end above this CPU load; hosts above "
                                "it are relieved first.", minimum=0.01, maximum=10.0)

    def __post_init__(self) -> None:
        check_metrics(self.metrics, strategy=NAME)
        problems: list[str] = []
        thresholds = parse_metric_values(self.thresholds, "thresholds", problems)
        parse_metric_values(self.weights, "weights", problems)
        problems += [f"parameter 'thresholds': no threshold for metric {m!r}"
                     for m in self.metrics if m not in thresholds and not problems]
        if problems:
            raise ParameterError(f"strategy {NAME}: " + "; ".join(problems))

    def goals(self) -> tuple[MetricGoal, ...]:
        """The balanced metrics with their thresholds and weights (unlisted weights are 1)."""
        thresholds = parse_metric_values(self.thresholds, "thresholds", [])
        weights = parse_metric_values(self.weights, "weights", [])
        return tuple(MetricGoal(m, thresholds[m], weights.get(m, 1.0)) for m in self.metrics)


def plan_workload_stabilization(snapshot: ClusterSnapshot,
                                params: WorkloadStabilizationParameters) -> Solution:
    """Migrate instances until every metric's load stdev is under its threshold.

    Optimizes:
        The weighted sum of the standard deviations of host CPU and RAM load
        across the hosts running instances, until each metric's stdev is
        under its threshold; every host ends at or below ``max_cpu_load``.
        As in Watcher, each step simulates candidate migrations and keeps
        the one giving the lowest weighted stdev; unlike Watcher, it plans
        all the steps the goal needs in one audit.
    Metrics:
        CPU demand per instance (vcpus x cpu_util, or a percentile of its
        CPU series with ``cpu_sizing``); memory allocations and allocatable
        capacity. RAM load is allocated memory, not measured use.
    Parameters:
        metrics, thresholds, weights, retry_count, seed, max_migrations,
        cpu_sizing, max_cpu_load.
    Limits:
        Each step simulates the instances of the 4 busiest hosts (weighted
        load above the mean; overloaded hosts first) against the 16 quietest
        hosts plus ``retry_count`` random ones: a bounded search, not
        Watcher's every-instance-to-every-host one, so that a step costs
        the same at 10,000 hosts. It stops when no simulated migration
        lowers the weighted stdev. Each instance moves at most once; no host
        is emptied and empty hosts are not filled. Affinity group members
        stay where they are; destinations are up and enabled hosts with
        room in vcpus, memory and disk; anti-affinity holds after every move.
    """
    goals = params.goals()
    if "cpu" not in params.metrics:
        # CPU load is still tracked for max_cpu_load and reported, with no weight
        goals = (MetricGoal("cpu", float("inf"), 0.0), *goals)
    settings = BalanceSettings(
        metrics=goals, cpu_sizing=params.cpu_sizing, max_cpu_load=params.max_cpu_load,
        max_migrations=params.max_migrations, source_hosts=SOURCE_HOSTS,
        random_destinations=params.retry_count, seed=params.seed)
    result = balance(snapshot, settings)
    reported = ("cpu", *(m for m in params.metrics if m != "cpu"))
    return balancing_solution(snapshot, result, strategy=NAME, goal=GOAL, reported=reported)


strategy = Strategy(name=NAME, goal=GOAL, parameters=WorkloadStabilizationParameters,
                    execute=plan_workload_stabilization, display_name="Workload stabilization")
