"""measure(): predicted beside measured indicators, on small explicit clusters."""
from __future__ import annotations

import pytest

from optimizer.efficacy.measure import ActionRecord, MeasuredEfficacy, measure
from tests.builders import ClusterBuilder


def cluster(placement: dict[str, str]) -> object:
    """Three 8-core hosts; instances (2 vcpus at 50 %, 2 GB, v3 4 GB) where ``placement`` says."""
    builder = ClusterBuilder().hosts(3, vcpus=8, memory_gb=64)
    for name, host in placement.items():
        builder.vm(name, on=host, vcpus=2, memory_gb=4 if name == "v3" else 2, cpu_util=0.5)
    return builder.build()


def move(instance: str, source: str, destination: str, state: str = "SUCCEEDED",
         duration_s: float | None = 2.0) -> ActionRecord:
    return ActionRecord("migrate", state, {"instance": instance, "source": source,
                                           "destination": destination}, duration_s)


BEFORE = {"v1": "h1", "v2": "h2", "v3": "h3", "v4": "h3"}


def run(after: dict[str, str], actions: list[ActionRecord], state: str = "SUCCEEDED"):
    return measure(cluster(BEFORE), cluster(after), actions, plan_state=state,
                   estimated_duration_s=12.0, duration_s=9.5)


def test_a_plan_that_did_what_it_said_measures_as_predicted():
    actions = [move("v1", "h1", "h3"), move("v2", "h2", "h3"),
               ActionRecord("change_service_state", "SUCCEEDED", {"host": "h1"}, 0.5)]
    result = run({"v1": "h3", "v2": "h3", "v3": "h3", "v4": "h3"}, actions)
    assert result.active_hosts_before == 3
    for side in (result.predicted, result.measured):
        assert (side.active_hosts, side.hosts_emptied, side.migrations) == (1, 2, 2)
        assert side.moved_memory_gb == 4.0
        # four instances of 1 busy core each on 8 cores
        assert (side.cpu_load_mean, side.cpu_load_max) == (0.5, 0.5)
    assert (result.predicted.duration_s, result.measured.duration_s) == (12.0, 9.5)
    assert result.migrations_failed == result.migrations_misplaced == 0
    assert result.action_durations["migrate"].count == 2
    assert result.action_durations["change_service_state"].max_s == 0.5


def test_failed_and_skipped_migrations_are_counted_and_not_moved():
    actions = [move("v1", "h1", "h3"), move("v2", "h2", "h3", "FAILED", 1.0),
               move("v3", "h3", "h1", "SKIPPED", None),
               move("v4", "h3", "h1", "CANCELLED", None)]
    result = run({"v1": "h3", "v2": "h2", "v3": "h3", "v4": "h3"}, actions, "FAILED")
    assert result.plan_state == "FAILED"
    assert (result.migrations_failed, result.migrations_skipped,
            result.migrations_cancelled) == (1, 1, 1)
    assert result.predicted.migrations == 4 and result.measured.migrations == 1
    assert result.predicted.moved_memory_gb == 2 + 2 + 4 + 2
    assert result.measured.moved_memory_gb == 2.0
    # h1 ended empty; the plan meant h2 to (v1, v2 onto h3 and v3, v4 onto h1)
    assert result.measured.hosts_emptied == 1 and result.measured.active_hosts == 2
    assert result.predicted.hosts_emptied == 1 and result.predicted.active_hosts == 2
    durations = result.action_durations["migrate"]
    assert (durations.count, durations.total_s, durations.max_s) == (2, 3.0, 2.0)


def test_a_migration_reported_done_but_found_elsewhere_is_misplaced():
    result = run({"v1": "h2", "v2": "h2", "v3": "h3", "v4": "h3"}, [move("v1", "h1", "h3")])
    assert result.migrations_misplaced == 1
    assert result.measured.migrations == 1
    assert result.measured.cpu_load_max == pytest.approx(2 / 8)


def test_a_detours_first_hop_is_not_misplaced():
    actions = [move("v1", "h1", "h2"), move("v1", "h2", "h3")]
    result = run({"v1": "h3", "v2": "h2", "v3": "h3", "v4": "h3"}, actions)
    assert result.migrations_misplaced == 0
    assert result.predicted.hosts_emptied == 1  # h1; h2 keeps v2


def test_the_stored_document_reads_back_the_same():
    result = run({"v1": "h3", "v2": "h2", "v3": "h3", "v4": "h3"}, [move("v1", "h1", "h3")])
    assert MeasuredEfficacy.from_dict(result.to_dict()) == result
