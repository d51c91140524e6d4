"""The demo's figures: replaying a solution and measuring the cluster before and after."""
from __future__ import annotations

import pytest
from optimizer.strategies.solution import Migrate, Nop, Solution

from optimizer.demo import figures, replay, run_demo
from optimizer.plugins import find_strategy
from tests.builders import ClusterBuilder


def two_hosts():
    """h1 (16 cores, 64 GB) with a at 50% of 8 vcpus; h2 the same with b at 25% of 4."""
    return (ClusterBuilder()
            .host("h1", vcpus=16, memory_gb=64).host("h2", vcpus=16, memory_gb=64)
            .vm("a", on="h1", vcpus=8, memory_gb=16, cpu_util=0.5)
            .vm("b", on="h2", vcpus=4, memory_gb=32, cpu_util=0.25)
            .build())


def solution(*actions) -> Solution:
    return Solution(strategy="test", goal="dummy", actions=actions)


def test_figures_average_over_active_hosts():
    before = figures(two_hosts().placement())
    assert before.active_hosts == 2
    assert before.cpu_load_mean == pytest.approx((4 / 16 + 1 / 16) / 2)
    assert before.cpu_load_max == pytest.approx(4 / 16)
    assert before.cpu_load_stdev == pytest.approx((4 / 16 - 1 / 16) / 2)
    assert before.memory_allocated_mean == pytest.approx((16 / 64 + 32 / 64) / 2)


def test_replay_moves_instances_and_counts_memory():
    snap = two_hosts()
    replayed = replay(snap, solution(Nop(message="x"), Migrate("b", "h2", "h1")))
    after = figures(replayed.placement)
    assert replayed.migrations == 1
    assert replayed.moved_memory_gb == pytest.approx(32)
    assert replayed.unfit_moves == []
    assert after.active_hosts == 1
    assert after.cpu_load_max == pytest.approx(5 / 16)
    assert after.memory_allocated_mean == pytest.approx(48 / 64)
    assert snap.inst_host.tolist() == [0, 1]  # the snapshot itself is untouched


def test_replay_reports_a_move_that_does_not_fit():
    snap = (ClusterBuilder().host("h1", memory_gb=16).host("h2", memory_gb=16)
            .vm("a", on="h1", memory_gb=12).vm("b", on="h2", memory_gb=12).build())
    replayed = replay(snap, solution(Migrate("b", "h2", "h1")))
    assert replayed.unfit_moves == ["b → h1"]


def test_empty_cluster_has_zero_figures():
    snap = ClusterBuilder().host("h1").build()
    assert figures(snap.placement()).active_hosts == 0


def test_run_demo_is_deterministic_for_a_seed():
    dummy = find_strategy("dummy")
    first = run_demo(dummy, {"count": "1"}, hosts=5, seed=4).to_dict()
    second = run_demo(dummy, {"count": "1"}, hosts=5, seed=4).to_dict()
    first.pop("planning_seconds"), second.pop("planning_seconds")
    assert first == second
    assert first["scenario"] == "simulated-h5-s4"
