"""Ctrl-C during `actionplan start`, `watch` of a plan nobody runs, `cancel` of a running plan.

These run the command line as real processes: a signal, a dead owner and a
background applier only mean something across processes.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress

import pytest

from optimizer.db import add_action_plan, create_audit, get_action_plan, list_actions

OPTIMIZER = [sys.executable, "-m", "optimizer.cli"]


def sleeps_plan(optimizer, durations_and_parents, state="RECOMMENDED",
                owner: str | None = None) -> str:
    """A stored plan of sleep actions, given as (duration, parents) pairs; its uuid."""
    with optimizer.context() as ctx, ctx.database.session() as session:
        ctx.collector.collect()  # makes the simulated cloud now, not in the command
        audit = create_audit(session, goal="dummy")
        actions = [{"type": "sleep", "parameters": {"duration": d}, "parents": list(p)}
                   for d, p in durations_and_parents]
        plan = add_action_plan(session, {"audit_id": audit.id, "strategy": "dummy",
                                         "state": state}, actions)
        plan.owner = owner  # as the applier that ran it left it
        return plan.uuid


@pytest.fixture
def database(optimizer):
    """The commands' database, opened once for a test to read what they stored."""
    with optimizer.context() as ctx:
        yield ctx.database


def plan_and_actions(database, uuid):
    with database.session() as session:
        plan = get_action_plan(session, uuid)
        actions = [(a.state, a.status_message) for a in list_actions(session, plan)]
        return plan.state, plan.owner, actions


def wait_until(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@contextmanager
def command(*args: str):
    """``optimizer ARGS`` as a process of its own; killed if the test leaves it running."""
    process = subprocess.Popen([*OPTIMIZER, *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_ctrl_c_pauses_the_plan_and_start_goes_on_to_the_end(optimizer, database):
    uuid = sleeps_plan(optimizer, [(2.5, []), (2.5, []), (0.2, [0, 1]), (0.2, [2])])
    with command("actionplan", "start", uuid) as process:
        wait_until(lambda: [s for s, _ in plan_and_actions(database, uuid)[2]].count(
            "ONGOING") == 2, what="both first sleeps running")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 130, (out, err)
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert f"action plan {uuid} PAUSED (interrupted)" in lines[0]
    assert f"go on with: optimizer actionplan start {uuid}" in lines[0]
    assert "Traceback" not in err and "waiting for 2 running action(s)" in err
    state, owner, actions = plan_and_actions(database, uuid)
    # the running sleeps ended and were stored; nothing was left in flight or started
    assert (state, owner) == ("PAUSED", None)
    assert [s for s, _ in actions] == ["SUCCEEDED", "SUCCEEDED", "PENDING", "PENDING"]

    went_on = optimizer.run("actionplan", "start", uuid)
    assert f"action plan {uuid} SUCCEEDED: 4 succeeded, 0 failed" in went_on.stdout
    assert [s for s, _ in plan_and_actions(database, uuid)[2]] == ["SUCCEEDED"] * 4


def test_a_second_ctrl_c_stops_at_once_and_start_finishes(optimizer, database):
    uuid = sleeps_plan(optimizer, [(8.0, []), (0.1, [0])])
    with command("actionplan", "start", uuid) as process:
        wait_until(lambda: plan_and_actions(database, uuid)[2][0][0] == "ONGOING",
                   what="the sleep running")
        process.send_signal(signal.SIGINT)
        wait_until(lambda: plan_and_actions(database, uuid)[0] == "PAUSED", what="PAUSED")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    stopped = time.time()
    assert process.returncode == 130, (out, err)
    assert "1 action(s) were in flight" in out and f"actionplan start {uuid}" in out
    with database.session() as session:
        sleeping = list_actions(session, get_action_plan(session, uuid))[0]
        assert sleeping.state == "ONGOING"  # left in flight for whoever goes on
        assert stopped < float(sleeping.operation.removeprefix("until:"))  # did not wait
    went_on = optimizer.run("actionplan", "start", uuid)
    assert f"action plan {uuid} SUCCEEDED: 2 succeeded" in went_on.stdout


def dead_owner() -> str:
    finished = subprocess.Popen(["true"])
    finished.wait()
    return f"{socket.gethostname()}:{finished.pid}:gone"


def test_watch_says_when_no_applier_runs_the_plan(optimizer, database):
    uuid = sleeps_plan(optimizer, [(0.1, [])], state="ONGOING", owner=dead_owner())
    with command("actionplan", "watch", uuid) as process:
        out, err = process.communicate(timeout=30)  # before: it never returned
    assert process.returncode == 1, (out, err)
    assert f"action plan {uuid} is ONGOING but its applier" in out and "is gone" in out
    assert f"take it over with: optimizer actionplan start {uuid}" in out
    went_on = optimizer.run("actionplan", "start", uuid)
    assert f"action plan {uuid} SUCCEEDED: 1 succeeded" in went_on.stdout


def test_watch_of_a_plan_given_up_paused_returns(optimizer, database):
    uuid = sleeps_plan(optimizer, [(0.1, [])], state="PAUSED")  # as Ctrl-C leaves it
    results = []
    watcher = threading.Thread(target=lambda: results.append(
        optimizer.run("actionplan", "watch", uuid, status=None)), daemon=True)
    watcher.start()
    watcher.join(timeout=30)  # before: it never returned
    assert results, "watch did not return"
    assert results[0].exit_code == 1
    assert f"action plan {uuid} is PAUSED but no applier holds it" in results[0].stdout


def test_execute_is_listed_in_help(optimizer):
    listing = optimizer.run("actionplan", "--help").stdout
    assert "execute" in listing
    assert "take" in optimizer.run("actionplan", "execute", "--help").stdout


def test_cancel_of_a_running_plan_aborts_and_counts_its_actions(optimizer, database):
    uuid = sleeps_plan(optimizer, [(60.0, []), (60.0, []), (0.1, [0])])
    started = optimizer.json("actionplan", "start", uuid, "--no-wait")
    try:
        wait_until(lambda: [s for s, _ in plan_and_actions(database, uuid)[2]].count(
            "ONGOING") == 2, what="both sleeps running")
        began = time.monotonic()
        result = optimizer.run("actionplan", "cancel", uuid)
        assert time.monotonic() - began < 20
        assert (f"action plan {uuid} CANCELLED: 0 succeeded, 0 failed, 0 skipped, "
                "3 cancelled of 3") in result.stdout
        document = json.loads(optimizer.run("actionplan", "show", uuid, "--format",
                                            "json").stdout)
        assert document["state"] == "CANCELLED"
        states = plan_and_actions(database, uuid)[2]
        assert [s for s, _ in states] == ["CANCELLED"] * 3
        assert "aborted" in states[0][1]
    finally:
        with suppress(ProcessLookupError):
            os.kill(started["pid"], signal.SIGKILL)
