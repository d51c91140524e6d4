"""Helpers for service tests: settings on a temporary database, unique topics, waiting."""
from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from optimizer.config import ServiceSettings, SimulatedSettings, load_config
from optimizer.messaging.transport import Topics


def service_settings(tmp: Path, *, database_url: str | None = None,
                     transport_url: str = "fake://", hosts: int = 8, **service):
    """Settings on a SQLite file (or ``database_url``) with a small simulated cloud."""
    url = database_url or f"sqlite:///{tmp / 'optimizer.db'}"
    base = load_config(database_url=url)
    options = {"host": "test", "heartbeat_interval_s": 0.2, "worker_timeout_s": 30.0,
               "scheduler_sync_interval_s": 0.2, "listener_enabled": False, **service}
    return dataclasses.replace(
        base, transport_url=transport_url,
        simulated=SimulatedSettings(hosts, 1, str(tmp / "cloud.db")),
        service=dataclasses.replace(ServiceSettings(), **options))


def unique_topics() -> Topics:
    """Topics of this test alone: the fake driver's queues are shared by the process."""
    tag = uuid.uuid4().hex[:8]
    return Topics(f"de-{tag}", f"applier-{tag}", f"notif-{tag}", f"nova-{tag}")


def wait_for(condition: Callable[[], object], timeout: float = 20.0, what: str = "condition"):
    """Poll ``condition`` until it is true; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
