"""Traces of audits and action plans, with OpenTelemetry; off unless configured.

One trace follows an audit from the API request through RPC, the decision
engine (collect, strategy, planner, store) and the applier (the plan, then
each action). ``[tracing] enabled = true`` turns it on; finished spans go to
the database (for ``optimizer audit show --trace``) and, when
``otlp_endpoint`` is set, to an OpenTelemetry collector. Across
oslo.messaging the trace travels in the RPC context as a W3C
``traceparent``.

While tracing is off, :func:`span` costs a global read, and OpenTelemetry
is never imported: read-only commands start as fast as before.
"""
from optimizer.tracing.setup import (
    TracingSettings,
    configure_tracing,
    flush_tracing,
    shutdown_tracing,
    traced_command,
)
from optimizer.tracing.spans import (
    AUDIT,
    PLAN,
    SERVICE,
    current_span,
    end_span,
    extracted,
    inject,
    is_enabled,
    span,
    start_span,
)

__all__ = ["AUDIT", "PLAN", "SERVICE", "TracingSettings", "configure_tracing", "current_span",
           "end_span", "extracted", "flush_tracing", "inject", "is_enabled", "shutdown_tracing",
           "span", "start_span", "traced_command"]
