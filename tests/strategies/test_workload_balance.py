"""workload_balance: load evens out within capacity, groups and host states."""
from __future__ import annotations

import numpy as np
import pytest
from optimizer.strategies.base import DOC_SECTIONS
from optimizer.strategies.parameters import ParameterError
from optimizer.strategies.workload_balance import strategy

from tests.builders import ClusterBuilder
from tests.referee import referee


def skewed(builder: ClusterBuilder | None = None, hosts: int = 4) -> ClusterBuilder:
    """Host h1 busy (load 0.8), h2 medium (0.5), the others quiet (0.1): stdev about 0.3."""
    b = builder or ClusterBuilder()
    b.hosts(hosts, vcpus=32, memory_gb=128)
    for h, (count, util) in {"h1": (16, 0.8), "h2": (10, 0.8)}.items():
        for k in range(count):
            b.vm(f"{h}-vm{k}", on=h, vcpus=2, memory_gb=4, cpu_util=util)
    for h in range(3, hosts + 1):
        b.vm(f"h{h}-vm0", on=f"h{h}", vcpus=2, memory_gb=4, cpu_util=0.8)
    return b


def stdev_after(snapshot, verdict) -> float:
    active = np.bincount(verdict.placement, minlength=snapshot.host_count) > 0
    return float(verdict.host_load[active].std())


def test_brings_cpu_load_stdev_under_threshold_with_valid_moves():
    snap = skewed().build()
    solution = strategy.run(snap, {"threshold": 0.05})
    verdict = referee(snap, solution)
    assert verdict.ok, verdict.violations
    assert float(snap.host_load()[snap.instances_per_host > 0].std()) > 0.2
    assert stdev_after(snap, verdict) <= 0.05
    assert solution.indicator("cpu_load_stdev_after") <= 0.05
    assert solution.indicator("instance_migrations_count") == len(solution.migrations)
    assert all(m.migration_type == "live" for m in solution.migrations)


def test_balanced_cluster_gives_no_migrations():
    b = ClusterBuilder().hosts(3, vcpus=32)
    for h in ("h1", "h2", "h3"):
        b.vm(f"{h}-a", on=h, vcpus=8, cpu_util=0.5)
    solution = strategy.run(b.build(), {})
    assert solution.migrations == ()
    assert solution.indicator("cpu_load_stdev_after") == 0.0


def test_never_exceeds_allocatable_memory_of_a_quiet_host():
    # h3 is quiet but its memory is full: nothing may land there
    b = skewed(hosts=3)
    b.host("h4", vcpus=32, memory_gb=8)
    b.vm("h4-vm0", on="h4", vcpus=1, memory_gb=8, cpu_util=0.1)
    snap = b.build()
    solution = strategy.run(snap, {"threshold": 0.05})
    assert referee(snap, solution).ok
    assert all(m.destination != "h4" for m in solution.migrations)
    assert solution.migrations


def test_disabled_and_down_hosts_never_receive():
    b = skewed(hosts=2)
    b.host("h3", vcpus=32, status="disabled").vm("h3-vm0", on="h3", cpu_util=0.1)
    b.host("h4", vcpus=32, state="down").vm("h4-vm0", on="h4", cpu_util=0.1)
    b.host("h5", vcpus=32).vm("h5-vm0", on="h5", cpu_util=0.1)
    snap = b.build()
    solution = strategy.run(snap, {})
    assert referee(snap, solution).ok
    assert {m.destination for m in solution.migrations} <= {"h2", "h5"}


def test_anti_affinity_holds_at_every_step():
    # every instance of the busy host shares a group with the quiet host's instance
    b = ClusterBuilder().hosts(2, vcpus=16).host("h3", vcpus=16)
    b.group("spread", "anti-affinity")
    for k in range(6):
        b.vm(f"busy{k}", on="h1", vcpus=2, cpu_util=0.9, group="spread" if k < 3 else None)
    b.vm("quiet", on="h2", vcpus=2, cpu_util=0.1, group="spread")
    b.vm("other", on="h3", vcpus=2, cpu_util=0.5)
    snap = b.build()
    solution = strategy.run(snap, {"threshold": 0.0})
    assert referee(snap, solution).ok
    moved_into_h2 = {m.instance for m in solution.migrations if m.destination == "h2"}
    assert not moved_into_h2 & {"busy0", "busy1", "busy2"}
    assert moved_into_h2  # the ungrouped ones may go


def test_affinity_group_stays_together():
    b = ClusterBuilder().hosts(3, vcpus=16)
    b.group("together", "affinity")
    for k in range(6):
        b.vm(f"pair{k}", on="h1", vcpus=2, cpu_util=0.9, group="together")
    b.vm("loose", on="h1", vcpus=2, cpu_util=0.9)
    b.vm("q2", on="h2", cpu_util=0.1).vm("q3", on="h3", cpu_util=0.1)
    snap = b.build()
    solution = strategy.run(snap, {})
    verdict = referee(snap, solution)
    assert verdict.ok, verdict.violations
    assert "loose" in {m.instance for m in solution.migrations}
    assert not any(m.instance.startswith("pair") for m in solution.migrations)
    assert solution.notes  # the stdev target could not be met: it says so


def test_max_migrations_is_honoured():
    snap = skewed().build()
    unlimited = strategy.run(snap, {"threshold": 0.05})
    assert len(unlimited.migrations) > 2
    limited = strategy.run(snap, {"threshold": 0.05, "max_migrations": 2})
    assert len(limited.migrations) == 2
    assert any("max_migrations" in note for note in limited.notes)


def test_overloaded_host_is_relieved_even_when_stdev_is_met():
    # a loose threshold is met at once, but h1 is above max_cpu_load
    b = ClusterBuilder().hosts(3, vcpus=8)
    for k in range(5):
        b.vm(f"hot{k}", on="h1", vcpus=2, cpu_util=0.9)   # load 1.125
    for h in ("h2", "h3"):
        b.vm(f"{h}-a", on=h, vcpus=2, cpu_util=0.5)
    snap = b.build()
    solution = strategy.run(snap, {"threshold": 1.0, "max_cpu_load": 0.9})
    verdict = referee(snap, solution)
    assert verdict.ok
    assert verdict.host_load.max() <= 0.9 + 1e-9
    assert len(solution.migrations) == 1


def test_stopped_instances_move_cold():
    b = ClusterBuilder().hosts(2, vcpus=8)
    for k in range(4):
        b.vm(f"off{k}", on="h1", vcpus=2, cpu_util=0.9, state="shutoff")
    b.vm("q", on="h2", vcpus=2, cpu_util=0.1)
    snap = b.build()
    solution = strategy.run(snap, {})
    assert solution.migrations
    assert all(m.migration_type == "cold" for m in solution.migrations)
    assert referee(snap, solution).ok


def test_ram_metric_balances_memory_too():
    b = ClusterBuilder().hosts(3, vcpus=32, memory_gb=64)
    for k in range(12):
        b.vm(f"big{k}", on="h1", vcpus=1, memory_gb=4, cpu_util=0.0)
    for h in ("h1", "h2", "h3"):
        for k in range(4):
            b.vm(f"{h}-cpu{k}", on=h, vcpus=4, memory_gb=1, cpu_util=0.5)
    snap = b.build()
    cpu_only = strategy.run(snap, {})
    assert cpu_only.migrations == ()  # CPU is already even
    both = strategy.run(snap, {"metrics": "cpu,ram", "threshold": 0.05})
    assert referee(snap, both).ok
    assert both.indicator("ram_load_stdev_after") <= 0.05
    assert both.indicator("cpu_load_stdev_after") <= 0.05


def test_bad_parameters_are_reported_in_one_line():
    with pytest.raises(ParameterError, match="metrics.*disk"):
        strategy.validate({"metrics": "cpu,disk"})
    with pytest.raises(ParameterError, match="cpu_sizing"):
        strategy.validate({"cpu_sizing": "p42"})


def test_docstring_has_the_template_sections():
    sections = strategy.sections()
    assert all(sections[name] for name in DOC_SECTIONS)
    assert strategy.goal == "workload_balancing"


def test_ram_alone_moves_memory_and_keeps_cpu_under_its_limit():
    b = ClusterBuilder().hosts(2, vcpus=32, memory_gb=64)
    for k in range(8):
        b.vm(f"big{k}", on="h1", vcpus=1, memory_gb=4, cpu_util=0.0)
    b.vm("h2-a", on="h2", vcpus=1, memory_gb=4, cpu_util=0.0)
    snap = b.build()
    solution = strategy.run(snap, {"metrics": "ram", "threshold": 0.05})
    assert referee(snap, solution).ok
    assert solution.indicator("ram_load_stdev_after") <= 0.05
    assert len(solution.migrations) in (3, 4)


def test_cpu_sizing_reads_the_cpu_series():
    # both hosts average 0.4, but h1's instances peak at 1.0: p95 sees the imbalance
    b = ClusterBuilder().hosts(2, vcpus=8)
    for k in range(2):
        b.vm(f"peaky{k}", on="h1", vcpus=2, cpu_util=0.4, series=[0.1, 0.1, 1.0, 0.4])
        b.vm(f"flat{k}", on="h1", vcpus=2, cpu_util=0.4, series=[0.4, 0.4, 0.4, 0.4])
        b.vm(f"steady{k}", on="h2", vcpus=2, cpu_util=0.4, series=[0.4, 0.4, 0.4, 0.4])
        b.vm(f"calm{k}", on="h2", vcpus=2, cpu_util=0.4, series=[0.4, 0.4, 0.4, 0.4])
    snap = b.build()
    assert strategy.run(snap, {}).migrations == ()
    solution = strategy.run(snap, {"cpu_sizing": "p95", "threshold": 0.05})
    assert solution.migrations
    assert solution.indicator("cpu_load_stdev_after") < solution.indicator(
        "cpu_load_stdev_before")
