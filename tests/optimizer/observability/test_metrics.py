"""Counters move when an audit runs on the simulated cloud and its plan is applied."""
from __future__ import annotations

from optimizer.applier import execute_plan
from optimizer.guard_rails import Breach
from optimizer.observability import current_metrics
from optimizer.operations import new_audit, run_audit, start_action_plan
from tests.optimizer.observability.conftest import sample


def test_audit_and_plan_move_the_counters(ctx, metrics):
    audit = new_audit(ctx, goal="server_consolidation")
    outcome = run_audit(ctx, audit.uuid)
    assert outcome.state == "SUCCEEDED" and outcome.action_plan_uuid
    strategy = outcome.strategy
    assert sample(metrics, "optimizer_audits_total", state="SUCCEEDED", strategy=strategy) == 1
    assert sample(metrics, "optimizer_planning_seconds_count", strategy=strategy) == 1
    assert sample(metrics, "optimizer_planning_seconds_sum", strategy=strategy) > 0
    start_action_plan(ctx, outcome.action_plan_uuid)
    result = execute_plan(ctx, outcome.action_plan_uuid)
    assert result.state == "SUCCEEDED"
    migrations = sample(metrics, "optimizer_actions_total", type="migrate", outcome="SUCCEEDED")
    assert migrations > 0
    assert sample(metrics, "optimizer_plan_actions_sum") == result.progress.total
    assert sample(metrics, "optimizer_migration_seconds_count") == migrations
    assert sample(metrics, "optimizer_action_plans_total", state="SUCCEEDED") == 1
    assert sample(metrics, "optimizer_applier_queue", state="running") == 0


def test_guard_rail_holds_count_each_rail(metrics):
    current_metrics().guard_rail_holds([Breach("allowed_windows", "outside"),
                                        Breach("max_migrations_per_plan", "too many"), "x"])
    assert sample(metrics, "optimizer_guard_rail_holds_total", rail="allowed_windows") == 1
    assert sample(metrics, "optimizer_guard_rail_holds_total", rail="other") == 1


def test_model_age_is_read_when_scraped(metrics):
    class Model:
        as_of = 0.0

    metrics.watch_model(Model())
    assert sample(metrics, "optimizer_model_age_seconds") > 1e9  # since 1970


def test_without_metrics_hooks_do_nothing():
    sink = current_metrics()
    assert not sink.enabled
    assert sink.audit_ended("SUCCEEDED", "x") is None
