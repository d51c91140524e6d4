"""Bandwidth learnt from measured migrations, and the planner estimating with it."""
from __future__ import annotations

import pytest
from optimizer.models.errors import UserError
from optimizer.strategies.solution import Migrate

from optimizer.efficacy.calibration import (
    OVERALL,
    Learnt,
    calibrated,
    learn,
    migration_samples,
)
from optimizer.efficacy.measure import ActionRecord
from optimizer.planning import PlannerConfig
from optimizer.planning.graph import action_duration


def timed(instance: str, seconds: float | None, state: str = "SUCCEEDED",
          source: str = "a", destination: str = "b") -> ActionRecord:
    return ActionRecord("migrate", state, {"instance": instance, "source": source,
                                           "destination": destination}, seconds)


def test_samples_take_the_overhead_off_and_leave_out_what_says_nothing():
    actions = [timed("v1", 6.0), timed("v2", 1.0), timed("v3", None),
               timed("v4", 9.0, "FAILED"), ActionRecord("nop", "SUCCEEDED", {}, 7.0)]
    samples = migration_samples(actions, {"v1": 2048, "v2": 2048, "v3": 1, "v4": 1}, 5.0)
    assert [(s.source, s.destination, s.mb_s) for s in samples] == [("a", "b", 2048.0)]


def test_learning_is_a_weighted_mean_per_pair_and_overall():
    samples = migration_samples([timed("v", 2.0), timed("v", 1.0)], {"v": 1000}, 0.0)
    first = learn({}, samples[:1])
    assert first[("a", "b")] == first[OVERALL] == Learnt(500.0, 1)
    second = learn(first, samples[1:], weight=0.5)
    assert second[("a", "b")] == Learnt(750.0, 2)
    other = migration_samples([timed("v", 4.0, source="c", destination="d")], {"v": 1000}, 0.0)
    third = learn(second, other, weight=0.5)
    assert third[("a", "b")] == Learnt(750.0, 2), "another pair leaves this one alone"
    assert third[("c", "d")] == Learnt(250.0, 1)
    assert third[OVERALL] == Learnt(500.0, 3)


def test_a_calibrated_planner_estimates_with_the_pair_then_the_overall_bandwidth():
    config = PlannerConfig(action_overhead_s=1.0, migration_bandwidth_mb_s=1000.0)
    table = {("a", "b"): Learnt(250.0, 3), OVERALL: Learnt(500.0, 3)}
    tuned = calibrated(config, table)
    assert action_duration(Migrate("v", "a", "b"), 1000, config) == 2.0
    assert action_duration(Migrate("v", "a", "b"), 1000, tuned) == 5.0
    assert action_duration(Migrate("v", "b", "a"), 1000, tuned) == 3.0
    assert calibrated(config, {}) is config


def test_a_non_positive_pair_bandwidth_is_refused_by_name():
    with pytest.raises(UserError, match="bandwidth of a → b must be positive"):
        PlannerConfig(pair_bandwidth_mb_s={("a", "b"): 0.0})
