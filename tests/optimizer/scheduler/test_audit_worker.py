"""An audit whose outcome cannot be stored (the database goes away) is never left stuck."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from optimizer.db import get_audit, list_action_plans
from optimizer.decision.recording import RecordRetry
from optimizer.operations import new_audit
from optimizer.scheduler import claims
from optimizer.services import build_service
from optimizer.states import AuditState
from tests.optimizer.messaging.support import service_settings, unique_topics

QUICK = RecordRetry(window_s=0.3, first_wait_s=0.02, max_wait_s=0.05)


@dataclass
class Outage:
    """The database drops every statement from the first one starting with ``trigger``,
    for ``statements`` statements (None: until :meth:`end`); or, with ``after_commit``,
    a commit of ``trigger`` goes through but its answer is lost."""

    trigger: str
    statements: int | None = None
    value: str | None = None  # only a statement with this parameter triggers
    after_commit: bool = False
    down: bool = False
    failed: int = 0
    seen: list[str] = field(default_factory=list)

    def attach(self, database) -> None:
        event.listen(database.engine, "before_cursor_execute", self._statement)
        event.listen(database.sessions, "after_commit", self._commit)

    def end(self) -> None:
        self.down, self.statements = False, 0

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(self.trigger) and self.statements != 0 \
                and (self.value is None or self.value in _values(parameters)):
            if self.after_commit:
                self.seen.append(statement)
                return
            self.down = True
        if self.down:
            if self.statements is not None:
                self.statements -= 1
                self.down = self.statements > 0
            self.failed += 1
            raise OperationalError(statement, parameters,
                                   Exception("server closed the connection unexpectedly"))

    def _commit(self, session):
        if self.seen and self.statements != 0:
            self.seen.clear()
            self.statements = 0
            self.failed += 1
            raise OperationalError("COMMIT", {}, Exception("connection lost after COMMIT"))


def _values(parameters) -> list:
    if isinstance(parameters, dict):
        return list(parameters.values())
    return list(parameters or ())


@pytest.fixture
def engine_service(tmp_path):
    """A decision engine (not started: the test drives it) with quick write retries."""
    service = build_service(service_settings(tmp_path), "decision-engine", unique_topics())
    service.audits.retry = QUICK
    yield service
    service.stop()


def _state(service, uuid):
    ctx = service.contexts[0]
    with ctx.database.session() as session:
        audit = get_audit(session, uuid)
        plans = list_action_plans(session, {"audit_id": audit.id})
        held = session.scalars(select(claims.AUDIT_CLAIMS.c.worker).where(
            claims.AUDIT_CLAIMS.c.audit_uuid == uuid)).all()
        return audit.state, len(plans), list(held)


def test_an_outage_while_the_plan_is_stored_keeps_the_claim_and_runs_again(engine_service):
    service = engine_service
    ctx, me = service.contexts[0], service.workers[0].name
    audit = new_audit(ctx, goal="dummy", strategy="dummy")
    outage = Outage("INSERT INTO ACTION_PLANS")  # down for longer than the retries last
    outage.attach(ctx.database)
    assert service.audits.handle_request(audit.uuid) == "ran"  # no exception out of it
    assert outage.failed > 1  # it was tried again
    outage.end()
    assert _state(service, audit.uuid) == (AuditState.ONGOING, 0, [me])  # still claimed
    with ctx.database.engine.begin() as conn:  # claimed long ago
        conn.execute(claims.AUDIT_CLAIMS.update().values(claimed_at=0.0))
    assert service.audits.recover_orphans() == [audit.uuid]  # the same engine goes on
    assert _state(service, audit.uuid) == (AuditState.SUCCEEDED, 1, [])


def test_a_short_outage_is_ridden_out_by_the_retries(engine_service):
    service = engine_service
    ctx = service.contexts[0]
    audit = new_audit(ctx, goal="dummy", strategy="dummy")
    outage = Outage("INSERT INTO ACTION_PLANS", statements=3)
    outage.attach(ctx.database)
    assert service.audits.handle_request(audit.uuid) == "ran"
    assert outage.failed == 3
    assert _state(service, audit.uuid) == (AuditState.SUCCEEDED, 1, [])


def test_a_commit_whose_answer_was_lost_stores_the_plan_once(engine_service):
    service = engine_service
    ctx = service.contexts[0]
    audit = new_audit(ctx, goal="dummy", strategy="dummy")
    outage = Outage("INSERT INTO ACTION_PLANS", after_commit=True)
    outage.attach(ctx.database)
    assert service.audits.handle_request(audit.uuid) == "ran"
    assert outage.failed == 1
    assert _state(service, audit.uuid) == (AuditState.SUCCEEDED, 1, [])


def test_an_outage_after_the_plan_was_stored_completes_without_a_second_plan(engine_service):
    service = engine_service
    ctx = service.contexts[0]
    audit = new_audit(ctx, goal="dummy", strategy="dummy")
    outage = Outage("UPDATE AUDITS", value=AuditState.SUCCEEDED)  # recording it fails
    outage.attach(ctx.database)
    service.audits.handle_request(audit.uuid)
    outage.end()
    assert _state(service, audit.uuid)[:2] == (AuditState.ONGOING, 1)
    with ctx.database.engine.begin() as conn:
        conn.execute(claims.AUDIT_CLAIMS.update().values(claimed_at=0.0))
    assert service.audits.recover_orphans() == [audit.uuid]
    assert _state(service, audit.uuid) == (AuditState.SUCCEEDED, 1, [])


def test_another_engine_takes_over_when_the_one_that_failed_dies(tmp_path):
    settings = service_settings(tmp_path)
    first = build_service(settings, "decision-engine", unique_topics())
    second = build_service(settings, "decision-engine", unique_topics())
    try:
        first.audits.retry = QUICK
        ctx = first.contexts[0]
        audit = new_audit(ctx, goal="dummy", strategy="dummy")
        outage = Outage("INSERT INTO ACTION_PLANS")
        outage.attach(ctx.database)
        first.audits.handle_request(audit.uuid)
        outage.end()
        first.workers[0].beat(now=0.0)  # the first engine dies: silent since 1970
        with ctx.database.engine.begin() as conn:
            conn.execute(claims.AUDIT_CLAIMS.update().values(claimed_at=0.0))
        assert second.audits.recover_orphans() == [audit.uuid]
        assert _state(second, audit.uuid) == (AuditState.SUCCEEDED, 1, [])
    finally:
        first.stop()
        second.stop()
