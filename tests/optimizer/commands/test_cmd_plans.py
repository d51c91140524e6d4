"""optimizer actionplan list / show / start / watch / pause / resume / cancel / delete."""
from __future__ import annotations

from optimizer.cloud.simulated import CloudError, Faults
from optimizer.db import set_action_plan_state


def test_list_by_audit_and_state(optimizer):
    optimizer.run("audit", "create", "--goal", "server_consolidation", "--name", "one")
    optimizer.run("audit", "create", "--goal", "dummy", "--name", "two")
    assert [p["audit"] for p in optimizer.json("actionplan", "list", "--audit", "one")] == [
        "one"]
    assert len(optimizer.json("actionplan", "list", "--state", "recommended")) == 2
    assert optimizer.json("actionplan", "list", "--state", "FAILED") == []
    assert "audit 'three' not found" in optimizer.run("actionplan", "list", "--audit", "three",
                                                      status=2).stderr
    assert "RECOMMENDED" in optimizer.run("actionplan", "list").stdout


def test_show_presents_efficacy_actions_and_host_changes(optimizer):
    uuid = optimizer.recommended_plan()
    shown = optimizer.json("actionplan", "show", uuid, "--limit", "1000")
    assert shown["actions_total"] == len(shown["actions"]) > 0
    assert shown["host_changes"] and shown["estimated_duration_s"] > 0
    assert all(p < a["index"] for a in shown["actions"] for p in a["parents"])

    text = optimizer.run("actionplan", "show", uuid, "--limit", "1000").stdout
    assert f"Action plan {uuid} — RECOMMENDED" in text
    assert "Efficacy indicators" in text and "released_compute_nodes_count" in text
    assert "stage 1:" in text and "stage 2:" in text
    child = next(a for a in shown["actions"] if a["parents"])
    assert f"#{child['index']} {child['type']}" in text
    assert "after " + ", ".join(f"#{p}" for p in child["parents"]) in text
    host, change = next(iter(shown["host_changes"].items()))
    assert host in text
    assert f"{change['instances'][0]} → {change['instances'][1]}" in text


def test_show_limits_big_plans(optimizer):
    uuid = optimizer.recommended_plan()
    total = optimizer.json("actionplan", "show", uuid)["actions_total"]
    text = optimizer.run("actionplan", "show", uuid, "--limit", "3").stdout
    assert f"first 3 of {total}" in text
    assert f"and {total - 3} more actions" in text
    assert len(optimizer.json("actionplan", "show", uuid, "--limit", "3")["actions"]) == 3
    assert "--limit must be at least 1" in optimizer.run("actionplan", "show", uuid,
                                                         "--limit", "0", status=2).stderr


def test_start_without_an_applier_leaves_the_plan_pending(optimizer, no_applier):
    uuid = optimizer.recommended_plan()
    result = optimizer.run("actionplan", "start", uuid)
    assert "PENDING" in result.stdout and "the applier is not installed" in result.stdout
    assert optimizer.json("actionplan", "show", uuid)["state"] == "PENDING"
    again = optimizer.run("actionplan", "start", uuid, status=2)
    assert "only a RECOMMENDED plan can be started" in again.stderr
    assert "the applier is not installed" in optimizer.run("actionplan", "watch", uuid,
                                                           status=2).stderr


def _planned_moves(optimizer, uuid: str) -> dict[str, str]:
    return {a["parameters"]["instance"]: a["parameters"]["destination"]
            for a in optimizer.json("action", "list", "--plan", uuid, "--type", "migrate")}


def test_start_runs_the_plan_on_the_simulated_cloud(optimizer):
    uuid = optimizer.recommended_plan()
    total = optimizer.json("actionplan", "show", uuid)["actions_total"]
    result = optimizer.run("actionplan", "start", uuid)
    assert f"action plan {uuid} SUCCEEDED: {total} succeeded, 0 failed" in result.stdout
    assert f"{total}/{total}" in result.stderr  # the progress bar, on stderr
    placement = optimizer.cloud().placement()
    assert all(placement[i] == host for i, host in _planned_moves(optimizer, uuid).items())
    assert optimizer.json("actionplan", "show", uuid)["state"] == "SUCCEEDED"
    assert {a["state"] for a in optimizer.json("action", "list", "--plan", uuid)} == {
        "SUCCEEDED"}
    watched = optimizer.json("actionplan", "watch", uuid)  # already over: returns at once
    assert watched["state"] == "SUCCEEDED" and watched["succeeded"] == total


def test_start_no_wait_runs_in_the_background_and_watch_follows(optimizer):
    uuid = optimizer.recommended_plan()
    started = optimizer.json("actionplan", "start", uuid, "--no-wait")
    log = started["log"]
    assert started["state"] == "PENDING" and log.startswith(str(optimizer.folder / "home"))
    watched = optimizer.run("actionplan", "watch", uuid)
    assert f"action plan {uuid} SUCCEEDED" in watched.stdout
    placement = optimizer.cloud().placement()
    assert all(placement[i] == host for i, host in _planned_moves(optimizer, uuid).items())


def test_a_failed_plan_exits_1(optimizer):
    uuid = optimizer.recommended_plan()
    doomed = next(iter(_planned_moves(optimizer, uuid)))
    optimizer.cloud().configure(faults=Faults(fail_instances=(doomed,)))
    result = optimizer.run("actionplan", "start", uuid, status=1)
    assert f"action plan {uuid} FAILED: " in result.stdout
    failed = optimizer.json("action", "list", "--plan", uuid, "--state", "FAILED")
    assert doomed in {a["subject"] for a in failed}


def test_auto_trigger_starts_the_recommended_plan(optimizer):
    document = optimizer.json("audit", "create", "--goal", "server_consolidation",
                              "--auto-trigger")
    assert document["execution"]["state"] == "SUCCEEDED"
    assert document["execution"]["succeeded"] == document["execution"]["total"] > 0


def test_pause_needs_the_applier(optimizer, no_applier):
    uuid = optimizer.recommended_plan()
    optimizer.run("actionplan", "start", uuid)  # PENDING: no applier to take it yet
    refused = optimizer.run("actionplan", "pause", uuid, status=2)
    assert "the applier is not installed" in refused.stderr


def test_pause_resume_follow_the_life_cycle(optimizer):
    uuid = optimizer.recommended_plan()
    refused = optimizer.run("actionplan", "pause", uuid, status=2)
    assert "cannot go from RECOMMENDED to PAUSED" in refused.stderr
    with optimizer.context() as ctx, ctx.database.session() as session:
        set_action_plan_state(session, uuid, "PENDING")
        set_action_plan_state(session, uuid, "ONGOING")  # as an applier elsewhere would
    assert "pause requested" in optimizer.run("actionplan", "pause", uuid).stdout
    assert optimizer.json("actionplan", "show", uuid)["state"] == "PAUSED"
    assert "resumed" in optimizer.run("actionplan", "resume", uuid).stdout
    assert optimizer.json("actionplan", "show", uuid)["state"] == "ONGOING"
    assert f"action plan {uuid} CANCELLING" in optimizer.run("actionplan", "cancel",
                                                             uuid).stdout


def test_start_supersedes_a_plan_whose_premise_broke(optimizer, no_applier):
    uuid = optimizer.recommended_plan()
    first = next(a for a in optimizer.json("action", "list", "--plan", uuid)
                 if a["type"] == "migrate")
    instance, source = first["parameters"]["instance"], first["parameters"]["source"]
    cloud = optimizer.cloud()
    hosts = sorted(set(cloud.placement().values()) - {source})
    for host in hosts:  # someone moves the instance by hand meanwhile
        try:
            cloud.start_migration(instance, source, host, "live")
            break
        except CloudError:
            continue
    assert cloud.host_of(instance) != source
    result = optimizer.run("actionplan", "start", uuid, status=1)
    assert "SUPERSEDED" in result.stdout and instance in result.stdout
    plan = optimizer.json("actionplan", "show", uuid)
    assert plan["state"] == "SUPERSEDED" and instance in plan["status_message"]


def test_cancel_and_delete(optimizer):
    uuid = optimizer.recommended_plan()
    refused = optimizer.run("actionplan", "delete", uuid, status=2)
    assert "cannot go from RECOMMENDED to DELETED" in refused.stderr
    assert f"action plan {uuid} CANCELLED" in optimizer.run("actionplan", "cancel",
                                                            uuid).stdout
    assert f"deleted action plan {uuid}" in optimizer.run("actionplan", "delete", uuid).stdout
    assert optimizer.json("actionplan", "list") == []
