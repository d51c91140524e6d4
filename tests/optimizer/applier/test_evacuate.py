"""The evacuate action on the simulated cloud: pre-condition, execute, poll, post-condition."""
from __future__ import annotations

from optimizer.applier import execute_plan
from optimizer.applier.actions import BUILTIN_ACTIONS, EvacuateParameters
from tests.optimizer.applier.conftest import store_plan, stored_actions


def evacuate(instance: str, source: str, destination: str) -> dict:
    return {"type": "evacuate", "parents": [],
            "parameters": {"instance": instance, "source": source, "destination": destination,
                           "migration_type": "evacuate", "storage": "shared"}}


def test_instances_of_a_failed_host_run_on_their_planned_hosts(ctx, cloud):
    cloud.fail_host("h1")
    plan = [evacuate("h1-v0", "h1", "h2"), evacuate("h1-v1", "h1", "h3"),
            evacuate("h1-v2", "h1", "h2")]
    uuid = store_plan(ctx, plan)
    result = execute_plan(ctx, uuid)
    assert result.state == "SUCCEEDED"
    placement = cloud.placement()
    assert [placement[f"h1-v{j}"] for j in range(3)] == ["h2", "h3", "h2"]
    assert {m.kind for j in range(3) for m in cloud.migrations_of(f"h1-v{j}")} == {"evacuate"}


def test_evacuating_a_host_that_is_up_is_refused_with_the_reason(ctx, cloud):
    uuid = store_plan(ctx, [evacuate("h1-v0", "h1", "h2")])
    execute_plan(ctx, uuid)
    action = stored_actions(ctx, uuid)[0]
    assert action.state == "FAILED"
    assert "h1 is up" in action.status_message and "never runs twice" in action.status_message
    assert cloud.placement()["h1-v0"] == "h1" and not cloud.migrations_of("h1-v0")


def test_a_destination_that_went_down_fails_the_action(ctx, cloud):
    cloud.fail_host("h1")
    cloud.fail_host("h2")
    uuid = store_plan(ctx, [evacuate("h1-v0", "h1", "h2"), evacuate("h1-v1", "h1", "h3")])
    execute_plan(ctx, uuid)
    first, second = stored_actions(ctx, uuid)
    assert first.state == "FAILED" and "destination h2 went down" in first.status_message
    assert second.state == "SUCCEEDED"
    assert cloud.placement()["h1-v0"] == "h1" and cloud.placement()["h1-v1"] == "h3"


def test_a_destination_failing_during_the_rebuild_fails_it(cloud, actuator):
    cloud.configure(bandwidth_mb_s=1e-6)  # the rebuild never finishes by itself
    cloud.fail_host("h1")
    plugin = BUILTIN_ACTIONS["evacuate"]
    params = EvacuateParameters("h1-v0", "h1", "h2")
    assert plugin.pre_condition(actuator, params) is None
    step = plugin.execute(actuator, params)
    assert step.phase == "running"
    cloud.fail_host("h2")
    step = plugin.poll(actuator, params, step.operation)
    assert step.phase == "failed" and "host h2 failed" in step.message
    assert cloud.placement()["h1-v0"] == "h1"


def test_an_evacuation_has_no_revert():
    assert BUILTIN_ACTIONS["evacuate"].reverse(EvacuateParameters("v", "a", "b")) is None


def test_only_the_destination_counts_for_the_concurrency_limits():
    params = EvacuateParameters("v", "dead", "b")
    assert set(BUILTIN_ACTIONS["evacuate"].migration_hosts(params)) == {"b"}
