"""Picking up a plan whose applier died: reconciliation, takeover, fencing."""
from __future__ import annotations

import socket
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import update

from optimizer.applier import LostOwnership, PlanBusy, SimulatedActuator, execute_plan, recover
from optimizer.applier.journal import PlanJournal
from optimizer.cloud.simulated import SimulatedCloud
from optimizer.db.schema import ActionPlanRow, ActionRow
from optimizer.db.types import utcnow
from tests.optimizer.applier.conftest import migrate, nop, plan_row, store_plan, stored_actions


def dead_owner() -> str:
    """The owner name of an applier process that has exited."""
    process = subprocess.Popen(["true"])
    process.wait()
    return f"{socket.gethostname()}:{process.pid}:dead"


def crashed_plan(ctx, actions, ongoing: dict[int, str | None], owner: str | None = None,
                 heartbeat_age_s: float = 0.0) -> str:
    """A plan left ONGOING by an applier, with actions ONGOING (index -> operation)."""
    uuid = store_plan(ctx, actions, state="ONGOING")
    with ctx.database.session() as session:
        plan = session.query(ActionPlanRow).filter_by(uuid=uuid).one()
        plan.owner = owner or dead_owner()
        plan.heartbeat_at = utcnow() - timedelta(seconds=heartbeat_age_s)
        for index, operation in ongoing.items():
            session.execute(update(ActionRow).where(ActionRow.action_plan_id == plan.id,
                                                    ActionRow.index == index)
                            .values(state="ONGOING", operation=operation))
    return uuid


def test_migration_started_but_not_recorded_is_adopted(ctx, cloud):
    now = [1000.0]  # the cloud's time passes one second a round of the applier
    cloud = SimulatedCloud(cloud.path, clock=lambda: now[0])
    cloud.configure(bandwidth_mb_s=1024 / 5)
    cloud.start_migration("h1-v0", "h1", "h2", "live")  # killed before storing its id
    uuid = crashed_plan(ctx, [migrate("h1-v0", "h1", "h2"), nop(parents=[0])], {0: None})
    result = execute_plan(ctx, uuid, actuator=SimulatedActuator(cloud),
                          on_progress=lambda _: now.__setitem__(0, now[0] + 1))
    assert result.state == "SUCCEEDED", result.message
    assert cloud.migration_count("h1-v0") == 1 and len(cloud.migrations_of("h1-v0")) == 1
    assert stored_actions(ctx, uuid)[0].operation == "1"


def test_finished_migration_is_recorded_without_running_again(ctx, cloud):
    operation = cloud.start_migration("h1-v0", "h1", "h2", "live")  # done, not recorded
    uuid = crashed_plan(ctx, [migrate("h1-v0", "h1", "h2")], {0: str(operation)})
    assert execute_plan(ctx, uuid).state == "SUCCEEDED"
    assert cloud.migration_count("h1-v0") == 1
    assert stored_actions(ctx, uuid)[0].moved_memory_mb == 1024


def test_instance_already_on_destination_without_operation_succeeds(ctx, cloud):
    cloud.start_migration("h1-v0", "h1", "h2", "live")
    uuid = crashed_plan(ctx, [migrate("h1-v0", "h1", "h2")], {0: None})
    assert execute_plan(ctx, uuid).state == "SUCCEEDED"
    assert cloud.migration_count("h1-v0") == 1


def test_step_that_never_started_is_started_once(ctx, cloud):
    uuid = crashed_plan(ctx, [migrate("h1-v0", "h1", "h2")], {0: None})
    assert execute_plan(ctx, uuid).state == "SUCCEEDED"
    assert cloud.migration_count("h1-v0") == 1 and cloud.host_of("h1-v0") == "h2"


def test_a_live_applier_keeps_its_plan(ctx):
    alive = f"{socket.gethostname()}:1:someone"  # pid 1 always exists
    uuid = crashed_plan(ctx, [nop()], {}, owner=alive)
    with pytest.raises(PlanBusy, match="under applier"):
        execute_plan(ctx, uuid)


def test_a_silent_applier_is_taken_over(ctx):
    uuid = crashed_plan(ctx, [nop()], {}, owner="elsewhere:42:x", heartbeat_age_s=60)
    assert execute_plan(ctx, uuid).state == "SUCCEEDED"
    assert plan_row(ctx, uuid).owner != "elsewhere:42:x"


def test_recover_finishes_abandoned_plans_only(ctx, cloud):
    abandoned = crashed_plan(ctx, [migrate("h1-v0", "h1", "h2")], {0: None})
    busy = crashed_plan(ctx, [nop()], {}, owner="elsewhere:42:x")
    results = recover(ctx)
    assert [r.plan_uuid for r in results] == [abandoned]
    assert plan_row(ctx, abandoned).state == "SUCCEEDED"
    assert plan_row(ctx, busy).state == "ONGOING"


def test_an_applier_taken_over_cannot_write_any_more(ctx):
    uuid = store_plan(ctx, [nop()])
    first = PlanJournal(ctx.database, uuid, owner="elsewhere:1:first")
    first.claim(heartbeat_timeout_s=5)
    second = PlanJournal(ctx.database, uuid, owner="elsewhere:2:second")
    second.claim(heartbeat_timeout_s=-1)  # every heartbeat counts as stale
    with pytest.raises(LostOwnership):
        first.commit([])
    assert second.commit([]) == "ONGOING"

