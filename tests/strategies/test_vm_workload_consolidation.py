"""vm_workload_consolidation and node_resource_consolidation on small, explicit clusters."""
from __future__ import annotations

import numpy as np
import pytest
from optimizer.models.simulated import SimulationSpec, simulate_cluster
from optimizer.strategies.node_resource_consolidation import strategy as node_resource
from optimizer.strategies.vm_workload_consolidation import strategy as workload

from tests.builders import ClusterBuilder
from tests.referee import referee


def four_half_empty_hosts():
    builder = ClusterBuilder().hosts(4, vcpus=16, memory_gb=64, disk_gb=1000)
    for k in range(4):
        builder.vm(f"a{k}", on=f"h{k + 1}", vcpus=4, memory_gb=16, cpu_util=0.3)
        builder.vm(f"b{k}", on=f"h{k + 1}", vcpus=4, memory_gb=16, cpu_util=0.3)
    return builder.build()


def test_empties_half_the_hosts_and_disables_them():
    snapshot = four_half_empty_hosts()
    solution = workload.run(snapshot)
    verdict = referee(snapshot, solution)
    assert verdict.ok, verdict.violations
    assert verdict.active_hosts == 2
    assert len(solution.migrations) == 4
    disabled = [a.host for a in solution.actions if a.type == "change_service_state"]
    assert len(disabled) == 2 and all(verdict.host_load[snapshot.host_id(h)] == 0
                                      for h in disabled)
    assert solution.indicator("released_compute_nodes_count") == 2


def test_cpu_target_limits_packing():
    # each instance keeps 4 cores busy; two fit under 0.6 × 16 = 9.6 cores, three do not
    builder = ClusterBuilder().hosts(3, vcpus=16, memory_gb=64)
    for k in range(3):
        builder.vm(f"v{k}", on=f"h{k + 1}", vcpus=4, memory_gb=8, cpu_util=1.0)
    snapshot = builder.build()
    verdict = referee(snapshot, solution := workload.run(snapshot, {"target_cpu_load": 0.6}))
    assert verdict.ok and verdict.active_hosts == 2
    assert verdict.host_load.max() <= 0.6 + 1e-9
    # allocation alone would put all three on one host
    assert referee(snapshot, node_resource.run(snapshot)).active_hosts == 1
    assert solution.indicator("max_cpu_load_after") <= 0.6


def test_overloaded_host_is_relieved_even_when_nothing_can_be_released():
    snapshot = (ClusterBuilder().hosts(2, vcpus=10, memory_gb=64)
                .vm("hot1", on="h1", vcpus=4, memory_gb=8, cpu_util=1.0)
                .vm("hot2", on="h1", vcpus=4, memory_gb=8, cpu_util=1.0)
                .vm("cool", on="h2", vcpus=2, memory_gb=8, cpu_util=0.1)
                .build())
    solution = workload.run(snapshot, {"target_cpu_load": 0.5})
    verdict = referee(snapshot, solution)
    assert verdict.ok
    assert verdict.host_load.max() <= 0.5 + 1e-9
    assert any("relieve h1" in m.reason for m in solution.migrations)


def test_groups_affinity_moves_together_and_anti_affinity_stays_apart():
    builder = ClusterBuilder().hosts(4, vcpus=32, memory_gb=64)
    builder.group("pair", "affinity").group("apart", "anti-affinity")
    builder.vm("p1", on="h1", memory_gb=8, group="pair").vm("p2", on="h1", memory_gb=8,
                                                              group="pair")
    for k in range(4):
        builder.vm(f"x{k}", on=f"h{k + 1}", memory_gb=8, group="apart")
    snapshot = builder.build()
    verdict = referee(snapshot, workload.run(snapshot))
    assert verdict.ok, verdict.violations
    assert verdict.host_of["p1"] == verdict.host_of["p2"]
    assert len({verdict.host_of[f"x{k}"] for k in range(4)}) == 4


def test_stopped_instances_move_cold_and_disabled_hosts_never_receive():
    snapshot = (ClusterBuilder()
                .host("big", vcpus=64, memory_gb=256, status="disabled")
                .hosts(3, vcpus=16, memory_gb=64)
                .vm("off", on="h1", memory_gb=16, state="shutoff")
                .vm("on", on="h2", memory_gb=16)
                .vm("x", on="h3", memory_gb=16)
                .build())
    solution = workload.run(snapshot)
    verdict = referee(snapshot, solution)
    assert verdict.ok
    assert all(m.destination != "big" for m in solution.migrations)
    kinds = {m.instance: m.migration_type for m in solution.migrations}
    assert kinds.get("off", "cold") == "cold"
    assert verdict.active_hosts == 1


def test_instances_that_may_not_move_stay_and_keep_their_host():
    snapshot = (ClusterBuilder().hosts(3, vcpus=16, memory_gb=64)
                .vm("broken", on="h1", memory_gb=8, state="error")
                .vm("a", on="h2", memory_gb=8).vm("b", on="h3", memory_gb=8)
                .build())
    verdict = referee(snapshot, workload.run(snapshot))
    assert verdict.ok
    assert verdict.host_of == {"broken": "h1", "a": "h1", "b": "h1"}


def test_when_nothing_fits_the_plan_says_so():
    # 3 cores busy each, 2 cores of room at 0.5: no host can take the other's instance
    snapshot = (ClusterBuilder().hosts(2, vcpus=10, memory_gb=64)
                .vm("a", on="h1", vcpus=8, memory_gb=8, cpu_util=0.8)
                .vm("b", on="h2", vcpus=8, memory_gb=8, cpu_util=0.8)
                .build())
    solution = workload.run(snapshot, {"target_cpu_load": 0.5})
    assert not solution.migrations
    assert solution.notes and "found no room" in solution.notes[0]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_simulated_clusters_reach_the_memory_bound(seed):
    snapshot = simulate_cluster(SimulationSpec(hosts=30, server_groups=6, stopped_instances=5,
                                               disabled_hosts=2, seed=seed))
    verdict = referee(snapshot, workload.run(snapshot))
    assert verdict.ok, verdict.violations[:3]
    receivers = snapshot.can_receive
    memory = np.sort(snapshot.allocatable[receivers, 1])[::-1]
    bound = int(np.searchsorted(np.cumsum(memory), snapshot.inst_size[:, 1].sum())) + 1
    assert verdict.active_hosts <= bound + 1
    assert verdict.host_load.max() <= 0.8 + 1e-9


def test_empty_cluster_and_sizing():
    empty = ClusterBuilder().hosts(2).build()
    assert workload.run(empty).actions == ()
    spiky = (ClusterBuilder().hosts(2, vcpus=10, memory_gb=64)
             .vm("a", on="h1", vcpus=4, memory_gb=8, series=[0.1, 0.1, 1.0])
             .vm("b", on="h2", vcpus=4, memory_gb=8, series=[0.1, 0.1, 1.0])
             .build())
    # by the mean (0.4 × 4 = 1.6 cores each) they share a host; by the peak they do not
    assert referee(spiky, workload.run(spiky, {"target_cpu_load": 0.6})).active_hosts == 1
    peak = workload.run(spiky, {"target_cpu_load": 0.6, "cpu_sizing": "max"})
    assert referee(spiky, peak).active_hosts == 2
