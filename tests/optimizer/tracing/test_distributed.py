"""One trace across services over RabbitMQ: API request → decision engine → applier → actions."""
from __future__ import annotations

import socket

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import func, select

from optimizer.api.app import create_app
from optimizer.context import open_context
from optimizer.db import get_action_plan, get_audit, list_action_plans
from optimizer.db.schema import ActionRow
from optimizer.messaging.rpc import RPCDispatcher
from optimizer.services import build_service
from optimizer.tracing import TracingSettings, configure_tracing, shutdown_tracing
from tests.optimizer.db.conftest import running_in_ci
from tests.optimizer.messaging.support import service_settings, unique_topics, wait_for

RABBIT_URL = "rabbit://guest:guest@127.0.0.1:5672/"


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
    """A decision engine and an applier on RabbitMQ, an API app, spans collected here."""
    _require_rabbit()
    exporter = InMemorySpanExporter()
    settings = service_settings(tmp_path, transport_url=RABBIT_URL, hosts=16)
    topics = unique_topics()
    services = [build_service(settings, role, topics) for role in ("decision-engine", "applier")]
    # after the services: built with tracing off, they leave this configuration alone
    configure_tracing(TracingSettings(enabled=True, store=False), settings.database_url, "test",
                      exporters=[exporter])
    ctx = open_context(settings)
    for service in services:
        service.start()
    client = TestClient(create_app(ctx, RPCDispatcher(RABBIT_URL, topics)))
    yield client, ctx, exporter
    client.close()
    for service in services:
        service.stop()
    shutdown_tracing()
    ctx.close()


def _finished_plan(ctx, audit_uuid):
    with ctx.database.session() as session:
        plans = list_action_plans(session, {"audit_id": get_audit(session, audit_uuid).id})
        if plans and plans[0].state in ("SUCCEEDED", "FAILED"):
            return get_action_plan(session, plans[0].uuid)
    return None


def test_an_audit_over_rabbitmq_is_one_trace_span_by_span(deployment):
    client, ctx, exporter = deployment
    answer = client.post("/v1/audits", json={
        "goal": "server_consolidation", "strategy": "vm_workload_consolidation",
        "audit_type": "ONESHOT", "auto_trigger": True})
    assert answer.status_code == 201, answer.text
    audit_uuid = answer.json()["uuid"]
    plan = wait_for(lambda: _finished_plan(ctx, audit_uuid), timeout=60, what="the plan ran")
    assert plan.state == "SUCCEEDED"
    wait_for(lambda: any(s.name == "rpc launch_plan" for s in exporter.get_finished_spans()),
             what="the applier's last span")

    spans = exporter.get_finished_spans()
    by_id = {s.context.span_id: s for s in spans}
    (request,) = [s for s in spans if s.name == "POST /v1/audits"]
    assert {s.context.trace_id for s in spans} == {request.context.trace_id}

    def parent(span):
        return by_id[span.parent.span_id].name

    (trigger,) = [s for s in spans if s.name == "rpc trigger_audit"]
    (audit,) = [s for s in spans if s.name == "audit"]
    (launch,) = [s for s in spans if s.name == "rpc launch_plan"]
    (run,) = [s for s in spans if s.name == "action plan"]
    assert parent(trigger) == "POST /v1/audits"
    assert trigger.attributes["optimizer.service"] == "decision-engine"
    assert parent(audit) == "rpc trigger_audit"
    assert audit.attributes["optimizer.audit_uuid"] == audit_uuid
    for phase in ("collect", "strategy", "planner", "store"):
        (one,) = [s for s in spans if s.name == phase]
        assert parent(one) == "audit", phase
    assert parent(launch) == "rpc trigger_audit"  # auto_trigger: the engine launched it
    assert launch.attributes["optimizer.service"] == "applier"
    assert parent(run) == "rpc launch_plan"
    assert run.attributes["optimizer.plan_uuid"] == plan.uuid
    assert run.attributes["optimizer.plan_state"] == "SUCCEEDED"
    actions = [s for s in spans if s.name.startswith("action ") and s.name != "action plan"]
    with ctx.database.session() as session:
        count = session.scalar(select(func.count()).select_from(ActionRow)
                               .where(ActionRow.action_plan_id == plan.id))
    assert len(actions) == count > 0
    assert all(parent(a) == "action plan" for a in actions)
    assert {a.attributes["optimizer.state"] for a in actions} == {"SUCCEEDED"}
    assert all(run.start_time <= a.start_time and a.end_time <= run.end_time for a in actions)
