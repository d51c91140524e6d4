"""Turning tracing on in a process: the tracer provider and where spans go."""
from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from optimizer.tracing import spans

LOG = logging.getLogger(__name__)
_provider: Any = None
QUEUE, BATCH = 100_000, 2_048  # spans waiting for export at most; spans a write


@dataclass(frozen=True)
class TracingSettings:
    """``[tracing]``: off by default; spans kept in the database, sent by OTLP when set."""

    enabled: bool = False
    store: bool = True
    otlp_endpoint: str = ""


def configure_tracing(settings: TracingSettings, database_url: str, service: str, *,
                      exporters: Sequence[Any] = ()) -> bool:
    """Record spans in this process from now on, if ``settings`` say so; True when on.

    ``service`` names this process in its spans (``api``, ``decision-engine``,
    ``applier``, ``all``, ``cli``). ``exporters`` are more span exporters,
    each fed synchronously (tests collect spans in memory with one). Calling
    it again replaces the earlier configuration.
    """
    shutdown_tracing()
    if not settings.enabled:
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    global _provider
    provider = TracerProvider(resource=Resource.create({"service.name": f"optimizer-{service}"}))
    if settings.store:
        from optimizer.tracing.store import DatabaseSpanExporter

        # a 50,000-action plan makes spans faster than the default queue (2,048) drains
        provider.add_span_processor(BatchSpanProcessor(
            DatabaseSpanExporter(database_url, service), max_queue_size=QUEUE,
            max_export_batch_size=BATCH, schedule_delay_millis=1000))
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(
            OTLPSpanExporter(endpoint=settings.otlp_endpoint), max_queue_size=QUEUE,
            max_export_batch_size=BATCH, schedule_delay_millis=1000))
    for exporter in exporters:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    _provider = provider
    spans.set_tracer(provider.get_tracer("optimizer"))
    LOG.info("tracing on for %s: spans to %s", service, ", ".join(
        where for where, on in (("the database", settings.store),
                                (settings.otlp_endpoint, bool(settings.otlp_endpoint)),
                                ("test exporters", bool(exporters))) if on) or "nowhere")
    return True


def flush_tracing() -> None:
    """Export every finished span now (before a command exits or a test reads them)."""
    if _provider is not None:
        _provider.force_flush()


def shutdown_tracing() -> None:
    """Export what is left, stop the exporters' threads and stop recording spans."""
    global _provider
    spans.set_tracer(None)
    if _provider is not None:
        provider, _provider = _provider, None
        provider.shutdown()


@contextmanager
def traced_command(settings: Any, name: str) -> Iterator[None]:
    """Trace one CLI command that works in-process (``audit create``, ``actionplan start``).

    Does nothing unless ``[tracing] enabled``; then the spans are exported
    before the command returns.
    """
    tracing = settings.tracing
    if not tracing.enabled or spans.is_enabled():
        yield
        return
    configure_tracing(tracing, settings.database_url, "cli")
    try:
        with spans.span(name, service="cli"):
            yield
    finally:
        shutdown_tracing()
