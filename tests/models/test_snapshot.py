"""ClusterSnapshot: derived values, read-only arrays, Placement working copies."""
from __future__ import annotations

import numpy as np
import pytest
from optimizer.models.errors import ScenarioError
from optimizer.models.scenario import load_scenario

from tests.builders import ClusterBuilder


@pytest.fixture
def tiny(data_dir):
    return load_scenario(data_dir / "tiny.json")


def test_allocatable_subtracts_reserves_then_applies_ratios(tiny):
    h1 = tiny.host_id("h1")
    # (16 - 2) * 2.0 vcpus, (65536 - 4096) * 1.5 MB, (500 - 20) * 1.0 GB
    assert tiny.allocatable[h1].tolist() == [28.0, 92160.0, 480.0]
    h3 = tiny.host_id("h3")
    assert tiny.allocatable[h3].tolist() == [128.0, 131072.0, 1000.0]  # default ratios 4/1/1


def test_allocated_sums_flavors_per_host(tiny):
    assert tiny.allocated[tiny.host_id("h1")].tolist() == [10.0, 20480.0, 200.0]
    assert tiny.allocated[tiny.host_id("h2")].tolist() == [0.0, 0.0, 0.0]
    assert tiny.instances_per_host.tolist() == [3, 0, 1]


def test_host_load_is_demand_over_cores_left_after_reserve(tiny):
    load = tiny.host_load()
    # h1: a 2*0.5 + c 0 + d 4*0.75 = 4 cores busy of 16 - 2
    assert load[tiny.host_id("h1")] == pytest.approx(4 / 14)
    assert load[tiny.host_id("h3")] == pytest.approx(0.5 / 32)
    assert load[tiny.host_id("h2")] == 0


def test_can_receive_needs_up_and_enabled():
    snap = (ClusterBuilder().host("up").host("off", state="down")
            .host("disabled", status="disabled").build())
    assert snap.can_receive.tolist() == [True, False, False]


def test_inst_active_follows_state(tiny):
    assert tiny.inst_active.tolist() == [True, True, False, True]


@pytest.mark.parametrize("name", ["host_size", "allocatable", "allocated", "inst_host",
                                  "inst_size", "inst_cpu_util", "can_receive", "inst_group"])
def test_arrays_are_read_only(tiny, name):
    array = getattr(tiny, name)
    with pytest.raises(ValueError):
        array[0] = 0


def test_cpu_demand_sizings_read_the_series(tiny):
    a = tiny.instance_id("a")
    assert tiny.cpu_demand("mean")[a] == pytest.approx(2 * 0.5)
    assert tiny.cpu_demand("max")[a] == pytest.approx(2 * 0.6)
    assert tiny.cpu_demand("p95")[a] == pytest.approx(2 * np.percentile([0.4, 0.5, 0.6], 95))
    # without a series every sizing falls back to cpu_util
    d = tiny.instance_id("d")
    assert tiny.cpu_demand("p95")[d] == tiny.cpu_demand("max")[d] == pytest.approx(3.0)


def test_unknown_cpu_sizing_is_a_user_error(tiny):
    with pytest.raises(ScenarioError, match="p42"):
        tiny.cpu_demand("p42")


def test_unknown_names_are_clear_errors(tiny):
    with pytest.raises(ScenarioError, match="'nope'"):
        tiny.host_id("nope")
    with pytest.raises(ScenarioError, match="'zz'"):
        tiny.instance_id("zz")


def test_placement_moves_never_change_the_snapshot(tiny):
    before = (tiny.inst_host.copy(), tiny.allocated.copy(), tiny.host_load().copy())
    work = tiny.placement()
    work.move(tiny.instance_id("b"), tiny.host_id("h1"))
    assert work.inst_host[tiny.instance_id("b")] == tiny.host_id("h1")
    assert tiny.inst_host.tolist() == before[0].tolist()
    assert np.array_equal(tiny.allocated, before[1])
    assert np.array_equal(tiny.host_load(), before[2])


def test_placement_copies_are_independent(tiny):
    first = tiny.placement()
    second = first.copy()
    second.move(tiny.instance_id("b"), tiny.host_id("h1"))
    assert first.inst_host[tiny.instance_id("b")] == tiny.host_id("h3")
    assert first.allocated[tiny.host_id("h1")].tolist() == [10.0, 20480.0, 200.0]
    assert second.allocated[tiny.host_id("h1")].tolist() == [12.0, 24576.0, 240.0]


def test_placement_keeps_allocation_and_demand_in_step():
    snap = (ClusterBuilder().host("h1").host("h2")
            .vm("v", on="h1", vcpus=4, memory_gb=8, cpu_util=0.5).build())
    work = snap.placement()
    work.move(0, 1)
    assert work.allocated[1].tolist() == [4.0, 8192.0, 40.0]
    assert work.allocated[0].tolist() == [0.0, 0.0, 0.0]
    assert work.load[1] == pytest.approx(2 / 32)
    assert work.count.tolist() == [0, 1]
    assert work.active_hosts() == 1


def test_fits_checks_capacity_state_and_anti_affinity():
    snap = (ClusterBuilder()
            .host("h1", vcpus=4, cpu_ratio=1.0).host("small", vcpus=2, cpu_ratio=1.0)
            .host("peer", vcpus=8).host("off", status="disabled").host("free", vcpus=8)
            .vm("v", on="h1", vcpus=4, group="g").vm("w", on="peer", vcpus=1, group="g")
            .group("g", "anti-affinity").build())
    work = snap.placement()
    v = snap.instance_id("v")
    assert not work.fits(v, snap.host_id("small"))   # 4 vcpus > 2 allocatable
    assert not work.fits(v, snap.host_id("peer"))    # anti-affinity with w
    assert not work.fits(v, snap.host_id("off"))     # disabled
    assert not work.fits(v, snap.host_id("h1"))      # its own host
    assert work.fits(v, snap.host_id("free"))
    assert work.fitting_hosts(v).tolist() == [False, False, False, False, True]


def test_fits_honours_max_load():
    snap = (ClusterBuilder().host("h1", vcpus=10).host("h2", vcpus=10)
            .vm("busy", on="h2", vcpus=6, cpu_util=1.0)
            .vm("v", on="h1", vcpus=4, cpu_util=1.0).build())
    work = snap.placement()
    assert work.fits(1, 1)                    # allocation fits
    assert not work.fits(1, 1, max_load=0.9)  # but 10 of 10 cores busy > 0.9
    assert work.fits(1, 1, max_load=1.0)
