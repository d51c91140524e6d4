"""Limits, retries with backoff, timeouts, failure policies and revert."""
from __future__ import annotations

import random

from optimizer.applier import ExecutionPolicy, SimulatedActuator, execute_plan
from optimizer.cloud.simulated import Faults, SimulatedCloud
from tests.optimizer.applier.conftest import (
    make_context,
    migrate,
    nop,
    small_cluster,
    store_plan,
    stored_actions,
)


class CountingActuator(SimulatedActuator):
    """Records, at every start, how many migrations the cloud runs per host and in total."""

    def __init__(self, cloud: SimulatedCloud):
        super().__init__(cloud)
        self.most_per_host = 0
        self.most_total = 0

    def start_migration(self, uuid, source, destination, kind):
        operation = super().start_migration(uuid, source, destination, kind)
        rows = self.cloud._db.execute(
            "SELECT source, destination FROM migrations WHERE state = 'running'").fetchall()
        per_host: dict[str, int] = {}
        for row in rows:
            for host in set(row):
                per_host[host] = per_host.get(host, 0) + 1
        self.most_total = max(self.most_total, len(rows))
        self.most_per_host = max([self.most_per_host, *per_host.values()])
        return operation


def test_backoff_doubles():
    policy = ExecutionPolicy(retry_backoff_s=1.5)
    assert [policy.backoff_s(n) for n in (1, 2, 3)] == [1.5, 3.0, 6.0]


def test_concurrency_limits_are_never_exceeded(tmp_path):
    cloud = SimulatedCloud(tmp_path / "cloud.db")
    cloud.load(small_cluster(hosts=8, per_host=6))
    cloud.configure(bandwidth_mb_s=1024 / 0.03)  # 30 ms a migration
    ctx = make_context(tmp_path, per_host=2, parallel=5)
    rng = random.Random(3)
    actions = []
    for h in range(1, 9):
        for j in range(6):
            destination = rng.choice([d for d in range(1, 9) if d != h])
            actions.append(migrate(f"h{h}-v{j}", f"h{h}", f"h{destination}"))
    uuid = store_plan(ctx, actions)
    actuator = CountingActuator(SimulatedCloud(cloud.path))
    result = execute_plan(ctx, uuid, actuator=actuator)
    assert result.state == "SUCCEEDED", result.message
    assert 3 <= actuator.most_total <= 5, "migrations run in parallel, never above the limit"
    assert actuator.most_per_host <= 2


def test_hung_migration_times_out_is_aborted_and_fails(tmp_path, cloud):
    cloud.configure(bandwidth_mb_s=1e6, faults=Faults(hang_instances=("h1-v0",)))
    ctx = make_context(tmp_path, action_timeout_s=0.2)
    uuid = store_plan(ctx, [migrate("h1-v0", "h1", "h2"), nop(parents=[0])])
    result = execute_plan(ctx, uuid)
    hung, dependent = stored_actions(ctx, uuid)
    assert result.state == "FAILED"
    assert (hung.state, hung.status_message) == ("FAILED", "timed out after 0.2 s")
    assert dependent.state == "CANCELLED"
    assert [m.state for m in cloud.migrations_of("h1-v0")] == ["aborted"]
    assert cloud.host_of("h1-v0") == "h1"


def _full_destination(tmp_path):
    """h2 is full until its instance 'big' moves to h3; 'a' wants to go to h2 meanwhile."""
    from tests.builders import ClusterBuilder

    cloud = SimulatedCloud(tmp_path / "cloud.db")
    cloud.load(ClusterBuilder().host("h1").host("h2", memory_gb=8).host("h3")
               .vm("a", on="h1", memory_gb=4).vm("big", on="h2", memory_gb=8).build())
    cloud.configure(bandwidth_mb_s=8192 / 0.15)  # 'big' takes 150 ms
    return cloud


def test_refusal_for_lack_of_room_is_retried_with_backoff(tmp_path):
    cloud = _full_destination(tmp_path)
    ctx = make_context(tmp_path, max_retries=3, retry_backoff_s=0.1)
    uuid = store_plan(ctx, [migrate("big", "h2", "h3"), migrate("a", "h1", "h2")])
    result = execute_plan(ctx, uuid)
    assert result.state == "SUCCEEDED", result.message
    second = stored_actions(ctx, uuid)[1]
    assert second.attempts >= 1  # refused while 'big' was still leaving
    assert cloud.host_of("a") == "h2" and cloud.migration_count("a") == 1


def test_without_retries_the_refusal_fails_the_action(tmp_path):
    cloud = _full_destination(tmp_path)
    ctx = make_context(tmp_path, max_retries=0)
    uuid = store_plan(ctx, [migrate("big", "h2", "h3"), migrate("a", "h1", "h2")])
    result = execute_plan(ctx, uuid)
    assert result.state == "FAILED"
    assert "destination h2 has no room" in stored_actions(ctx, uuid)[1].status_message
    assert cloud.host_of("a") == "h1"


def _chains(cloud_hosts: int = 10, per_host: int = 4):
    """Per host, a chain of migrations to the next host: each waits for the one before."""
    actions = []
    for h in range(1, cloud_hosts + 1):
        destination = f"h{h % cloud_hosts + 1}"
        for j in range(per_host):
            parents = [len(actions) - 1] if j else []
            actions.append(migrate(f"h{h}-v{j}", f"h{h}", destination, parents))
    return actions


def _failing_cloud(tmp_path):
    cloud = SimulatedCloud(tmp_path / "cloud.db")
    cloud.load(small_cluster(hosts=10, per_host=4))
    cloud.configure(faults=Faults(failure_rate=0.1, seed=5))
    return cloud


def test_failed_migrations_fail_the_plan_and_their_dependents_never_run(tmp_path):
    cloud = _failing_cloud(tmp_path)
    ctx = make_context(tmp_path)
    uuid = store_plan(ctx, _chains())
    result = execute_plan(ctx, uuid)
    actions = stored_actions(ctx, uuid)
    failed = [a for a in actions if a.state == "FAILED"]
    assert result.state == "FAILED" and failed
    assert all("injected failure" in a.status_message for a in failed)
    for action in actions:
        instance = action.parameters["instance"]
        if action.state == "CANCELLED":
            assert action.status_message.startswith(("parent", "parent"))
            assert cloud.migration_count(instance) == 0 and not cloud.migrations_of(instance)
        if action.state == "SUCCEEDED":
            assert cloud.host_of(instance) == action.parameters["destination"]
    assert any(a.state == "SUCCEEDED" for a in actions), "independent chains went on"


def test_stop_policy_starts_nothing_after_a_failure(tmp_path):
    cloud = _failing_cloud(tmp_path)
    ctx = make_context(tmp_path, failure_policy="stop", per_host=1, parallel=1)
    uuid = store_plan(ctx, _chains())
    result = execute_plan(ctx, uuid)
    states = [a.state for a in stored_actions(ctx, uuid)]
    first_failure = states.index("FAILED")
    assert result.state == "FAILED"
    assert set(states[first_failure + 1:]) == {"CANCELLED"}
    assert not any(cloud.migrations_of(a.parameters["instance"])
                   for a in stored_actions(ctx, uuid)[first_failure + 1:])


def test_revert_on_failure_brings_the_cloud_back(tmp_path):
    cloud = _failing_cloud(tmp_path)
    before = cloud.placement()
    ctx = make_context(tmp_path)
    uuid = store_plan(ctx, [{"type": "change_service_state",
                             "parameters": {"host": "h1", "state": "disabled"}},
                            *_chains()], revert_on_failure=True)
    result = execute_plan(ctx, uuid)
    assert result.state == "FAILED"
    assert "reverted" in result.message and "revert(s) failed" not in result.message
    assert cloud.placement() == before
    assert cloud.host_state("h1") == (True, True)
    succeeded = [a for a in stored_actions(ctx, uuid) if a.state == "SUCCEEDED"]
    assert succeeded and all(a.status_message.startswith("reverted") for a in succeeded)
