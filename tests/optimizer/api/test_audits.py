"""Audit templates and audits: create, list, filter, page, patch, delete."""
from __future__ import annotations

import socket

from sqlalchemy import update

from optimizer.db.schema import ActionPlanRow
from tests.optimizer.api.conftest import fault, new_audit

CONSOLIDATION = {"name": "nightly", "goal": "server_consolidation",
                 "strategy": "vm_workload_consolidation",
                 "default_parameters": {"target_cpu_load": 0.6}}


def test_template_life_cycle(client):
    made = client.post("/v1/audit_templates", json=CONSOLIDATION)
    assert made.status_code == 201
    template = made.json()
    assert made.headers["Location"].endswith(f"/v1/audit_templates/{template['uuid']}")
    assert template["goal_name"] == "server_consolidation"
    assert template["strategy_name"] == "vm_workload_consolidation"
    assert template["default_parameters"] == {"target_cpu_load": 0.6}
    assert client.get("/v1/audit_templates/nightly").json()["uuid"] == template["uuid"]
    again = client.post("/v1/audit_templates", json=CONSOLIDATION)
    assert again.status_code == 409
    patched = client.patch(f"/v1/audit_templates/{template['uuid']}", json=[
        {"op": "replace", "path": "/description", "value": "every night"},
        {"op": "replace", "path": "/default_parameters/target_cpu_load", "value": 0.5}])
    assert patched.status_code == 200, patched.text
    assert patched.json()["description"] == "every night"
    assert patched.json()["default_parameters"] == {"target_cpu_load": 0.5}
    assert client.delete("/v1/audit_templates/nightly").status_code == 204
    assert client.get("/v1/audit_templates/nightly").status_code == 404


def test_template_parameters_are_validated(client):
    bad = client.post("/v1/audit_templates", json={**CONSOLIDATION,
                                                   "default_parameters": {"bogus": 1}})
    assert bad.status_code == 400
    assert "bogus" in fault(bad)
    old = client.post("/v1/audit_templates", json=CONSOLIDATION,
                      headers={"OpenStack-API-Version": "infra-optim 1.6"})
    assert old.status_code == 400 and "1.7" in fault(old)


def test_template_filters(client):
    client.post("/v1/audit_templates", json=CONSOLIDATION)
    client.post("/v1/audit_templates", json={"name": "other", "goal": "dummy"})
    by_goal = client.get("/v1/audit_templates?goal=dummy").json()["audit_templates"]
    assert [t["name"] for t in by_goal] == ["other"]
    by_strategy = client.get("/v1/audit_templates",
                             params={"strategy": "vm_workload_consolidation"}).json()
    assert [t["name"] for t in by_strategy["audit_templates"]] == ["nightly"]


def test_a_oneshot_audit_runs_and_succeeds(client, dispatcher):
    made = client.post("/v1/audits", json={"goal": "server_consolidation",
                                           "strategy": "vm_workload_consolidation",
                                           "parameters": {"target_cpu_load": 0.7},
                                           "name": "first"})
    assert made.status_code == 201
    audit = made.json()
    assert audit["state"] == "PENDING" and audit["audit_type"] == "ONESHOT"
    assert audit["parameters"] == {"target_cpu_load": 0.7}
    assert dispatcher.triggered == [audit["uuid"]]
    dispatcher.wait()
    done = client.get("/v1/audits/first").json()
    assert done["state"] == "SUCCEEDED"
    assert done["strategy_uuid"] == client.get(
        "/v1/strategies/vm_workload_consolidation").json()["uuid"]


def test_an_audit_from_a_template_takes_its_fields(client, dispatcher):
    template = client.post("/v1/audit_templates", json=CONSOLIDATION).json()
    audit = new_audit(client, goal=None, strategy=None, audit_template_uuid=template["uuid"])
    assert audit["audit_template_uuid"] == template["uuid"]
    assert audit["parameters"] == {"target_cpu_load": 0.6}
    assert audit["strategy_name"] == "vm_workload_consolidation"
    dispatcher.wait()


def test_audit_requests_are_checked_like_watcher(client):
    cases = [
        ({"audit_type": "ONESHOT"}, "goal"),
        ({"goal": "dummy", "audit_template_uuid": "x"}, "not both"),
        ({"goal": "dummy", "audit_type": "ONESHOT", "interval": "60"}, "interval"),
        ({"goal": "dummy", "audit_type": "CONTINUOUS"}, "interval"),
        ({"goal": "dummy", "audit_type": "SOMETIMES"}, "SOMETIMES"),
        ({"goal": "tidy"}, "tidy"),
        ({"goal": "server_consolidation", "strategy": "vm_workload_consolidation",
          "parameters": {"target_cpu_load": "high"}}, "target_cpu_load"),
        ({"goal": "dummy", "state": "SUCCEEDED"}, "state"),
    ]
    for body, word in cases:
        response = client.post("/v1/audits", json=body)
        assert response.status_code == 400, (body, response.text)
        assert word in fault(response), (body, fault(response))
    taken = client.post("/v1/audits", json={"goal": "dummy", "audit_type": "EVENT", "name": "x"})
    assert taken.status_code == 201
    assert client.post("/v1/audits", json={"goal": "dummy", "audit_type": "EVENT",
                                           "name": "x"}).status_code == 409


def test_audit_lists_filter_and_page(client):
    for number in range(5):
        client.post("/v1/audits", json={"goal": "dummy", "audit_type": "EVENT",
                                        "name": f"a{number}"})
    client.post("/v1/audits", json={"goal": "server_consolidation", "audit_type": "EVENT",
                                    "name": "b"})
    every = [a["name"] for a in client.get("/v1/audits").json()["audits"]]
    assert every == ["a0", "a1", "a2", "a3", "a4", "b"]
    page = client.get("/v1/audits?limit=2&sort_key=name&sort_dir=desc").json()
    assert [a["name"] for a in page["audits"]] == ["b", "a4"]
    names = [a["name"] for a in page["audits"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        names += [a["name"] for a in page["audits"]]
    assert names == ["b", "a4", "a3", "a2", "a1", "a0"]
    goal = client.get("/v1/goals/server_consolidation").json()["uuid"]
    assert [a["name"] for a in client.get(f"/v1/audits?goal={goal}").json()["audits"]] == ["b"]
    detail = client.get("/v1/audits/detail?limit=1").json()["audits"][0]
    assert "parameters" in detail and "created_at" in detail
    assert "parameters" not in client.get("/v1/audits?limit=1").json()["audits"][0]


def test_continuous_audits_are_suspended_and_resumed_with_patches(client, dispatcher):
    audit = client.post("/v1/audits", json={
        "goal": "dummy", "audit_type": "CONTINUOUS", "interval": "3600",
        "start_time": "2030-01-01T00:00:00"}).json()
    assert audit["start_time"].startswith("2030-01-01T00:00:00")
    assert dispatcher.triggered == []  # the scheduler runs continuous audits
    uuid = audit["uuid"]
    suspended = client.patch(f"/v1/audits/{uuid}", json=[  # before its first run too
        {"op": "replace", "path": "/state", "value": "SUSPENDED"}])
    assert suspended.status_code == 200 and suspended.json()["state"] == "SUSPENDED"
    changed = client.patch(f"/v1/audits/{uuid}", json=[
        {"op": "replace", "path": "/interval", "value": "600"},
        {"op": "replace", "path": "/name", "value": "renamed"}])
    assert changed.status_code == 200
    assert changed.json()["interval"] == "600" and changed.json()["name"] == "renamed"
    cancelled = client.patch(f"/v1/audits/{uuid}", json=[
        {"op": "replace", "path": "/state", "value": "CANCELLED"}])
    assert cancelled.json()["state"] == "CANCELLED"
    assert client.delete(f"/v1/audits/{uuid}").status_code == 204
    assert client.get(f"/v1/audits/{uuid}").status_code == 404


def test_audit_patches_are_checked(client):
    uuid = client.post("/v1/audits", json={"goal": "dummy", "audit_type": "EVENT"}).json()["uuid"]
    cases = [
        ([{"op": "replace", "path": "/audit_type", "value": "ONESHOT"}], "audit_type"),
        ([{"op": "replace", "path": "/state", "value": "SUCCEEDED"}], "SUCCEEDED"),
        ([{"op": "replace", "path": "/interval", "value": "60"}], "interval"),
        ([{"op": "replace", "path": "/auto_trigger", "value": "yes"}], "auto_trigger"),
        ([{"op": "replace", "path": "/start_time", "value": "soon"}], "start_time"),
        ([{"op": "replace", "path": "/parameters", "value": {"x": 1}}], "strategy"),
        ([{"op": "move", "path": "/name", "from": "/x"}], "op"),
        ([{"op": "replace", "path": "name", "value": "y"}], "path"),
        ([{"op": "replace", "path": "/name"}], "value"),
        ([], "no operations"),
    ]
    for operations, word in cases:
        response = client.patch(f"/v1/audits/{uuid}", json=operations)
        assert response.status_code == 400, (operations, response.text)
        assert word in fault(response), (operations, fault(response))


def test_a_oneshot_audit_cannot_be_suspended(client):
    uuid = client.post("/v1/audits", json={"goal": "dummy"}).json()["uuid"]
    refused = client.patch(f"/v1/audits/{uuid}", json=[
        {"op": "replace", "path": "/state", "value": "SUSPENDED"}])
    assert refused.status_code == 400 and "ONESHOT" in refused.text


def test_force_is_stored_and_lets_an_audit_run_while_a_plan_executes(client, dispatcher, ctx):
    first = client.post("/v1/audits", json={"goal": "dummy", "strategy": "dummy"}).json()
    assert first["force"] is False
    dispatcher.wait()
    ran = client.get(f"/v1/audits/{first['uuid']}").json()
    assert ran["state"] == "SUCCEEDED" and ran["hostname"] == socket.gethostname()
    plan = client.get(f"/v1/action_plans?audit_uuid={first['uuid']}").json()["action_plans"][0]
    with ctx.database.session() as session:  # as if the applier were carrying it out
        session.execute(update(ActionPlanRow).where(ActionPlanRow.uuid == plan["uuid"])
                        .values(state="ONGOING"))

    refused = client.post("/v1/audits", json={"goal": "dummy", "strategy": "dummy"}).json()
    forced = client.post("/v1/audits", json={"goal": "dummy", "strategy": "dummy",
                                             "force": True}).json()
    assert forced["force"] is True
    dispatcher.wait()
    refused = client.get(f"/v1/audits/{refused['uuid']}").json()
    assert refused["state"] == "FAILED"
    assert plan["uuid"] in refused["status_message"] and "force" in refused["status_message"]
    assert client.get(f"/v1/audits/{forced['uuid']}").json()["state"] == "SUCCEEDED"


def test_watchers_goal_and_strategy_names_are_accepted(client, dispatcher):
    basic = client.post("/v1/audits", json={"goal": "server_consolidation",
                                            "strategy": "basic"}).json()
    assert (basic["goal_name"], basic["strategy_name"]) == (
        "server_consolidation", "basic_consolidation")
    energy = client.post("/v1/audits", json={"goal": "saving_energy"}).json()
    assert (energy["goal_name"], energy["strategy_name"]) == (
        "server_consolidation", "saving_energy")
    template = client.post("/v1/audit_templates", json={
        "name": "maintenance", "goal": "hardware_maintenance"}).json()
    assert template["goal_name"] == "cluster_maintaining"
    dispatcher.wait()
    for audit in (basic, energy):
        assert client.get(f"/v1/audits/{audit['uuid']}").json()["state"] == "SUCCEEDED"
    wrong = client.post("/v1/audits", json={"goal": "workload_balancing", "strategy": "basic"})
    assert wrong.status_code == 400
    assert "basic_consolidation serves goal server_consolidation" in fault(wrong)
