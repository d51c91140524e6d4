"""The datasource interface: one aggregated value per resource for one metric."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from optimizer.models.errors import UserError

DATASOURCE_GROUP = "optimizer.datasources"

#: Metrics a datasource answers, each a fraction (0..1) of the resource's size.
METRICS = ("host_cpu_util", "host_memory_util", "instance_cpu_util", "instance_memory_util")
_PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d+)?)$")
#: Aggregates over the audit window: ``pNN`` is any percentile, e.g. ``p95``.
AGGREGATES = ("mean", "max", "pNN")


class DatasourceError(UserError):
    """A datasource that cannot be configured or reached."""


def check_aggregate(aggregate: str) -> str:
    """``aggregate`` if it is ``mean``, ``max`` or ``pNN``; else :class:`DatasourceError`."""
    if aggregate in ("mean", "max") or _PERCENTILE.match(aggregate):
        return aggregate
    raise DatasourceError(f"unknown aggregate {aggregate!r}; choose mean, max or pNN (e.g. p95)")


def percentile_of(aggregate: str) -> float | None:
    """0.95 for ``p95``; None for ``mean`` and ``max``."""
    match = _PERCENTILE.match(aggregate)
    return float(match.group(1)) / 100 if match else None


@dataclass(frozen=True)
class MetricValues:
    """One metric for every resource that has data: resource key → value.

    ``errors`` holds what was wrong with individual samples (a resource
    label missing, a value that is not a number); they were skipped.
    """

    metric: str
    values: dict[str, float]
    errors: tuple[str, ...] = field(default=())


@runtime_checkable
class Datasource(Protocol):
    """Measured use of hosts (keyed by host name) and instances (by uuid)."""

    name: str

    def fetch(self, metric: str, window_s: int, aggregate: str = "mean") -> MetricValues:
        """``metric`` for all resources, aggregated over the last ``window_s`` seconds."""
        ...
