"""Running audits inside a decision-engine service: claim, run, hand on, release.

Every way an audit reaches a decision engine — an RPC request, a schedule
firing, a take-over — ends here, and every one first wins a claim in the
database, so an audit run happens exactly once however many engines run:

* a ONESHOT (or new EVENT) audit is claimed by its PENDING → ONGOING change,
  which only one transaction can make;
* an ONGOING EVENT audit runs once per request id, a CONTINUOUS one once
  per scheduled time (:func:`optimizer.scheduler.claims.claim_run`);
* the audit of a worker that stopped beating is taken over by a conditional
  update of its claim, and run again by the engine that won it;
* an audit whose outcome could not be written (the database stayed away
  longer than the engine's bounded retries) keeps its claim: the same
  engine runs it again at a later heartbeat, once the database is back, and
  another engine takes it over if this one dies meanwhile. A claim is only
  released once the outcome is stored.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from optimizer.context import Context
from optimizer.db import get_audit, set_audit_state
from optimizer.db.errors import ConcurrentUpdate, NotFound
from optimizer.db.schema import ActionPlanRow, AuditRow
from optimizer.decision.recording import OutcomeNotRecorded, RecordRetry, unreachable
from optimizer.dispatch import Dispatcher
from optimizer.scheduler import claims
from optimizer.states import ActionPlanState, AuditState, AuditType, IllegalTransition
from optimizer.tracing import span

LOG = logging.getLogger(__name__)


@dataclass
class AuditWorker:
    """A decision engine's way of running audits it has claimed."""

    ctx: Context
    dispatcher: Dispatcher
    worker: claims.Worker
    # called when a CONTINUOUS audit is requested, so its schedule is made now
    on_continuous: Callable[[str], None] = lambda uuid: None
    timeout_s: float = 30.0
    retry: RecordRetry = field(default_factory=RecordRetry)
    # audits this process is running now: its own claims on any other are leftovers
    _running: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle_request(self, audit_uuid: str, request_id: str | None = None) -> str:
        """Act on a request to run ``audit_uuid``; returns what was done, for logs and tests."""
        try:
            audit = self._audit(audit_uuid)
        except NotFound:
            LOG.warning("audit %s requested but not found: skipped", audit_uuid)
            return "not found"
        if audit.audit_type == AuditType.CONTINUOUS:
            self.on_continuous(audit.uuid)
            return "scheduled"
        if audit.state == AuditState.PENDING:
            if not self._claim_pending(audit.uuid):
                return "taken by another worker"
        elif audit.audit_type == AuditType.EVENT and audit.state == AuditState.ONGOING:
            key = request_id or "unnamed"
            if not claims.claim_run(self.ctx.database.engine, audit.uuid, key, self.worker.name):
                return "taken by another worker"
            with self.ctx.database.engine.begin() as conn:
                claims.claim_audit(conn, audit.uuid, self.worker.name)
        else:
            LOG.info("audit %s is %s: nothing to run", audit.uuid, audit.state)
            return f"skipped ({audit.state})"
        self._run(audit.uuid)
        return "ran"

    def run_scheduled(self, audit_uuid: str, run_key: str) -> str:
        """One firing of a CONTINUOUS audit's schedule; a no-op unless this worker wins it."""
        if not claims.claim_run(self.ctx.database.engine, audit_uuid, run_key, self.worker.name):
            return "taken by another worker"
        try:
            audit = self._audit(audit_uuid)
        except NotFound:
            return "not found"
        if audit.state != AuditState.ONGOING:
            LOG.info("audit %s is %s: scheduled run %s skipped", audit_uuid, audit.state,
                     run_key)
            return f"skipped ({audit.state})"
        with span("scheduled run", service="scheduler", audit_uuid=audit_uuid, run_key=run_key):
            self._execute(audit_uuid)
        return "ran"

    def recover_orphans(self) -> list[str]:
        """Take over and rerun audits whose worker died, or whose outcome this worker could
        not store; returns their uuids."""
        taken = []
        engine = self.ctx.database.engine
        with self._lock:
            running = set(self._running)
        leftovers = [(a, self.worker.name) for a in claims.stale_claims_of(
            engine, self.worker.name, self.timeout_s) if a not in running]
        for audit_uuid, dead in leftovers + claims.orphaned_audits(engine, self.timeout_s):
            if not claims.take_over(engine, audit_uuid, dead, self.worker.name):
                continue
            try:
                audit = self._audit(audit_uuid)
            except NotFound:
                claims.release_audit(engine, audit_uuid, self.worker.name)
                continue
            if audit.state != AuditState.ONGOING or audit.audit_type == AuditType.CONTINUOUS:
                claims.release_audit(engine, audit_uuid, self.worker.name)
                continue
            if dead == self.worker.name:
                LOG.warning("audit %s: its outcome was not stored; %s runs it again",
                            audit_uuid, dead)
            else:
                LOG.warning("audit %s: worker %s is gone, %s takes it over", audit_uuid, dead,
                            self.worker.name)
            taken.append(audit_uuid)
            self._run(audit_uuid)
        # a request lost with a dead worker (taken off the queue, never claimed)
        for audit_uuid in self._forgotten():
            if self.handle_request(audit_uuid) == "ran":
                LOG.warning("audit %s: its request was lost, %s ran it", audit_uuid,
                            self.worker.name)
                taken.append(audit_uuid)
        return taken

    def _forgotten(self) -> list[str]:
        """ONESHOT audits still PENDING well after they were created."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self.timeout_s)
        with self.ctx.database.session() as session:
            return list(session.scalars(
                select(AuditRow.uuid).where(AuditRow.state == AuditState.PENDING,
                                            AuditRow.audit_type == AuditType.ONESHOT,
                                            AuditRow.created_at < cutoff)
                .order_by(AuditRow.id).limit(50)))

    # ----- helpers -----------------------------------------------------------

    def _audit(self, uuid: str):
        with self.ctx.database.session() as session:
            return get_audit(session, uuid)

    def _claim_pending(self, uuid: str) -> bool:
        try:
            with self.ctx.database.session() as session:
                # ONGOING → ONGOING would "succeed" for a second claimant: the
                # write must find the audit still PENDING.
                set_audit_state(session, uuid, AuditState.ONGOING, expect=AuditState.PENDING)
                claims.claim_audit(session.connection(), uuid, self.worker.name)
        except (ConcurrentUpdate, IllegalTransition) as exc:
            LOG.info("audit %s already claimed: %s", uuid, exc)
            return False
        return True

    def _run(self, uuid: str) -> None:
        """Run a claimed audit; release the claim once its outcome is stored, keep it else."""
        with self._lock:
            self._running.add(uuid)
        try:
            self._execute(uuid)
        except OutcomeNotRecorded as exc:
            LOG.error("audit %s: %s; it stays claimed by %s and runs again once the "
                      "database is back", uuid, exc, self.worker.name)
            return
        except Exception as exc:
            if not unreachable(exc):
                self._release(uuid)
                raise
            LOG.error("audit %s: the database failed (%s); it stays claimed by %s and runs "
                      "again once the database is back", uuid, exc, self.worker.name)
            return
        finally:
            with self._lock:
                self._running.discard(uuid)
        self._release(uuid)

    def _release(self, uuid: str) -> None:
        engine, name = self.ctx.database.engine, self.worker.name
        try:
            self.retry.run(f"releasing audit {uuid}",
                           lambda: claims.release_audit(engine, uuid, name))
        except OutcomeNotRecorded as exc:  # the next heartbeat finds the claim and settles it
            LOG.error("%s", exc)

    def _execute(self, uuid: str) -> None:
        engine = dataclasses.replace(self.ctx.decision_engine(), retry=self.retry)
        outcome = engine.run_audit(uuid)
        LOG.info("audit %s: %s (plan %s) on %s", uuid, outcome.state,
                 outcome.action_plan_uuid, self.worker.name)
        if outcome.action_plan_uuid and self._audit(uuid).auto_trigger \
                and self._plan_state(outcome.action_plan_uuid) == ActionPlanState.RECOMMENDED:
            from optimizer.operations import auto_start

            plan = auto_start(self.ctx, outcome.action_plan_uuid)
            if plan.state == ActionPlanState.PENDING:
                self.dispatcher.launch_plan(plan.uuid)

    def _plan_state(self, plan_uuid: str) -> str | None:
        """A plan completed after an interruption may have been started already."""
        with self.ctx.database.session() as session:
            return session.scalar(select(ActionPlanRow.state)
                                  .where(ActionPlanRow.uuid == plan_uuid))
