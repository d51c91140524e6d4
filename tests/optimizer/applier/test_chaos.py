"""Chaos: the applier process is SIGKILLed 50 times during a 500-action plan.

After each kill the simulated cloud must agree with the database, and in
the end the plan SUCCEEDED with every instance moved exactly once. Bounded
in time (about a minute on 2 cores): each kill comes 0–100 ms after the
restarted applier has claimed the plan.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from optimizer.cloud.simulated import SimulatedCloud
from optimizer.db import open_database
from tests.optimizer.applier.conftest import migrate, nop, small_cluster
from tests.prewarmed import Prewarmed

KILLS = 50
HOSTS, PER_HOST = 100, 4  # 400 migrations and 100 nops


def _plan_actions() -> list[dict]:
    """Per host a chain of 4 migrations to the next host, then a nop."""
    actions = []
    for h in range(1, HOSTS + 1):
        destination = f"h{h % HOSTS + 1}"
        for j in range(PER_HOST):
            actions.append(migrate(f"h{h}-v{j}", f"h{h}", destination,
                                   [len(actions) - 1] if j else []))
        actions.append(nop(f"host h{h} done", [len(actions) - 1]))
    return actions


def _store(url: str) -> str:
    from optimizer.db import add_action_plan, create_audit

    database = open_database(url)
    with database.session() as session:
        audit = create_audit(session, goal="dummy")
        uuid = add_action_plan(session, {"audit_id": audit.id, "strategy": "dummy",
                                         "state": "PENDING"}, _plan_actions()).uuid
    database.close()
    return uuid


def _actions(database, uuid):
    from optimizer.db import get_action_plan, list_actions

    with database.session() as session:
        plan = get_action_plan(session, uuid)
        return plan, list_actions(session, plan)


def _check_agreement(cloud: SimulatedCloud, actions, final: bool = False) -> None:
    """The cloud's placement is what the database says; nothing moved twice."""
    placement = cloud.placement()
    for action in actions:
        if action.type != "migrate":
            continue
        p = action.parameters
        host, count = placement[p["instance"]], cloud.migration_count(p["instance"])
        assert count <= 1, f"{p['instance']} migrated {count} times"
        if action.state == "SUCCEEDED":
            assert host == p["destination"], (action.index, host, p)
        elif action.state == "ONGOING" and not final:
            assert host in (p["source"], p["destination"]), (action.index, host, p)
        else:
            assert action.state == "PENDING" and not final, (action.index, action.state)
            assert host == p["source"] and not cloud.migrations_of(p["instance"])


def _wait_for_claim(database, uuid: str, process, timeout: float = 30):
    from optimizer.db import get_action_plan

    deadline = time.monotonic() + timeout
    mark = f":{process.pid}:"
    while time.monotonic() < deadline and process.poll() is None:
        with database.session() as session:
            if mark in (get_action_plan(session, uuid).owner or ""):
                return
        time.sleep(0.01)


@pytest.mark.chaos
def test_applier_survives_random_kills(tmp_path):
    cloud = SimulatedCloud(tmp_path / "cloud.db")
    cloud.load(small_cluster(hosts=HOSTS, per_host=PER_HOST))
    cloud.configure(bandwidth_mb_s=1024 / 0.2)  # 200 ms a migration
    url = f"sqlite:///{tmp_path / 'optimizer.db'}"
    config = tmp_path / "optimizer.conf"
    config.write_text(f"[database]\nconnection = {url}\n"
                      f"[simulated]\nstate_file = {tmp_path / 'cloud.db'}\n"
                      "[planner]\nmax_migrations_per_host = 2\nmax_parallel_migrations = 6\n"
                      "[applier]\npoll_interval_s = 0.01\n")
    uuid = _store(url)
    database = open_database(url)
    command = [sys.executable, "-m", "optimizer.applier", uuid, "--config-file", str(config)]
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    rng = random.Random(11)
    kills = 0
    # Each applier is a forked child of a server that imported it once: the same
    # process to kill, without 5 s of interpreter start-up per restart under load.
    with Prewarmed(["optimizer.applier.__main__", "optimizer.applier", "optimizer.db"],
                   env) as applier:
        while kills < KILLS:
            process = applier.start(*command[2:])
            _wait_for_claim(database, uuid, process)
            time.sleep(rng.uniform(0, 0.1))
            if process.poll() is not None:
                break  # it finished first: the plan is done
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
            _check_agreement(cloud, _actions(database, uuid)[1])
    # the last run is a process of its own, started as any other
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    plan, actions = _actions(database, uuid)
    assert kills == KILLS
    assert plan.state == "SUCCEEDED", plan.status_message
    assert {a.state for a in actions} == {"SUCCEEDED"}
    _check_agreement(cloud, actions, final=True)
    assert all(cloud.migration_count(f"h{h}-v{j}") == 1
               for h in range(1, HOSTS + 1) for j in range(PER_HOST))
    database.close()
