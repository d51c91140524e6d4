"""`optimizer serve` as separate processes over RabbitMQ and PostgreSQL.

Two decision engines and an applier run as subprocesses on a fresh
PostgreSQL schema; audits dispatched over RPC (each request sent twice)
are each run once; after one engine is killed the other handles new audits
and takes over the audit the dead one had claimed. Without RabbitMQ or
PostgreSQL the test is skipped locally and fails under CI.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from optimizer.config import load_config
from optimizer.context import open_context
from optimizer.db import get_audit, list_action_plans, set_audit_state
from optimizer.messaging.rpc import RPCDispatcher
from optimizer.messaging.transport import Topics
from optimizer.operations import new_audit
from optimizer.scheduler import claims
from tests.optimizer.db.conftest import SchemaFactory, _require_postgres, running_in_ci
from tests.optimizer.messaging.support import wait_for

RABBIT_URL = os.environ.get("OPTIMIZER_TEST_RABBIT_URL", "rabbit://guest:guest@127.0.0.1:5672/")
OPTIMIZER = Path(sys.executable).with_name("optimizer")


def _require_rabbit() -> None:
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=3).close()
    except OSError as exc:
        reason = f"RabbitMQ at 127.0.0.1:5672 unreachable: {exc}"
        if running_in_ci():
            pytest.fail(reason + " (CI is set, so this is a failure)", pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def deployment(tmp_path):
    """A config file on a fresh schema with topics of this run alone."""
    _require_postgres()
    _require_rabbit()
    schemas = SchemaFactory("test_serve")
    tag = uuid.uuid4().hex[:8]
    config = tmp_path / "optimizer.conf"
    config.write_text(f"""[DEFAULT]
transport_url = {RABBIT_URL}
host = serve-test
[database]
connection = {schemas.url()}
[service]
heartbeat_interval_s = 0.3
worker_timeout_s = 3
notification_topic = notif-{tag}
decision_engine_topic = de-{tag}
applier_topic = applier-{tag}
[listener]
enabled = false
[scheduler]
sync_interval_s = 0.5
[simulated]
hosts = 20
state_file = {tmp_path / 'cloud.db'}
""")
    settings = load_config(str(config))
    ctx = open_context(settings)
    ctx.collector.collect()  # the simulated cloud exists before the engines start
    claims.ensure_tables(ctx.database.engine)
    processes: list[subprocess.Popen] = []

    def start(role: str) -> subprocess.Popen:
        log = open(tmp_path / f"{role}-{len(processes)}.log", "w")  # noqa: SIM115
        process = subprocess.Popen([str(OPTIMIZER), "-v", "--config-file", str(config),
                                    "serve", "--role", role], stdout=log, stderr=log)
        processes.append(process)
        return process

    yield settings, ctx, start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()
    ctx.close()
    schemas.drop_all()


def _plans(ctx, ident):
    with ctx.database.session() as session:
        audit = get_audit(session, ident)
        return audit.state, len(list_action_plans(session, {"audit_id": audit.id}))


def _workers(ctx, role):
    with ctx.database.engine.connect() as conn:
        return list(conn.execute(select(claims.WORKERS.c.name, claims.WORKERS.c.pid)
                                 .where(claims.WORKERS.c.role == role)))


def test_engines_over_rabbitmq_run_each_audit_once_and_take_over(deployment):
    settings, ctx, start = deployment
    engines = [start("decision-engine"), start("decision-engine")]
    applier = start("applier")
    wait_for(lambda: len(_workers(ctx, "decision-engine")) == 2, 60, "two engines up")
    s = settings.service
    dispatcher = RPCDispatcher(settings.transport_url,
                               Topics(s.decision_engine_topic, s.applier_topic))
    audits = [new_audit(ctx, goal="dummy", strategy="dummy").uuid for _ in range(6)]
    for ident in audits:
        dispatcher.trigger_audit(ident)
        dispatcher.trigger_audit(ident)  # a duplicate request must not run it again
    for ident in audits:
        wait_for(lambda i=ident: _plans(ctx, i) == ("SUCCEEDED", 1), 60, f"audit {ident}")
    time.sleep(1.0)  # the duplicates have been consumed by now
    assert all(_plans(ctx, i) == ("SUCCEEDED", 1) for i in audits)

    # Kill one engine outright: new audits go to the other, and it takes
    # over an audit the dead one had claimed.
    victim = engines[0]
    dead = next(name for name, pid in _workers(ctx, "decision-engine") if pid == victim.pid)
    victim.kill()
    victim.wait()
    orphan = new_audit(ctx, goal="dummy", strategy="dummy").uuid
    with ctx.database.session() as session:
        set_audit_state(session, orphan, "ONGOING")
        claims.claim_audit(session.connection(), orphan, dead)
    later = [new_audit(ctx, goal="dummy", strategy="dummy").uuid for _ in range(3)]
    for ident in later:
        dispatcher.trigger_audit(ident)
    for ident in [*later, orphan]:
        wait_for(lambda i=ident: _plans(ctx, i) == ("SUCCEEDED", 1), 60, f"audit {ident}")

    for process in (engines[1], applier):
        process.send_signal(signal.SIGTERM)
    assert [p.wait(timeout=30) for p in (engines[1], applier)] == [0, 0]
