"""Health checks of a service's dependencies: the database, the broker, the collector.

:meth:`Health.run` runs every check at once, each on its own thread and
within ``timeout_s``, and answers::

    {"status": "ok" | "degraded" | "fail",
     "checks": {"database": {"status": "ok", "latency_s": 0.0012, "detail": "..."},
                "broker": {...}, "collector": {...}}}

A check that raises or times out fails (its ``error`` says why) and the
whole answer is ``fail``; one slower than ``slow_s``, or a live model not
updated for longer than its ``stale_s``, is ``degraded``. The collector's
check may read the whole cloud, so its result is reused for ``cache_s``.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

OK, DEGRADED, FAIL = "ok", "degraded", "fail"
DEFAULT_BROKER_PORTS = {"rabbit": 5672, "amqp": 5672, "kafka": 9092}


class Degraded(Exception):
    """A check that passed, but not well: its message says how."""


@dataclass(frozen=True)
class CheckResult:
    """How one check went."""

    status: str
    latency_s: float
    detail: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != FAIL

    def as_dict(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"status": self.status, "latency_s": round(self.latency_s, 6)}
        if self.detail:
            answer["detail"] = self.detail
        if self.error is not None:
            answer["error"] = self.error
        return answer


Check = Callable[[], str]


class Health:
    """Named checks, run together; see the module's docstring."""

    def __init__(self, checks: Mapping[str, Check], *, timeout_s: float = 5.0,
                 slow_s: float = 1.0):
        self.checks = dict(checks)
        self.timeout_s, self.slow_s = timeout_s, slow_s

    def run(self) -> dict[str, Any]:
        results = self.results()
        statuses = {r.status for r in results.values()}
        status = FAIL if FAIL in statuses else DEGRADED if DEGRADED in statuses else OK
        return {"status": status, "checks": {n: r.as_dict() for n, r in results.items()}}

    def results(self) -> dict[str, CheckResult]:
        """Every check's result; a hung check is left behind on its thread, not waited for."""
        pool = ThreadPoolExecutor(max_workers=max(len(self.checks), 1),
                                  thread_name_prefix="healthz")
        started = time.perf_counter()
        futures = {name: pool.submit(self._timed, check) for name, check in self.checks.items()}
        results = {}
        for name, future in futures.items():
            left = max(self.timeout_s - (time.perf_counter() - started), 0.0)
            try:
                results[name] = future.result(timeout=left)
            except FutureTimeout:
                results[name] = CheckResult(FAIL, time.perf_counter() - started,
                                            error=f"no answer within {self.timeout_s:g} s")
        pool.shutdown(wait=False)
        return results

    def _timed(self, check: Check) -> CheckResult:
        started = time.perf_counter()
        try:
            detail = check()
        except Degraded as exc:
            return CheckResult(DEGRADED, time.perf_counter() - started, str(exc))
        except Exception as exc:  # a failed check is an answer, not an error of /healthz
            return CheckResult(FAIL, time.perf_counter() - started,
                               error=f"{type(exc).__name__}: {exc}")
        spent = time.perf_counter() - started
        if spent > self.slow_s:
            return CheckResult(DEGRADED, spent, f"{detail} (slow: over {self.slow_s:g} s)")
        return CheckResult(OK, spent, detail)


def database_check(database: Any) -> Check:
    """``SELECT 1`` on a connection of ``database`` (an :class:`~optimizer.db.Database`)."""
    def check() -> str:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return f"{database.engine.dialect.name} answered"
    return check


def broker_check(transport_url: str, timeout_s: float = 3.0) -> Check:
    """A TCP connection to a host of the oslo.messaging ``transport_url`` (fake:// passes)."""
    def check() -> str:
        scheme = transport_url.partition(":")[0].lower()
        if scheme == "fake":
            return "fake:// (in this process)"
        hosts = broker_hosts(transport_url)
        if not hosts:
            raise ValueError(f"transport URL {scheme}:// names no host")
        errors = []
        for host, port in hosts:
            try:
                socket.create_connection((host, port), timeout=timeout_s).close()
                return f"{scheme}://{host}:{port} accepts connections"
            except OSError as exc:
                errors.append(f"{host}:{port}: {exc.strerror or exc}")
        raise ConnectionError("; ".join(errors))
    return check


def broker_hosts(transport_url: str) -> list[tuple[str, int]]:
    """(host, port) of every broker of an oslo.messaging transport URL."""
    from oslo_config import cfg
    from oslo_messaging import TransportURL

    parsed = TransportURL.parse(cfg.ConfigOpts(), transport_url)
    default = DEFAULT_BROKER_PORTS.get(parsed.transport or "", 5672)
    return [(h.hostname or "127.0.0.1", h.port or default) for h in parsed.hosts]


def collector_check(collector: Callable[[], Any], stale_s: float = 1200.0) -> Check:
    """The collector answers: a live model (with ``as_of``) is read as it is, and is
    degraded when older than ``stale_s``; another collector collects."""
    def check() -> str:
        source = collector()
        age = time.time() - source.as_of if hasattr(source, "as_of") else None
        snapshot = source.collect()
        detail = (f"{getattr(source, 'name', 'collector')}: {snapshot.host_count} hosts, "
                  f"{snapshot.instance_count} instances")
        if age is not None and age > stale_s:
            raise Degraded(f"{detail}; the live model last heard of the cloud {age:.0f} s ago")
        return detail if age is None else f"{detail}, {age:.1f} s old"
    return check


def cached(check: Check, seconds: float, clock: Callable[[], float] = time.monotonic) -> Check:
    """``check``, its answer (or error) reused for ``seconds``."""
    lock = threading.Lock()
    memo: dict[str, Any] = {}

    def reused() -> str:
        with lock:
            if "at" not in memo or clock() - memo["at"] > seconds:
                try:
                    memo.update(value=check(), error=None)
                except Exception as exc:
                    memo.update(value=None, error=exc)
                memo["at"] = clock()
            if memo["error"] is not None:
                raise memo["error"]
            return memo["value"]
    return reused
