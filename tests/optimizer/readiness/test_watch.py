"""The continuous readiness check: warnings when not ready, and its place in `serve`."""
from __future__ import annotations

import dataclasses
import logging

from optimizer.config import ReadinessSettings
from optimizer.readiness.watch import ReadinessWatch
from optimizer.services import build_service
from tests.builders import ClusterBuilder
from tests.optimizer.messaging.support import service_settings, unique_topics, wait_for

READY = (ClusterBuilder().hosts(3, memory_gb=16).vm("a", on="h1", memory_gb=8).build())
NOT_READY = (ClusterBuilder().hosts(2, memory_gb=16).vm("a", on="h1", memory_gb=12)
             .vm("b", on="h2", memory_gb=12).build())


def test_warns_once_while_not_ready_and_says_when_ready_again(caplog):
    clusters = iter([NOT_READY, NOT_READY, READY])
    watch = ReadinessWatch(lambda: next(clusters), interval_s=60)
    with caplog.at_level(logging.INFO, logger="optimizer.readiness.watch"):
        assert not watch.check_once().ok
        assert not watch.check_once().ok
        assert watch.check_once().ok
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert len(messages) == 2
    assert messages[0][0] == "WARNING"
    assert "NOT READY for 1 host failure(s): 2 of 2 sets fail" in messages[0][1]
    assert "strands 1 instance(s)" in messages[0][1]
    assert messages[1] == ("INFO", "cluster ready again for 1 host failure(s) "
                                   "(exact: all 1 single-host failures)")


def test_thread_checks_until_stopped():
    watch = ReadinessWatch(lambda: NOT_READY, interval_s=0.05)
    watch.start()
    try:
        wait_for(lambda: watch.last is not None, what="a first check")
    finally:
        watch.stop()
    assert not watch._thread.is_alive()
    assert watch.last.ok is False


def test_decision_engine_runs_the_watch_only_when_configured(tmp_path):
    settings = service_settings(tmp_path)
    off = build_service(settings, "decision-engine", unique_topics())
    try:
        assert off.readiness is None
    finally:
        off.stop()
    on_settings = dataclasses.replace(settings, readiness=ReadinessSettings(interval_s=60))
    service = build_service(on_settings, "decision-engine", unique_topics())
    service.start()
    try:
        wait_for(lambda: service.readiness.last is not None, what="the service's check")
        assert service.readiness.last.search == "exact: all 8 single-host failures"
    finally:
        service.stop()
    assert not service.readiness._thread.is_alive()
