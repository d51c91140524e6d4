"""optimizer actionplan list / show / start / watch / pause / resume / cancel / delete."""
from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

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
    # memory in GB, as everywhere else (the referee's migrated_memory_gb)
    assert "moved_memory_mb" not in watched and watched["moved_memory_gb"] > 0
    assert " GB" in result.stdout and "GiB" not in result.stdout + result.stderr


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


def _exported_plan_and_scenario(optimizer, tmp_path):
    """An audit's plan exported with -o, and the simulated cloud it was made on."""
    from optimizer.models.scenario import save_scenario

    created = optimizer.json("audit", "create", "--goal", "server_consolidation",
                             "--strategy", "vm_workload_consolidation")
    uuid = next(v for k, v in created.items() if "action_plan" in k and isinstance(v, str))
    assert uuid == created["action_plan"]["uuid"]
    cloud = optimizer.cloud()
    try:
        scenario = tmp_path / "cluster.json"
        save_scenario(cloud.snapshot(), scenario)
    finally:
        cloud.close()
    path = tmp_path / "exported.json"
    said = optimizer.run("actionplan", "export", uuid, "-o", str(path)).stdout
    assert f"wrote {path}" in said
    return uuid, json.loads(path.read_text()), scenario


def test_export_writes_a_plan_the_referee_judges_valid(optimizer, tmp_path):
    from optimizer.models.scenario import load_scenario

    from tests.referee import referee

    uuid, document, scenario = _exported_plan_and_scenario(optimizer, tmp_path)
    shown = optimizer.json("actionplan", "show", uuid, "--limit", "1000")
    assert document["format"] == "action-plan/1" and document["action_plan"] == uuid
    assert document["strategy"] == "vm_workload_consolidation"
    assert len(document["actions"]) == shown["actions_total"] > 0
    assert [a["index"] for a in document["actions"]] == [a["index"] for a in shown["actions"]]
    migrations = [a for a in document["actions"] if a["type"] == "migrate"]
    assert migrations and all({"instance", "source", "destination", "migration_type"} <= set(m)
                              for m in migrations)
    actions = [SimpleNamespace(**a) for a in document["actions"]]
    verdict = referee(load_scenario(scenario), SimpleNamespace(actions=actions))
    assert verdict.ok, verdict.violations
    assert verdict.migrations == len(migrations)
    # printed without -o, the same document
    assert optimizer.json_plain("actionplan", "export", uuid) == document


def test_the_shared_referee_judges_an_exported_plan_valid(optimizer, tmp_path, shared_dir):
    _, document, scenario = _exported_plan_and_scenario(optimizer, tmp_path)
    done = subprocess.run([sys.executable, str(shared_dir / "scenarios" / "evaluate.py"),
                           str(scenario), str(tmp_path / "exported.json"), "--json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["valid"] is True, verdict
    assert verdict["migrations"] == sum(a["type"] == "migrate" for a in document["actions"])


def test_export_of_an_unknown_plan_is_one_line(optimizer, tmp_path):
    result = optimizer.run("actionplan", "export", "no-such-plan", status=2)
    assert "no-such-plan" in result.stderr and result.stderr.count("\n") == 1
    uuid = optimizer.recommended_plan()
    result = optimizer.run("actionplan", "export", uuid, "-o",
                           str(tmp_path / "no" / "dir" / "p.json"), status=2)
    assert "cannot write plan" in result.stderr and result.stderr.count("\n") == 1


def test_show_counts_every_action_of_a_stage_not_only_those_shown(optimizer):
    uuid = optimizer.recommended_plan()
    every = optimizer.json("actionplan", "show", uuid, "--limit", "100000")["actions"]
    from optimizer.commands.plan_view import stages

    first_stage = sum(stage == 1 for stage in stages(every))
    assert first_stage > 2
    text = optimizer.run("actionplan", "show", uuid, "--limit", "2").stdout
    assert f"stage 1: {first_stage} action(s)" in text, text
