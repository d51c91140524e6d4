"""Premises of a stored plan, and what a solution changes per host."""
from __future__ import annotations

from optimizer.strategies.solution import ChangeServiceState, Migrate, Solution

from optimizer.decision.effects import host_changes
from optimizer.decision.premises import broken_premises
from tests.builders import ClusterBuilder


def cluster(disabled: str | None = None):
    builder = ClusterBuilder()
    for name in ("h1", "h2", "h3"):
        builder.host(name, vcpus=10, memory_gb=100, status="disabled" if name == disabled
                     else "enabled")
    return (builder.vm("v1", on="h1", vcpus=4, memory_gb=50, cpu_util=0.5)
            .vm("v2", on="h2", vcpus=2, memory_gb=25, cpu_util=1.0).build())


def migrate(uuid, source, destination):
    return {"type": "migrate",
            "parameters": {"instance": uuid, "source": source, "destination": destination}}


def test_a_plan_that_still_fits_has_no_broken_premise():
    actions = [migrate("v1", "h1", "h2"), migrate("v1", "h2", "h3")]
    assert broken_premises(cluster(), actions) == []


def test_moved_instance_disabled_host_and_missing_names_are_reported():
    actions = [migrate("v2", "h1", "h3"), migrate("v1", "h1", "h3"), migrate("gone", "h1", "h2"),
               migrate("v1", "h3", "h9")]
    problems = broken_premises(cluster(disabled="h3"), actions)
    assert problems == ["instance v2 is on h2, not h1", "host h3 is disabled or down",
                        "host h3 is disabled or down", "instance gone no longer exists",
                        "host h9 no longer exists"]


def test_enabling_in_the_plan_makes_a_destination_usable():
    actions = [{"type": "change_service_state", "parameters": {"host": "h3", "state": "enabled"}},
               migrate("v1", "h1", "h3")]
    assert broken_premises(cluster(disabled="h3"), actions) == []


def test_host_changes_report_before_and_after():
    snapshot = cluster()
    solution = Solution("s", "g", (Migrate(instance="v1", source="h1", destination="h2"),
                                   ChangeServiceState(host="h1", state="disabled")))
    changes = host_changes(snapshot, solution)
    assert set(changes) == {"h1", "h2"}
    assert changes["h1"]["instances"] == [1, 0]
    assert changes["h1"]["service"] == "disabled"
    assert changes["h2"]["cpu_load"] == [0.2, 0.4]
    assert changes["h2"]["memory_allocated_pct"] == [25.0, 75.0]
