"""The K-failure readiness check on small clusters whose answer is known by hand."""
from __future__ import annotations

import pytest
from optimizer.models.records import Host, Instance
from optimizer.models.simulated import SimulationSpec, simulate_cluster
from optimizer.models.snapshot import ClusterSnapshot

from optimizer.readiness.check import ReadinessError, check_readiness
from tests.builders import ClusterBuilder


def three_hosts(**third) -> ClusterBuilder:
    """h1 and h2 hold 8 GB each; h3 is empty unless told otherwise; hosts have 16 GB."""
    b = ClusterBuilder()
    b.host("h1", memory_gb=16).host("h2", memory_gb=16).host("h3", memory_gb=16, **third)
    return b.vm("a", on="h1", memory_gb=8).vm("b", on="h2", memory_gb=8)


def test_every_single_host_failure_absorbed():
    result = check_readiness(three_hosts().build())
    assert result.ok
    assert result.search == "exact: all 2 single-host failures"
    assert result.failing_sets == 0


def test_full_cluster_names_worst_host_and_stranded_instances():
    snap = (ClusterBuilder().host("h1", memory_gb=16).host("h2", memory_gb=16)
            .vm("a", on="h1", memory_gb=12).vm("b", on="h2", memory_gb=6)
            .vm("c", on="h2", memory_gb=6).build())
    result = check_readiness(snap)
    assert not result.ok
    assert result.failing_sets == 2
    # h1 has 4 GB free: neither of h2's 6 GB instances fits
    assert result.worst.label == "h2"
    assert set(result.worst.stranded) == {"b", "c"}


def test_reserves_and_ratios_bound_the_room():
    def cluster(**h2) -> ClusterSnapshot:
        return (ClusterBuilder().host("h1", memory_gb=16)
                .host("h2", memory_gb=16, reserved_memory_gb=10, **h2)
                .vm("a", on="h1", memory_gb=8).build())

    # h2 keeps 10 GB back: 6 GB of room for an 8 GB instance
    result = check_readiness(cluster())
    assert not result.ok
    assert result.worst.stranded == ("a",)
    assert check_readiness(cluster(ram_ratio=2.0)).ok  # (16 - 10) * 2 = 12 GB


def test_down_and_disabled_hosts_never_receive():
    def cluster(**h3) -> ClusterSnapshot:
        return (ClusterBuilder().hosts(2, memory_gb=16).host("h3", memory_gb=16, **h3)
                .vm("a", on="h1", memory_gb=12).vm("b", on="h2", memory_gb=12).build())

    assert check_readiness(cluster()).ok
    assert not check_readiness(cluster(status="disabled")).ok
    assert not check_readiness(cluster(state="down")).ok


def test_empty_host_counted_as_kept():
    snap = (ClusterBuilder().host("h1", memory_gb=16).host("h2", memory_gb=16)
            .vm("a", on="h1", memory_gb=16).build())
    result = check_readiness(snap)
    assert result.ok
    assert result.worst.hosts_to_keep == ("h2",)


def test_powered_off_host_would_have_to_be_woken():
    snap = (ClusterBuilder().host("h1", memory_gb=16)
            .host("h2", memory_gb=16, state="down", status="disabled",
                  disabled_reason="powered off by saving_energy")
            .vm("a", on="h1", memory_gb=16).build())
    result = check_readiness(snap)
    assert not result.ok
    assert result.worst.stranded == ()
    assert result.worst.hosts_to_wake == ("h2",)


def test_anti_affinity_forbids_the_host_holding_another_member():
    snap = (three_hosts().vm("c", on="h3", memory_gb=2, group="g")
            .vm("d", on="h1", memory_gb=2, group="g").group("g", "anti-affinity").build())
    # h1 fails: d may not join c on h3, and h2 has room (8 GB) for a and d together
    assert check_readiness(snap).ok
    tight = (ClusterBuilder().host("h1", memory_gb=16).host("h2", memory_gb=16)
             .vm("c", on="h1", memory_gb=2, group="g").vm("d", on="h2", memory_gb=2, group="g")
             .group("g", "anti-affinity").build())
    result = check_readiness(tight)
    assert not result.ok
    assert result.failing_sets == 2


def test_affinity_members_move_together():
    # a and b (8 GB each) must land on one host: h2 and h3 have 10 GB free each
    snap = (ClusterBuilder().host("h1", memory_gb=16).host("h2", memory_gb=16)
            .host("h3", memory_gb=16)
            .vm("a", on="h1", memory_gb=8, group="g").vm("b", on="h1", memory_gb=8, group="g")
            .vm("c", on="h2", memory_gb=6).vm("d", on="h3", memory_gb=6)
            .group("g", "affinity").build())
    result = check_readiness(snap)
    assert not result.ok
    assert result.worst.label == "h1"
    assert set(result.worst.stranded) == {"a", "b"}


def test_instances_stay_in_their_zone():
    snap = (ClusterBuilder().host("h1", memory_gb=16, zone="az1")
            .host("h2", memory_gb=16, zone="az1").host("h3", memory_gb=16, zone="az2")
            .vm("a", on="h1", memory_gb=12).vm("b", on="h2", memory_gb=12).build())
    result = check_readiness(snap)
    assert not result.ok  # h3 has room, but in another zone
    assert result.worst.hosts_to_keep == ()


def test_by_zone_rebuilds_in_other_zones():
    snap = (ClusterBuilder().host("h1", memory_gb=32, zone="az1")
            .host("h2", memory_gb=16, zone="az2").host("h3", memory_gb=16, zone="az2")
            .vm("a", on="h1", memory_gb=12).vm("b", on="h2", memory_gb=6).build())
    result = check_readiness(snap, by="zone")
    assert result.search == "exact: all 2 zone failures"
    assert result.ok  # a leaves its failed zone: h2 has 10 GB free, so empty h3 takes it
    assert result.worst.label == "az1"
    assert result.worst.hosts_to_keep == ("h3",)


def test_by_aggregate():
    hosts = [Host(f"h{k}", vcpus=32, memory_mb=16384, disk_gb=1000,
                  aggregates=(("fast",) if k < 3 else ("slow",))) for k in range(1, 5)]
    instances = [Instance(f"v{k}", host=f"h{k}", vcpus=2, memory_mb=12288, disk_gb=10)
                 for k in range(1, 4)]
    snap = ClusterSnapshot.from_records(hosts, instances)
    result = check_readiness(snap, by="aggregate")
    assert result.sets_tried == 2
    assert not result.ok
    assert result.worst.label == "fast"
    assert len(result.worst.stranded) == 1  # only h4 has room, for one of two


def test_bounded_search_for_two_failures_finds_the_pair():
    snap = (three_hosts().vm("c", on="h3", memory_gb=4).build())
    assert check_readiness(snap, 1).ok
    result = check_readiness(snap, 2)
    assert result.search.startswith("bounded:")
    assert not result.ok
    assert len(result.worst.failed) == 2


def test_simulated_cluster_filled_too_far_fails_lightly_filled_passes():
    light = simulate_cluster(SimulationSpec(hosts=60, fill=0.5, server_groups=8))
    full = simulate_cluster(SimulationSpec(hosts=60, fill=0.99, server_groups=8))
    assert check_readiness(light).ok
    heavy = check_readiness(full)
    assert not heavy.ok
    assert heavy.worst.stranded


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"failures": 0}, "failures must be a whole number from 1"),
    ({"failures": True}, "failures must be a whole number"),
    ({"failures": 4}, "exceeds the 3 hosts"),
    ({"by": "rack"}, "by must be one of host, zone, aggregate, got 'rack'"),
    ({"by": "zone", "failures": 2}, "applies to --by host only"),
])
def test_bad_parameters_are_refused(kwargs, message):
    with pytest.raises(ReadinessError, match=message):
        check_readiness(three_hosts().build(), **kwargs)
