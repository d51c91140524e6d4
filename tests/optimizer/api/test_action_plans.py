"""Action plans and actions: lists, filters, paging, start, cancel, skip, delete."""
from __future__ import annotations

import pytest

from tests.optimizer.api.conftest import fault, recommended_plan

SKIP = [{"op": "replace", "path": "/state", "value": "SKIPPED"},
        {"op": "replace", "path": "/status_message", "value": "not tonight"}]


def test_a_plan_has_watchers_fields(client, dispatcher):
    plan = recommended_plan(client, dispatcher)
    shown = client.get(f"/v1/action_plans/{plan['uuid']}").json()
    assert shown["strategy_name"] == "vm_workload_consolidation"
    assert {"efficacy_indicators", "global_efficacy", "audit_uuid", "hostname",
            "status_message", "links", "created_at", "deleted_at"} <= set(shown)
    assert all(set(i) == {"name", "description", "unit", "value"}
               for i in shown["efficacy_indicators"])
    detail = client.get("/v1/action_plans/detail").json()["action_plans"]
    assert [p["uuid"] for p in detail] == [plan["uuid"]]


def test_actions_of_a_plan_in_execution_order_with_parent_uuids(client, dispatcher):
    plan = recommended_plan(client, dispatcher)
    actions = client.get(f"/v1/actions/detail?action_plan_uuid={plan['uuid']}").json()["actions"]
    assert actions and {a["action_plan_uuid"] for a in actions} == {plan["uuid"]}
    seen = set()
    for action in actions:
        assert set(action["parents"]) <= seen  # parents come first, by uuid
        seen.add(action["uuid"])
    migrate = next(a for a in actions if a["action_type"] == "migrate")
    assert "instance" in migrate["input_parameters"] and migrate["description"]
    by_audit = client.get(f"/v1/actions?audit_uuid={plan['audit_uuid']}").json()["actions"]
    assert [a["uuid"] for a in by_audit] == [a["uuid"] for a in actions]
    one = client.get(f"/v1/actions/{migrate['uuid']}").json()
    assert one == migrate


def test_action_pages_join_up(client, dispatcher):
    plan = recommended_plan(client, dispatcher)
    every = [a["uuid"] for a in client.get(
        f"/v1/actions?action_plan_uuid={plan['uuid']}").json()["actions"]]
    assert len(every) >= 3
    page = client.get(f"/v1/actions?action_plan_uuid={plan['uuid']}&limit=2").json()
    seen = [a["uuid"] for a in page["actions"]]
    while page["next"]:
        assert f"action_plan_uuid={plan['uuid']}" in page["next"]
        page = client.get(page["next"]).json()
        seen += [a["uuid"] for a in page["actions"]]
    assert seen == every
    by_type = client.get(f"/v1/actions?action_plan_uuid={plan['uuid']}&action_type=migrate"
                         "&sort_key=action_type&sort_dir=desc").json()["actions"]
    assert by_type and {a["action_type"] for a in by_type} == {"migrate"}


def test_start_makes_a_plan_pending_and_launches_it(client, dispatcher):
    plan = recommended_plan(client, dispatcher)
    started = client.post(f"/v1/action_plans/{plan['uuid']}/start")
    assert started.status_code == 200, started.text
    assert started.json()["state"] == "PENDING"
    assert dispatcher.launched == [plan["uuid"]]
    again = client.post(f"/v1/action_plans/{plan['uuid']}/start")
    assert again.status_code == 409
    assert "RECOMMENDED" in fault(again)


def test_patching_the_state_starts_or_cancels(client, dispatcher):
    plan = recommended_plan(client, dispatcher)
    started = client.patch(f"/v1/action_plans/{plan['uuid']}",
                           json=[{"op": "replace", "path": "/state", "value": "PENDING"}])
    assert started.json()["state"] == "PENDING"
    cancelled = client.patch(f"/v1/action_plans/{plan['uuid']}",
                             json=[{"op": "replace", "path": "/state", "value": "CANCELLED"}])
    assert cancelled.json()["state"] == "CANCELLED"
    wrong = client.patch(f"/v1/action_plans/{plan['uuid']}",
                         json=[{"op": "replace", "path": "/state", "value": "SUCCEEDED"}])
    assert wrong.status_code == 400
    assert client.delete(f"/v1/action_plans/{plan['uuid']}").status_code == 204
    assert client.get(f"/v1/action_plans/{plan['uuid']}").status_code == 404


def test_a_running_plan_cannot_be_deleted(client, dispatcher):
    plan = recommended_plan(client, dispatcher)
    client.post(f"/v1/action_plans/{plan['uuid']}/start")
    refused = client.delete(f"/v1/action_plans/{plan['uuid']}")
    assert refused.status_code == 409
    assert "PENDING" in fault(refused)


def test_plan_filters(client, dispatcher):
    plan = recommended_plan(client, dispatcher)
    assert client.get("/v1/action_plans?state=PENDING").json()["action_plans"] == []
    assert len(client.get("/v1/action_plans?state=RECOMMENDED").json()["action_plans"]) == 1
    unknown = "00000000-0000-0000-0000-000000000000"
    assert client.get(f"/v1/action_plans?audit_uuid={unknown}").json()["action_plans"] == []
    strategy = client.get(f"/v1/action_plans?strategy={plan['strategy_uuid']}").json()
    assert [p["uuid"] for p in strategy["action_plans"]] == [plan["uuid"]]


def test_skipping_an_action(client, dispatcher):
    plan = recommended_plan(client, dispatcher)
    action = client.get(f"/v1/actions?action_plan_uuid={plan['uuid']}").json()["actions"][0]
    skipped = client.patch(f"/v1/actions/{action['uuid']}", json=SKIP)
    assert skipped.status_code == 200, skipped.text
    assert skipped.json()["state"] == "SKIPPED"
    assert skipped.json()["status_message"] == "not tonight"
    again = client.patch(f"/v1/actions/{action['uuid']}", json=SKIP[:1])
    assert again.status_code == 200  # already SKIPPED: nothing to change
    reworded = client.patch(f"/v1/actions/{action['uuid']}", json=[
        {"op": "replace", "path": "/status_message", "value": "maybe tomorrow"}])
    assert reworded.json()["status_message"] == "maybe tomorrow"
    other = client.get(f"/v1/actions?action_plan_uuid={plan['uuid']}").json()["actions"][1]
    refused = client.patch(f"/v1/actions/{other['uuid']}",
                           json=[{"op": "replace", "path": "/state", "value": "SUCCEEDED"}])
    assert refused.status_code == 400
    old = client.patch(f"/v1/actions/{other['uuid']}", json=SKIP,
                       headers={"OpenStack-API-Version": "infra-optim 1.4"})
    assert old.status_code == 400 and "1.5" in fault(old)


def test_a_consolidation_plan_gives_watchers_global_efficacy(client, dispatcher):
    audit = client.post("/v1/audits", json={"goal": "server_consolidation"}).json()
    dispatcher.wait()
    listed = client.get(f"/v1/action_plans?audit_uuid={audit['uuid']}").json()["action_plans"]
    plan = client.get(f"/v1/action_plans/{listed[0]['uuid']}").json()
    indicators = {i["name"]: i["value"] for i in plan["efficacy_indicators"]}
    ratio = 100 * indicators["released_compute_nodes_count"] / indicators["compute_nodes_count"]
    assert plan["global_efficacy"] == listed[0]["global_efficacy"] == [
        {"name": "released_nodes_ratio", "value": pytest.approx(ratio), "unit": "%",
         "description": "Released compute nodes over the compute nodes in use."}]


def test_other_goals_give_their_figures_as_numbers_only(client, dispatcher):
    audit = client.post("/v1/audits", json={"goal": "workload_balancing"}).json()
    dispatcher.wait()
    plan = client.get(f"/v1/action_plans?audit_uuid={audit['uuid']}").json()["action_plans"][0]
    names = [entry["name"] for entry in plan["global_efficacy"]]
    assert "instance_migrations_count" in names
    assert "strategy_comparison" not in names  # a list: Watcher's clients print numbers
