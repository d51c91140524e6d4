"""saving_energy: headroom kept, only empty hosts powered off, power on when short."""
from __future__ import annotations

import pytest
from optimizer.models.records import Host, Instance
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.parameters import ParameterError
from optimizer.strategies.saving_energy import is_powered_off, strategy
from optimizer.strategies.solution import ChangePowerState, ChangeServiceState


def host(name: str, vcpus: int = 10, memory_mb: int = 1000, zone: str = "az1",
         **kw) -> Host:
    # ratio 1.0 so allocatable equals size and the arithmetic stays readable
    return Host(name, vcpus=vcpus, memory_mb=memory_mb, disk_gb=1000,
                cpu_allocation_ratio=1.0, zone=zone, **kw)


def vm(uuid: str, on: str, vcpus: int = 5, memory_mb: int = 500) -> Instance:
    return Instance(uuid, host=on, vcpus=vcpus, memory_mb=memory_mb, disk_gb=10)


def powered_off(name: str, **kw) -> Host:
    return host(name, state="down", status="disabled",
                disabled_reason="powered off by saving_energy", **kw)


def power(solution, state: str) -> list[str]:
    return [a.host for a in solution.actions
            if isinstance(a, ChangePowerState) and a.state == state]


def test_surplus_empty_hosts_powered_off_keeping_one():
    snap = ClusterSnapshot.from_records(
        [host("busy", memory_mb=1000), host("e1"), host("e2", memory_mb=2000), host("e3")],
        [vm("a", "busy", vcpus=2, memory_mb=200)])
    solution = strategy.run(snap, {"free_capacity_percent": 0, "min_free_hosts": 1})
    # the largest empty host is the one kept
    assert sorted(power(solution, "off")) == ["e1", "e3"]
    assert solution.indicator("hosts_powered_off") == 2
    assert solution.indicator("hosts_powered_on") == 0


def test_headroom_keeps_as_many_empty_hosts_as_needed():
    # busy hosts 90% full: 4 x 1000 MB with 3600 used; 20% free needs 500 MB more capacity
    hosts = [host(f"b{k}") for k in range(4)] + [host(f"e{k}") for k in range(4)]
    vms = [vm(f"v{k}", f"b{k}", vcpus=9, memory_mb=900) for k in range(4)]
    snap = ClusterSnapshot.from_records(hosts, vms)
    solution = strategy.run(snap, {"free_capacity_percent": 20, "min_free_hosts": 0})
    # 3600 / (4000 + 1000) = 72% used: one empty host is enough
    assert len(power(solution, "off")) == 3
    assert solution.indicator("free_capacity_percent_after") == pytest.approx(28.0)
    solution = strategy.run(snap, {"free_capacity_percent": 40, "min_free_hosts": 0})
    # 3600 / 6000 = 60% used: two empty hosts are needed
    assert len(power(solution, "off")) == 2
    assert solution.indicator("free_capacity_percent_after") >= 40


def test_only_empty_up_enabled_hosts_are_powered_off():
    snap = ClusterSnapshot.from_records(
        [host("busy1"), host("busy2"), host("empty"),
         host("maint", status="disabled", disabled_reason="maintenance"),
         host("broken", state="down")],
        [vm("a", "busy1", vcpus=1, memory_mb=100), vm("b", "busy2", vcpus=1, memory_mb=100)])
    solution = strategy.run(snap, {"free_capacity_percent": 0, "min_free_hosts": 0})
    assert power(solution, "off") == ["empty"]
    assert power(solution, "on") == []


def test_power_off_disables_the_host_first_with_the_powered_off_reason():
    snap = ClusterSnapshot.from_records([host("busy"), host("e1")], [vm("a", "busy", 1, 100)])
    solution = strategy.run(snap, {"free_capacity_percent": 0, "min_free_hosts": 0})
    first, second = solution.actions
    assert isinstance(first, ChangeServiceState) and first.state == "disabled"
    assert first.reason.startswith("powered off")
    assert isinstance(second, ChangePowerState) and second.state == "off"


def test_powers_on_when_headroom_is_short():
    snap = ClusterSnapshot.from_records(
        [host("b1"), host("b2"), powered_off("off1"), powered_off("off2", memory_mb=2000),
         host("broken", state="down", status="disabled", disabled_reason="disk failure")],
        [vm("v1", "b1", 9, 900), vm("v2", "b2", 9, 900)])
    assert list(is_powered_off(snap)) == [False, False, True, True, False]
    solution = strategy.run(snap, {"free_capacity_percent": 20, "min_free_hosts": 0})
    # 18 of 20 vcpus used (10% free); the larger powered-off host brings it to
    # 18 of 30 vcpus (40% free) and 1800 of 4000 MB (55% free): one host is enough
    assert power(solution, "on") == ["off2"]
    assert power(solution, "off") == []
    assert solution.indicator("hosts_powered_on") == 1
    assert solution.indicator("free_capacity_percent_after") >= 20


def test_powers_on_to_reach_min_free_hosts():
    snap = ClusterSnapshot.from_records(
        [host("b1"), powered_off("off1", zone="az1"), powered_off("off2", zone="az2")],
        [vm("v1", "b1", 1, 100)])
    solution = strategy.run(snap, {"free_capacity_percent": 0, "min_free_hosts": 2})
    assert sorted(power(solution, "on")) == ["off1", "off2"]
    assert not solution.notes


def test_short_headroom_without_candidates_is_a_note():
    snap = ClusterSnapshot.from_records([host("b1")], [vm("v1", "b1", 10, 1000)])
    solution = strategy.run(snap, {"free_capacity_percent": 20, "min_free_hosts": 1})
    assert solution.actions == ()
    assert "headroom still short" in solution.notes[0]


def test_kept_hosts_are_spread_over_zones():
    snap = ClusterSnapshot.from_records(
        [host("busy", zone="az1"), host("a1", zone="az1", memory_mb=4000),
         host("a2", zone="az1", memory_mb=3000), host("b1", zone="az2")],
        [vm("v", "busy", 1, 100)])
    solution = strategy.run(snap, {"free_capacity_percent": 0, "min_free_hosts": 2})
    # the largest of az1 and the only host of az2 stay on, not the two largest
    assert power(solution, "off") == ["a2"]


def test_empty_cluster_gives_empty_solution():
    solution = strategy.run(ClusterSnapshot.from_records([], []))
    assert solution.actions == () and solution.notes == ()


def test_bad_parameter_is_one_clear_error():
    snap = ClusterSnapshot.from_records([host("h")], [])
    with pytest.raises(ParameterError, match="free_capacity_percent.*at most 100"):
        strategy.run(snap, {"free_capacity_percent": 150})


def test_docstring_has_every_section():
    assert set(strategy.sections()) >= {"Optimizes", "Metrics", "Parameters", "Limits"}


def test_after_an_evacuation_the_referee_accepts_the_plan():
    from optimizer.models.simulated import SimulationSpec, simulate_cluster
    from optimizer.strategies.zone_migration import strategy as zone_migration

    from tests.referee import referee

    cluster = simulate_cluster(SimulationSpec(hosts=30, fill=0.2, seed=4))
    moved = referee(cluster, zone_migration.run(
        cluster, {"source_zone": "az1", "disable_sources": False}))
    instances = [cluster.instance_record(i) for i in range(cluster.instance_count)]
    for inst in instances:
        inst.host = moved.host_of[inst.uuid]
    snap = ClusterSnapshot.from_records(
        [cluster.host_record(h) for h in range(cluster.host_count)], instances,
        cluster.group_records())
    assert (snap.instances_per_host == 0).sum() == 10

    solution = strategy.run(snap, {"free_capacity_percent": 50, "min_free_hosts": 2})
    verdict = referee(snap, solution)
    assert verdict.ok, verdict.violations[:3]
    assert 0 < solution.indicator("hosts_powered_off") <= 8
    assert solution.indicator("free_capacity_percent_after") >= 50
