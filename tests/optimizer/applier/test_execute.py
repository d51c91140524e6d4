"""Executing plans: success, progress, pre-conditions, bad parameters, claims."""
from __future__ import annotations

import pytest
from optimizer.models.errors import UserError

from optimizer.applier import execute_plan, plan_progress
from optimizer.db.errors import ConcurrentUpdate
from tests.optimizer.applier.conftest import migrate, nop, plan_row, store_plan, stored_actions


def test_plan_runs_to_success_and_moves_instances(ctx, cloud):
    uuid = store_plan(ctx, [
        {"type": "change_service_state", "parameters": {"host": "h1", "state": "disabled"}},
        migrate("h1-v0", "h1", "h2", parents=[0]),
        migrate("h1-v1", "h1", "h3", parents=[0]),
        nop("done", parents=[1, 2]),
    ])
    seen = []
    result = execute_plan(ctx, uuid, on_progress=seen.append)
    assert result.state == "SUCCEEDED", result.message
    assert cloud.host_of("h1-v0") == "h2" and cloud.host_of("h1-v1") == "h3"
    assert cloud.host_state("h1") == (True, False)
    assert [a.state for a in stored_actions(ctx, uuid)] == ["SUCCEEDED"] * 4
    assert stored_actions(ctx, uuid)[3].status_message == "done"
    assert seen[-1].succeeded == 4 and seen[-1].state == "SUCCEEDED"
    assert seen[-1].moved_memory_mb == 2048
    progress = plan_progress(ctx, uuid)
    assert (progress.total, progress.succeeded, progress.pending) == (4, 4, 0)
    assert progress.moved_memory_mb == 2048 and progress.state == "SUCCEEDED"
    assert plan_row(ctx, uuid).owner


def test_moved_instance_is_skipped_and_its_dependents_still_run(ctx, cloud):
    cloud.start_migration("h1-v0", "h1", "h4", "live")  # someone moved it meanwhile
    uuid = store_plan(ctx, [migrate("h1-v0", "h1", "h2"), migrate("h1-v1", "h1", "h2", [0])])
    result = execute_plan(ctx, uuid)
    first, second = stored_actions(ctx, uuid)
    assert result.state == "SUCCEEDED"
    assert first.state == "SKIPPED" and "is on h4, not on its source h1" in first.status_message
    assert second.state == "SUCCEEDED" and cloud.host_of("h1-v1") == "h2"


def test_unusable_destination_fails_the_action_and_cancels_dependents(ctx, cloud):
    cloud.set_service_state("h2", False, "maintenance")
    uuid = store_plan(ctx, [migrate("h1-v0", "h1", "h2"), nop(parents=[0]), nop()])
    result = execute_plan(ctx, uuid)
    failed, dependent, independent = stored_actions(ctx, uuid)
    assert result.state == "FAILED"
    assert failed.state == "FAILED" and "h2 is not up and enabled" in failed.status_message
    assert (dependent.state, dependent.status_message) == ("CANCELLED", "parent 0 failed")
    assert independent.state == "SUCCEEDED"
    assert "#0 migrate instance h1-v0 (h1 → h2)" in result.message
    assert cloud.migration_count("h1-v0") == 0


def test_bad_stored_parameters_fail_that_action_before_anything_starts(ctx, cloud):
    uuid = store_plan(ctx, [
        {"type": "migrate", "parameters": {"instance": "h1-v0", "source": "h1"}},
        {"type": "sleep", "parameters": {"duration": -1}},
        {"type": "teleport", "parameters": {}},
        nop("fine"),
    ])
    result = execute_plan(ctx, uuid)
    bad, negative, unknown, fine = stored_actions(ctx, uuid)
    assert result.state == "FAILED"
    assert bad.state == "FAILED" and "missing parameter 'destination'" in bad.status_message
    assert "duration must not be negative" in negative.status_message
    assert "unknown action type 'teleport'" in unknown.status_message
    assert fine.state == "SUCCEEDED"


def test_only_pending_plans_are_executed(ctx):
    uuid = store_plan(ctx, [nop()], state="RECOMMENDED")
    with pytest.raises(UserError, match="is RECOMMENDED; only a PENDING plan"):
        execute_plan(ctx, uuid)


def test_a_finished_plan_is_not_run_again(ctx):
    uuid = store_plan(ctx, [nop()])
    assert execute_plan(ctx, uuid).state == "SUCCEEDED"
    with pytest.raises(UserError, match="is SUCCEEDED"):
        execute_plan(ctx, uuid)


def test_two_appliers_cannot_both_claim_a_plan(ctx):
    from optimizer.applier.journal import PlanJournal

    uuid = store_plan(ctx, [nop()])
    first, second = PlanJournal(ctx.database, uuid), PlanJournal(ctx.database, uuid)
    # both read PENDING before either writes: the second write must lose
    from optimizer.db import get_action_plan, update_action_plan

    with ctx.database.session() as one, ctx.database.session() as two:
        plan_one, plan_two = get_action_plan(one, uuid), get_action_plan(two, uuid)
        assert plan_one.state == plan_two.state == "PENDING"
        update_action_plan(one, uuid, state="ONGOING", owner=first.owner)
        one.commit()
        with pytest.raises(ConcurrentUpdate):
            from optimizer.db.action_plans import PLANS
            from optimizer.db.query import change

            change(two, PLANS, plan_two, {"state": "ONGOING", "owner": second.owner})
