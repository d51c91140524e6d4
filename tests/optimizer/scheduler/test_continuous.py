"""CONTINUOUS audits on APScheduler: runs supersede, suspend/resume, one run per time slot."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from fastapi.testclient import TestClient
from optimizer.models.errors import UserError
from sqlalchemy import func, select

from optimizer.api import create_app
from optimizer.db import get_audit, list_action_plans
from optimizer.operations import new_audit
from optimizer.scheduler import claims
from optimizer.scheduler.continuous import audit_trigger
from optimizer.scheduler.next_runs import next_run_times
from optimizer.services import build_service
from optimizer.states import AuditType
from tests.optimizer.messaging.support import service_settings, unique_topics, wait_for


def _plans(ctx, uuid):
    with ctx.database.session() as session:
        audit = get_audit(session, uuid)
        return audit, [p.state for p in list_action_plans(session, {"audit_id": audit.id})]


@pytest.fixture
def engines(tmp_path):
    """Two decision engines with schedulers on one database (started by the test)."""
    settings = service_settings(tmp_path)
    services = [build_service(settings, "decision-engine", unique_topics()) for _ in range(2)]
    yield services
    for service in services:
        service.stop()


def test_interval_and_crontab_triggers():
    assert isinstance(audit_trigger("600"), IntervalTrigger)
    assert isinstance(audit_trigger("*/10 * * * *"), CronTrigger)
    for bad in ("0", "every hour", "61 * * * *"):
        with pytest.raises(UserError, match="interval"):
            audit_trigger(bad)


def test_continuous_audit_reruns_and_supersedes_then_suspends_and_resumes(engines):
    service = engines[0]
    service.start()
    ctx = service.contexts[0]
    audit = new_audit(ctx, goal="dummy", strategy="dummy", audit_type=AuditType.CONTINUOUS,
                      interval="1")
    service.dispatcher.trigger_audit(audit.uuid)
    wait_for(lambda: len(_plans(ctx, audit.uuid)[1]) >= 2, what="two runs")
    found, states = _plans(ctx, audit.uuid)
    assert found.state == "ONGOING"
    assert states[-1] in ("RECOMMENDED", "SUPERSEDED") and "SUPERSEDED" in states[:-1]
    assert states.count("RECOMMENDED") <= 1

    service.schedules.suspend(audit.uuid)
    assert service.schedules.scheduler.get_job(audit.uuid).next_run_time is None
    service.schedules.resume(audit.uuid)
    assert service.schedules.scheduler.get_job(audit.uuid).next_run_time is not None
    before = len(_plans(ctx, audit.uuid)[1])
    wait_for(lambda: len(_plans(ctx, audit.uuid)[1]) > before, what="a run after resuming")


def test_two_schedulers_on_one_database_run_each_firing_once(engines):
    for service in engines:
        service.start()
    ctx = engines[0].contexts[0]
    audit = new_audit(ctx, goal="dummy", strategy="dummy", audit_type=AuditType.CONTINUOUS,
                      interval="1")
    wait_for(lambda: len(_plans(ctx, audit.uuid)[1]) >= 3, what="three runs")
    for service in engines:
        service.schedules.shutdown()
        service.schedules = None
    runs = _claimed_runs(ctx, audit.uuid)
    assert len(_plans(ctx, audit.uuid)[1]) == runs  # one plan per claimed firing


def _claimed_runs(ctx, uuid) -> int:
    with ctx.database.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(claims.AUDIT_RUNS)
                           .where(claims.AUDIT_RUNS.c.audit_uuid == uuid))


def test_schedules_survive_a_restart(tmp_path):
    settings = service_settings(tmp_path)
    first = build_service(settings, "decision-engine", unique_topics())
    first.start()
    audit = new_audit(first.contexts[0], goal="dummy", strategy="dummy",
                      audit_type=AuditType.CONTINUOUS, interval="3600")
    wait_for(lambda: first.schedules.scheduler.get_job(audit.uuid), what="the job")
    first.stop()
    second = build_service(settings, "decision-engine", unique_topics())
    try:
        second.schedules.scheduler.start(paused=True)
        assert second.schedules.scheduler.get_job(audit.uuid) is not None
    finally:
        second.schedules.scheduler.shutdown(wait=False)
        second.schedules = None
        second.stop()


def test_the_api_and_the_cli_show_when_a_continuous_audit_runs_next(engines):
    service = engines[0]
    service.start()
    ctx = service.contexts[0]
    audit = new_audit(ctx, goal="dummy", strategy="dummy", audit_type=AuditType.CONTINUOUS,
                      interval="3600")
    service.dispatcher.trigger_audit(audit.uuid)
    wait_for(lambda: _next_run(ctx, audit.uuid) is not None, what="the audit scheduled")
    with TestClient(create_app(ctx, service.dispatcher)) as client:
        shown = client.get(f"/v1/audits/{audit.uuid}").json()["next_run_time"]
        listed = client.get("/v1/audits").json()["audits"][0]["next_run_time"]
        assert shown == listed
        due = datetime.fromisoformat(shown)
        now = datetime.now(UTC)
        assert now < due <= now + timedelta(seconds=3600)
        service.schedules.suspend(audit.uuid)
        assert client.get(f"/v1/audits/{audit.uuid}").json()["next_run_time"] is None
    with ctx.database.session() as session:
        assert next_run_times(session, ["no-such-audit"]) == {}


def _next_run(ctx, uuid):
    with ctx.database.session() as session:
        return next_run_times(session, [uuid]).get(uuid)
