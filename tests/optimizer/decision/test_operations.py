"""Requests on audits and plans: validation, start with premise checks, cancel, skip."""
from __future__ import annotations

import pytest
from optimizer.models.errors import UserError
from optimizer.models.simulated import SimulationSpec, simulate_cluster

from optimizer import operations as ops
from optimizer.context import Context
from optimizer.db import get_action_plan, list_actions
from optimizer.plugins import load_strategies
from optimizer.states import ActionPlanState, ActionState


class FixedCollector:
    name = "fixed"

    def __init__(self, snapshot):
        self.snapshot = snapshot

    def collect(self):
        return self.snapshot


@pytest.fixture
def ctx(db):
    return Context(settings=None, database=db, strategies=load_strategies(),
                   _collector=FixedCollector(simulate_cluster(SimulationSpec(hosts=10))))


def recommended_plan(ctx) -> str:
    audit = ops.new_audit(ctx, goal="server_consolidation", strategy="vm_workload_consolidation",
                          parameters={"target_cpu_load": "0.7"})
    outcome = ops.run_audit(ctx, audit.uuid)
    assert outcome.action_plan_uuid, outcome.message
    return outcome.action_plan_uuid


def test_audit_parameters_are_validated_and_typed(ctx):
    audit = ops.new_audit(ctx, goal="server_consolidation", strategy="vm_workload_consolidation",
                          parameters={"target_cpu_load": "0.7"})
    assert audit.parameters == {"target_cpu_load": 0.7}
    with pytest.raises(UserError, match="unknown parameter 'bogus'"):
        ops.new_audit(ctx, goal="server_consolidation", strategy="vm_workload_consolidation",
                      parameters={"bogus": 1})
    with pytest.raises(UserError, match="unknown goal 'tidy'"):
        ops.new_audit(ctx, goal="tidy")
    with pytest.raises(UserError, match="need a strategy"):
        ops.new_audit(ctx, goal="server_consolidation", parameters={"x": 1})


def test_start_moves_a_plan_to_pending(ctx):
    uuid = recommended_plan(ctx)
    assert ops.start_action_plan(ctx, uuid).state == ActionPlanState.PENDING
    with pytest.raises(UserError, match="only a RECOMMENDED plan"):
        ops.start_action_plan(ctx, uuid)


def test_start_supersedes_a_plan_whose_premises_broke(ctx):
    uuid = recommended_plan(ctx)
    with ctx.database.session() as session:
        first = next(a for a in list_actions(session, get_action_plan(session, uuid))
                     if a.type == "migrate")
    snapshot = ctx.collector.snapshot
    i = snapshot.instance_id(first.parameters["instance"])
    elsewhere = next(h for h in range(snapshot.host_count) if h != snapshot.inst_host[i])
    moved = snapshot.inst_host.copy()
    moved[i] = elsewhere
    ctx.collector.snapshot = _with_hosts(snapshot, moved)
    plan = ops.start_action_plan(ctx, uuid)
    assert plan.state == ActionPlanState.SUPERSEDED
    assert first.parameters["instance"] in plan.status_message


def test_cancel_and_skip(ctx):
    uuid = recommended_plan(ctx)
    with ctx.database.session() as session:
        action = list_actions(session, get_action_plan(session, uuid))[0]
    assert ops.skip_action(ctx, action.uuid).state == ActionState.SKIPPED
    with pytest.raises(UserError, match="only a PENDING action"):
        ops.skip_action(ctx, action.uuid)
    assert ops.cancel_action_plan(ctx, uuid).state == ActionPlanState.CANCELLED


def _with_hosts(snapshot, inst_host):
    import dataclasses

    import numpy as np

    fields = {f.name: getattr(snapshot, f.name) for f in dataclasses.fields(snapshot)
              if f.name != "_index"}
    fields["inst_host"] = np.asarray(inst_host, dtype=np.int32)
    new = type(snapshot)(**fields)
    new._index.update({k: v for k, v in snapshot._index.items()
                       if k in ("hosts", "instances", "groups")})
    return new


def test_auto_start_respects_template_guard_rails(ctx):
    from optimizer.db import create_audit_template

    with ctx.database.session() as session:
        create_audit_template(session, name="careful", goal="server_consolidation",
                              strategy="vm_workload_consolidation", auto_trigger=True,
                              guard_rails={"max_migrations_per_plan": 1})
    audit = ops.new_audit(ctx, template="careful")
    outcome = ops.run_audit(ctx, audit.uuid)
    plan = ops.auto_start(ctx, outcome.action_plan_uuid)
    assert plan.state == ActionPlanState.RECOMMENDED
    assert "exceed the limit of 1 per plan (audit template careful)" in plan.status_message


def test_auto_start_starts_a_plan_within_its_rails(ctx):
    uuid = recommended_plan(ctx)
    assert ops.auto_start(ctx, uuid).state == ActionPlanState.PENDING


def test_the_global_switch_stops_automatic_execution(ctx):
    from types import SimpleNamespace

    from optimizer.config import GuardRailSettings

    ctx.settings = SimpleNamespace(guard_rails=GuardRailSettings(automatic_execution=False))
    plan = ops.auto_start(ctx, recommended_plan(ctx))
    assert plan.state == ActionPlanState.RECOMMENDED
    assert "automatic execution is switched off (configuration)" in plan.status_message
