"""Benchmark optimal_consolidation on generated scenarios, scored by the shared referee.

    .venv/bin/python benchmarks/bench_optimal.py [--hosts 100] [--seed 1] [--time-limit 60]

For each scenario family it generates a cluster with ``shared/scenarios/generate.py``,
plans with the strategy, writes the plan as ``action-plan/1`` and runs
``evaluate.py --json --overload 0.8 --target-load 0.8`` on it. The table
compares active hosts after the plan with the referee's lower bound and
shows the proven optimality gap the solver reports.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from optimizer.models.scenario import load_scenario
from optimizer.strategies.optimal_consolidation import strategy

from optimizer.plan_file import plan_to_dict, write_plan

SHARED = Path(__file__).resolve().parents[2] / "shared" / "scenarios"
TARGET_LOAD = 0.8

FAMILIES = {
    "uniform": [],
    "hetero": ["--family", "hetero", "--groups", "10", "--stopped", "10", "--disabled", "3"],
}


@dataclass(frozen=True)
class Row:
    """One benchmark line: the referee's figures plus the solver's own."""

    scenario: str
    valid: bool
    before: int
    after: int
    bound: int
    migrations: int
    moved_gb: float
    gap: float
    blocks: int
    fallback: bool
    seconds: float


def run_one(family: str, hosts: int, seed: int, time_limit: float, workdir: Path) -> Row:
    scenario = workdir / f"{family}-{hosts}-{seed}.json"
    subprocess.run([sys.executable, str(SHARED / "generate.py"), "--hosts", str(hosts),
                    "--seed", str(seed), *FAMILIES[family], "-o", str(scenario)], check=True)
    snapshot = load_scenario(scenario)
    started = time.perf_counter()
    solution = strategy.run(snapshot, {"time_limit_s": time_limit,
                                       "target_cpu_load": TARGET_LOAD})
    seconds = time.perf_counter() - started
    plan = workdir / f"{scenario.stem}-plan.json"
    write_plan(plan_to_dict(solution, snapshot.name, seconds), plan)
    verdict = subprocess.run(
        [sys.executable, str(SHARED / "evaluate.py"), str(scenario), str(plan), "--json",
         "--overload", str(TARGET_LOAD), "--target-load", str(TARGET_LOAD)],
        capture_output=True, text=True)
    figures = json.loads(verdict.stdout)
    return Row(scenario=snapshot.name, valid=figures["valid"],
               before=figures["active_hosts_before"], after=figures["active_hosts_after"],
               bound=figures["hosts_lower_bound"], migrations=figures["migrations"],
               moved_gb=figures["migrated_memory_gb"],
               gap=solution.indicator("optimality_gap") or 0.0,
               blocks=int(solution.indicator("model_blocks") or 0),
               fallback=bool(solution.indicator("heuristic_fallback")), seconds=seconds)


def print_table(rows: list[Row]) -> None:
    header = (f"{'scenario':<22} {'valid':>5} {'before':>6} {'after':>5} {'bound':>5} "
              f"{'migr':>5} {'moved GB':>9} {'gap':>7} {'blocks':>6} {'fallbk':>6} {'s':>6}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r.scenario:<22} {'yes' if r.valid else 'NO':>5} {r.before:>6} {r.after:>5} "
              f"{r.bound:>5} {r.migrations:>5} {r.moved_gb:>9.0f} {r.gap:>7.2%} {r.blocks:>6} "
              f"{'yes' if r.fallback else 'no':>6} {r.seconds:>6.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[100])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    args = parser.parse_args()
    from harness import require_shared

    require_shared(SHARED / "generate.py", SHARED / "evaluate.py")
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run_one(family, hosts, args.seed, args.time_limit, Path(tmp))
                for hosts in args.hosts for family in args.families]
    print_table(rows)


if __name__ == "__main__":
    main()
