"""Spans sent to an OTLP/HTTP endpoint when one is configured."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from optimizer import tracing
from optimizer.tracing import TracingSettings, configure_tracing, shutdown_tracing


@pytest.fixture
def collector():
    """A stand-in OpenTelemetry collector: keeps the bodies POSTed to /v1/traces."""
    received: list[tuple[str, str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1/traces", received
    server.shutdown()
    server.server_close()
    thread.join()


def test_spans_reach_the_otlp_endpoint(collector):
    endpoint, received = collector
    configure_tracing(TracingSettings(enabled=True, store=False, otlp_endpoint=endpoint),
                      "unused://", "decision-engine")
    try:
        with tracing.span("audit", audit_uuid="a-1"), tracing.span("planner"):
            pass
    finally:
        shutdown_tracing()  # exports what is queued
    assert received, "nothing was sent"
    path, content_type, body = received[0]
    assert path == "/v1/traces" and content_type == "application/x-protobuf"
    request = ExportTraceServiceRequest.FromString(body)
    (resource,) = request.resource_spans
    service = {a.key: a.value.string_value for a in resource.resource.attributes}
    assert service["service.name"] == "optimizer-decision-engine"
    spans = {s.name: s for scope in resource.scope_spans for s in scope.spans}
    assert set(spans) == {"audit", "planner"}
    assert spans["planner"].parent_span_id == spans["audit"].span_id
    audit = {a.key: a.value.string_value for a in spans["audit"].attributes}
    assert audit["optimizer.audit_uuid"] == "a-1"
