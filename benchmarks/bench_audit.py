"""Figures for `optimizer audit create` on a 1,000-host simulated cloud, end to end.

    .venv/bin/python benchmarks/bench_audit.py [--hosts N] [--runs R] [--strategy S]

End to end means: read the cluster model from the simulated cloud's state
file, run the strategy, plan the safe action graph, store the plan with its
actions (SQLite, in a temporary folder). Two figures per run:

- in-process: ``time.perf_counter`` around ``operations.new_audit`` and
  ``operations.run_audit`` on an open context (with the engine's own split
  into model, strategy, planner and store);
- CLI process: wall time of a whole ``optimizer audit create`` process,
  which adds the interpreter start, imports, reading the configuration and
  opening the database.

The simulated cloud is created once before the runs (its one-time cost is
printed apart). Target: in-process <= 1 s. Exits 1 when it is missed.
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
from pathlib import Path

from optimizer import operations
from optimizer.config import load_config
from optimizer.context import open_context

TARGET_S = 1.0
GOAL = "server_consolidation"


def write_config(folder: Path, hosts: int) -> Path:
    path = folder / "optimizer.conf"
    path.write_text(f"[database]\nconnection = sqlite:///{folder / 'optimizer.db'}\n\n"
                    f"[simulated]\nhosts = {hosts}\nseed = 1\n"
                    f"state_file = {folder / 'cloud.db'}\n")
    return path


def create_cloud(config: Path) -> float:
    """Seconds to simulate the cluster and write the cloud's state file (done once)."""
    ctx = open_context(load_config(str(config)))
    started = time.perf_counter()
    snapshot = ctx.collector.collect()
    seconds = time.perf_counter() - started
    print(f"cloud: {snapshot.host_count} hosts, {snapshot.instance_count} instances, "
          f"created in {seconds:.2f} s (once)")
    ctx.close()
    return seconds


def in_process_run(config: Path, strategy: str, run: int) -> tuple[float, dict, int]:
    """(seconds, the engine's phases, actions) for one audit in this process."""
    ctx = open_context(load_config(str(config)))
    try:
        started = time.perf_counter()
        audit = operations.new_audit(ctx, goal=GOAL, strategy=strategy, name=f"bench-{run}")
        outcome = operations.run_audit(ctx, audit.uuid)
        seconds = time.perf_counter() - started
    finally:
        ctx.close()
    if outcome.action_plan_uuid is None:
        raise SystemExit(f"audit failed: {outcome.message}")
    actions = _action_count(config, outcome.action_plan_uuid)
    return seconds, outcome.seconds or {}, actions


def _action_count(config: Path, plan_uuid: str) -> int:
    from sqlalchemy import func, select

    from optimizer.db import get_action_plan
    from optimizer.db.schema import ActionRow

    ctx = open_context(load_config(str(config)))
    try:
        with ctx.database.session() as session:
            plan = get_action_plan(session, plan_uuid)
            return session.scalar(select(func.count()).select_from(ActionRow)
                                  .where(ActionRow.action_plan_id == plan.id))
    finally:
        ctx.close()


def cli_run(config: Path, strategy: str) -> float:
    """Wall seconds of one whole `optimizer audit create` process."""
    command = [sys.executable, "-m", "optimizer.cli", "--config-file", str(config), "audit",
               "create", "--goal", GOAL, "--strategy", strategy, "--format", "json"]
    env = {**os.environ, "HOME": str(config.parent)}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"optimizer audit create failed ({done.returncode}): "
                         f"{done.stderr.strip() or done.stdout.strip()}")
    json.loads(done.stdout)  # it printed a whole document
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--strategy", default="vm_workload_consolidation")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        config = write_config(Path(tmp), args.hosts)
        create_cloud(config)
        inner, phases, actions = [], [], 0
        for run in range(args.runs):
            seconds, split, actions = in_process_run(config, args.strategy, run)
            inner.append(seconds)
            phases.append(split)
        outer = [cli_run(config, args.strategy) for _ in range(args.runs)]
    split = {k: statistics.median(p[k] for p in phases) for k in phases[0]}
    print(f"audit create --goal {GOAL} --strategy {args.strategy}: {args.hosts} hosts, "
          f"{actions} actions per plan, {args.runs} runs")
    print(f"  in-process (new_audit + run_audit): median {statistics.median(inner):.3f} s, "
          f"best {min(inner):.3f} s, worst {max(inner):.3f} s  [target <= {TARGET_S:g} s]")
    print("    phases (median): " + ", ".join(f"{k} {v:.3f} s" for k, v in split.items()))
    print(f"  CLI process (wall, incl. interpreter start and imports): median "
          f"{statistics.median(outer):.3f} s, best {min(outer):.3f} s, worst {max(outer):.3f} s")
    ok = statistics.median(inner) <= TARGET_S
    print("target met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
