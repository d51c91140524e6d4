"""The applier's storage on SQLite and PostgreSQL: claims, fencing, a whole plan."""
from __future__ import annotations

import pytest

from optimizer.applier import LostOwnership, execute_plan, plan_progress
from optimizer.applier.journal import PlanJournal
from optimizer.db.errors import ConcurrentUpdate
from tests.optimizer.applier.conftest import make_context, migrate, nop, store_plan
from tests.optimizer.db.conftest import backend, new_url  # noqa: F401


@pytest.fixture
def ctx(tmp_path, new_url, cloud):  # noqa: F811
    context = make_context(tmp_path, new_url())
    yield context
    context.close()


def test_plan_runs_on_the_backend(ctx, cloud):
    uuid = store_plan(ctx, [migrate("h1-v0", "h1", "h2"), nop(parents=[0]),
                            {"type": "sleep", "parameters": {"duration": 0.05}}])
    result = execute_plan(ctx, uuid)
    assert result.state == "SUCCEEDED", result.message
    progress = plan_progress(ctx, uuid)
    assert (progress.succeeded, progress.moved_memory_mb) == (3, 1024)
    assert cloud.host_of("h1-v0") == "h2"


def test_of_two_claims_one_wins(ctx):
    uuid = store_plan(ctx, [nop()])
    first = PlanJournal(ctx.database, uuid, owner="elsewhere:1:first")
    second = PlanJournal(ctx.database, uuid, owner="elsewhere:2:second")
    first.claim(heartbeat_timeout_s=60)
    with pytest.raises(Exception) as caught:
        second.claim(heartbeat_timeout_s=60)
    assert "under applier elsewhere:1:first" in str(caught.value)
    assert first.commit([]) == "ONGOING"


def test_a_takeover_fences_the_old_owner(ctx):
    uuid = store_plan(ctx, [nop()])
    first = PlanJournal(ctx.database, uuid, owner="elsewhere:1:first")
    first.claim(heartbeat_timeout_s=60)
    PlanJournal(ctx.database, uuid, owner="elsewhere:2:second").claim(heartbeat_timeout_s=-1)
    with pytest.raises(LostOwnership):
        first.commit([])
    with pytest.raises((LostOwnership, ConcurrentUpdate)):
        first.finish("SUCCEEDED", "should not be written")
