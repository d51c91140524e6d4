"""Pause, resume and cancel while a plan runs."""
from __future__ import annotations

import pytest

from optimizer.applier import execute_plan, pause_plan, resume_plan
from optimizer.operations import cancel_action_plan
from optimizer.states import IllegalTransition
from tests.optimizer.applier.conftest import migrate, store_plan, stored_actions


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
