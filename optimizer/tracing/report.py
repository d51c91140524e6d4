"""Where an audit's time went: its stored trace as an indented tree."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from optimizer.tracing.store import StoredSpan

# Beyond this many children of one name (a plan's actions), one summary line.
MAX_ALIKE = 10


def trace_lines(spans: Sequence[StoredSpan]) -> list[str]:
    """The trace as text lines: offset from its start, duration, service, span name."""
    if not spans:
        return []
    ids = {s.span_id for s in spans}
    children: dict[str | None, list[StoredSpan]] = defaultdict(list)
    for item in spans:
        children[item.parent_id if item.parent_id in ids else None].append(item)
    start = min(s.start_ns for s in spans)
    end = max(s.end_ns for s in spans)
    lines = [f"trace {spans[0].trace_id}: {len(spans)} spans over {_seconds((end - start) / 1e9)}",
             f"  {'start':>9}  {'took':>9}  {'service':<16} span"]

    def walk(parent: str | None, depth: int, service: str) -> None:
        alike: dict[str, int] = defaultdict(int)
        for item in sorted(children[parent], key=lambda s: s.start_ns):
            alike[item.name] += 1
            if alike[item.name] > MAX_ALIKE:
                continue
            lines.append(_line(item, item.service or service, start, depth))
            walk(item.span_id, depth + 1, item.service or service)
        for name, count in alike.items():
            if count > MAX_ALIKE:
                lines.append(_summary(name, [s for s in children[parent] if s.name == name],
                                      depth))

    walk(None, 0, "-")
    return lines


def trace_dicts(spans: Sequence[StoredSpan]) -> list[dict[str, Any]]:
    """The spans as JSON values, for ``--format json``."""
    return [{"trace_id": s.trace_id, "span_id": s.span_id, "parent_id": s.parent_id,
             "name": s.name, "service": s.service, "start_ns": s.start_ns,
             "seconds": round(s.seconds, 6), "status": s.status, "attributes": s.attributes}
            for s in spans]


def _line(item: StoredSpan, service: str, start: int, depth: int) -> str:
    failed = "  FAILED" if item.status == "ERROR" else ""
    return (f"  {_seconds((item.start_ns - start) / 1e9, '+'):>9}  {_seconds(item.seconds):>9}  "
            f"{service:<16} {'  ' * depth}{item.name}{failed}")


def _summary(name: str, alike: list[StoredSpan], depth: int) -> str:
    took = [s.seconds for s in alike]
    failed = sum(s.status == "ERROR" for s in alike)
    return (f"  {'':>9}  {'':>9}  {'':<16} {'  ' * depth}... {len(alike) - MAX_ALIKE} more "
            f"{name} ({len(alike)} in all: {_seconds(sum(took))} summed, slowest "
            f"{_seconds(max(took))}{f', {failed} failed' if failed else ''})")


def _seconds(value: float, sign: str = "") -> str:
    return f"{sign}{value:.3f} s"
