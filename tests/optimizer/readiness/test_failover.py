"""The cluster a solution leaves, as the failover check sees it."""
from __future__ import annotations

from optimizer.strategies.saving_energy import is_powered_off
from optimizer.strategies.solution import ChangePowerState, ChangeServiceState, Migrate, Solution

from optimizer.readiness.failover import cluster_after
from tests.builders import ClusterBuilder


def test_migrations_disables_and_power_offs_are_applied_except_kept_hosts():
    snap = (ClusterBuilder().hosts(3, memory_gb=16).vm("a", on="h1").vm("b", on="h2").build())
    solution = Solution(strategy="s", goal="g", actions=(
        Migrate(instance="b", source="h2", destination="h1"),
        ChangeServiceState(host="h2", state="disabled"),
        ChangeServiceState(host="h3", state="disabled"),
        ChangePowerState(host="h3", state="off")))
    after = cluster_after(snap, solution)
    assert after.instances_per_host.tolist() == [2, 0, 0]
    assert after.host_enabled.tolist() == [True, False, False]
    assert is_powered_off(after).tolist() == [False, False, True]
    assert snap.instances_per_host.tolist() == [1, 1, 0]  # the snapshot is untouched
    kept = cluster_after(snap, solution, frozenset({"h3"}))
    assert kept.can_receive.tolist() == [True, False, True]
