"""optimal_consolidation: tiny clusters whose optimum is known, checked by the referee."""
from __future__ import annotations

import numpy as np
import pytest
from optimizer.models.simulated import SimulationSpec, simulate_cluster
from optimizer.strategies.optimal_consolidation import strategy

from tests.builders import ClusterBuilder
from tests.referee import referee


def plan(snapshot, **params):
    solution = strategy.run(snapshot, params)
    verdict = referee(snapshot, solution)
    assert verdict.ok, verdict.violations
    return solution, verdict


def test_six_instances_pack_onto_two_of_four_hosts():
    b = ClusterBuilder().hosts(4, vcpus=32, memory_gb=128)
    for k in range(6):
        b.vm(f"v{k}", on=f"h{k % 4 + 1}", vcpus=4, memory_gb=32, cpu_util=0.2)
    solution, verdict = plan(b.build())
    assert verdict.active_hosts == 2
    assert solution.indicator("optimality_gap") == pytest.approx(0, abs=1e-6)
    assert solution.indicator("heuristic_fallback") == 0
    assert solution.indicator("released_compute_nodes_count") == 2
    disabled = {a.host for a in solution.actions if a.type == "change_service_state"}
    assert len(disabled) == 2 and all(not verdict.enabled[int(h[1:]) - 1] for h in disabled)


def test_moves_the_least_memory_among_equally_small_plans():
    snapshot = (ClusterBuilder().hosts(3, vcpus=32, memory_gb=128)
                .vm("a1", on="h1", memory_gb=32).vm("a2", on="h1", memory_gb=32)
                .vm("a3", on="h1", memory_gb=32)
                .vm("b", on="h2", memory_gb=32).vm("c", on="h3", memory_gb=16).build())
    solution, verdict = plan(snapshot)
    assert verdict.active_hosts == 2
    assert [(m.instance, m.destination) for m in solution.migrations] == [("c", "h1")]
    assert solution.indicator("migrated_memory_gb") == 16


def test_cpu_target_limits_packing_even_when_memory_fits():
    b = ClusterBuilder().hosts(3, vcpus=16, memory_gb=128)
    for k in range(3):  # 8 busy cores each: two on one 16-core host would load it to 1.0
        b.vm(f"v{k}", on=f"h{k + 1}", vcpus=8, memory_gb=8, cpu_util=1.0)
    solution, verdict = plan(b.build(), target_cpu_load=0.8)
    assert verdict.active_hosts == 3
    assert not solution.migrations
    assert verdict.host_load.max() <= 0.8 + 1e-9


def test_anti_affinity_members_never_share_a_host():
    snapshot = (ClusterBuilder().hosts(3, vcpus=32, memory_gb=128)
                .group("spread", "anti-affinity")
                .vm("g1", on="h1", memory_gb=8, group="spread")
                .vm("g2", on="h2", memory_gb=8, group="spread")
                .vm("x", on="h3", memory_gb=8).build())
    solution, verdict = plan(snapshot)
    assert verdict.host_of["g1"] != verdict.host_of["g2"]
    assert verdict.active_hosts == 2
    assert [m.instance for m in solution.migrations] == ["x"]


def test_affinity_group_moves_as_one():
    snapshot = (ClusterBuilder().hosts(3, vcpus=32, memory_gb=128)
                .group("pair", "affinity")
                .vm("p1", on="h1", memory_gb=8, group="pair")
                .vm("p2", on="h1", memory_gb=8, group="pair")
                .vm("big", on="h2", memory_gb=100).vm("small", on="h3", memory_gb=8).build())
    _, verdict = plan(snapshot)
    assert verdict.active_hosts == 1
    assert verdict.host_of["p1"] == verdict.host_of["p2"] == "h2"


def test_disabled_and_down_hosts_receive_nothing_but_may_keep_their_own():
    snapshot = (ClusterBuilder()
                .host("big", vcpus=64, memory_gb=512, status="disabled")
                .host("dead", vcpus=64, memory_gb=512, state="down")
                .hosts(2, vcpus=32, memory_gb=128)
                .vm("k", on="big", memory_gb=100).vm("d", on="dead", memory_gb=100)
                .vm("a", on="h1", memory_gb=60).vm("b", on="h2", memory_gb=60).build())
    solution, verdict = plan(snapshot)
    assert all(m.destination not in ("big", "dead") for m in solution.migrations)
    assert verdict.host_of["a"] == verdict.host_of["b"]
    assert (verdict.host_of["k"], verdict.host_of["d"]) == ("big", "dead")


def test_stopped_instances_move_cold():
    snapshot = (ClusterBuilder().hosts(2, vcpus=32, memory_gb=128)
                .vm("on", on="h1", memory_gb=16).vm("off", on="h2", memory_gb=8, state="shutoff")
                .build())
    solution, _ = plan(snapshot)
    assert [(m.instance, m.migration_type) for m in solution.migrations] == [("off", "cold")]


def test_tiny_time_limit_gives_a_valid_plan_or_says_it_fell_back():
    snapshot = simulate_cluster(SimulationSpec(hosts=30, server_groups=4, seed=3))
    solution, verdict = plan(snapshot, time_limit_s=0.05)
    assert verdict.active_hosts <= int(np.count_nonzero(snapshot.instances_per_host))
    if solution.indicator("heuristic_fallback"):
        assert any("fell back" in note for note in solution.notes)
    else:
        assert solution.indicator("optimality_gap") is not None


def test_large_problems_are_split_into_blocks_and_say_so():
    b = ClusterBuilder().hosts(16, vcpus=32, memory_gb=128)
    for k in range(16):  # four fit a host: two blocks of eight hosts pack onto two each
        b.vm(f"v{k}", on=f"h{k + 1}", vcpus=2, memory_gb=32, cpu_util=0.1)
    solution, verdict = plan(b.build(), max_problem_size=100)
    assert solution.indicator("model_blocks") == 2
    assert any("2 blocks" in note for note in solution.notes)
    assert verdict.active_hosts == 4


def test_empty_cluster_gives_an_empty_solution():
    solution = strategy.run(ClusterBuilder().hosts(2).build(), {})
    assert solution.actions == ()


def test_bad_parameters_are_reported_in_one_line():
    from optimizer.strategies.parameters import ParameterError

    with pytest.raises(ParameterError, match="cpu_sizing.*target_cpu_load|target_cpu_load"):
        strategy.run(ClusterBuilder().hosts(1).build(),
                     {"target_cpu_load": 2, "cpu_sizing": "median"})


def test_no_feasible_model_falls_back_to_the_heuristic_and_says_so():
    # one host loaded past the target with nowhere to go: the model has no solution
    snapshot = (ClusterBuilder().host("h1", vcpus=16, memory_gb=64)
                .vm("hot", on="h1", vcpus=16, memory_gb=8, cpu_util=1.0).build())
    solution, _ = plan(snapshot, target_cpu_load=0.8)
    assert solution.strategy == "optimal_consolidation"
    assert solution.indicator("heuristic_fallback") == 1
    assert any("fell back to vm_workload_consolidation" in note for note in solution.notes)
