"""The power-aware consolidation round (detectors, MMT, PABFD) and its strategy plugin."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from optimizer.strategies.power_aware_consolidation import (
    ConsolidationPolicy,
    RoundInput,
    consolidation_policy,
    iqr,
    lr_weights,
    mad,
    plan_round,
    strategy,
)

from optimizer.replay.policies import RECOMMENDED as PARAMETERS
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
    assert {i.name for i in solution.indicators} == {
        "overloaded_hosts", "planned_migrations", "compute_nodes_count",
        "released_compute_nodes_count", "instance_migrations_count", "migrated_memory_gb"}
    placed = {f"v{k}": f"h{k % 4 + 1}" for k in range(6)}
    placed.update({m.instance: m.destination for m in solution.migrations})
    after = set(placed.values())
    assert solution.indicator("compute_nodes_count") == 4
    assert solution.indicator("released_compute_nodes_count") == 4 - len(after)
    assert solution.indicator("instance_migrations_count") == len(solution.migrations)


# ------------------------------------------- the recommended policy (README, automatic mode)

G5 = [93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135]
RECOMMENDED = ConsolidationPolicy(detector="lr", safety=1.2, selection="mmt",
                                  charge_switch_on=True, underload_below=0.4,
                                  underload_safety=1.6)
CLOUDSIM_LR = ConsolidationPolicy(detector="lr", safety=1.2, selection="mmt")


def steady_input(host_util, vms, models=None):
    """:func:`round_input` with 30 samples of history at each VM's current load."""
    history = np.repeat(np.array([v[1] / 1000 for v in vms])[:, None], 30, axis=1)
    inp = round_input(host_util, vms, history=history)
    if models is not None:
        inp.host_model = np.asarray(models, dtype=np.intp)
        inp.power_tables = np.array([G4, G5], float)
    return inp


def test_recommended_relieves_an_overloaded_host_onto_a_running_one():
    # host 0 (G4) at 95 %: LR predicts 95 %, x 1.2 >= 1. MMT picks vm1 (450, less RAM).
    # CloudSim prices the empty G4 (host 2) at its rise above idle, 14.75 W, under the
    # running G5's 22 W and wakes it; charged its idle power too, host 2 costs 100.75 W.
    inp = steady_input([0.95, 0.3, 0.0], [(0, 500, 1000), (0, 450, 500), (1, 300, 800)],
                       models=[0, 1, 0])
    assert plan_round(inp, CLOUDSIM_LR).migrations == [(1, 2)]
    plan = plan_round(inp, RECOMMENDED)
    assert plan.overloaded == [0]
    assert plan.migrations == [(1, 1)]


def test_recommended_refuses_a_destination_without_headroom():
    # emptying host 0 puts host 1 at 65 %: LR 1.2 accepts (78 %), safety 1.6 does not (104 %)
    inp = steady_input([0.15, 0.5], [(0, 150, 500), (1, 500, 500)])
    assert plan_round(inp, CLOUDSIM_LR).migrations == [(0, 1)]
    assert plan_round(inp, RECOMMENDED).migrations == []


def test_recommended_empties_a_light_host_when_its_vms_fit_with_margin():
    # host 1 ends at 55 %, 88 % under safety 1.6: host 0 (15 % < 40 %) is emptied
    inp = steady_input([0.15, 0.4], [(0, 150, 500), (1, 400, 500)])
    plan = plan_round(inp, RECOMMENDED)
    assert plan.migrations == [(0, 1)] and plan.underloaded_emptied == 1
    # a host at or above underload_below is left as it is
    inp = steady_input([0.3, 0.3], [(0, 300, 500), (1, 300, 500)])
    assert plan_round(inp, RECOMMENDED).migrations == [(0, 1)]
    higher = dataclasses.replace(RECOMMENDED, underload_below=0.3)
    assert plan_round(inp, higher).migrations == []


def test_plugin_takes_the_recommended_parameters():
    assert consolidation_policy(strategy.validate(PARAMETERS)) == RECOMMENDED
    # h1 at 95 % of its 4 vCPUs sheds one instance onto the running h2, not the empty h3
    b = ClusterBuilder("busy").hosts(3, vcpus=4, memory_gb=64)
    for name, host, util in (("v1", "h1", 0.95), ("v2", "h1", 0.95), ("v3", "h2", 0.3)):
        b.vm(name, on=host, vcpus=2, memory_gb=4, cpu_util=util, series=[util] * 12)
    snap = b.build()
    solution = strategy.run(snap, PARAMETERS)
    assert [(m.instance, m.source, m.destination) for m in solution.migrations] == [
        ("v1", "h1", "h2")]
    assert referee(snap, solution).ok
