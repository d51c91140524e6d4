"""Who works on what: live workers, claimed audits and claimed runs, in the database.

Several decision engines may share one database. A message queue hands
each request to one of them, but queues redeliver and schedulers do not
coordinate, so the work itself is claimed here with writes that only one
process can win:

* ``optimizer_workers``: each service process records a heartbeat; one
  silent for longer than the timeout is dead.
* ``optimizer_audit_claims``: which worker is running an ONGOING audit, so
  a live one can take over the audit of a dead one (a conditional update).
* ``optimizer_audit_runs``: one row per (audit, run key) — a scheduled
  time or a request id; the second insert of the same key fails, so every
  run happens once.

These tables are the services' own (APScheduler keeps its job table the
same way) and are created on service start, outside the Alembic schema.
"""
from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

LOG = logging.getLogger(__name__)

METADATA = MetaData()
WORKERS = Table(
    "optimizer_workers", METADATA,
    Column("name", String(255), primary_key=True),
    Column("role", String(40), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("heartbeat_at", Float, nullable=False),
)
AUDIT_CLAIMS = Table(
    "optimizer_audit_claims", METADATA,
    Column("audit_uuid", String(36), primary_key=True),
    Column("worker", String(255), nullable=False),
    Column("claimed_at", Float, nullable=False),
)
AUDIT_RUNS = Table(
    "optimizer_audit_runs", METADATA,
    Column("audit_uuid", String(36), primary_key=True),
    Column("run_key", String(64), primary_key=True),
    Column("worker", String(255), nullable=False),
    Column("claimed_at", Float, nullable=False),
)


def ensure_tables(engine: Engine) -> None:
    """Create the claim tables if they are missing (services starting together may race)."""
    try:
        METADATA.create_all(engine, checkfirst=True)
    except DBAPIError:
        time.sleep(0.5)  # another process was creating them: check again
        METADATA.create_all(engine, checkfirst=True)


def new_worker_name(role: str, host: str | None = None) -> str:
    """A name no other process uses: host, role, pid and a random suffix."""
    return f"{host or socket.gethostname()}:{role}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Worker:
    """One service process as the other processes see it."""

    engine: Engine
    name: str
    role: str
    host: str

    def beat(self, now: float | None = None) -> None:
        """Record that this worker is alive now."""
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            done = conn.execute(update(WORKERS).where(WORKERS.c.name == self.name)
                                .values(heartbeat_at=now)).rowcount
            if not done:
                conn.execute(insert(WORKERS).values(
                    name=self.name, role=self.role, host=self.host, pid=os.getpid(),
                    heartbeat_at=now))

    def retire(self) -> None:
        """Leave the worker list at a clean shutdown (claims stay until taken over)."""
        with self.engine.begin() as conn:
            conn.execute(delete(WORKERS).where(WORKERS.c.name == self.name))


def live_workers(engine: Engine, role: str, timeout_s: float,
                 now: float | None = None) -> list[str]:
    """Names of workers of ``role`` heard from within ``timeout_s``."""
    now = time.time() if now is None else now
    with engine.connect() as conn:
        return list(conn.scalars(select(WORKERS.c.name).where(
            WORKERS.c.role == role, WORKERS.c.heartbeat_at >= now - timeout_s)))


def claim_audit(conn, audit_uuid: str, worker: str) -> None:
    """Record ``worker`` as running ``audit_uuid`` (inside the transaction that claims it)."""
    conn.execute(delete(AUDIT_CLAIMS).where(AUDIT_CLAIMS.c.audit_uuid == audit_uuid))
    conn.execute(insert(AUDIT_CLAIMS).values(audit_uuid=audit_uuid, worker=worker,
                                             claimed_at=time.time()))


def release_audit(engine: Engine, audit_uuid: str, worker: str) -> None:
    """Forget the claim once the audit's run is over."""
    with engine.begin() as conn:
        conn.execute(delete(AUDIT_CLAIMS).where(AUDIT_CLAIMS.c.audit_uuid == audit_uuid,
                                                AUDIT_CLAIMS.c.worker == worker))


def orphaned_audits(engine: Engine, timeout_s: float,
                    now: float | None = None) -> list[tuple[str, str]]:
    """(audit uuid, worker) of claims whose worker is silent or gone."""
    now = time.time() if now is None else now
    with engine.connect() as conn:
        alive = set(conn.scalars(select(WORKERS.c.name).where(
            WORKERS.c.heartbeat_at >= now - timeout_s)))
        claims = conn.execute(select(AUDIT_CLAIMS.c.audit_uuid, AUDIT_CLAIMS.c.worker,
                                     AUDIT_CLAIMS.c.claimed_at)).all()
    # A claim younger than the timeout may belong to a worker that has not beaten yet.
    return [(a, w) for a, w, at in claims if w not in alive and at < now - timeout_s]


def stale_claims_of(engine: Engine, worker: str, timeout_s: float,
                    now: float | None = None) -> list[str]:
    """Audits ``worker`` claimed over ``timeout_s`` ago (the caller knows which still run)."""
    now = time.time() if now is None else now
    with engine.connect() as conn:
        return list(conn.scalars(select(AUDIT_CLAIMS.c.audit_uuid).where(
            AUDIT_CLAIMS.c.worker == worker, AUDIT_CLAIMS.c.claimed_at < now - timeout_s)))


def take_over(engine: Engine, audit_uuid: str, dead_worker: str, worker: str) -> bool:
    """Move the claim from ``dead_worker`` to ``worker``; False if another got there first."""
    with engine.begin() as conn:
        return conn.execute(
            update(AUDIT_CLAIMS)
            .where(AUDIT_CLAIMS.c.audit_uuid == audit_uuid, AUDIT_CLAIMS.c.worker == dead_worker)
            .values(worker=worker, claimed_at=time.time())).rowcount == 1


def claim_run(engine: Engine, audit_uuid: str, run_key: str, worker: str) -> bool:
    """True for the one caller that gets to do run ``run_key`` of the audit."""
    try:
        with engine.begin() as conn:
            conn.execute(insert(AUDIT_RUNS).values(audit_uuid=audit_uuid, run_key=run_key,
                                                   worker=worker, claimed_at=time.time()))
    except IntegrityError:
        LOG.info("audit %s run %s: already claimed by another worker", audit_uuid, run_key)
        return False
    return True
