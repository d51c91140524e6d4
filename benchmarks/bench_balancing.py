"""Figures for the balancing strategies: workload_balance and workload_stabilization.

    .venv/bin/python benchmarks/bench_balancing.py [--quick]

Scenarios come from ``../shared/scenarios/generate.py``: CPU-heavy uniform
clusters (CPU scale 2.5, fill 0.6: mean load about 0.75, stdev about 0.12,
some hosts above 1.0) at 1,000 and 10,000 hosts, and a 1,000-host one with
server groups, disabled hosts and stopped instances. Each strategy runs in
this process on the loaded snapshot (``planning_seconds`` times only that),
its plan is written as ``action-plan/1`` and scored by ``evaluate.py --json``.
Targets: CPU-load stdev after <= 0.05 with no host above 1.0 and a valid plan
at 1,000 hosts; planning <= 5 s at 10,000 hosts. Exits 1 when one is missed.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass

from harness import EVALUATE, WORK, Scenario
from optimizer.models.scenario import load_scenario

from optimizer.plan_file import plan_to_dict, write_plan
from optimizer.plugins import find_strategy

CPU_HEAVY = ("--seed", "1", "--cpu-scale", "2.5", "--fill", "0.6")
H1000 = Scenario("cpuheavy-h1000-s1", ("--hosts", "1000", *CPU_HEAVY))
H10000 = Scenario("cpuheavy-h10000-s1", ("--hosts", "10000", *CPU_HEAVY))
GROUPED = Scenario("cpuheavy-groups-h1000-s1", ("--hosts", "1000", *CPU_HEAVY, "--groups", "200",
                                                "--disabled", "20", "--stopped", "100"))
TIGHT = {"thresholds": "cpu=0.05,ram=0.05"}
STDEV_TARGET, LOAD_LIMIT, SECONDS_10K = 0.05, 1.0, 5.0


@dataclass
class Result:
    scenario: str
    strategy: str
    params: dict
    figures: dict
    stdev_target: float


def run(scenario: Scenario, name: str, params: dict, stdev_target: float) -> Result:
    """Plan in process, write the plan, and return the referee's figures."""
    path = scenario.path()
    snapshot = load_scenario(path)
    strategy = find_strategy(name)
    start = time.perf_counter()
    solution = strategy.run(snapshot, params)
    seconds = time.perf_counter() - start
    plan = WORK / f"{scenario.name}.{name}.plan.json"
    write_plan(plan_to_dict(solution, snapshot.name, seconds), plan)
    out = subprocess.run([sys.executable, str(EVALUATE), str(path), str(plan), "--json"],
                         capture_output=True, text=True)
    plan.unlink()
    return Result(scenario.name, name, params, json.loads(out.stdout), stdev_target)


COLUMNS = (("scenario", 24), ("strategy", 22), ("params", 18), ("valid", 5), ("migr", 5),
           ("moved GB", 8), ("stdev before->after", 19), ("max load", 12), ("over", 6),
           ("plan s", 6))


def table(results: list[Result]) -> str:
    lines = [" ".join(f"{name:>{w}}" for name, w in COLUMNS)]
    for r in results:
        f = r.figures
        params = ",".join(str(v) for v in r.params.values()) or "defaults"
        cells = (r.scenario, r.strategy, params, "yes" if f["valid"] else "NO",
                 f["migrations"], f"{f['migrated_memory_gb']:.0f}",
                 f"{f['cpu_load_stdev_before']:.4f}->{f['cpu_load_stdev_after']:.4f}",
                 f"{f['max_cpu_load_before']:.2f}->{f['max_cpu_load_after']:.2f}",
                 f"{f['overloaded_hosts_before']}->{f['overloaded_hosts_after']}",
                 f"{f['planning_seconds']:.3f}")
        lines.append(" ".join(f"{str(c):>{w}}" for c, (_, w) in zip(cells, COLUMNS, strict=True)))
    return "\n".join(lines)


def check(r: Result) -> list[str]:
    """The issue's targets: the stdev each run asks for, planning time at 10,000 hosts."""
    f, where = r.figures, f"{r.scenario} {r.strategy}"
    problems = [] if f["valid"] else [f"{where}: invalid plan: {f['errors'][:2]}"]
    if f["overloaded_hosts_after"]:
        problems.append(f"{where}: {f['overloaded_hosts_after']} hosts above {LOAD_LIMIT}")
    if f["cpu_load_stdev_after"] > r.stdev_target:
        problems.append(f"{where}: stdev {f['cpu_load_stdev_after']} > {r.stdev_target}")
    if r.scenario == H10000.name and f["planning_seconds"] > SECONDS_10K:
        problems.append(f"{where}: planning {f['planning_seconds']} s > {SECONDS_10K} s")
    return problems


def main() -> int:
    quick = "--quick" in sys.argv
    # (scenario, strategy, parameters, stdev the parameters ask for)
    cases = [(H1000, "workload_balance", {}, STDEV_TARGET),
             (H1000, "workload_balance", {"metrics": "cpu,ram"}, STDEV_TARGET),
             (H1000, "workload_stabilization", {}, 0.1),  # Watcher's default thresholds
             (H1000, "workload_stabilization", TIGHT, STDEV_TARGET),
             (GROUPED, "workload_balance", {}, STDEV_TARGET),
             (GROUPED, "workload_stabilization", TIGHT, STDEV_TARGET)]
    if not quick:
        cases += [(H10000, "workload_balance", {}, STDEV_TARGET),
                  (H10000, "workload_balance", {"metrics": "cpu,ram"}, STDEV_TARGET),
                  (H10000, "workload_stabilization", TIGHT, STDEV_TARGET)]
    results = [run(*case) for case in cases]
    print(table(results))
    problems = [p for r in results for p in check(r)]
    for line in problems:
        print("MISSED:", line)
    print("all balancing targets met" if not problems else "")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
