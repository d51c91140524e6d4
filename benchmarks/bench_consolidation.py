"""Figures for the foundation issue: every built-in strategy, scored by the referee.

    python benchmarks/bench_consolidation.py [--quick]

Scenarios: uniform at 100, 500, 1,000 and 10,000 hosts (seed 1); hetero at 300
hosts (seed 12, 30 server groups, 20 stopped instances, 5 disabled hosts);
CPU-heavy at 200 hosts (CPU scale 2.5, fill 0.6: some hosts start
overloaded). vm_workload_consolidation is scored with --overload and
--target-load at its target CPU load, so "over" counts hosts left above it.
It prints one table and exits 1 when a vm_workload_consolidation target is missed.
"""
from __future__ import annotations

import sys

from harness import Run, Scenario, run_plan, table

UNIFORM = {n: Scenario(f"uniform-h{n}-s1", ("--hosts", str(n), "--seed", "1"))
           for n in (100, 500, 1000, 10000)}
HETERO = Scenario("hetero-h300-s12", ("--family", "hetero", "--hosts", "300", "--seed", "12",
                                      "--groups", "30", "--stopped", "20", "--disabled", "5"))
CPU_HEAVY = Scenario("cpuheavy-h200-s1", ("--hosts", "200", "--seed", "1", "--cpu-scale", "2.5",
                                          "--fill", "0.6"))
TARGET = 0.8  # vm_workload_consolidation's default target_cpu_load

# Watcher 17.0.0's vm_workload_consolidation on this machine (from the issue).
REFERENCE = {
    "uniform-h100-s1": {"migrations": 530, "moved_gb": 3010},
    "uniform-h500-s1": {"migrations": 2681, "moved_gb": 15182},
    "hetero-h300-s12": {"migrations": 1276, "moved_gb": 6946},
    "cpuheavy-h200-s1": {"migrations": 1068, "moved_gb": None},
}


def check(run: Run) -> list[str]:
    """The foundation issue's targets for vm_workload_consolidation."""
    f = run.figures
    if run.error:
        return [f"{run.scenario}: {run.error}"]
    problems = []
    if not f["valid"]:
        problems.append(f"{run.scenario}: invalid plan: {f['errors'][:2]}")
    if f["overloaded_hosts_after"]:
        problems.append(f"{run.scenario}: {f['overloaded_hosts_after']} hosts above {TARGET}")
    bound = f["hosts_lower_bound"]
    limit = bound if run.scenario.startswith("uniform") else bound * 1.05
    if f["active_hosts_after"] > limit:
        problems.append(f"{run.scenario}: {f['active_hosts_after']} active > {limit:.1f}")
    ref = REFERENCE.get(run.scenario)
    if ref and f["migrations"] > ref["migrations"]:
        problems.append(f"{run.scenario}: {f['migrations']} migrations > {ref['migrations']}")
    if ref and ref["moved_gb"] and f["migrated_memory_gb"] > ref["moved_gb"]:
        problems.append(f"{run.scenario}: {f['migrated_memory_gb']} GB > {ref['moved_gb']}")
    if run.scenario == "uniform-h10000-s1":
        if f["planning_seconds"] > 2.0:
            problems.append(f"10k hosts: planning {f['planning_seconds']} s > 2 s")
        if run.peak_rss_mb > 1536:
            problems.append(f"10k hosts: peak memory {run.peak_rss_mb:.0f} MB > 1536 MB")
    return problems


def main() -> int:
    quick = "--quick" in sys.argv
    sizes = (100, 500, 1000) if quick else (100, 500, 1000, 10000)
    scenarios = [UNIFORM[n] for n in sizes] + [HETERO, CPU_HEAVY]
    runs, problems = [], []
    for scenario in scenarios:
        run = run_plan(scenario, "vm_workload_consolidation", overload=TARGET, target_load=TARGET)
        runs.append(run)
        problems += check(run)
    # the other built-ins, on the sizes they are meant for
    for scenario in [UNIFORM[100], UNIFORM[1000], HETERO, CPU_HEAVY]:
        runs.append(run_plan(scenario, "basic_consolidation", overload=TARGET,
                             target_load=TARGET))
    runs.append(run_plan(HETERO, "host_maintenance", {"maintenance_node": "node-00003"}))
    runs.append(run_plan(UNIFORM[100], "dummy"))
    print(table(runs))
    print("\nWatcher 17.0.0 reference (vm_workload_consolidation): "
          + "; ".join(f"{k}: {v['migrations']} migrations, {v['moved_gb'] or '?'} GB"
                      for k, v in REFERENCE.items()))
    for line in problems:
        print("MISSED:", line)
    print("all vm_workload_consolidation targets met" if not problems else "")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
