"""``keep_failover=K`` in the consolidation strategies: the plan's cluster survives K failures."""
from __future__ import annotations

import pytest
from optimizer.models.simulated import SimulationSpec, simulate_cluster
from optimizer.strategies.solution import ChangePowerState, ChangeServiceState, Migrate

from optimizer.plugins import find_strategy
from optimizer.readiness.check import check_readiness
from optimizer.readiness.failover import cluster_after
from tests.builders import ClusterBuilder

CONSOLIDATIONS = [("vm_workload_consolidation", {}),
                  ("optimal_consolidation", {"time_limit_s": 5})]


def disabled_hosts(solution) -> set[str]:
    return {a.host for a in solution.actions
            if isinstance(a, ChangeServiceState) and a.state == "disabled"}


@pytest.fixture(scope="module")
def light_cluster():
    return simulate_cluster(SimulationSpec(hosts=30, fill=0.4, server_groups=6))


@pytest.mark.parametrize(("name", "extra"), CONSOLIDATIONS)
def test_default_leaves_the_plan_as_it_was(light_cluster, name, extra):
    strategy = find_strategy(name)
    plain = strategy.run(light_cluster, extra)
    zero = strategy.run(light_cluster, {**extra, "keep_failover": 0})
    assert zero.actions == plain.actions  # (notes carry solver seconds)
    assert not any("keep_failover" in note for note in zero.notes)


@pytest.mark.parametrize(("name", "extra"), CONSOLIDATIONS)
@pytest.mark.parametrize("failures", [1, 2])
def test_plan_passes_the_check_by_keeping_emptied_hosts(light_cluster, name, extra, failures):
    strategy = find_strategy(name)
    plain = strategy.run(light_cluster, extra)
    assert not check_readiness(cluster_after(light_cluster, plain), failures).ok
    kept = strategy.run(light_cluster, {**extra, "keep_failover": failures})
    assert check_readiness(cluster_after(light_cluster, kept), failures).ok
    # the same migrations; fewer hosts disabled, and only hosts the plain plan disabled
    assert kept.migrations == plain.migrations
    assert disabled_hosts(kept) < disabled_hosts(plain)
    assert f"keep_failover={failures}: kept" in kept.notes[-1]


def test_keeps_the_fewest_hosts_that_pass(light_cluster):
    strategy = find_strategy("vm_workload_consolidation")
    kept = strategy.run(light_cluster, {"keep_failover": 1})
    plain_disabled = disabled_hosts(strategy.run(light_cluster, {}))
    back = sorted(plain_disabled - disabled_hosts(kept))
    # one fewer kept host: the cluster fails again (whichever host is dropped)
    for name in back:
        fewer = type(kept)(strategy=kept.strategy, goal=kept.goal, actions=kept.actions + (
            ChangeServiceState(host=name, state="disabled"),))
        assert not check_readiness(cluster_after(light_cluster, fewer), 1).ok


def test_nothing_planned_when_even_keeping_every_host_fails():
    # a (16 GB) fits on no other host, so no plan can make h1's failure survivable
    snap = (ClusterBuilder().host("h1", memory_gb=16).host("h2", memory_gb=12)
            .host("h3", memory_gb=12).vm("a", on="h1", memory_gb=16)
            .vm("b", on="h2", memory_gb=4).vm("c", on="h3", memory_gb=4).build())
    strategy = find_strategy("vm_workload_consolidation")
    assert strategy.run(snap, {}).migrations  # without the check, b and c share a host
    solution = strategy.run(snap, {"keep_failover": 1})
    assert solution.actions == ()
    assert "nothing is planned" in solution.notes[0]


def test_saving_energy_keeps_empty_hosts_on():
    builder = ClusterBuilder()
    for k in range(1, 5):
        builder.host(f"h{k}", memory_gb=16)
    snap = (builder.vm("a", on="h1", memory_gb=12).vm("b", on="h2", memory_gb=12).build())
    strategy = find_strategy("saving_energy")
    params = {"free_capacity_percent": 0, "min_free_hosts": 0}
    plain = strategy.run(snap, params)
    powered_off = {a.host for a in plain.actions if isinstance(a, ChangePowerState)}
    assert powered_off == {"h3", "h4"}
    kept = strategy.run(snap, {**params, "keep_failover": 1})
    assert len({a.host for a in kept.actions if isinstance(a, ChangePowerState)}) == 1
    assert check_readiness(cluster_after(snap, kept), 1).ok
    both = strategy.run(snap, {**params, "keep_failover": 2})
    assert both.actions == ()  # two failures need both empty hosts on
    assert not any(isinstance(a, Migrate) for a in both.actions)
