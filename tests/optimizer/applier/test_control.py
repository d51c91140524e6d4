"""Pause, resume and cancel while a plan runs."""
from __future__ import annotations

import pytest

from optimizer.applier import execute_plan, pause_plan, resume_plan
from optimizer.operations import cancel_action_plan
from optimizer.states import IllegalTransition
from tests.optimizer.applier.conftest import migrate, plan_row, store_plan, stored_actions


def test_pause_starts_nothing_new_and_resume_goes_on(ctx, cloud):
    cloud.configure(bandwidth_mb_s=1024 / 0.05)  # 50 ms a migration
    uuid = store_plan(ctx, [migrate(f"h1-v{j}", "h1", "h2", [j - 1] if j else [])
                            for j in range(3)])
    states_seen, while_paused = [], []

    def watch(progress):
        states_seen.append(progress.state)
        if progress.state == "ONGOING" and progress.succeeded == 1 and not while_paused:
            pause_plan(ctx, uuid)
        elif progress.state == "PAUSED":
            while_paused.append(progress)
            if len(while_paused) >= 10 and progress.running == 0:
                resume_plan(ctx, uuid)  # once what was in flight has finished

    result = execute_plan(ctx, uuid, on_progress=watch)
    assert result.state == "SUCCEEDED", result.message
    assert len(while_paused) >= 10
    # the second migration may have been started before the pause was seen; no third one
    assert all(p.succeeded + p.running <= 2 for p in while_paused)
    assert cloud.host_of("h1-v2") == "h2"


def test_only_a_running_plan_can_be_paused(ctx):
    uuid = store_plan(ctx, [migrate("h1-v0", "h1", "h2")])
    with pytest.raises(IllegalTransition, match="PENDING to PAUSED"):
        pause_plan(ctx, uuid)


def test_cancel_aborts_migrations_in_flight(ctx, cloud):
    cloud.configure(bandwidth_mb_s=1.0)  # 1024 s: never finishes during the test
    uuid = store_plan(ctx, [migrate("h1-v0", "h1", "h2"), migrate("h3-v0", "h3", "h4"),
                            migrate("h1-v1", "h1", "h3", [0])])

    def cancel_once_running(progress):
        if progress.running == 2 and progress.state == "ONGOING":
            cancel_action_plan(ctx, uuid)

    result = execute_plan(ctx, uuid, on_progress=cancel_once_running)
    first, second, dependent = stored_actions(ctx, uuid)
    assert result.state == "CANCELLED"
    assert first.state == second.state == "CANCELLED"
    assert "aborted" in first.status_message
    assert (dependent.state, dependent.status_message) == ("CANCELLED", "plan cancelled")
    assert [m.state for m in cloud.migrations_of("h1-v0")] == ["aborted"]
    assert cloud.host_of("h1-v0") == "h1" and cloud.host_of("h3-v0") == "h3"


def test_an_interrupt_pauses_and_gives_the_plan_up_after_the_running_actions(ctx, cloud):
    cloud.configure(bandwidth_mb_s=1024 / 0.05)  # 50 ms a migration
    uuid = store_plan(ctx, [migrate("h1-v0", "h1", "h2"), migrate("h1-v1", "h1", "h3", [0])])
    asked = []

    def interrupt() -> bool:  # as Ctrl-C does, once the first migration runs
        asked.append(stored_actions(ctx, uuid)[0].state)
        return "ONGOING" in asked

    result = execute_plan(ctx, uuid, interrupt=interrupt)
    assert result.state == "PAUSED"
    first, second = stored_actions(ctx, uuid)
    assert (first.state, second.state) == ("SUCCEEDED", "PENDING")
    with ctx.database.session() as session:
        from optimizer.db.action_plans import get_action_plan

        assert get_action_plan(session, uuid).owner is None  # anyone may go on at once
    resume_plan(ctx, uuid)
    assert execute_plan(ctx, uuid).state == "SUCCEEDED"
    assert cloud.host_of("h1-v1") == "h3"


def test_an_interrupt_with_nothing_left_ends_the_plan(ctx):
    uuid = store_plan(ctx, [{"type": "sleep", "parameters": {"duration": 0.1}, "parents": []}])
    calls = []  # interrupted while the only action runs: it ends, and so does the plan
    result = execute_plan(ctx, uuid, interrupt=lambda: calls.append(1) or len(calls) > 1)
    assert len(calls) > 1 and result.state == "SUCCEEDED"
    assert plan_row(ctx, uuid).state == "SUCCEEDED"
