"""Making spans where work happens, at almost no cost while tracing is off."""
from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

# Span attributes the trace report reads.
AUDIT = "optimizer.audit_uuid"
PLAN = "optimizer.plan_uuid"
SERVICE = "optimizer.service"

# Set by optimizer.tracing.setup; None while tracing is off.
_tracer: Any = None


def is_enabled() -> bool:
    """True when spans are recorded in this process."""
    return _tracer is not None


def set_tracer(tracer: Any) -> None:
    """Record spans with ``tracer`` from now on (None: stop recording)."""
    global _tracer
    _tracer = tracer


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[Any]:
    """A span around the block, child of the current one; an exception marks it failed."""
    tracer = _tracer
    if tracer is None:
        yield None
        return
    with tracer.start_as_current_span(name, attributes=_attributes(attributes)) as current:
        yield current


def start_span(name: str, parent: Any = None, **attributes: Any) -> Any:
    """A span ended later with :func:`end_span`, for work that outlives a block.

    ``parent`` is a span (or None for the current span): the applier's actions
    start and end in different rounds of its loop.
    """
    tracer = _tracer
    if tracer is None:
        return None
    from opentelemetry import trace

    context = trace.set_span_in_context(parent) if parent is not None else None
    return tracer.start_span(name, context=context, attributes=_attributes(attributes))


def current_span() -> Any:
    """The span the block runs in (None while tracing is off or outside any span)."""
    if _tracer is None:
        return None
    from opentelemetry import trace

    current = trace.get_current_span()
    return current if current.get_span_context().is_valid else None


def end_span(current: Any, error: str | None = None, **attributes: Any) -> None:
    """End a span of :func:`start_span`; ``error`` marks it failed with that reason."""
    if current is None:
        return
    if attributes:
        current.set_attributes(_attributes(attributes))
    if error:
        from opentelemetry.trace import Status, StatusCode

        current.set_status(Status(StatusCode.ERROR, error))
    current.end()


def inject(carrier: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Put the current trace into ``carrier`` (an RPC context) and return it."""
    if _tracer is not None:
        from opentelemetry.propagate import inject as otel_inject

        otel_inject(carrier)
    return carrier


@contextmanager
def extracted(carrier: Mapping[str, Any] | None) -> Iterator[None]:
    """Within the block, spans continue the trace ``carrier`` brought (if it brought one)."""
    if _tracer is None or not carrier or "traceparent" not in carrier:
        yield
        return
    from opentelemetry import context
    from opentelemetry.propagate import extract

    token = context.attach(extract(dict(carrier)))
    try:
        yield
    finally:
        context.detach(token)


def _attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """Keywords as attribute names (``audit_uuid`` → ``optimizer.audit_uuid``), Nones dropped."""
    return {key if "." in key else f"optimizer.{key}": value
            for key, value in values.items() if value is not None}
