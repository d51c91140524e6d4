"""The real Prometheus scrapes the API's /metrics and sees an audit and its plan.

Needs Debian's ``prometheus`` binary (``.ci/run`` installs it): skipped
locally without it, a failure under CI.
"""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import uvicorn

from optimizer.api import create_app
from optimizer.applier import execute_plan
from optimizer.dispatch import InProcessDispatcher
from optimizer.operations import new_audit, run_audit, start_action_plan
from tests.ci import missing

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "integration" / "openstack"))
from prometheus_server import HarnessError, PrometheusServer, free_port  # noqa: E402


@pytest.fixture
def api(ctx, metrics):
    """The API app under uvicorn on a free port, reporting to ``metrics``."""
    dispatcher = InProcessDispatcher(ctx)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx, dispatcher), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    dispatcher.close()


def query(url: str, promql: str) -> list[dict]:
    body = requests.get(url + "/api/v1/query", params={"query": promql}, timeout=10).json()
    return body["data"]["result"]


def test_prometheus_sees_the_audit_and_the_plan(ctx, api, tmp_path):
    try:
        prometheus = PrometheusServer(tmp_path / "prometheus", [api])
    except HarnessError as exc:
        missing(str(exc))
    try:
        prometheus.wait_ready()
        outcome = run_audit(ctx, new_audit(ctx, goal="server_consolidation").uuid)
        start_action_plan(ctx, outcome.action_plan_uuid)
        result = execute_plan(ctx, outcome.action_plan_uuid)
        migrated = result.progress.succeeded
        prometheus.wait_for_series(
            'optimizer_action_plans_total{state="SUCCEEDED"} == 1', 1)
        audits = query(prometheus.url, "optimizer_audits_total")
        assert [(s["metric"]["state"], s["metric"]["strategy"], s["value"][1])
                for s in audits] == [("SUCCEEDED", outcome.strategy, "1")]
        actions = query(prometheus.url, "sum(optimizer_actions_total)")
        assert float(actions[0]["value"][1]) == migrated
        planned = query(prometheus.url, "optimizer_plan_actions_sum")
        assert float(planned[0]["value"][1]) == result.progress.total
        up = query(prometheus.url, 'up{job="test"}')
        assert up[0]["value"][1] == "1"
    finally:
        prometheus.stop()
