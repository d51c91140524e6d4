"""Audits run end to end: a stored plan in execution order, failures kept to the audit."""
from __future__ import annotations

import threading

import pytest
from optimizer.models.simulated import SimulationSpec, simulate_cluster
from optimizer.strategies.base import Strategy
from optimizer.strategies.dummy import DummyParameters

from optimizer.db import create_audit, get_action_plan, get_audit, list_actions
from optimizer.decision.engine import DecisionEngine
from optimizer.planning import PlannerConfig
from optimizer.plugins import load_strategies
from optimizer.states import ActionPlanState, AuditState, AuditType

SNAPSHOT = simulate_cluster(SimulationSpec(hosts=12, server_groups=3, seed=4))


def engine(db, strategies=None) -> DecisionEngine:
    return DecisionEngine(db, lambda: SNAPSHOT, strategies or load_strategies().loaded,
                          PlannerConfig())


def new_audit(db, **fields) -> str:
    with db.session() as session:
        return create_audit(session, **{"goal": "server_consolidation", **fields}).uuid


def test_audit_stores_a_recommended_plan_whose_parents_come_first(db):
    uuid = new_audit(db, strategy="vm_workload_consolidation")
    outcome = engine(db).run_audit(uuid)
    assert outcome.state == AuditState.SUCCEEDED
    with db.session() as session:
        plan = get_action_plan(session, outcome.action_plan_uuid)
        actions = list_actions(session, plan)
        assert plan.state == ActionPlanState.RECOMMENDED
        assert plan.estimated_duration_s > 0
        assert {i.name for i in plan.indicators} >= {"released_compute_nodes_count"}
        assert plan.host_changes
    assert any(a.type == "migrate" for a in actions)
    for action in actions:
        assert all(p < action.index for p in action.parents)
    # the disable of an emptied host precedes the migrations off it
    disabled = {a.parameters["host"]: a.index for a in actions
                if a.type == "change_service_state"}
    for action in actions:
        source = action.parameters.get("source")
        if action.type == "migrate" and source in disabled:
            assert disabled[source] < action.index


def test_a_new_plan_of_a_continuous_audit_supersedes_the_older(db):
    uuid = new_audit(db, strategy="vm_workload_consolidation",
                     audit_type=AuditType.CONTINUOUS, interval=600)
    first = engine(db).run_audit(uuid)
    second = engine(db).run_audit(uuid)
    assert first.state == second.state == AuditState.ONGOING
    with db.session() as session:
        assert get_action_plan(session, first.action_plan_uuid).state == \
            ActionPlanState.SUPERSEDED
        assert get_action_plan(session, second.action_plan_uuid).state == \
            ActionPlanState.RECOMMENDED


def test_goal_only_audit_records_the_comparison(db):
    outcome = engine(db).run_audit(new_audit(db))
    assert outcome.state == AuditState.SUCCEEDED
    with db.session() as session:
        plan = get_action_plan(session, outcome.action_plan_uuid)
    comparison = next(e["value"] for e in plan.global_efficacy
                      if e["name"] == "strategy_comparison")
    assert outcome.strategy in {c["strategy"] for c in comparison}
    assert "host_maintenance" not in {c["strategy"] for c in comparison}


def test_failing_strategy_fails_only_its_audit(db):
    def explode(snapshot, params):
        """Fails.

        Optimizes:
            x
        Metrics:
            x
        Parameters:
            x
        Limits:
            x
        """
        raise RuntimeError("boom on purpose")

    broken = Strategy("broken", "server_consolidation", DummyParameters, explode)
    uuid = new_audit(db, strategy="broken")
    outcome = engine(db, {"broken": broken}).run_audit(uuid)
    assert outcome.state == AuditState.FAILED
    with db.session() as session:
        audit = get_audit(session, uuid)
        assert audit.state == AuditState.FAILED
        assert "boom on purpose" in audit.status_message


@pytest.mark.parametrize("fields, message", [
    ({"strategy": "nope"}, "unknown strategy 'nope'"),
    ({"strategy": "workload_balance"}, "serves goal workload_balancing"),
    ({"strategy": "vm_workload_consolidation", "parameters": {"target_cpu_load": 7}},
     "must be at most 1.0"),
    ({"strategy": "vm_workload_consolidation", "scope": [{"include": {"zones": ["mars"]}}]},
     "unknown zone mars"),
])
def test_bad_requests_fail_the_audit_with_the_reason(db, fields, message):
    outcome = engine(db).run_audit(new_audit(db, **fields))
    assert outcome.state == AuditState.FAILED
    assert message in outcome.message


def test_scope_pins_excluded_instances(db):
    pinned = SNAPSHOT.inst_uuids[:5]
    uuid = new_audit(db, strategy="vm_workload_consolidation",
                     scope=[{"exclude": {"instances": list(pinned)}}])
    outcome = engine(db).run_audit(uuid)
    with db.session() as session:
        actions = list_actions(session, get_action_plan(session, outcome.action_plan_uuid))
    moved = {a.parameters.get("instance") for a in actions}
    assert not moved & set(pinned)


def test_two_audits_run_at_the_same_time(db):
    uuids = [new_audit(db, strategy="vm_workload_consolidation") for _ in range(2)]
    outcomes = {}
    threads = [threading.Thread(target=lambda u=u: outcomes.update({u: engine(db).run_audit(u)}))
               for u in uuids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(outcomes[u].state == AuditState.SUCCEEDED for u in uuids)


def test_a_nan_indicator_is_stored_as_null_on_every_backend(db):
    """Regression: a NaN reaching global_efficacy failed the audit on PostgreSQL
    ('invalid input syntax for type json')."""
    from optimizer.strategies.solution import Indicator, Solution

    def odd(snapshot, params):
        """Reports an indicator it could not compute.

        Optimizes:
            x
        Metrics:
            x
        Parameters:
            x
        Limits:
            x
        """
        return Solution("odd", "server_consolidation", indicators=(
            Indicator("cpu_load_stdev_after", float("nan"), "", "spread"),
            Indicator("released_compute_nodes_count", 0.0, "", "released")))

    uuid = new_audit(db, strategy="odd")
    outcome = engine(db, {"odd": Strategy("odd", "server_consolidation", DummyParameters,
                                          odd)}).run_audit(uuid)
    assert outcome.state == AuditState.SUCCEEDED, outcome.message
    with db.session() as session:
        plan = get_action_plan(session, outcome.action_plan_uuid)
        assert [e["value"] for e in plan.global_efficacy] == [None, 0.0]
