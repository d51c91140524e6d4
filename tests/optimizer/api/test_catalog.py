"""Goals and strategies: lists, details, filters, paging and strategy state."""
from __future__ import annotations

from tests.optimizer.api.conftest import fault


def test_goals_are_listed_with_stable_uuids(client):
    goals = client.get("/v1/goals").json()
    names = [g["name"] for g in goals["goals"]]
    assert "server_consolidation" in names
    assert goals["next"] is None
    first = goals["goals"][0]
    # as Watcher's: the OSC table of goal list reads the specification
    assert set(first) == {"uuid", "name", "display_name", "efficacy_specification", "links"}
    by_uuid = client.get(f"/v1/goals/{first['uuid']}").json()
    by_name = client.get(f"/v1/goals/{first['name']}").json()
    assert by_uuid == by_name
    assert "efficacy_specification" in by_uuid
    assert client.get("/v1/goals/nothing").status_code == 404


def test_goal_pages_follow_the_marker(client):
    names = [g["name"] for g in client.get("/v1/goals?sort_key=name").json()["goals"]]
    first = client.get("/v1/goals?sort_key=name&limit=2").json()
    assert [g["name"] for g in first["goals"]] == names[:2]
    assert "marker=" in first["next"] and "sort_key=name" in first["next"]
    second = client.get(first["next"]).json()
    assert [g["name"] for g in second["goals"]] == names[2:4]
    backwards = client.get("/v1/goals?sort_key=name&sort_dir=desc").json()["goals"]
    assert [g["name"] for g in backwards] == names[::-1]


def test_strategies_filter_by_goal_uuid_or_name(client):
    goal = client.get("/v1/goals/server_consolidation").json()
    by_uuid = client.get("/v1/strategies", params={"goal": goal["uuid"]}).json()["strategies"]
    by_name = client.get("/v1/strategies", params={"goal": goal["name"]}).json()["strategies"]
    assert by_uuid == by_name
    assert {s["goal_name"] for s in by_uuid} == {"server_consolidation"}
    assert "vm_workload_consolidation" in {s["name"] for s in by_uuid}
    assert client.get("/v1/strategies?goal=none").json()["strategies"] == []


def test_strategy_detail_has_its_parameter_schema(client):
    detail = client.get("/v1/strategies/detail").json()["strategies"]
    consolidation = next(s for s in detail if s["name"] == "vm_workload_consolidation")
    assert "target_cpu_load" in consolidation["parameters_spec"]["properties"]
    shown = client.get(f"/v1/strategies/{consolidation['uuid']}").json()
    assert shown["parameters_spec"] == consolidation["parameters_spec"]
    assert client.get("/v1/strategies/none").status_code == 404


def test_strategy_state_lists_what_it_relies_on(client):
    state = client.get("/v1/strategies/vm_workload_consolidation/state").json()
    kinds = {row["type"]: row for row in state}
    assert kinds["Name"]["state"] == "vm_workload_consolidation"
    assert kinds["Datasource"]["state"] == "simulated"
    assert "CPU" in kinds["Metrics"]["state"]
    missing = client.get("/v1/strategies/none/state")
    assert missing.status_code == 404
    assert "none" in fault(missing)


def test_a_goal_specifies_the_indicators_its_plans_report(client, dispatcher):
    goal = client.get("/v1/goals/server_consolidation").json()
    specified = {spec["name"] for spec in goal["efficacy_specification"]}
    assert {"compute_nodes_count", "released_compute_nodes_count",
            "instance_migrations_count"} <= specified
    assert all(set(spec) == {"name", "description", "unit", "schema"}
               for spec in goal["efficacy_specification"])
    audit = client.post("/v1/audits", json={"goal": "server_consolidation",
                                            "strategy": "vm_workload_consolidation",
                                            "audit_type": "ONESHOT"}).json()
    dispatcher.wait()
    plans = client.get(f"/v1/action_plans?audit_uuid={audit['uuid']}").json()["action_plans"]
    plan = client.get(f"/v1/action_plans/{plans[0]['uuid']}").json()
    assert specified <= {indicator["name"] for indicator in plan["efficacy_indicators"]}
