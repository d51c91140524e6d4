"""The datasource interface: one aggregated value per resource for one metric.

A datasource may also answer histories (:class:`HistoryDatasource`): one
metric for many resources over a time range, on a common time grid.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

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


@dataclass(frozen=True)
class MetricHistory:
    """One metric for the resources asked for, on a common time grid.

    ``values[i, t]`` is resource ``keys[i]`` at ``times[t]`` (unix seconds),
    NaN where the datasource had no sample (a hole). ``missing`` lists the
    keys without a single sample; ``errors`` what was wrong with individual
    series or samples (they were skipped).
    """

    metric: str
    keys: tuple[str, ...]
    times: np.ndarray   # (T,) float64 unix seconds
    values: np.ndarray  # (N, T) float64, NaN holes
    missing: tuple[str, ...] = field(default=())
    errors: tuple[str, ...] = field(default=())

    def has_history(self) -> np.ndarray:
        """(N,) True for resources with at least one sample."""
        return ~np.isnan(self.values).all(axis=1)

    def holes(self) -> int:
        """Missing samples among the resources that have some history."""
        return int(np.isnan(self.values[self.has_history()]).sum())


@runtime_checkable
class HistoryDatasource(Protocol):
    """A datasource that also answers a metric's history for many resources at once."""

    name: str

    def history(self, metric: str, keys: Sequence[str], start: float, end: float,
                step_s: int) -> MetricHistory:
        """``metric`` of ``keys`` every ``step_s`` seconds from ``start`` to ``end``."""
        ...
