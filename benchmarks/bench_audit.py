"""Figures for `optimizer audit create`, end to end, on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/bench_audit.py [--hosts N] [--runs R]
        [--collector scenario|simulated] [--postgres URL | --no-postgres] [--no-referee]

Each run is one whole ``optimizer audit create --goal server_consolidation
--strategy vm_workload_consolidation`` process, from exec until it has printed
the RECOMMENDED plan: interpreter start, imports, configuration, reading the
cluster model, the strategy, the planner and storing the plan with its
actions. Printed per backend: the median wall time of the whole process, the
median of each part as the decision engine times it (model, strategy,
planner, store) and the largest peak memory (maximum resident set size).

The cluster has N hosts (default 10,000: ~91,000 instances, ~56,000 actions):
a ``cluster-scenario/1`` file written once by ``optimizer simulate`` (the
default), or the simulated cloud's state file (``--collector simulated``).
SQLite is a new file in a temporary folder; PostgreSQL a schema of its own,
dropped afterwards. One warm-up run per backend is not counted (it writes
the bytecode and, with the simulated collector, creates the cloud's state
file). The last plan is exported
and checked by ``../shared/scenarios/evaluate.py`` when it is there.

Targets at 10,000 hosts: the whole process <= 3 s; model <= 0.4 s, planner
<= 0.3 s, store <= 1 s (100,000 hosts: <= 30 s and <= 4 GB). Exits 1 when
the whole-process target is missed or a backend cannot be reached.
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
import uuid
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EVALUATE = REPO.parent / "shared" / "scenarios" / "evaluate.py"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
GOAL, STRATEGY = "server_consolidation", "vm_workload_consolidation"
PARTS = ("model", "strategy", "planner", "store")
PART_TARGETS_S = {"model": 0.4, "planner": 0.3, "store": 1.0}


def whole_target_s(hosts: int) -> float:
    """3 s at 10,000 hosts, 30 s at 100,000: linear in the cluster's size."""
    return max(3.0, 3.0 * hosts / 10_000)


@dataclass(frozen=True)
class Run:
    """One `audit create` process."""

    wall_s: float
    peak_rss_mb: float
    parts: dict[str, float]
    plan_uuid: str


class Optimizer:
    """`optimizer` processes on one configuration: one database, one cluster."""

    def __init__(self, folder: Path, database_url: str, collector: str, hosts: int,
                 scenario: Path):
        self.folder = folder
        self.config = folder / "optimizer.conf"
        source = (f"[collector]\nname = scenario\nscenario_file = {scenario}\n"
                  if collector == "scenario" else
                  f"[simulated]\nhosts = {hosts}\nseed = 1\nstate_file = {folder / 'cloud.db'}\n")
        self.config.write_text(f"[database]\nconnection = {database_url}\n\n{source}")
        # as an operator's shell runs it: bytecode is written and then used
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.env["HOME"] = str(folder)

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "optimizer.cli", "--config-file", str(self.config), *args]

    def run(self, *args: str) -> str:
        done = subprocess.run(self.command(*args), capture_output=True, text=True, env=self.env)
        if done.returncode != 0:
            raise SystemExit(f"optimizer {' '.join(args)} failed ({done.returncode}): "
                             f"{done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def audit_create(self, run: int) -> Run:
        """One whole process, timed from its start to its exit, with its peak memory."""
        args = ["audit", "create", "--goal", GOAL, "--strategy", STRATEGY,
                "--name", f"bench-{run}-{uuid.uuid4().hex[:6]}", "--format", "json"]
        with tempfile.TemporaryFile() as err:
            started = time.perf_counter()
            process = subprocess.Popen(self.command(*args), stdout=subprocess.PIPE, stderr=err,
                                       env=self.env)
            out = process.stdout.read()
            _, status, usage = os.wait4(process.pid, 0)  # the whole process, and its memory
            wall = time.perf_counter() - started
            process.stdout.close()
            err.seek(0)
            message = err.read().decode().strip()
        code = os.waitstatus_to_exitcode(status)
        document = json.loads(out) if code == 0 else None
        if document is None or document["action_plan"]["state"] != "RECOMMENDED":
            raise SystemExit(f"audit create failed ({code}): "
                             f"{message or out.decode().strip()}")
        return Run(wall, usage.ru_maxrss / 1024, document["seconds"],
                   document["action_plan_uuid"])


def postgres_schema(base: str) -> tuple[str, str]:
    """(URL of a new schema, its name) on the server at ``base``."""
    import psycopg

    schema = f"optimizer_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    return f"{base}?options=-csearch_path%3D{schema}", schema


def drop_schema(base: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def measure(backend: str, optimizer: Optimizer, runs: int, hosts: int, scenario: Path | None,
            referee: bool) -> bool:
    """Run and report one backend; whether the whole-process target was met."""
    optimizer.run("db", "upgrade")
    optimizer.audit_create(-1)  # warm-up: writes the bytecode, makes a simulated cloud
    done = [optimizer.audit_create(run) for run in range(runs)]
    wall = statistics.median(r.wall_s for r in done)
    target = whole_target_s(hosts)
    ok = wall <= target
    parts = {p: statistics.median(r.parts[p] for r in done) for p in PARTS}
    best, worst = min(r.wall_s for r in done), max(r.wall_s for r in done)
    print(f"{backend:<10} whole process: median {wall:.2f} s, best {best:.2f} s, worst "
          f"{worst:.2f} s, peak RSS {max(r.peak_rss_mb for r in done):.0f} MB  "
          f"[target <= {target:g} s: "
          f"{'met' if ok else 'MISSED'}]")
    print("           parts (median): " + ", ".join(
        f"{p} {v:.3f} s" + (f" (<= {PART_TARGETS_S[p]:g})" if hosts <= 10_000
                            and p in PART_TARGETS_S else "") for p, v in parts.items()))
    last = done[-1].plan_uuid
    shown = json.loads(optimizer.run("actionplan", "show", last, "--format", "json"))
    print(f"           {shown['actions_total']} actions per plan, {runs} runs")
    if referee and scenario is not None and EVALUATE.exists():
        plan = optimizer.folder / "plan.json"
        optimizer.run("actionplan", "export", last, "-o", str(plan))
        verdict = subprocess.run([sys.executable, str(EVALUATE), str(scenario), str(plan),
                                  "--json"], capture_output=True, text=True)
        figures = json.loads(verdict.stdout) if verdict.stdout.strip() else {}
        valid = figures.get("valid")
        print(f"           referee: {'valid' if valid else 'NOT VALID'} "
              f"({figures.get('active_hosts_before')} -> {figures.get('active_hosts_after')} "
              f"active hosts)" if figures else f"           referee: {verdict.stderr.strip()}")
        ok &= bool(valid)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--collector", choices=("scenario", "simulated"), default="scenario")
    parser.add_argument("--postgres", default=POSTGRES, help="PostgreSQL URL (base database)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-referee", action="store_true", help="do not check the plan")
    args = parser.parse_args()
    all_ok = True
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        folder = Path(tmp)
        scenario = folder / "cluster.json"
        (folder / "sqlite").mkdir()
        sqlite = Optimizer(folder / "sqlite", f"sqlite:///{folder / 'sqlite' / 'optimizer.db'}",
                           args.collector, args.hosts, scenario)
        started = time.perf_counter()
        if args.collector == "scenario":
            sqlite.run("simulate", "--hosts", str(args.hosts), "-o", str(scenario))
        print(f"audit create on {args.hosts} hosts ({args.collector}); cluster made in "
              f"{time.perf_counter() - started:.1f} s (once)")
        scenario_file = scenario if args.collector == "scenario" else None
        all_ok &= measure("sqlite", sqlite, args.runs, args.hosts, scenario_file,
                          not args.no_referee)
        if not args.no_postgres:
            try:
                url, schema = postgres_schema(args.postgres)
            except Exception as exc:  # any failure: the server is not there to measure
                print(f"postgresql not measured: {str(exc).splitlines()[0]}")
                return 1
            try:
                (folder / "postgresql").mkdir()
                postgres = Optimizer(folder / "postgresql", url, args.collector, args.hosts,
                                     scenario)
                all_ok &= measure("postgresql", postgres, args.runs, args.hosts, scenario_file,
                                  not args.no_referee)
            finally:
                drop_schema(args.postgres, schema)
    print("targets met" if all_ok else "TARGET MISSED")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
