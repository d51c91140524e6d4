"""When CONTINUOUS audits run next, read from the scheduler's job table.

The scheduler (:mod:`optimizer.scheduler.continuous`) keeps one APScheduler
job per live CONTINUOUS audit, with the audit's uuid as job id and the next
firing as epoch seconds (NULL while paused). The API reads that column
rather than asking a scheduler that may run in another process; until a
scheduler has started once the table does not exist and nothing is due.
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import bindparam, inspect, text
from sqlalchemy.orm import Session

JOB_TABLE = "optimizer_scheduler_jobs"
_QUERY = text(f"SELECT id, next_run_time FROM {JOB_TABLE} WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True))
_TABLE_SEEN: set[str] = set()  # engine URLs whose job table exists: it is never dropped


def next_run_times(session: Session, audit_uuids: Collection[str]) -> dict[str, datetime]:
    """The next scheduled run of each of these audits that has one."""
    if not audit_uuids or not _job_table_exists(session):
        return {}
    rows = session.execute(_QUERY, {"ids": list(audit_uuids)})
    return {uuid: datetime.fromtimestamp(epoch, UTC) for uuid, epoch in rows
            if epoch is not None}


def _job_table_exists(session: Session) -> bool:
    url = str(session.get_bind().url)
    if url not in _TABLE_SEEN and inspect(session.connection()).has_table(JOB_TABLE):
        _TABLE_SEEN.add(url)
    return url in _TABLE_SEEN
