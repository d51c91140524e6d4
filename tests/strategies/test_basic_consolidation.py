"""basic_consolidation: empties the least-used hosts onto the most-used that fit."""
from __future__ import annotations

import pytest
from optimizer.models.simulated import SimulationSpec, simulate_cluster
from optimizer.strategies.basic_consolidation import strategy
from optimizer.strategies.solution import ChangeServiceState

from tests.builders import ClusterBuilder
from tests.referee import referee


def run(snapshot, **params):
    solution = strategy.run(snapshot, params)
    verdict = referee(snapshot, solution)
    assert verdict.ok, verdict.violations
    return solution, verdict


def disabled_hosts(solution) -> list[str]:
    return [a.host for a in solution.actions
            if isinstance(a, ChangeServiceState) and a.state == "disabled"]


def test_empties_the_least_used_host_onto_the_most_used():
    snap = (ClusterBuilder().hosts(3, vcpus=16, memory_gb=64)
            .vm("a", on="h1", memory_gb=16).vm("b", on="h1", memory_gb=16)
            .vm("c", on="h2", memory_gb=8)
            .vm("d", on="h3", memory_gb=24).vm("e", on="h3", memory_gb=16).build())
    solution, verdict = run(snap)
    # h2 (8 GB) is least used and goes to h3 (40 GB), the most used; h1 (2 x 16 GB)
    # comes next, but once h3 is full only the released h2 had room: h1 stays whole
    assert verdict.host_of == {"a": "h1", "b": "h1", "c": "h3", "d": "h3", "e": "h3"}
    assert disabled_hosts(solution) == ["h2"]
    assert solution.indicator("released_compute_nodes_count") == 1
    assert all(m.reason for m in solution.migrations)


def test_packs_small_cluster_to_one_host():
    snap = (ClusterBuilder().hosts(4, vcpus=32, memory_gb=128)
            .vm("a", on="h1").vm("b", on="h2").vm("c", on="h3").vm("d", on="h4").build())
    solution, verdict = run(snap)
    assert verdict.active_hosts == 1
    assert len(solution.migrations) == 3
    assert len(disabled_hosts(solution)) == 3


def test_target_cpu_load_caps_destinations():
    snap = (ClusterBuilder().hosts(2, vcpus=10)
            .vm("a", on="h1", vcpus=4, cpu_util=1.0).vm("b", on="h2", vcpus=5, cpu_util=1.0)
            .build())
    solution, _ = run(snap, target_cpu_load=0.8)  # 9 of 10 cores would be busy
    assert solution.migrations == ()
    solution, verdict = run(snap, target_cpu_load=0.95)
    assert verdict.active_hosts == 1
    assert max(verdict.host_load) == pytest.approx(0.9)


def test_allocation_after_ratios_and_reserves_caps_destinations():
    snap = (ClusterBuilder()
            .host("h1", vcpus=8, memory_gb=20, reserved_memory_gb=4)
            .host("h2", vcpus=8, memory_gb=20, reserved_memory_gb=4)
            .vm("a", on="h1", memory_gb=8, cpu_util=0).vm("b", on="h2", memory_gb=10, cpu_util=0)
            .build())
    solution, _ = run(snap)   # 18 GB does not fit in 20 - 4 GB
    assert solution.migrations == ()


def test_anti_affinity_members_never_share_a_host():
    snap = (ClusterBuilder().hosts(3)
            .vm("a", on="h1", group="g").vm("b", on="h2", group="g").vm("c", on="h3")
            .group("g", "anti-affinity").build())
    _, verdict = run(snap)
    assert verdict.host_of["a"] != verdict.host_of["b"]
    assert verdict.active_hosts == 2


def test_affinity_group_moves_as_one_unit():
    snap = (ClusterBuilder().hosts(3, vcpus=16, memory_gb=64)
            .vm("a", on="h1", memory_gb=8, group="g").vm("b", on="h1", memory_gb=8, group="g")
            .vm("c", on="h2", memory_gb=40).vm("d", on="h3", memory_gb=30)
            .group("g", "affinity").build())
    _, verdict = run(snap)
    assert verdict.host_of["a"] == verdict.host_of["b"]
    assert verdict.active_hosts == 2


def test_affinity_group_too_big_for_any_host_stays():
    snap = (ClusterBuilder().hosts(2, memory_gb=64)
            .vm("a", on="h1", memory_gb=20, group="g").vm("b", on="h1", memory_gb=20, group="g")
            .vm("c", on="h2", memory_gb=30).group("g", "affinity").build())
    solution, verdict = run(snap)   # 40 + 30 GB fits neither host
    assert solution.migrations == ()
    assert verdict.active_hosts == 2


def test_disabled_and_down_hosts_receive_nothing():
    snap = (ClusterBuilder().host("busy").host("off", status="disabled")
            .host("down", state="down").host("light")
            .vm("a", on="busy", memory_gb=60).vm("b", on="light")
            .vm("x", on="off").build())
    _, verdict = run(snap)
    assert verdict.host_of["b"] == "busy"
    assert verdict.host_of["x"] == "off"   # a disabled host is not emptied either


def test_stopped_instances_move_cold():
    snap = (ClusterBuilder().hosts(2)
            .vm("a", on="h1", state="shutoff").vm("b", on="h2", memory_gb=16).build())
    solution, _ = run(snap)
    [move] = solution.migrations
    assert (move.instance, move.migration_type) == ("a", "cold")


def test_hosts_with_instances_in_error_are_left_alone():
    snap = (ClusterBuilder().hosts(2)
            .vm("a", on="h1").vm("broken", on="h1", state="error")
            .vm("b", on="h2", memory_gb=16).build())
    solution, verdict = run(snap)
    assert verdict.host_of["broken"] == "h1"
    assert all(m.instance != "broken" for m in solution.migrations)


def test_max_migrations_caps_the_plan():
    snap = simulate_cluster(SimulationSpec(hosts=20, seed=5))
    full, _ = run(snap)
    capped, _ = run(snap, max_migrations=10)
    assert len(full.migrations) > 10
    assert 0 < len(capped.migrations) <= 10


def test_simulated_cluster_is_consolidated_safely():
    snap = simulate_cluster(SimulationSpec(hosts=60, server_groups=12, stopped_instances=20,
                                           disabled_hosts=3, series_length=8, seed=2))
    solution, verdict = run(snap, cpu_sizing="p95")
    before = int((snap.instances_per_host > 0).sum())
    assert verdict.active_hosts < before * 0.7
    assert max(verdict.host_load[verdict.placement]) <= max(0.8, snap.host_load().max()) + 1e-6
    assert set(disabled_hosts(solution)) == {
        snap.host_names[h] for h in range(snap.host_count)
        if snap.instances_per_host[h] and not (verdict.placement == h).any()}


def test_bad_parameters_are_reported_together():
    snap = ClusterBuilder().host("h1").build()
    with pytest.raises(Exception, match="target_cpu_load.*max_migrations") as caught:
        strategy.run(snap, {"target_cpu_load": 0, "max_migrations": -1})
    assert type(caught.value).__name__ == "ParameterError"


def test_hosts_above_the_target_load_are_relieved_first():
    snapshot = (ClusterBuilder().hosts(3, vcpus=10, memory_gb=64)
                .vm("hot1", on="h1", vcpus=4, memory_gb=8, cpu_util=1.0)
                .vm("hot2", on="h1", vcpus=4, memory_gb=8, cpu_util=1.0)
                .vm("a", on="h2", vcpus=2, memory_gb=8, cpu_util=0.5)
                .vm("b", on="h3", vcpus=2, memory_gb=8, cpu_util=0.5)
                .build())
    solution = strategy.run(snapshot, {"target_cpu_load": 0.6})
    verdict = referee(snapshot, solution)
    assert verdict.ok, verdict.violations
    assert verdict.host_load.max() <= 0.6 + 1e-9
