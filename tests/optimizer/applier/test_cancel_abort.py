"""A cancel aborts in-flight actions that can be aborted, at once, and records them."""
from __future__ import annotations

import time

from optimizer.applier import execute_plan
from optimizer.operations import cancel_action_plan
from tests.optimizer.applier.conftest import migrate, store_plan, stored_actions


def sleep(duration: float, parents=()) -> dict:
    return {"type": "sleep", "parameters": {"duration": duration}, "parents": list(parents)}


def test_cancel_aborts_running_sleeps_at_once(ctx):
    uuid = store_plan(ctx, [sleep(20), sleep(20), sleep(0.01, parents=[0])])

    def cancel_once_running(progress):
        if progress.running == 2 and progress.state == "ONGOING":
            cancel_action_plan(ctx, uuid)

    began = time.monotonic()
    result = execute_plan(ctx, uuid, on_progress=cancel_once_running)
    assert time.monotonic() - began < 10  # not the 20 s the sleeps would take
    assert result.state == "CANCELLED"
    assert result.progress.cancelled == 3 and result.progress.succeeded == 0
    first, second, child = stored_actions(ctx, uuid)
    assert first.state == second.state == "CANCELLED"
    assert "aborted" in first.status_message and "aborted" in second.status_message
    assert (child.state, child.status_message) == ("CANCELLED", "plan cancelled")


def test_cancel_aborts_sleeps_and_migrations_together(ctx, cloud):
    cloud.configure(bandwidth_mb_s=1.0)  # a migration never ends during the test
    uuid = store_plan(ctx, [sleep(20), migrate("h1-v0", "h1", "h2")])

    def cancel_once_running(progress):
        if progress.running == 2 and progress.state == "ONGOING":
            cancel_action_plan(ctx, uuid)

    result = execute_plan(ctx, uuid, on_progress=cancel_once_running)
    assert result.state == "CANCELLED" and result.progress.cancelled == 2
    assert [a.state for a in stored_actions(ctx, uuid)] == ["CANCELLED", "CANCELLED"]
    assert [m.state for m in cloud.migrations_of("h1-v0")] == ["aborted"]
    assert cloud.host_of("h1-v0") == "h1"
