"""Figures for the applier: overhead per action on a 10,000-action plan.

    .venv/bin/python benchmarks/bench_applier.py [--hosts N] [--per-host K] [--postgres URL]

A simulated cloud of N hosts (default 2,000) with K instances each (default
4) gets a plan of, per host, a chain of K live migrations to the next host
and then a nop: N * (K + 1) actions (10,000 by default). Migrations are
instant (bandwidth 0), so the time is the applier's own work plus the
simulated cloud's bookkeeping (shown apart). The plan runs with the default
limits (2 migrations per host, 10 in parallel) and ``poll_interval_s`` 0.2.
Target: <= 2 ms per action on SQLite (total execute time / actions). Exits 1
when the target is missed.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from optimizer.models.records import Host, Instance
from optimizer.models.snapshot import ClusterSnapshot

from optimizer.applier import SimulatedActuator, execute_plan
from optimizer.cloud.simulated import SimulatedCloud
from optimizer.config import ApplierSettings, PlannerSettings
from optimizer.db import add_action_plan, create_audit, open_database

TARGET_MS = 2.0


def cluster(hosts: int, per_host: int) -> ClusterSnapshot:
    host_records = [Host(name=f"h{h}", vcpus=64, memory_mb=256 * 1024, disk_gb=4000)
                    for h in range(hosts)]
    instances = [Instance(uuid=f"h{h}-v{j}", name=f"h{h}-v{j}", host=f"h{h}", vcpus=2,
                          memory_mb=4096, disk_gb=40, state="active", cpu_util=0.3)
                 for h in range(hosts) for j in range(per_host)]
    return ClusterSnapshot.from_records(host_records, instances, [], name="bench")


def plan_actions(hosts: int, per_host: int) -> list[dict]:
    actions: list[dict] = []
    for h in range(hosts):
        for j in range(per_host):
            actions.append({"type": "migrate", "parents": [len(actions) - 1] if j else [],
                            "parameters": {"instance": f"h{h}-v{j}", "source": f"h{h}",
                                           "destination": f"h{(h + 1) % hosts}",
                                           "migration_type": "live"}})
        actions.append({"type": "nop", "parameters": {"message": f"h{h} done"},
                        "parents": [len(actions) - 1]})
    return actions


class TimedActuator(SimulatedActuator):
    """The simulated actuator, adding up the seconds spent in the cloud."""

    seconds = 0.0

    def __getattribute__(self, name):
        attribute = super().__getattribute__(name)
        if name in ("instance", "host_state", "start_migration", "migration_status"):
            def timed(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return attribute(*args, **kwargs)
                finally:
                    TimedActuator.seconds += time.perf_counter() - started
            return timed
        return attribute


class BenchContext:
    """Just what execute_plan needs."""

    def __init__(self, url: str, state_file: str):
        from dataclasses import replace

        from optimizer.config import load_config

        self.settings = replace(load_config(database_url=url), applier=ApplierSettings())
        self.database = open_database(url)
        self.planner = PlannerSettings(True, 2, 10, 1000.0)
        self._collector = None
        self.state_file = state_file


def run(url: str, folder: Path, hosts: int, per_host: int) -> tuple[int, float, float]:
    cloud = SimulatedCloud(folder / "cloud.db")
    cloud.load(cluster(hosts, per_host))
    cloud.configure(bandwidth_mb_s=0)
    ctx = BenchContext(url, str(folder / "cloud.db"))
    actions = plan_actions(hosts, per_host)
    with ctx.database.session() as session:
        audit = create_audit(session, goal="dummy")
        uuid = add_action_plan(session, {"audit_id": audit.id, "strategy": "bench",
                                         "state": "PENDING"}, actions).uuid
    TimedActuator.seconds = 0.0
    started = time.perf_counter()
    result = execute_plan(ctx, uuid, actuator=TimedActuator(SimulatedCloud(cloud.path)))
    seconds = time.perf_counter() - started
    assert result.state == "SUCCEEDED", result.message
    assert result.progress.succeeded == len(actions)
    ctx.database.close()
    return len(actions), seconds, TimedActuator.seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=2000)
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (a fresh database)")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        urls = [("sqlite", f"sqlite:///{Path(folder) / 'optimizer.db'}")]
        if args.postgres:
            urls.append(("postgresql", args.postgres))
        for backend, url in urls:
            count, seconds, cloud_s = run(url, Path(folder) / backend, args.hosts,
                                          args.per_host)
            per_action = seconds / count * 1000
            print(f"{backend}: {count} actions in {seconds:.2f} s = {per_action:.2f} ms/action "
                  f"(simulated cloud {cloud_s:.2f} s, applier {seconds - cloud_s:.2f} s = "
                  f"{(seconds - cloud_s) / count * 1000:.2f} ms/action)")
            if backend == "sqlite" and per_action > TARGET_MS:
                print(f"  target missed: > {TARGET_MS} ms/action")
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
