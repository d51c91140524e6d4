"""Shared benchmark plumbing: make scenarios, run `optimizer plan`, ask the referee.

Scenarios come from ``../shared/scenarios/generate.py`` and plans are scored
by ``../shared/scenarios/evaluate.py``: the neutral tools beside the repository
(a plain clone has no ``../shared``: :func:`require_shared` says so and stops).
Each plan runs as its own ``optimizer plan`` process so that its peak memory
(maximum resident set size, from wait4) covers the whole process.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
GENERATE = SHARED / "scenarios" / "generate.py"
EVALUATE = SHARED / "scenarios" / "evaluate.py"
WORK = REPO / "benchmarks" / "out"


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def require_shared(*paths: Path) -> None:
    """Stop the benchmark with one line naming the first missing ``../shared`` file.

    Locally that is a skip (exit 0); under CI (``CI`` set) a failure (exit 1).
    """
    for path in paths or (GENERATE, EVALUATE):
        if not path.exists():
            where = (f"{path} not found: the scenario tools and traces live in ../shared "
                     f"beside the checkout (see README, 'Tests')")
            if running_in_ci():
                raise SystemExit(f"benchmark: error: {where}")
            print(f"benchmark: skipped: {where}", file=sys.stderr)
            raise SystemExit(0)


@dataclass(frozen=True)
class Scenario:
    """A named scenario and the generator arguments that make it."""

    name: str
    args: tuple[str, ...]

    def path(self) -> Path:
        require_shared()
        path = WORK / f"{self.name}.json"
        if not path.exists():
            WORK.mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, str(GENERATE), *self.args, "-o", str(path)],
                           check=True)
        return path


@dataclass
class Run:
    """One plan: the referee's figures plus process time and peak memory."""

    scenario: str
    strategy: str
    params: dict
    figures: dict
    wall_seconds: float
    peak_rss_mb: float
    error: str = ""


def optimizer_command() -> list[str]:
    script = shutil.which("optimizer") or str(Path(sys.executable).parent / "optimizer")
    return [script]


def run_plan(scenario: Scenario, strategy: str, params: dict | None = None,
             overload: float = 1.0, target_load: float = 1.0) -> Run:
    """Run `optimizer plan` on the scenario and score the plan with the referee."""
    params = params or {}
    source = scenario.path()
    plan = WORK / f"{scenario.name}.{strategy}.plan.json"
    command = optimizer_command() + ["plan", "--scenario", str(source), "--strategy", strategy,
                                     "-o", str(plan), "--format", "json"]
    for key, value in params.items():
        command += ["-p", f"{key}={value}"]
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, _, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    stderr = process.stderr.read().decode().strip()
    process.stdout.close()
    process.stderr.close()
    peak_mb = usage.ru_maxrss / 1024
    if not plan.exists() or (stderr and "error" in stderr):
        return Run(scenario.name, strategy, params, {}, wall, peak_mb, stderr or "no plan")
    referee = subprocess.run(
        [sys.executable, str(EVALUATE), str(source), str(plan), "--json",
         "--overload", str(overload), "--target-load", str(target_load)],
        capture_output=True, text=True)
    try:
        figures = json.loads(referee.stdout)
    except json.JSONDecodeError:
        return Run(scenario.name, strategy, params, {}, wall, peak_mb,
                   referee.stderr.strip() or "referee gave no figures")
    plan.unlink()
    return Run(scenario.name, strategy, params, figures, wall, peak_mb)


COLUMNS = (
    ("scenario", 22), ("strategy", 26), ("valid", 5), ("active", 11), ("bound", 5),
    ("gap%", 5), ("migr", 6), ("moved GB", 9), ("max load", 8), ("over", 4),
    ("stdev", 11), ("plan s", 6), ("wall s", 6), ("RSS MB", 6),
)


def table(runs: list[Run]) -> str:
    """The runs as a fixed-width table, one line each."""
    lines = [" ".join(f"{name:>{w}}" for name, w in COLUMNS)]
    for run in runs:
        f = run.figures
        if run.error:
            lines.append(f"{run.scenario:>22} {run.strategy:>26}  ERROR {run.error[:80]}")
            continue
        bound = f["hosts_lower_bound"]
        gap = 100.0 * (f["active_hosts_after"] - bound) / bound if bound else 0.0
        cells = (
            run.scenario, run.strategy, "yes" if f["valid"] else "NO",
            f"{f['active_hosts_before']}->{f['active_hosts_after']}", bound, f"{gap:.1f}",
            f["migrations"], f"{f['migrated_memory_gb']:.0f}", f"{f['max_cpu_load_after']:.3f}",
            f["overloaded_hosts_after"],
            f"{f['cpu_load_stdev_before']:.3f}->{f['cpu_load_stdev_after']:.3f}",
            f"{f['planning_seconds']:.3f}", f"{run.wall_seconds:.2f}", f"{run.peak_rss_mb:.0f}",
        )
        lines.append(" ".join(f"{str(c):>{w}}" for c, (_, w) in zip(cells, COLUMNS, strict=True)))
    return "\n".join(lines)
