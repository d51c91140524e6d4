"""RPC between services on the fake transport: audits run once, orphans are taken over."""
from __future__ import annotations

import threading

import pytest

from optimizer.db import get_audit, list_action_plans, open_database
from optimizer.operations import new_audit
from optimizer.scheduler import claims
from optimizer.services import build_service
from optimizer.states import AuditState
from tests.optimizer.messaging.support import service_settings, unique_topics, wait_for


@pytest.fixture
def engines(tmp_path):
    """Two decision engines on one database and one topic, started."""
    settings = service_settings(tmp_path)
    topics = unique_topics()
    services = [build_service(settings, "decision-engine", topics) for _ in range(2)]
    for service in services:
        service.start()
    yield services
    for service in services:
        service.stop()


def _audit(service, uuid):
    with service.contexts[0].database.session() as session:
        audit = get_audit(session, uuid)
        plans = list_action_plans(session, {"audit_id": audit.id})
        return audit, plans


def test_rpc_trigger_runs_the_audit(engines):
    one = engines[0]
    audit = new_audit(one.contexts[0], goal="dummy", strategy="dummy")
    one.dispatcher.trigger_audit(audit.uuid)
    wait_for(lambda: _audit(one, audit.uuid)[0].state == AuditState.SUCCEEDED, what="audit")
    _, plans = _audit(one, audit.uuid)
    assert [p.state for p in plans] == ["RECOMMENDED"]


def test_repeated_triggers_run_each_audit_once(engines):
    one = engines[0]
    uuids = [new_audit(one.contexts[0], goal="dummy", strategy="dummy").uuid for _ in range(4)]
    for uuid in uuids:
        for _ in range(3):  # the same request delivered three times
            one.dispatcher.trigger_audit(uuid)
    for uuid in uuids:
        wait_for(lambda u=uuid: _audit(one, u)[0].state == AuditState.SUCCEEDED, what=uuid)
    for uuid in uuids:
        wait_for(lambda u=uuid: _audit(one, u)[1], what=f"plan of {uuid}")
    for service in engines:  # handle every message still queued, then stop
        service.stop()
    database = open_database(one.settings.database_url)
    with database.session() as session:
        for uuid in uuids:
            audit = get_audit(session, uuid)
            assert len(list_action_plans(session, {"audit_id": audit.id})) == 1, uuid
    database.close()
    engines[:] = []


def test_two_workers_claiming_one_audit_run_it_once(tmp_path):
    settings = service_settings(tmp_path)
    services = [build_service(settings, "decision-engine", unique_topics()) for _ in range(2)]
    try:
        audit = new_audit(services[0].contexts[0], goal="dummy", strategy="dummy")
        results = []
        threads = [threading.Thread(target=lambda s=s: results.append(
            s.audits.handle_request(audit.uuid))) for s in services]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results)[0] == "ran" and results.count("ran") == 1, results
        assert len(_audit(services[0], audit.uuid)[1]) == 1
    finally:
        for service in services:
            service.stop()


def test_a_live_engine_takes_over_the_audit_of_a_dead_one(tmp_path):
    settings = service_settings(tmp_path)
    service = build_service(settings, "decision-engine", unique_topics())
    try:
        ctx = service.contexts[0]
        audit = new_audit(ctx, goal="dummy", strategy="dummy")
        dead = claims.Worker(ctx.database.engine, "gone:decision-engine:1", "decision-engine",
                             "gone")
        dead.beat(now=0.0)  # silent since 1970
        with ctx.database.session() as session:
            from optimizer.db import set_audit_state

            set_audit_state(session, audit.uuid, AuditState.ONGOING)
            claims.claim_audit(session.connection(), audit.uuid, dead.name)
        with ctx.database.engine.begin() as conn:  # claimed long ago
            conn.execute(claims.AUDIT_CLAIMS.update().values(claimed_at=0.0))
        assert service.audits.recover_orphans() == [audit.uuid]
        found, plans = _audit(service, audit.uuid)
        assert found.state == AuditState.SUCCEEDED and len(plans) == 1
        assert service.audits.recover_orphans() == []  # claim released
    finally:
        service.stop()


def test_a_pending_audit_whose_request_was_lost_is_run(tmp_path):
    settings = service_settings(tmp_path)
    service = build_service(settings, "decision-engine", unique_topics())
    try:
        ctx = service.contexts[0]
        lost = new_audit(ctx, goal="dummy", strategy="dummy")
        fresh = new_audit(ctx, goal="dummy", strategy="dummy")
        with ctx.database.session() as session:  # created long before the timeout
            from datetime import UTC, datetime

            from optimizer.db import get_audit

            get_audit(session, lost.uuid).created_at = datetime(2020, 1, 1, tzinfo=UTC)
        assert service.audits.recover_orphans() == [lost.uuid]
        assert _audit(service, lost.uuid)[0].state == AuditState.SUCCEEDED
        assert _audit(service, fresh.uuid)[0].state == AuditState.PENDING
    finally:
        service.stop()


def test_unknown_audit_request_is_skipped(engines):
    assert engines[0].audits.handle_request("6d1f3a3e-0000-4000-8000-000000000000") == \
        "not found"
