"""workload_stabilization: weighted multi-metric balancing, Watcher's parameters."""
from __future__ import annotations

import numpy as np
import pytest
from optimizer.strategies.base import DOC_SECTIONS
from optimizer.strategies.parameters import ParameterError
from optimizer.strategies.workload_stabilization import strategy

from tests.builders import ClusterBuilder
from tests.referee import referee


def cpu_and_ram_skewed() -> ClusterBuilder:
    """h1 busy in CPU and memory, h2 and h3 quiet in both."""
    b = ClusterBuilder().hosts(3, vcpus=32, memory_gb=64)
    for k in range(12):
        b.vm(f"h1-vm{k}", on="h1", vcpus=2, memory_gb=4, cpu_util=0.8)
    for h in ("h2", "h3"):
        b.vm(f"{h}-vm0", on=h, vcpus=2, memory_gb=4, cpu_util=0.8)
    return b


def test_every_metric_ends_under_its_threshold():
    snap = cpu_and_ram_skewed().build()
    solution = strategy.run(snap, {"thresholds": "cpu=0.05,ram=0.05"})
    verdict = referee(snap, solution)
    assert verdict.ok, verdict.violations
    assert solution.indicator("cpu_load_stdev_before") > 0.2
    assert solution.indicator("cpu_load_stdev_after") <= 0.05
    assert solution.indicator("ram_load_stdev_after") <= 0.05
    active = np.bincount(verdict.placement, minlength=snap.host_count) > 0
    assert verdict.host_load[active].std() <= 0.05


def test_weights_decide_which_metric_a_move_serves():
    # CPU sits on h1 in small-memory instances, memory on h2 in idle big ones:
    # with RAM weighted out, only CPU-heavy instances move
    b = ClusterBuilder().hosts(3, vcpus=32, memory_gb=64)
    for k in range(8):
        b.vm(f"cpu{k}", on="h1", vcpus=4, memory_gb=1, cpu_util=0.8)
    for k in range(8):
        b.vm(f"mem{k}", on="h2", vcpus=1, memory_gb=7, cpu_util=0.0)
    b.vm("q", on="h3", vcpus=1, memory_gb=1, cpu_util=0.1)
    snap = b.build()
    cpu_only = strategy.run(snap, {"weights": "cpu=1,ram=0", "thresholds": "cpu=0.1,ram=1"})
    assert cpu_only.migrations
    assert all(m.instance.startswith("cpu") for m in cpu_only.migrations)
    ram_only = strategy.run(snap, {"weights": "cpu=0,ram=1", "thresholds": "cpu=1,ram=0.1",
                                   "max_cpu_load": 10})
    assert ram_only.migrations
    assert any(m.instance.startswith("mem") for m in ram_only.migrations)
    assert referee(snap, cpu_only).ok and referee(snap, ram_only).ok


def test_balanced_cluster_gives_no_migrations():
    b = ClusterBuilder().hosts(2)
    b.vm("a", on="h1", cpu_util=0.5).vm("b", on="h2", cpu_util=0.5)
    assert strategy.run(b.build(), {}).migrations == ()


def test_same_seed_same_plan():
    snap = cpu_and_ram_skewed().build()
    params = {"thresholds": "cpu=0.05,ram=0.05", "retry_count": 2, "seed": 7}
    first = strategy.run(snap, params)
    second = strategy.run(snap, params)
    assert first.actions == second.actions


def test_disabled_host_never_receives_and_max_migrations_holds():
    b = cpu_and_ram_skewed()
    b.host("off", vcpus=32, memory_gb=64, status="disabled").vm("o", on="off", cpu_util=0.0)
    snap = b.build()
    solution = strategy.run(snap, {"max_migrations": 3})
    assert len(solution.migrations) == 3
    assert all(m.destination != "off" for m in solution.migrations)
    assert referee(snap, solution).ok


@pytest.mark.parametrize("values, fragment", [
    ({"thresholds": "cpu=0.1,disk=0.2"}, "'disk=0.2'"),
    ({"weights": "cpu=heavy"}, "cpu must be a number"),
    ({"thresholds": "cpu=0.1"}, "no threshold for metric 'ram'"),
    ({"metrics": "cpu,cpu"}, "metrics"),
])
def test_bad_parameters_name_the_field_and_value(values, fragment):
    with pytest.raises(ParameterError) as caught:
        strategy.validate(values)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_metrics_subset_needs_only_its_thresholds():
    params = strategy.validate({"metrics": "cpu", "thresholds": "cpu=0.05"})
    assert [g.name for g in params.goals()] == ["cpu"]


def test_docstring_has_the_template_sections():
    sections = strategy.sections()
    assert all(sections[name] for name in DOC_SECTIONS)
    assert strategy.goal == "workload_balancing"
