"""The ``openstack optimize ...`` shell (python-openstackclient + watcherclient's plugin).

The Python client can pass where the shell crashes: the shell formats every
column of its default table, so a field missing from a short view breaks
it. Each command here runs as the operator types it, in a subprocess, against
the API served by uvicorn with token auth and an applier that really runs
plans on the simulated cloud.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from optimizer.api import create_app
from optimizer.config import ApiSettings
from optimizer.dispatch import InProcessDispatcher
from tests.optimizer.api.conftest import ADMIN, READER
from tests.optimizer.api.test_watcherclient import free_port

OPENSTACK = Path(sys.executable).with_name("openstack")


@pytest.fixture
def served(ctx) -> Iterator[str]:
    dispatcher = InProcessDispatcher(ctx, workers=1)
    api = ApiSettings(auth="token", admin_tokens=(ADMIN,), reader_tokens=(READER,))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx, dispatcher, api), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    dispatcher.close()


def optimize(endpoint: str, *args: str, token: str = ADMIN,
             expect_rc: int = 0) -> subprocess.CompletedProcess:
    """Run ``openstack optimize ARGS`` as typed, without Keystone (endpoint and token)."""
    command = [str(OPENSTACK), "--os-auth-type", "admin_token", "--os-endpoint", endpoint,
               "--os-token", token, "optimize", *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == expect_rc, (args, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def as_json(endpoint: str, *args: str) -> object:
    return json.loads(optimize(endpoint, *args, "-f", "json").stdout)


def test_the_shell_installed_beside_the_tests():
    assert OPENSTACK.exists(), f"{OPENSTACK} missing: pip install -e '.[test]'"


def test_catalog_commands_print_their_default_tables(served):
    goals = optimize(served, "goal", "list").stdout
    assert "server_consolidation" in goals
    shown = optimize(served, "goal", "show", "server_consolidation").stdout
    assert "released_compute_nodes_count" in shown  # its efficacy specification
    assert "vm_workload_consolidation" in optimize(served, "strategy", "list").stdout
    assert "target_cpu_load" in optimize(served, "strategy", "show",
                                         "vm_workload_consolidation").stdout
    optimize(served, "strategy", "state", "vm_workload_consolidation")
    assert as_json(served, "scoringengine", "list") == []
    missing = optimize(served, "scoringengine", "show", "dummy_scorer", expect_rc=1)
    assert "dummy_scorer" in missing.stderr and "404" in missing.stderr
    assert "optimizer-api" in optimize(served, "service", "list").stdout


def test_template_audit_plan_cycle_reaches_succeeded(served):
    optimize(served, "audittemplate", "create", "nightly", "server_consolidation",
             "-s", "vm_workload_consolidation")
    assert [t["Name"] for t in as_json(served, "audittemplate", "list")] == ["nightly"]
    optimize(served, "audittemplate", "show", "nightly")
    audit = as_json(served, "audit", "create", "-a", "nightly", "--name", "tonight",
                    "-p", "target_cpu_load=0.7")
    assert audit["Name"] == "tonight"
    audit_state = wait_for(served, ("audit", "show", audit["UUID"]), {"SUCCEEDED", "FAILED"})
    assert audit_state == "SUCCEEDED"
    assert "tonight" in optimize(served, "audit", "list").stdout
    plans = as_json(served, "actionplan", "list", "--audit", audit["UUID"])
    assert [p["State"] for p in plans] == ["RECOMMENDED"]
    plan = plans[0]["UUID"]
    optimize(served, "actionplan", "show", plan)
    actions = as_json(served, "action", "list", "--action-plan", plan)
    assert actions, "a consolidation of the simulated cluster plans actions"
    optimize(served, "action", "show", actions[0]["UUID"])
    optimize(served, "actionplan", "start", plan)
    final = wait_for(served, ("actionplan", "show", plan), {"SUCCEEDED", "FAILED", "CANCELLED"})
    assert final == "SUCCEEDED"
    forced = as_json(served, "audit", "create", "-g", "dummy", "--force")
    assert forced["Force"] is True
    optimize(served, "audittemplate", "delete", "nightly")
    assert as_json(served, "audittemplate", "list") == []


def test_a_reader_is_refused_writes_in_the_shell(served):
    assert "server_consolidation" in optimize(served, "goal", "list", token=READER).stdout
    refused = optimize(served, "audittemplate", "create", "t", "server_consolidation",
                       token=READER, expect_rc=1)
    assert "403" in refused.stderr


def wait_for(endpoint: str, show: tuple[str, ...], final: set[str], timeout: float = 60) -> str:
    """The State a ``show`` reaches among ``final``, polled through the shell."""
    deadline = time.monotonic() + timeout
    while True:
        state = as_json(endpoint, *show)["State"]
        if state in final or time.monotonic() > deadline:
            return state
        time.sleep(0.5)


def test_updates_skips_cancels_and_deletes_through_the_shell(served):
    optimize(served, "audittemplate", "create", "t", "server_consolidation")
    optimize(served, "audittemplate", "update", "t", "replace", "description=weekly")
    assert as_json(served, "audittemplate", "show", "t")["Description"] == "weekly"
    continuous = as_json(served, "audit", "create", "-a", "t", "-t", "CONTINUOUS",
                         "-i", "3600", "--name", "hourly")
    wait_for(served, ("audit", "show", "hourly"), {"ONGOING"})
    optimize(served, "audit", "update", "hourly", "replace", "state=SUSPENDED")
    assert as_json(served, "audit", "show", continuous["UUID"])["State"] == "SUSPENDED"
    optimize(served, "audit", "delete", "hourly")

    oneshot = as_json(served, "audit", "create", "-g", "server_consolidation",
                      "-s", "vm_workload_consolidation")
    wait_for(served, ("audit", "show", oneshot["UUID"]), {"SUCCEEDED"})
    plan = as_json(served, "actionplan", "list", "--audit", oneshot["UUID"])[0]["UUID"]
    action = as_json(served, "action", "list", "--action-plan", plan)[-1]["UUID"]
    optimize(served, "action", "update", "--state", "SKIPPED", "--reason", "not now", action)
    skipped = as_json(served, "action", "show", action)
    assert (skipped["State"], skipped["Status Message"]) == ("SKIPPED", "not now")
    optimize(served, "actionplan", "update", plan, "replace", "state=CANCELLED")
    assert as_json(served, "actionplan", "show", plan)["State"] == "CANCELLED"
    optimize(served, "actionplan", "delete", plan)
    assert as_json(served, "actionplan", "list", "--audit", oneshot["UUID"]) == []

    assert as_json(served, "datamodel", "list", "--type", "compute")
    storage = optimize(served, "datamodel", "list", "--type", "storage", expect_rc=1)
    assert "storage" in storage.stderr and "400" in storage.stderr
