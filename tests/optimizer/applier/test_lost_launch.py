"""A started plan whose launch request was lost is run by recovery, exactly once."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from optimizer.applier import recover
from optimizer.db.schema import ActionPlanRow
from optimizer.db.types import utcnow
from optimizer.services import build_service
from tests.optimizer.applier.conftest import make_context, migrate, nop, plan_row, store_plan
from tests.optimizer.db.conftest import SchemaFactory, _require_postgres
from tests.optimizer.messaging.support import service_settings, unique_topics, wait_for


def started_long_ago(ctx, uuid: str, seconds: float = 600) -> None:
    """Pretend the plan became PENDING ``seconds`` ago (its launch message never came)."""
    with ctx.database.engine.begin() as conn:
        conn.execute(update(ActionPlanRow.__table__).where(ActionPlanRow.uuid == uuid)
                     .values(updated_at=utcnow() - timedelta(seconds=seconds)))


def test_recover_runs_a_forgotten_pending_plan_and_nothing_else(ctx, cloud):
    forgotten = store_plan(ctx, [migrate("h1-v0", "h1", "h2")])
    started_long_ago(ctx, forgotten)
    fresh = store_plan(ctx, [nop()])  # its applier may still be on the way
    waiting = store_plan(ctx, [nop()], state="RECOMMENDED")  # waits for a person
    started_long_ago(ctx, waiting)
    results = recover(ctx)
    assert [r.plan_uuid for r in results] == [forgotten]
    assert plan_row(ctx, forgotten).state == "SUCCEEDED"
    assert cloud.host_of("h1-v0") == "h2" and cloud.migration_count("h1-v0") == 1
    assert plan_row(ctx, fresh).state == "PENDING"
    assert plan_row(ctx, waiting).state == "RECOMMENDED"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A SQLite file, or a fresh PostgreSQL schema of this test's own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'optimizer.db'}"
        return
    _require_postgres()
    schemas = SchemaFactory("lost_launch")
    yield schemas.url()
    schemas.drop_all()


def test_several_appliers_recovering_run_a_forgotten_plan_once(tmp_path, cloud, database_url):
    contexts = [make_context(tmp_path, database_url) for _ in range(3)]
    try:
        uuid = store_plan(contexts[0], [migrate("h1-v0", "h1", "h2"), nop(parents=[0])])
        started_long_ago(contexts[0], uuid)
        results: list = []
        threads = [threading.Thread(target=lambda c=c: results.extend(recover(c)))
                   for c in contexts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert [r.plan_uuid for r in results] == [uuid]
        assert plan_row(contexts[0], uuid).state == "SUCCEEDED"
        assert cloud.migration_count("h1-v0") == 1
    finally:
        for context in contexts:
            context.close()


def test_an_applier_service_runs_a_plan_whose_launch_was_lost(tmp_path):
    settings = service_settings(tmp_path)
    service = build_service(settings, "applier", unique_topics())
    try:
        ctx = service.contexts[0]
        uuid = store_plan(ctx, [nop("lost launch")])  # started; the cast never arrived
        started_long_ago(ctx, uuid)
        service.start()
        wait_for(lambda: plan_row(ctx, uuid).state == "SUCCEEDED", what="recovered plan")
    finally:
        service.stop()


def test_a_late_launch_request_for_a_recovered_plan_is_skipped_quietly(ctx, caplog):
    from optimizer.messaging.rpc import ApplierEndpoint

    uuid = store_plan(ctx, [nop()])
    started_long_ago(ctx, uuid)
    recover(ctx)  # recovery ran it before the request came
    with caplog.at_level("INFO"):
        assert ApplierEndpoint(ctx).launch_plan({}, uuid) == "skipped"
    assert "Traceback" not in caplog.text and "only a PENDING plan" in caplog.text
    assert plan_row(ctx, uuid).state == "SUCCEEDED"
