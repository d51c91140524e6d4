"""Prometheus as a datasource: one PromQL query per metric for every resource.

Each metric is an instant expression returning one series per resource,
labelled with the host name or the instance uuid; the datasource wraps it in
a subquery aggregated over the audit window (``avg_over_time``,
``max_over_time`` or ``quantile_over_time``) and sends it once to
``/api/v1/query``. So an audit costs one query per metric, whatever the
cluster size. The defaults read node_exporter (hosts) and the libvirt
exporter (instances, labelled by domain uuid, which Nova sets to the
instance uuid); every expression and label is configurable.

Histories (:meth:`PrometheusDatasource.history`) send the same expression,
unaggregated, once to ``/api/v1/query_range`` for every resource, and align
the answer on the query's own time grid, NaN where a sample is missing.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import requests

from optimizer.datasources.base import (
    DatasourceError,
    MetricHistory,
    MetricValues,
    check_aggregate,
    percentile_of,
)

LOG = logging.getLogger(__name__)

# ``{rate}`` is replaced by the rate window (e.g. 5m). Results are fractions 0..1.
DEFAULT_EXPRESSIONS: Mapping[str, str] = {
    "host_cpu_util": (
        '1 - avg by (host) (label_replace(rate(node_cpu_seconds_total{mode="idle"}[{rate}]),'
        ' "host", "$1", "instance", "([^:]+)(:[0-9]+)?"))'),
    "host_memory_util": (
        '1 - label_replace(node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes,'
        ' "host", "$1", "instance", "([^:]+)(:[0-9]+)?")'),
    "instance_cpu_util": (
        "sum by (uuid) (rate(libvirt_domain_info_cpu_time_seconds_total[{rate}]))"
        " / sum by (uuid) (libvirt_domain_info_virtual_cpus)"),
    "instance_memory_util": (
        "sum by (uuid) (libvirt_domain_info_memory_usage_bytes)"
        " / sum by (uuid) (libvirt_domain_info_maximum_memory_bytes)"),
}
#: Prometheus refuses a range query with more points than this per series.
MAX_POINTS = 11_000
DEFAULT_LABELS: Mapping[str, str] = {
    "host_cpu_util": "host", "host_memory_util": "host",
    "instance_cpu_util": "uuid", "instance_memory_util": "uuid",
}


@dataclass(frozen=True)
class PrometheusSettings:
    """Where Prometheus is, how to reach it, and what to ask it."""

    url: str = "http://127.0.0.1:9090"
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    verify_tls: bool = True
    timeout_s: float = 30.0
    rate_window: str = "5m"
    step_s: int = 60
    expressions: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_EXPRESSIONS))
    labels: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LABELS))


def window_query(expression: str, window_s: int, step_s: int, aggregate: str) -> str:
    """The PromQL aggregating ``expression`` over the last ``window_s`` seconds."""
    check_aggregate(aggregate)
    sub = f"({expression})[{int(window_s)}s:{int(step_s)}s]"
    if aggregate == "mean":
        return f"avg_over_time({sub})"
    if aggregate == "max":
        return f"max_over_time({sub})"
    return f"quantile_over_time({percentile_of(aggregate):g}, {sub})"


class PrometheusDatasource:
    """Asks one Prometheus server; ``queries`` counts the HTTP queries sent."""

    name = "prometheus"

    def __init__(self, settings: PrometheusSettings, session: requests.Session | None = None):
        self.settings = settings
        self.session = session or requests.Session()
        if settings.username is not None:
            self.session.auth = (settings.username, settings.password or "")
        self.session.verify = settings.ca_file or settings.verify_tls
        self.queries = 0

    def expression_for(self, metric: str) -> str:
        """The configured instant expression of ``metric``, rate window filled in."""
        try:
            expression = self.settings.expressions[metric]
        except KeyError:
            known = ", ".join(sorted(self.settings.expressions))
            raise DatasourceError(f"prometheus: unknown metric {metric!r} (known: {known})") \
                from None
        return expression.replace("{rate}", self.settings.rate_window)

    def query_for(self, metric: str, window_s: int, aggregate: str = "mean") -> str:
        """The PromQL sent for ``metric``."""
        expression = self.expression_for(metric)
        step = min(self.settings.step_s, max(1, int(window_s)))
        return window_query(expression, window_s, step, aggregate)

    def fetch(self, metric: str, window_s: int, aggregate: str = "mean") -> MetricValues:
        """``metric`` for every resource Prometheus has data for, from one query."""
        promql = self.query_for(metric, window_s, aggregate)
        result = self._query(promql)
        label = self.settings.labels.get(metric, DEFAULT_LABELS.get(metric, "uuid"))
        values: dict[str, float] = {}
        errors: list[str] = []
        for sample in result:
            key = sample.get("metric", {}).get(label)
            if not key:
                errors.append(f"{metric}: a series has no label {label!r}: {sample.get('metric')}")
                continue
            try:
                value = float(sample["value"][1])
            except (KeyError, IndexError, TypeError, ValueError):
                errors.append(f"{metric}: {label}={key}: unreadable value {sample.get('value')}")
                continue
            if math.isnan(value) or math.isinf(value):
                errors.append(f"{metric}: {label}={key}: value is {value}")
                continue
            values[key] = min(max(value, 0.0), 1.0)
        for error in errors:
            LOG.warning("prometheus: skipped %s", error)
        return MetricValues(metric, values, tuple(errors))

    def history(self, metric: str, keys: Sequence[str], start: float, end: float,
                step_s: int) -> MetricHistory:
        """``metric`` of every resource in ``keys``, every ``step_s`` s from ``start`` to ``end``.

        One range query for all of them. Rows follow ``keys``; resources
        Prometheus has no series for are in ``missing``, samples it skipped
        are NaN holes.
        """
        times = time_grid(start, end, step_s)
        label = self.settings.labels.get(metric, DEFAULT_LABELS.get(metric, "uuid"))
        promql = self.expression_for(metric)
        params = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}",
                  "step": f"{int(step_s)}s"}
        result = self._request("query_range", params, "matrix", promql)
        rows = {key: i for i, key in enumerate(keys)}
        values = np.full((len(keys), times.size), np.nan)
        errors: list[str] = []
        filled: set[str] = set()
        for series in result:
            key = series.get("metric", {}).get(label) if isinstance(series, dict) else None
            if not key:
                where = series.get("metric") if isinstance(series, dict) else series
                errors.append(f"{metric}: a series has no label {label!r}: {where}")
                continue
            if key not in rows:
                continue  # a resource nobody asked about (e.g. deleted since)
            if key in filled:
                errors.append(f"{metric}: {label}={key}: several series, kept the first")
                continue
            filled.add(key)
            problem = _fill_row(values[rows[key]], series.get("values"), start, step_s)
            if problem:
                errors.append(f"{metric}: {label}={key}: {problem}")
        for error in errors:
            LOG.warning("prometheus: skipped %s", error)
        empty = np.isnan(values).all(axis=1)
        missing = tuple(key for key, none in zip(keys, empty, strict=True) if none)
        return MetricHistory(metric, tuple(keys), times, values, missing, tuple(errors))

    def instance_cpu_history(self, instance_ids: Sequence[str], start: float, end: float,
                             step_s: int) -> MetricHistory:
        """``instance_cpu_util`` of ``instance_ids`` over ``start..end``: one range query."""
        return self.history("instance_cpu_util", instance_ids, start, end, step_s)

    def _query(self, promql: str) -> list[dict]:
        return self._request("query", {"query": promql}, "vector", promql)

    def _request(self, endpoint: str, params: dict[str, str], result_type: str,
                 promql: str) -> list:
        url = self.settings.url.rstrip("/") + "/api/v1/" + endpoint
        self.queries += 1
        try:
            response = self.session.get(url, params=params, timeout=self.settings.timeout_s)
        except requests.RequestException as exc:
            raise DatasourceError(f"prometheus at {self.settings.url} unreachable: {exc}") \
                from None
        try:
            body = response.json()
        except ValueError:
            raise DatasourceError(f"prometheus at {url}: HTTP {response.status_code}, "
                                  f"not JSON: {response.text[:200]!r}") from None
        if not isinstance(body, dict):
            raise DatasourceError(f"prometheus at {url}: HTTP {response.status_code}, "
                                  f"not a Prometheus answer: {str(body)[:200]!r}")
        if response.status_code != 200 or body.get("status") != "success":
            raise DatasourceError(f"prometheus at {url}: HTTP {response.status_code}: "
                                  f"{body.get('errorType')}: {body.get('error')} "
                                  f"(query {promql})")
        data = body.get("data")
        data = data if isinstance(data, dict) else {}
        if data.get("resultType") != result_type:
            article = "an" if result_type[0] in "aeiou" else "a"
            raise DatasourceError(f"prometheus: query returned {data.get('resultType')!r}, "
                                  f"not {article} {result_type} (query {promql})")
        result = data.get("result", [])
        if not isinstance(result, list):
            raise DatasourceError(f"prometheus at {url}: 'result' is not a list "
                                  f"(query {promql})")
        return result


def time_grid(start: float, end: float, step_s: int) -> np.ndarray:
    """The times a range query from ``start`` to ``end`` every ``step_s`` s evaluates at."""
    if step_s < 1:
        raise DatasourceError(f"prometheus: history step must be at least 1 s, not {step_s}")
    if not end >= start:
        raise DatasourceError(f"prometheus: history ends ({end}) before it starts ({start})")
    points = int((end - start) // step_s) + 1
    if points > MAX_POINTS:
        least = math.ceil((end - start) / (MAX_POINTS - 1))
        raise DatasourceError(f"prometheus: a history of {end - start:g} s every {step_s} s is "
                              f"{points} points a series, more than Prometheus's {MAX_POINTS}; "
                              f"use a step of at least {least} s")
    return start + step_s * np.arange(points, dtype=np.float64)


def _fill_row(row: np.ndarray, samples, start: float, step_s: int) -> str | None:
    """Put ``[[time, "value"], ...]`` on ``row``'s grid, clipped to 0..1; what was wrong, if any.

    NaN and infinite values (a division by zero in PromQL) stay holes.
    """
    if not isinstance(samples, list):
        return f"'values' is not a list: {str(samples)[:100]}"
    try:
        pairs = np.array(samples, dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError):
        return "unreadable samples, e.g. " + _first_unreadable(samples)
    slots = np.rint((pairs[:, 0] - start) / step_s)
    on_grid = (slots >= 0) & (slots < row.size)
    value = pairs[:, 1]
    finite = on_grid & np.isfinite(value)
    row[slots[finite].astype(np.int64)] = np.clip(value[finite], 0.0, 1.0)
    off = int((~on_grid).sum())
    return f"{off} samples outside the asked range" if off else None


def _first_unreadable(samples: list) -> str:
    for sample in samples:
        try:
            time, value = sample
            float(time), float(value)
        except (TypeError, ValueError):
            return repr(sample)[:100]
    return repr(samples)[:100]
