"""Finished spans kept in the optimizer's database, and read back per audit."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select

from optimizer.db.engine import Database
from optimizer.db.schema import TraceSpanRow
from optimizer.tracing.spans import AUDIT, SERVICE

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredSpan:
    """A span as :func:`spans_of_audit` reads it back."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    service: str | None
    start_ns: int
    end_ns: int
    status: str
    attributes: dict[str, Any]

    @property
    def seconds(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9


def span_rows(spans: Sequence[Any], default_service: str) -> list[dict[str, Any]]:
    """Rows of ``trace_spans`` for OpenTelemetry's finished (SDK ``ReadableSpan``) spans."""
    rows = []
    for item in spans:
        context = item.context
        attributes = {k: _plain(v) for k, v in (item.attributes or {}).items()}
        parent = item.parent
        rows.append({
            "trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}",
            "parent_id": f"{parent.span_id:016x}" if parent is not None else None,
            # the service is named on entry spans; the report passes it down to the rest
            "name": item.name[:255],
            "service": attributes.get(SERVICE) or (default_service if parent is None else None),
            "audit_uuid": attributes.get(AUDIT), "start_ns": item.start_time,
            "end_ns": item.end_time or item.start_time,
            "status": item.status.status_code.name, "attributes": attributes,
        })
    return rows


class DatabaseSpanExporter:
    """An OpenTelemetry span exporter writing to ``trace_spans``; never raises.

    It opens its own connection pool, so exports (from the batch processor's
    thread) never wait on the requests of the process.
    """

    def __init__(self, database_url: str, service: str):
        from optimizer.db import open_database

        self.database: Database = open_database(database_url, create=False)
        self.service = service

    def export(self, spans: Sequence[Any]) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        try:
            with self.database.session() as session:
                session.execute(insert(TraceSpanRow), span_rows(spans, self.service))
        except Exception as exc:  # a lost trace must never cost the work it traced
            LOG.warning("tracing: %d span(s) not stored: %s", len(spans), exc)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.database.close()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def spans_of_audit(session, audit_uuid: str) -> list[StoredSpan]:
    """Every stored span of the newest trace that touched ``audit_uuid``, oldest first."""
    newest = session.execute(
        select(TraceSpanRow.trace_id).where(TraceSpanRow.audit_uuid == audit_uuid)
        .order_by(TraceSpanRow.start_ns.desc()).limit(1)).scalar()
    if newest is None:
        return []
    rows = session.scalars(select(TraceSpanRow).where(TraceSpanRow.trace_id == newest)
                           .order_by(TraceSpanRow.start_ns, TraceSpanRow.id))
    return [StoredSpan(r.trace_id, r.span_id, r.parent_id, r.name, r.service, r.start_ns,
                       r.end_ns, r.status, dict(r.attributes or {})) for r in rows]


def _plain(value: Any) -> Any:
    # attribute values may be tuples (sequences); JSON wants lists
    return list(value) if isinstance(value, tuple) else value
