"""Spans while tracing is off and on, and one in-process audit traced phase by phase."""
from __future__ import annotations

import dataclasses

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from optimizer import tracing
from optimizer.context import open_context
from optimizer.operations import new_audit, run_audit
from optimizer.tracing import TracingSettings, configure_tracing, shutdown_tracing
from tests.optimizer.messaging.support import service_settings


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    configure_tracing(TracingSettings(enabled=True, store=False), "unused://", "test",
                      exporters=[exporter])
    yield exporter
    shutdown_tracing()


def test_off_records_nothing_and_injects_nothing():
    assert not tracing.is_enabled()
    with tracing.span("work", audit_uuid="a") as current:
        assert current is None
    assert tracing.inject({}) == {}
    assert tracing.start_span("action") is None


def test_a_child_continues_the_trace_it_was_handed(spans):
    with tracing.span("request", service="api"):
        carrier = tracing.inject({})
    assert carrier["traceparent"].startswith("00-")
    with tracing.extracted(carrier), tracing.span("handler", service="decision-engine"):
        pass
    request, handler = sorted(spans.get_finished_spans(), key=lambda s: s.start_time)
    assert handler.context.trace_id == request.context.trace_id
    assert handler.parent.span_id == request.context.span_id
    assert handler.attributes["optimizer.service"] == "decision-engine"


def test_an_exception_marks_its_span_failed(spans):
    with pytest.raises(ValueError), tracing.span("broken"):
        raise ValueError("no")
    (broken,) = spans.get_finished_spans()
    assert broken.status.status_code.name == "ERROR"


def test_an_audit_has_a_span_per_phase_under_its_own(spans, tmp_path):
    ctx = open_context(service_settings(tmp_path, hosts=12))
    try:
        audit = new_audit(ctx, goal="server_consolidation", strategy="vm_workload_consolidation")
        outcome = run_audit(ctx, audit.uuid)
    finally:
        ctx.close()
    by_name = {s.name: s for s in spans.get_finished_spans()}
    root = by_name["audit"]
    assert root.attributes["optimizer.audit_uuid"] == audit.uuid
    assert root.attributes["optimizer.plan_uuid"] == outcome.action_plan_uuid
    for phase in ("collect", "strategy", "planner", "store"):
        assert by_name[phase].parent.span_id == root.context.span_id, phase
    assert by_name["collect"].attributes["optimizer.hosts"] == 12
    phases = [by_name[p] for p in ("collect", "strategy", "planner", "store")]
    assert [p.start_time for p in phases] == sorted(p.start_time for p in phases)


def test_configured_twice_only_the_second_records(tmp_path):
    first, second = InMemorySpanExporter(), InMemorySpanExporter()
    settings = TracingSettings(enabled=True, store=False)
    configure_tracing(settings, "unused://", "one", exporters=[first])
    configure_tracing(settings, "unused://", "two", exporters=[second])
    try:
        with tracing.span("x"):
            pass
    finally:
        shutdown_tracing()
    assert not first.get_finished_spans() and len(second.get_finished_spans()) == 1
    assert not configure_tracing(dataclasses.replace(settings, enabled=False), "u", "three")
    assert not tracing.is_enabled()
