"""zone_migration: sources emptied, capacity and groups kept at every step, clear errors."""
from __future__ import annotations

import numpy as np
import pytest
from optimizer.models.records import Host, Instance, ServerGroup
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.parameters import ParameterError
from optimizer.strategies.solution import ChangeServiceState, Migrate
from optimizer.strategies.zone_migration import in_waves, strategy


def host(name: str, zone: str = "az1", vcpus: int = 8, memory_mb: int = 8192,
         **kw) -> Host:
    return Host(name, vcpus=vcpus, memory_mb=memory_mb, disk_gb=1000,
                cpu_allocation_ratio=1.0, zone=zone, **kw)


def vm(uuid: str, on: str, vcpus: int = 1, memory_mb: int = 1024, **kw) -> Instance:
    return Instance(uuid, host=on, vcpus=vcpus, memory_mb=memory_mb, disk_gb=10, **kw)


def replay(snap: ClusterSnapshot, solution) -> np.ndarray:
    """Apply the plan one action at a time, asserting each migration is legal then."""
    placement = snap.placement()
    disabled: set[str] = set()
    for action in solution.actions:
        if isinstance(action, ChangeServiceState):
            disabled.add(action.host)
        elif isinstance(action, Migrate):
            i, h = snap.instance_id(action.instance), snap.host_id(action.destination)
            assert snap.host_names[placement.inst_host[i]] == action.source
            assert action.destination not in disabled
            assert placement.fits(i, h), f"{action} exceeds capacity or anti-affinity"
            placement.move(i, h)
    return placement.inst_host


def two_zone_cluster() -> ClusterSnapshot:
    hosts = [host("a1"), host("a2"), host("b1", zone="az2"), host("b2", zone="az2"),
             host("b3", zone="az2")]
    vms = [vm("x1", "a1", 2, 2048), vm("x2", "a1", 1, 4096), vm("x3", "a2", 4, 1024),
           vm("x4", "a2", 1, 512, state="shutoff"), vm("y1", "b1", 4, 6144)]
    return ClusterSnapshot.from_records(hosts, vms)


def test_zone_evacuation_empties_exactly_the_sources():
    snap = two_zone_cluster()
    solution = strategy.run(snap, {"source_zone": "az1"})
    final = replay(snap, solution)
    names = [snap.host_names[h] for h in final]
    assert names[-1] == "b1"   # y1 did not move
    assert all(n in ("b1", "b2", "b3") for n in names)
    assert len(solution.migrations) == 4
    assert {m.migration_type for m in solution.migrations if m.instance == "x4"} == {"cold"}
    assert solution.indicator("unplaceable_instances_count") == 0


def test_sources_are_disabled_first():
    snap = two_zone_cluster()
    solution = strategy.run(snap, {"source_hosts": "a1,a2"})
    assert [(a.host, a.state) for a in solution.actions[:2]] == [("a1", "disabled"),
                                                                  ("a2", "disabled")]
    assert all(isinstance(a, Migrate) for a in solution.actions[2:])
    solution = strategy.run(snap, {"source_hosts": "a1,a2", "disable_sources": False})
    assert all(isinstance(a, Migrate) for a in solution.actions)


def test_destination_zone_and_hosts_limit_where_instances_go():
    snap = two_zone_cluster()
    solution = strategy.run(snap, {"source_hosts": ["a1"], "destination_hosts": ["b3"]})
    assert {m.destination for m in solution.migrations} == {"b3"}
    solution = strategy.run(snap, {"source_hosts": ["a1"], "destination_zone": "az1"})
    assert {m.destination for m in solution.migrations} == {"a2"}


def test_aggregate_source():
    hosts = [host("h1", aggregates=("gpu",)), host("h2", aggregates=("gpu", "ssd")),
             host("h3")]
    snap = ClusterSnapshot.from_records(hosts, [vm("v1", "h1"), vm("v2", "h2")])
    solution = strategy.run(snap, {"source_aggregate": "gpu"})
    assert {m.destination for m in solution.migrations} == {"h3"}


def test_priority_orders_migrations_within_a_source():
    snap = ClusterSnapshot.from_records(
        [host("src", vcpus=16, memory_mb=16384), host("dst", vcpus=16, memory_mb=16384)],
        [vm("old", "src", 1, 512), vm("mid", "src", 4, 1024), vm("big", "src", 2, 4096)])
    order = {p: [m.instance for m in strategy.run(
        snap, {"source_hosts": "src", "priority": p}).migrations]
        for p in ("memory", "vcpus", "age")}
    assert order == {"memory": ["big", "mid", "old"], "vcpus": ["mid", "big", "old"],
                     "age": ["old", "mid", "big"]}


def test_waves_spread_over_sources_and_respect_per_host():
    hosts = [host(f"s{k}") for k in range(3)] + [host("d1", vcpus=64, memory_mb=65536)]
    vms = [vm(f"v{k}{j}", f"s{k}") for k in range(3) for j in range(4)]
    snap = ClusterSnapshot.from_records(hosts, vms)
    solution = strategy.run(snap, {"source_hosts": "s0,s1,s2", "parallel_per_host": 1,
                                   "parallel_total": 2, "disable_sources": False})
    sources = [m.source for m in solution.migrations]
    assert sources[:3] == ["s0", "s1", "s2"]
    for start in range(0, len(sources), 2):   # each wave of 2 uses 2 different sources
        wave = sources[start:start + 2]
        assert len(set(wave)) == len(wave)
    assert solution.indicator("migration_waves") == 6
    replay(snap, solution)


def test_in_waves_caps_per_host_and_total():
    moves = [Migrate(instance=f"{s}{k}", source=s, destination="d")
             for s in "ab" for k in range(3)]
    ordered, waves = in_waves(moves, per_host=2, total=3)
    assert [m.instance for m in ordered] == ["a0", "b0", "a1", "b1", "a2", "b2"]
    assert waves == 2


def test_capacity_and_anti_affinity_hold_at_every_step():
    hosts = [host("src", vcpus=16, memory_mb=16384), host("d1", vcpus=4, memory_mb=4096),
             host("d2", vcpus=4, memory_mb=4096), host("d3", vcpus=4, memory_mb=4096)]
    vms = [vm("w1", "src", 1, 1024, server_group="web"),
           vm("w2", "src", 1, 1024, server_group="web"),
           vm("w3", "d1", 1, 1024, server_group="web"),
           vm("big1", "src", 2, 3072), vm("big2", "src", 2, 4096)]
    snap = ClusterSnapshot.from_records(hosts, vms, [ServerGroup("web", "anti-affinity")])
    solution = strategy.run(snap, {"source_hosts": "src"})
    final = replay(snap, solution)
    # big2 fills d2, big1 fills d1 beside w3, w1 takes d3: w2 has no host without
    # a web member and with room, so it stays and is named in the notes
    web = [snap.host_names[final[snap.instance_id(u)]] for u in ("w1", "w2", "w3")]
    assert web == ["d3", "src", "d1"]
    assert solution.indicator("unplaceable_instances_count") == 1
    assert any(n.startswith("instance w2 on src") and "anti-affinity group web" in n
               for n in solution.notes)


def test_affinity_group_moves_together():
    hosts = [host("src"), host("d1", vcpus=2, memory_mb=2048), host("d2")]
    vms = [vm("p1", "src", 1, 1024, server_group="pair"),
           vm("p2", "src", 1, 1024, server_group="pair"), vm("solo", "src", 1, 1024)]
    snap = ClusterSnapshot.from_records(hosts, vms, [ServerGroup("pair", "affinity")])
    solution = strategy.run(snap, {"source_hosts": "src", "priority": "age"})
    final = replay(snap, solution)
    assert final[0] == final[1]
    assert set(final) <= {1, 2}


def test_unplaceable_instances_are_notes_not_errors():
    snap = ClusterSnapshot.from_records([host("src"), host("dst", vcpus=1, memory_mb=512)],
                                        [vm("huge", "src", 8, 8192)])
    solution = strategy.run(snap, {"source_hosts": "src"})
    assert solution.migrations == ()
    assert any(n.startswith("instance huge on src") for n in solution.notes)


def test_down_destination_is_skipped_with_a_note():
    snap = ClusterSnapshot.from_records(
        [host("src"), host("down", state="down"), host("ok")], [vm("v", "src")])
    solution = strategy.run(snap, {"source_hosts": "src", "destination_hosts": "down,ok"})
    assert [m.destination for m in solution.migrations] == ["ok"]
    assert any("down is not up and enabled" in n for n in solution.notes)


@pytest.mark.parametrize("values, message", [
    ({"source_hosts": "a1,nope"}, "unknown host 'nope'"),
    ({"source_zone": "az9"}, "no host is in zone 'az9'"),
    ({"source_aggregate": "gpu"}, "no host is in aggregate 'gpu'"),
    ({"source_zone": "az1", "destination_hosts": "zz"}, "destination_hosts.*unknown host 'zz'"),
    ({"source_zone": "az1", "destination_zone": "az7"}, "no host is in zone 'az7'"),
    ({"source_hosts": "a1", "destination_hosts": "a1"}, "'a1' is also a source"),
    ({}, "no source given"),
    ({"source_zone": "az1", "priority": "fast"}, "priority.*must be one of"),
])
def test_bad_parameters_give_one_clear_error(values, message):
    with pytest.raises(ParameterError, match=message):
        strategy.run(two_zone_cluster(), values)


def test_docstring_has_every_section():
    assert set(strategy.sections()) >= {"Optimizes", "Metrics", "Parameters", "Limits"}


def test_simulated_zone_evacuation_passes_the_referee():
    from optimizer.models.simulated import SimulationSpec, simulate_cluster

    from tests.referee import referee

    snap = simulate_cluster(SimulationSpec(hosts=30, fill=0.4, server_groups=6,
                                           stopped_instances=5, seed=2))
    solution = strategy.run(snap, {"source_zone": "az1"})
    verdict = referee(snap, solution)
    assert verdict.ok, verdict.violations[:3]
    in_az1 = [snap.host_zone[h] == "az1" for h in verdict.placement]
    stayed = solution.indicator("unplaceable_instances_count")
    assert sum(in_az1) == stayed
    assert verdict.enabled[[z == "az1" for z in snap.host_zone]].sum() == 0


def test_affinity_member_joins_its_group_off_the_sources():
    # "tight" would be the best fit, but the group lives on "mate"
    hosts = [host("src"), host("tight", vcpus=2, memory_mb=2048), host("mate")]
    vms = [vm("m1", "mate", 1, 1024, server_group="pair"),
           vm("m2", "src", 1, 1024, server_group="pair")]
    snap = ClusterSnapshot.from_records(hosts, vms, [ServerGroup("pair", "affinity")])
    solution = strategy.run(snap, {"source_hosts": "src"})
    assert [m.destination for m in solution.migrations] == ["mate"]
