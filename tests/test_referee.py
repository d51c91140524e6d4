"""The test referee itself: each rule it enforces is caught."""
from __future__ import annotations

import pytest
from optimizer.strategies.solution import ChangePowerState, ChangeServiceState, Migrate, Solution

from tests.builders import ClusterBuilder
from tests.referee import referee


@pytest.fixture
def snap():
    return (ClusterBuilder().hosts(3, vcpus=10, memory_gb=16, cpu_ratio=1.0)
            .host("off", status="disabled")
            .vm("a", on="h1", vcpus=2, memory_gb=4, cpu_util=0.5, group="anti")
            .vm("b", on="h2", vcpus=2, memory_gb=4, group="anti")
            .vm("c", on="h1", vcpus=7, memory_gb=8, group="aff")
            .vm("d", on="h1", vcpus=1, memory_gb=1, group="aff")
            .vm("s", on="h3", vcpus=4, memory_gb=10, state="shutoff")
            .group("anti", "anti-affinity").group("aff", "affinity").build())


def verdict_of(snap, *actions, **kw):
    return referee(snap, Solution("test", "dummy", tuple(actions)), **kw)


def test_a_legal_plan_passes_and_reports_the_result(snap):
    v = verdict_of(snap, Migrate("s", "h3", "h2", "cold"),
                   ChangeServiceState(host="h3", state="disabled"))
    assert v.ok, v.violations
    assert v.host_of["s"] == "h2" and v.active_hosts == 2 and v.migrations == 1
    assert v.host_load[0] == pytest.approx((2 * 0.5 + 7 * 0.3 + 0.3) / 10)
    assert not v.enabled[2]


@pytest.mark.parametrize("actions, expected", [
    ([Migrate("a", "h2", "h3")], "not on the named source"),
    ([Migrate("a", "h1", "off")], "not up and enabled"),
    ([ChangeServiceState(host="h3", state="disabled"), Migrate("b", "h2", "h3")],
     "not up and enabled"),
    ([Migrate("c", "h1", "h3")], "over allocatable vcpus"),
    ([Migrate("a", "h1", "h2")], "anti-affinity group anti"),
    ([Migrate("d", "h1", "h3")], "affinity group aff split"),
    ([Migrate("s", "h3", "h1", "live")], "shutoff but live-migrated"),
    ([Migrate("a", "h1", "h1")], "onto its own host"),
    ([Migrate("d", "h1", "h2"), Migrate("d", "h2", "h3")], "moved 2 times"),
    ([Migrate("zz", "h1", "h2")], "unknown instance"),
    ([ChangePowerState(host="h1", state="off")], "powered off while it holds"),
])
def test_each_rule_is_caught(snap, actions, expected):
    v = verdict_of(snap, *actions)
    assert any(expected in message for message in v.violations), v.violations


def test_enabling_a_host_earlier_in_the_plan_allows_moves_onto_it(snap):
    v = verdict_of(snap, ChangeServiceState(host="off", state="enabled"),
                   Migrate("b", "h2", "off"))
    assert v.ok, v.violations


def test_repeat_moves_may_be_allowed(snap):
    v = verdict_of(snap, Migrate("b", "h2", "h3"), Migrate("b", "h3", "h2"),
                   allow_repeat_moves=True)
    assert v.ok, v.violations
