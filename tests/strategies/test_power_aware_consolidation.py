"""The power-aware consolidation round (detectors, MMT, PABFD) and its strategy plugin."""
from __future__ import annotations

import numpy as np
import pytest
from optimizer.strategies.power_aware_consolidation import (
    ConsolidationPolicy,
    RoundInput,
    iqr,
    lr_weights,
    mad,
    plan_round,
    strategy,
)

from tests.builders import ClusterBuilder
from tests.referee import referee

G4 = [86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117]


def round_input(host_util, vms, hosts=None, history=None):
    """Hosts of capacity 1000 (one core of 1000), VMs as (host, requested, ram)."""
    nh = len(host_util) if hosts is None else hosts
    n = len(vms)
    hist = np.zeros((n, 30)) if history is None else history
    return RoundInput(
        host_capacity=np.full(nh, 1000.0), host_core=np.full(nh, 1000.0),
        host_util=np.asarray(host_util, float), host_model=np.zeros(nh, dtype=np.intp),
        power_tables=np.array([G4], float),
        vm_host=np.array([v[0] for v in vms]), vm_requested=np.array([v[1] for v in vms], float),
        vm_capacity=np.full(n, 1000.0), vm_ram_mb=np.array([v[2] for v in vms], float),
        vm_history=hist, vm_history_len=np.full(n, 0 if history is None else hist.shape[1]),
        vm_order=np.arange(n))


def test_cloudsim_quartiles_and_mad():
    assert iqr(np.arange(1, 13, dtype=float)) == 7.0   # sorted[9] - sorted[2]
    assert mad(np.array([1.0, 2, 3, 4, 100])) == 1.0


@pytest.mark.parametrize("weighted", [False, True])
def test_lr_weights_predict_the_fitted_line(weighted):
    y = np.random.default_rng(1).random(10)
    x = np.arange(1, 11)
    w = np.ones(10) if not weighted else (1 - ((9 - np.arange(10)) / 9) ** 3) ** 3
    slope, intercept = np.polyfit(x, y, 1, w=np.sqrt(w))
    assert lr_weights(10, 1, weighted) @ y == pytest.approx(intercept + slope * 11)


def test_overloaded_host_sheds_the_smallest_vm_where_power_rises_least():
    # host 0 at 90 % > THR 0.8; MMT picks vm1 (less RAM); host 2 (30 %) costs 12 W,
    # switching on host 1 costs 13.5 W; then host 2 cannot be emptied (nowhere to go)
    inp = round_input([0.9, 0.0, 0.3], [(0, 500, 1000), (0, 400, 500), (2, 300, 800)])
    plan = plan_round(inp, ConsolidationPolicy(detector="thr", safety=0.8))
    assert plan.overloaded == [0]
    assert plan.migrations == [(1, 2)]


def test_least_used_host_is_emptied_onto_an_active_one():
    inp = round_input([0.2, 0.5, 0.0], [(0, 200, 500), (1, 500, 500)])
    plan = plan_round(inp, ConsolidationPolicy(detector="thr", safety=0.8))
    assert plan.migrations == [(0, 1)]
    # all or nothing: if the VM does not fit under the threshold, nothing moves
    inp = round_input([0.4, 0.5, 0.0], [(0, 400, 500), (1, 500, 500)])
    assert plan_round(inp, ConsolidationPolicy(detector="thr", safety=0.8)).migrations == []


def test_lr_flags_a_rising_host_before_it_is_full():
    # newest first: 4 points a round up to 80 %; the line reaches 84 % next round
    rising = np.clip(0.8 - 0.04 * np.arange(30), 0.01, None)[None, :]
    inp = round_input([0.7, 0.1], [(0, 700, 500), (1, 100, 500)], history=np.vstack(
        [rising, np.full((1, 30), 0.1)]))
    lr = plan_round(inp, ConsolidationPolicy(detector="lr", safety=1.2))
    thr = plan_round(inp, ConsolidationPolicy(detector="thr", safety=0.8))
    assert lr.overloaded == [0] and thr.overloaded == []


def test_plugin_consolidates_a_light_cluster_within_the_rules():
    b = ClusterBuilder("light").hosts(4, vcpus=16, memory_gb=64)
    for k in range(6):
        b.vm(f"v{k}", on=f"h{k % 4 + 1}", vcpus=2, memory_gb=4, cpu_util=0.3)
    snap = b.build()
    solution = strategy.run(snap, {"detector": "thr", "safety": 0.8})
    assert solution.migrations, "idle hosts should be emptied"
    assert referee(snap, solution).ok
    assert {i.name for i in solution.indicators} == {"overloaded_hosts", "planned_migrations"}
