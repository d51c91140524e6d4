"""CONTINUOUS audits on APScheduler 3: one persistent job per audit.

Jobs live in the service's database (``optimizer_scheduler_jobs``), so
schedules survive restarts. An audit's ``interval`` is seconds ("600") or
a crontab line ("*/10 * * * *", read as crontab reads it: see
:mod:`optimizer.scheduler.cron`); its ``start_time`` and ``end_time`` bound
the schedule. A sync loop keeps jobs in line with audit states, whoever
changed them: a PENDING audit is claimed (ONGOING) and scheduled, a
SUSPENDED one's job paused, a resumed one's job resumed, a finished,
cancelled or deleted one's job removed, and one past its end time
SUCCEEDED.

APScheduler 3 does not coordinate several schedulers on one job store:
two decision engines may both fire the same run. The executor therefore
passes each firing's scheduled time to
:meth:`~optimizer.scheduler.audit_worker.AuditWorker.run_scheduled`, which
claims (audit, scheduled time) in the database first; the second firing
finds it claimed and does nothing.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import traceback
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from optimizer.db import list_audits, set_audit_state
from optimizer.db.errors import ConcurrentUpdate
from optimizer.db.schema import AuditRow
from optimizer.models.errors import UserError
from optimizer.scheduler.audit_worker import AuditWorker
from optimizer.scheduler.cron import crontab_trigger
from optimizer.scheduler.next_runs import JOB_TABLE
from optimizer.states import AuditState, AuditType, IllegalTransition

LOG = logging.getLogger(__name__)
LIVE_STATES = (AuditState.PENDING, AuditState.ONGOING, AuditState.SUSPENDED)


def fire_audit(audit_uuid: str) -> None:
    """The stored job's function; the claiming executor runs jobs itself instead."""
    raise RuntimeError(f"audit {audit_uuid}: schedule fired outside a decision engine")


def audit_trigger(interval: str | None, start: datetime | None = None,
                  end: datetime | None = None) -> BaseTrigger:
    """The APScheduler trigger for an audit's interval; :class:`UserError` if it is neither."""
    text = (interval or "").strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = None
    if seconds is not None:
        if seconds <= 0:
            raise UserError(f"audit interval {interval!r} must be a positive number of seconds")
        return IntervalTrigger(seconds=seconds, start_date=start, end_date=end, timezone=UTC)
    if len(text.split()) != 5:
        raise UserError(f"audit interval {interval!r} is neither seconds nor a crontab line "
                        "(minute hour day month day-of-week, e.g. '*/10 * * * *')")
    try:
        return crontab_trigger(text, start=start, end=end, timezone=UTC)
    except ValueError as exc:
        raise UserError(f"audit interval {interval!r}: {exc}") from None


class ClaimingExecutor(ThreadPoolExecutor):
    """Runs each due audit job through the worker, with the scheduled time as claim key."""

    def __init__(self, audits: AuditWorker, max_workers: int = 4):
        super().__init__(max_workers)
        self.audits = audits

    def _do_submit_job(self, job, run_times):
        def done(future):
            self._run_job_success(job.id, future.result())

        self._pool.submit(self._run, job, run_times).add_done_callback(done)

    def _run(self, job, run_times) -> list[JobExecutionEvent]:
        run_time = run_times[-1]  # coalesce: one run however many were missed
        alias = job._jobstore_alias
        try:
            outcome = self.audits.run_scheduled(job.id, run_time.isoformat())
        except Exception as exc:  # one failed run never stops the schedule
            LOG.exception("audit %s: scheduled run at %s failed", job.id, run_time)
            return [JobExecutionEvent(EVENT_JOB_ERROR, job.id, alias, run_time, exception=exc,
                                      traceback=traceback.format_exc())]
        LOG.info("audit %s: scheduled run at %s: %s", job.id, run_time, outcome)
        return [JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, alias, run_time, retval=outcome)]


class ContinuousAudits:
    """The scheduler of CONTINUOUS audits in one decision engine."""

    def __init__(self, audits: AuditWorker, sync_interval_s: float = 5.0,
                 misfire_grace_s: int = 60):
        self.audits = audits
        self.database = audits.ctx.database
        self.sync_interval_s = sync_interval_s
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.database.engine,
                                                     tablename=JOB_TABLE)},
            executors={"default": ClaimingExecutor(audits)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": misfire_grace_s},
            timezone=UTC)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._sync_loop, name="audit-schedules",
                                        daemon=True)

    def start(self) -> None:
        self.scheduler.start()
        self._thread.start()

    def shutdown(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)
        self.scheduler.shutdown(wait=True)

    def request_sync(self, audit_uuid: str | None = None) -> None:
        """Bring schedules in line soon (an audit was created or changed state)."""
        self._wake.set()

    def suspend(self, audit_uuid: str) -> None:
        """Suspend an ONGOING audit: its job pauses until :meth:`resume`."""
        with self.database.session() as session:
            set_audit_state(session, audit_uuid, AuditState.SUSPENDED, "suspended")
        self.sync()

    def resume(self, audit_uuid: str) -> None:
        """Resume a SUSPENDED audit's schedule."""
        with self.database.session() as session:
            set_audit_state(session, audit_uuid, AuditState.ONGOING, "resumed")
        self.sync()

    def sync(self) -> None:
        """Make the jobs match the CONTINUOUS audits' states, once."""
        with self._lock:
            with self.database.session() as session:
                audits = list_audits(session, {"audit_type": AuditType.CONTINUOUS,
                                               "state": list(LIVE_STATES)})
            live = set()
            for audit in audits:
                live.add(audit.uuid)
                try:
                    self._sync_one(audit)
                except (ConcurrentUpdate, IllegalTransition) as exc:
                    LOG.info("audit %s changed meanwhile: %s", audit.uuid, exc)
            for job in self.scheduler.get_jobs():
                if job.id not in live:
                    LOG.info("audit %s is no longer scheduled", job.id)
                    self._remove(job.id)

    def _sync_one(self, audit: AuditRow) -> None:
        now = datetime.now(UTC)
        if audit.end_time is not None and audit.end_time <= now:
            if audit.state != AuditState.PENDING:
                self._set_state(audit.uuid, AuditState.SUCCEEDED, "end time reached")
            else:
                self._set_state(audit.uuid, AuditState.CANCELLED, "end time passed before start")
            self._remove(audit.uuid)
            return
        if audit.state == AuditState.PENDING:
            self._set_state(audit.uuid, AuditState.ONGOING, None)
        job = self.scheduler.get_job(audit.uuid)
        if job is None or job.name != _job_name(audit):
            job = self._schedule(audit)
            if job is None:
                return
        if audit.state == AuditState.SUSPENDED and job.next_run_time is not None:
            LOG.info("audit %s suspended: schedule paused", audit.uuid)
            job.pause()
        elif audit.state != AuditState.SUSPENDED and job.next_run_time is None:
            LOG.info("audit %s resumed: schedule resumed", audit.uuid)
            job.resume()

    def _schedule(self, audit: AuditRow):
        try:
            trigger = audit_trigger(audit.interval, audit.start_time, audit.end_time)
        except UserError as exc:
            LOG.warning("audit %s cannot be scheduled: %s", audit.uuid, exc)
            self._set_state(audit.uuid, AuditState.FAILED, str(exc))
            return None
        start_now = audit.start_time is None or audit.start_time <= datetime.now(UTC)
        extra = {"next_run_time": datetime.now(UTC)} if start_now else {}
        LOG.info("audit %s scheduled: %s", audit.uuid, audit.interval)
        return self.scheduler.add_job(fire_audit, trigger, args=[audit.uuid], id=audit.uuid,
                                      name=_job_name(audit), replace_existing=True, **extra)

    def _set_state(self, uuid: str, state: str, message: str | None) -> None:
        with self.database.session() as session:
            set_audit_state(session, uuid, state, message)

    def _remove(self, uuid: str) -> None:
        with contextlib.suppress(JobLookupError):
            self.scheduler.remove_job(uuid)

    def _sync_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync()
            except Exception:  # the next round tries again
                LOG.exception("syncing audit schedules failed")
            self._wake.wait(self.sync_interval_s)
            self._wake.clear()


# Cron lines stored before weekdays were read as crontab reads them ran a day
# late; naming the rules in the job's name remakes those jobs once.
CRON_RULES = "crontab weekdays"


def _job_name(audit: AuditRow) -> str:
    # the schedule is remade when any of these change
    name = f"audit {audit.uuid} every {audit.interval} from {audit.start_time} to {audit.end_time}"
    try:
        float(audit.interval or "")
    except ValueError:
        return f"{name} ({CRON_RULES})"
    return name
