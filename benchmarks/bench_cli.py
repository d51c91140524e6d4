"""Figures for the command line's start: whole `optimizer` processes that only read.

    .venv/bin/python benchmarks/bench_cli.py [--hosts N] [--runs R] [--database-url URL]

Each figure is the wall time of one whole process, from exec to exit, the
median over R runs after one warm-up run (which fills the page cache and
writes the bytecode: the child runs without PYTHONDONTWRITEBYTECODE, as an
operator's shell does). Measured: ``--help``, ``config show``, ``audit list``,
``actionplan list``, ``action list`` (one page) and ``actionplan show`` of a
stored plan. The plan is made once, by ``optimizer audit create`` on a
simulated cluster of N hosts (default 10,000: about 56,000 actions) in a new
SQLite database in a temporary folder (or at ``--database-url``). CPU time
(user + system) is printed beside the wall time: on a shared machine it
moves less than wall time. Targets: ``--help`` <= 0.3 s, ``actionplan show``
<= 0.5 s, the others <= 0.4 s. Exits 1 when one is missed.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TARGETS_S = {"--help": 0.3, "actionplan show": 0.5}
READ_TARGET_S = 0.4


@dataclass(frozen=True)
class Timing:
    """One process: wall and CPU seconds."""

    wall_s: float
    cpu_s: float


class Cli:
    """Runs `optimizer` processes on one configuration file, as an operator would."""

    def __init__(self, folder: Path, database_url: str | None):
        self.config = folder / "optimizer.conf"
        self.scenario = folder / "cluster.json"
        url = database_url or f"sqlite:///{folder / 'optimizer.db'}"
        self.config.write_text(f"[database]\nconnection = {url}\n\n[collector]\n"
                               f"name = scenario\nscenario_file = {self.scenario}\n")
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.env.update(HOME=str(folder), OPTIMIZER_CONFIG_FILE=str(self.config))

    def run(self, *args: str) -> tuple[Timing, str]:
        """(its timing, its stdout) of one ``optimizer ARGS`` process; stops on failure."""
        command = [sys.executable, "-m", "optimizer.cli", *args]
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=self.env)
        out, err = process.communicate()
        wall = time.perf_counter() - started
        cpu = _children_cpu_delta()  # communicate() has reaped it
        if process.returncode != 0:
            raise SystemExit(f"optimizer {' '.join(args)} failed ({process.returncode}): "
                             f"{err.decode().strip()}")
        return Timing(wall, cpu), out.decode()


_CPU_SEEN = [0.0]


def _children_cpu_delta() -> float:
    """CPU seconds of the children reaped since the last call."""
    usage = os.times()
    total = usage.children_user + usage.children_system
    delta, _CPU_SEEN[0] = total - _CPU_SEEN[0], total
    return delta


def make_plan(cli: Cli, hosts: int) -> str:
    """Simulate the cluster, store one audit's plan; the plan's uuid."""
    cli.run("simulate", "--hosts", str(hosts), "-o", str(cli.scenario))
    cli.run("db", "upgrade")
    timing, out = cli.run("audit", "create", "--goal", "server_consolidation", "--strategy",
                          "vm_workload_consolidation", "--format", "json")
    document = json.loads(out)
    print(f"plan: {hosts} hosts, audit create took {timing.wall_s:.2f} s (once)")
    return document["action_plan_uuid"]


def measure(cli: Cli, args: list[str], runs: int) -> list[Timing]:
    cli.run(*args)  # warm-up
    return [cli.run(*args)[0] for _ in range(runs)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url", help="an empty database to use instead of SQLite")
    args = parser.parse_args()
    all_ok = True
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        cli = Cli(Path(tmp), args.database_url)
        plan = make_plan(cli, args.hosts)
        commands = {
            "--help": ["--help"],
            "config show": ["config", "show"],
            "audit list": ["audit", "list"],
            "actionplan list": ["actionplan", "list"],
            "action list": ["action", "list", "--plan", plan, "--limit", "50"],
            "actionplan show": ["actionplan", "show", plan],
        }
        print(f"{'command':<18} {'wall median':>11} {'best':>7} {'cpu median':>10}  target")
        for name, command in commands.items():
            timings = measure(cli, command, args.runs)
            wall = statistics.median(t.wall_s for t in timings)
            cpu = statistics.median(t.cpu_s for t in timings)
            target = TARGETS_S.get(name, READ_TARGET_S)
            ok = wall <= target
            all_ok &= ok
            print(f"{name:<18} {wall:>9.3f} s {min(t.wall_s for t in timings):>5.3f} s "
                  f"{cpu:>8.3f} s  <= {target:g} s: {'met' if ok else 'MISSED'}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
