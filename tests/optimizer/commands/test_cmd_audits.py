"""optimizer audit create / list / show / update / delete."""
from __future__ import annotations

import json


def test_oneshot_audit_from_a_template_prints_its_plan(optimizer):
    optimizer.run("audittemplate", "create", "pack", "--goal", "server_consolidation",
                  "--strategy", "vm_workload_consolidation", "-p", "target_cpu_load=0.7")
    result = optimizer.run("audit", "create", "--template", "pack", "--name", "first")
    plans = optimizer.json("actionplan", "list")
    assert len(plans) == 1 and plans[0]["state"] == "RECOMMENDED"
    assert f"action plan {plans[0]['uuid']}" in result.stdout
    assert "SUCCEEDED" in result.stdout and "Efficacy indicators" in result.stdout
    assert "released_compute_nodes_count" in result.stdout
    assert "estimated duration" in result.stdout
    assert f"optimizer actionplan start {plans[0]['uuid']}" in result.stdout

    audit = optimizer.json("audit", "show", "first")
    assert audit["template"] == "pack" and audit["state"] == "SUCCEEDED"
    assert audit["parameters"] == {"target_cpu_load": 0.7}
    assert [p["uuid"] for p in audit["action_plans"]] == [plans[0]["uuid"]]


def test_audit_create_json_has_plan_and_efficacy(optimizer):
    document = optimizer.json("audit", "create", "--goal", "server_consolidation")
    plan = document["action_plan"]
    assert document["audit"]["state"] == "SUCCEEDED"
    names = [i["name"] for i in plan["global_efficacy"]]
    assert "strategy_comparison" in names  # no strategy named: the best one was chosen
    assert plan["estimated_duration_s"] > 0
    assert set(document["seconds"]) == {"model", "strategy", "planner", "store"}


def test_bad_audit_requests_are_one_line(optimizer):
    bad_scope = optimizer.folder / "bad-scope.json"
    bad_scope.write_text("{\"include\": ")
    odd_scope = optimizer.folder / "odd-scope.json"
    odd_scope.write_text(json.dumps({"everywhere": True}))
    cases = [
        (("--goal", "tidy"), "unknown goal 'tidy'"),
        (("--goal", "server_consolidation", "--strategy", "nope"), "unknown strategy 'nope'"),
        (("--goal", "server_consolidation", "--strategy", "vm_workload_consolidation",
          "-p", "bogus=1"), "unknown parameter 'bogus'"),
        (("--goal", "server_consolidation", "-p", "noequals"), "expected key=value"),
        (("--goal", "dummy", "--scope", str(bad_scope)), "not valid JSON: line 1"),
        (("--goal", "dummy", "--scope", str(odd_scope)), "unknown key(s) everywhere"),
        (("--goal", "dummy", "--scope", str(optimizer.folder / "none.json")), "cannot read"),
        (("--template", "missing"), "audit template 'missing' not found"),
        ((), "needs a goal"),
        (("--goal", "dummy", "--type", "SOMETIMES"), "--type 'SOMETIMES' is not one of"),
        (("--goal", "dummy", "--type", "continuous", "--interval", "every day"),
         "neither seconds nor a cron expression"),
        (("--goal", "dummy", "--type", "continuous"), "needs an interval"),
        (("--goal", "dummy", "--interval", "60"), "--interval is for CONTINUOUS audits"),
        (("--goal", "dummy", "--type", "continuous", "--interval", "60", "--start-time",
          "tomorrow"), "not an ISO 8601 time"),
        (("--goal", "dummy", "--type", "continuous", "--interval", "60", "--start-time",
          "2030-01-01T00:00:00"), "needs a time zone"),
    ]
    for args, message in cases:
        result = optimizer.run("audit", "create", *args, status=2)
        assert result.stderr.startswith("optimizer: error: "), (args, result.output)
        assert message in result.stderr, (args, result.stderr)
        assert result.stderr.count("\n") == 1, result.stderr
    assert optimizer.json("audit", "list") == []  # nothing half-stored


def test_failed_audit_exits_1_with_its_reason(optimizer):
    scope = optimizer.folder / "scope.json"
    scope.write_text(json.dumps({"include": {"hosts": ["no-such-host"]}}))
    result = optimizer.run("audit", "create", "--goal", "server_consolidation", "--scope",
                           str(scope), "--name", "doomed", status=1)
    assert "FAILED" in result.stdout and "no-such-host" in result.stdout
    assert optimizer.json("audit", "show", "doomed")["state"] == "FAILED"


def test_continuous_audit_is_stored_for_the_service(optimizer):
    result = optimizer.run("audit", "create", "--goal", "server_consolidation", "--type",
                           "CONTINUOUS", "--interval", "0 * * * *", "--name", "hourly",
                           "--end-time", "2030-01-01T00:00:00Z")
    assert "stored CONTINUOUS audit hourly" in result.stdout
    assert "every 0 * * * *" in result.stdout
    audit = optimizer.json("audit", "show", "hourly")
    assert audit["state"] == "PENDING" and audit["action_plans"] == []
    assert audit["end_time"].startswith("2030-01-01T00:00:00")


def test_list_filters_pages_and_sorts(optimizer):
    for name in ("a1", "a2", "a3"):
        optimizer.run("audit", "create", "--goal", "dummy", "--name", name)
    optimizer.run("audit", "create", "--goal", "server_consolidation", "--type", "continuous",
                  "--interval", "600", "--name", "c1")
    assert [a["name"] for a in optimizer.json("audit", "list", "--sort", "name:desc")] == [
        "c1", "a3", "a2", "a1"]
    assert [a["name"] for a in optimizer.json("audit", "list", "--goal", "dummy")] == [
        "a1", "a2", "a3"]
    assert [a["name"] for a in optimizer.json("audit", "list", "--state", "pending")] == ["c1"]
    first = optimizer.json("audit", "list", "--sort", "name", "--limit", "2")
    rest = optimizer.json("audit", "list", "--sort", "name", "--marker", first[-1]["uuid"])
    assert [a["name"] for a in first + rest] == ["a1", "a2", "a3", "c1"]
    bad = optimizer.run("audit", "list", "--sort", "colour", status=2)
    assert "cannot sort audits by 'colour'" in bad.stderr
    assert "a1" in optimizer.run("audit", "list").stdout


def test_update_suspends_resumes_and_renames(optimizer):
    optimizer.run("audit", "create", "--goal", "dummy", "--type", "continuous", "--interval",
                  "600", "--name", "tick")
    optimizer.run("audit", "create", "--goal", "dummy", "--name", "once")
    optimizer.run("audit", "update", "tick", "--state", "ongoing")  # as the scheduler would
    assert optimizer.json("audit", "update", "tick", "--state", "SUSPENDED")["state"] == \
        "SUSPENDED"
    resumed = optimizer.json("audit", "update", "tick", "--state", "ONGOING", "--interval",
                             "*/5 * * * *", "--name", "tock")
    assert (resumed["state"], resumed["interval"], resumed["name"]) == (
        "ONGOING", "*/5 * * * *", "tock")
    assert "updated audit tock" in optimizer.run("audit", "update", "tock",
                                                 "--no-auto-trigger").stdout
    assert "only" in optimizer.run("audit", "update", "once", "--state", "SUSPENDED",
                                   status=2).stderr
    assert "nothing to update" in optimizer.run("audit", "update", "tock", status=2).stderr
    assert "is not one of SUSPENDED, ONGOING" in optimizer.run(
        "audit", "update", "tock", "--state", "DONE", status=2).stderr


def test_delete_takes_the_audits_plans_along(optimizer):
    optimizer.run("audit", "create", "--goal", "server_consolidation", "--name", "gone")
    plan = optimizer.json("actionplan", "list")[0]["uuid"]
    assert "deleted audit gone" in optimizer.run("audit", "delete", "gone").stdout
    assert optimizer.json("audit", "list") == []
    assert optimizer.json("actionplan", "list") == []
    assert "not found" in optimizer.run("actionplan", "show", plan, status=2).stderr
    assert "audit 'gone' not found" in optimizer.run("audit", "show", "gone",
                                                     status=2).stderr


def test_a_continuous_audit_not_yet_run_can_be_suspended(optimizer):
    optimizer.run("audit", "create", "--goal", "dummy", "--type", "continuous", "--interval",
                  "600", "--name", "later")
    assert optimizer.json("audit", "show", "later")["state"] == "PENDING"
    said = optimizer.run("audit", "create", "--goal", "dummy", "--type", "continuous",
                         "--interval", "3600", "--name", "hourly").stdout
    assert "to run every 1 h 00 min" in said  # seconds shown like every other duration
    assert optimizer.json("audit", "update", "later", "--state", "SUSPENDED")["state"] == \
        "SUSPENDED"
    assert optimizer.json("audit", "update", "later", "--state", "ONGOING")["state"] == \
        "ONGOING"


def test_default_audit_names_stop_at_the_second_and_stay_unique(optimizer, monkeypatch):
    import re
    from datetime import UTC, datetime

    import optimizer.db.audits as audits

    moment = datetime(2026, 12, 2, 18, 57, 1, 141575, tzinfo=UTC)
    monkeypatch.setattr(audits, "utcnow", lambda: moment)
    names = [optimizer.json("audit", "create", "--goal", "dummy")["audit"]["name"]
             for _ in range(3)]
    assert names == ["dummy-20261202T185701Z", "dummy-20261202T185701Z-2",
                     "dummy-20261202T185701Z-3"]
    assert not any(re.search(r"\.\d{6}", n) for n in names)


def test_loads_in_tables_are_percentages_like_everywhere_else(optimizer):
    document = optimizer.json("audit", "create", "--goal", "server_consolidation",
                              "--strategy", "vm_workload_consolidation")
    load = next(i["value"] for i in document["action_plan"]["indicators"]
                if i["name"] == "max_cpu_load_after")
    assert 0 < load <= 1  # JSON keeps the ratio
    text = optimizer.run("actionplan", "show", document["action_plan_uuid"]).stdout
    line = next(line for line in text.splitlines() if "max_cpu_load_after" in line)
    assert f"{100 * load:.1f}%" in line and "ratio" not in line
