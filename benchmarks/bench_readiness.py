"""Figures for the readiness issue: the K-failure check at 10,000 hosts.

    python benchmarks/bench_readiness.py

The scenarios are the shared generator's uniform 10,000-host cluster (seed 1)
and the same filled to 95%, each loaded once. Each check (every single-host
failure, every zone, a bounded K = 2 search) and, on the uniform cluster,
vm_workload_consolidation with keep_failover 0 and 1 run 3 times in this
process; the median is reported. The target: K = 1 by host, exact, within
5 s. It exits 1 when the target is missed.
"""
from __future__ import annotations

import statistics
import sys
import time

from harness import Scenario

SCENARIOS = (Scenario("uniform-h10000-s1", ("--hosts", "10000", "--seed", "1")),
             # nearly full: most failures strand instances, the slow path of the check
             Scenario("full-h10000-s1", ("--hosts", "10000", "--seed", "1", "--fill", "0.95")))
CHECKS = (("host", 1), ("zone", 1), ("host", 2))
REPEATS = 3
TARGET_SECONDS = 5.0


def main() -> int:
    from optimizer.models.scenario import load_scenario

    from optimizer.readiness.check import check_readiness

    problems = []
    for scenario in SCENARIOS:
        snapshot = load_scenario(str(scenario.path()))
        print(f"{scenario.name}: {snapshot.host_count} hosts, "
              f"{snapshot.instance_count} instances")
        problems += run_checks(snapshot, check_readiness)
        if scenario is SCENARIOS[0]:  # consolidating the full one is the strategy's cost
            time_keep_failover(snapshot)
    for problem in problems:
        print(f"MISSED: {problem}")
    return 1 if problems else 0


def time_keep_failover(snapshot) -> None:
    """vm_workload_consolidation with and without keep_failover=1, median of 3."""
    from optimizer.plugins import find_strategy

    strategy = find_strategy("vm_workload_consolidation")
    for keep in (0, 1):
        seconds, solution = [], None
        for _ in range(REPEATS):
            started = time.perf_counter()
            solution = strategy.run(snapshot, {"keep_failover": keep})
            seconds.append(time.perf_counter() - started)
        note = solution.notes[-1] if keep and solution.notes else ""
        print(f"vm_workload_consolidation keep_failover={keep}: median "
              f"{statistics.median(seconds):.2f} s of {REPEATS}, {len(solution.actions)} "
              f"actions; {note[:90]}")


def run_checks(snapshot, check_readiness) -> list[str]:
    """Each of :data:`CHECKS` timed :data:`REPEATS` times; the targets it missed."""
    problems = []
    for by, failures in CHECKS:
        seconds, result = [], None
        for _ in range(REPEATS):
            started = time.perf_counter()
            result = check_readiness(snapshot, failures, by)
            seconds.append(time.perf_counter() - started)
        median = statistics.median(seconds)
        worst = result.worst
        print(f"by={by} K={failures}: median {median:.2f} s of {REPEATS} "
              f"({', '.join(f'{s:.2f}' for s in seconds)}); ok={result.ok}, "
              f"{result.failing_sets}/{result.sets_tried} sets fail, worst {worst.label[:40]} "
              f"({len(worst.stranded)} stranded, {len(worst.hosts_to_keep)} to keep, "
              f"{len(worst.hosts_to_wake)} to wake); {result.search}")
        if (by, failures) == ("host", 1) and median > TARGET_SECONDS:
            problems.append(f"{snapshot.name} K=1 by host: median {median:.2f} s "
                            f"> {TARGET_SECONDS} s")
    return problems


if __name__ == "__main__":
    sys.exit(main())
