"""Goal-only audits: candidates judged like the referee judges, ranked, the best chosen."""
from __future__ import annotations

import numpy as np
import pytest
from optimizer.models.errors import UserError
from optimizer.models.simulated import SimulationSpec, simulate_cluster
from optimizer.strategies.base import Strategy
from optimizer.strategies.dummy import DummyParameters
from optimizer.strategies.solution import ChangePowerState, Indicator, Migrate, Solution

from optimizer.decision.scoring import OVERLOAD, assess
from optimizer.decision.selection import choose
from optimizer.plugins import load_strategies
from tests.builders import ClusterBuilder
from tests.referee import referee

GOAL = "server_consolidation"
DOC = """Proposes fixed actions, for a test.

Optimizes:
    x
Metrics:
    x
Parameters:
    x
Limits:
    x
"""


def fixed(name: str, *actions, released: float = 0.0) -> Strategy:
    """A strategy always proposing ``actions`` and claiming ``released`` hosts."""
    def execute(snapshot, params):
        return Solution(name, GOAL, actions=tuple(actions), indicators=(
            Indicator("released_compute_nodes_count", released, "", "claimed"),))

    execute.__doc__ = DOC
    return Strategy(name, GOAL, DummyParameters, execute)


@pytest.fixture(scope="module")
def busy():
    """A CPU-busy cluster on which packing by allocation alone overloads hosts."""
    return simulate_cluster(SimulationSpec(hosts=40, seed=3, cpu_util=0.6))


def test_a_goal_only_audit_never_prefers_a_plan_that_overloads_hosts(busy):
    """Regression: node_resource_consolidation won with hosts at 147-171 % CPU."""
    strategy, solution, ranking = choose(busy, GOAL, load_strategies().loaded)
    verdict = referee(busy, solution, allow_repeat_moves=True)
    assert verdict.ok, verdict.violations
    assert verdict.host_load.max() <= OVERLOAD + 1e-9
    assert verdict.migrations > 0  # it still consolidates
    assert strategy.name == ranking[0].strategy != "node_resource_consolidation"
    packer = next(c for c in ranking if c.strategy == "node_resource_consolidation")
    assert packer.error.startswith("overloads hosts:") and packer.overloaded_hosts > 0
    assert ranking[-1] is packer


def test_the_comparison_is_in_ranking_order_with_the_chosen_first(busy):
    strategy, _, ranking = choose(busy, GOAL, load_strategies().loaded)
    accepted = [c for c in ranking if not c.error]
    assert ranking[0].strategy == strategy.name
    assert [c.score for c in accepted] == sorted(c.score for c in accepted)
    assert ranking[:len(accepted)] == accepted  # refused ones come last
    assert [c.strategy for c in ranking] != sorted(c.strategy for c in ranking)


def test_every_accepted_candidate_passes_the_referee(busy):
    for strategy in load_strategies().loaded.values():
        if strategy.goal != GOAL or not strategy.auto_select:
            continue
        solution = strategy.run(busy, {})
        assessment = assess(busy, solution)
        verdict = referee(busy, solution, allow_repeat_moves=True)
        overloaded = int(np.count_nonzero(verdict.host_load > OVERLOAD + 1e-9))
        assert assessment.overloaded_after == overloaded, strategy.name
        assert (not assessment.violations) == verdict.ok, (strategy.name, verdict.violations)


def small():
    return (ClusterBuilder()
            .host("h1", vcpus=8, memory_gb=16, cpu_ratio=1.0).host("h2", vcpus=8, memory_gb=16,
                                                                   cpu_ratio=1.0)
            .host("h3", vcpus=8, memory_gb=16, cpu_ratio=1.0, status="disabled")
            .vm("a", on="h1", vcpus=4, memory_gb=8, cpu_util=0.5)
            .vm("b", on="h2", vcpus=4, memory_gb=8, cpu_util=0.5)
            .vm("c", on="h2", vcpus=2, memory_gb=4, cpu_util=0.5)
            .vm("off", on="h1", vcpus=2, memory_gb=2, cpu_util=0.0, state="shutoff")
            .vm("g1", on="h1", vcpus=1, memory_gb=1, group="together")
            .vm("g2", on="h1", vcpus=1, memory_gb=1, group="together")
            .group("together", "affinity")
            .build())


@pytest.mark.parametrize("bad, reason", [
    (fixed("overfill", Migrate("a", "h1", "h2"), released=1), "above its allocatable"),
    (fixed("live_stopped", Migrate("off", "h1", "h2"), released=1),
     "instance off is shutoff but live-migrated"),
    (fixed("to_disabled", Migrate("off", "h1", "h3", "cold"), released=1),
     "destination host h3 is disabled"),
    (fixed("split", Migrate("g1", "h1", "h2"), released=1), "affinity group together split"),
    (fixed("off_full", ChangePowerState("h1", "off"), released=1),
     "host h1 powered off with 4 instances on it"),
])
def test_an_invalid_plan_is_refused_whatever_it_claims(bad, reason):
    snapshot = small()
    honest = fixed("honest", Migrate("off", "h1", "h2", "cold"))
    strategy, _, ranking = choose(snapshot, GOAL, {bad.name: bad, "honest": honest})
    assert strategy.name == "honest"
    assert ranking[-1].strategy == bad.name and reason in ranking[-1].error
    with pytest.raises(UserError, match=f"no strategy for goal .*{bad.name}: invalid plan"):
        choose(snapshot, GOAL, {bad.name: bad})


def test_a_cluster_already_overloaded_may_be_relieved_or_left_alone():
    snapshot = (ClusterBuilder().host("h1", vcpus=4).host("h2", vcpus=4)
                .vm("a", on="h1", vcpus=4, cpu_util=0.9).vm("b", on="h1", vcpus=4, cpu_util=0.9)
                .build())
    relieve = fixed("relieve", Migrate("b", "h1", "h2"))
    stay = fixed("stay")
    strategy, _, ranking = choose(snapshot, GOAL, {"stay": stay, "relieve": relieve})
    assert strategy.name == "relieve"
    assert [c.overloaded_hosts for c in ranking] == [0, 1]
    assert not ranking[1].error  # no worse than before: allowed, but ranked below
