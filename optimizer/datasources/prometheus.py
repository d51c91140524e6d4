"""Prometheus as a datasource: one PromQL query per metric for every resource.

Each metric is an instant expression returning one series per resource,
labelled with the host name or the instance uuid; the datasource wraps it in
a subquery aggregated over the audit window (``avg_over_time``,
``max_over_time`` or ``quantile_over_time``) and sends it once to
``/api/v1/query``. So an audit costs one query per metric, whatever the
cluster size. The defaults read node_exporter (hosts) and the libvirt
exporter (instances, labelled by domain uuid, which Nova sets to the
instance uuid); every expression and label is configurable.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import requests

from optimizer.datasources.base import DatasourceError, MetricValues, check_aggregate, percentile_of

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

    def query_for(self, metric: str, window_s: int, aggregate: str = "mean") -> str:
        """The PromQL sent for ``metric``."""
        try:
            expression = self.settings.expressions[metric]
        except KeyError:
            known = ", ".join(sorted(self.settings.expressions))
            raise DatasourceError(f"prometheus: unknown metric {metric!r} (known: {known})") \
                from None
        expression = expression.replace("{rate}", self.settings.rate_window)
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

    def _query(self, promql: str) -> list[dict]:
        url = self.settings.url.rstrip("/") + "/api/v1/query"
        self.queries += 1
        try:
            response = self.session.get(url, params={"query": promql},
                                        timeout=self.settings.timeout_s)
        except requests.RequestException as exc:
            raise DatasourceError(f"prometheus at {self.settings.url} unreachable: {exc}") \
                from None
        try:
            body = response.json()
        except ValueError:
            raise DatasourceError(f"prometheus at {url}: HTTP {response.status_code}, "
                                  f"not JSON: {response.text[:200]!r}") from None
        if response.status_code != 200 or body.get("status") != "success":
            raise DatasourceError(f"prometheus at {url}: HTTP {response.status_code}: "
                                  f"{body.get('errorType')}: {body.get('error')} "
                                  f"(query {promql})")
        data = body.get("data", {})
        if data.get("resultType") != "vector":
            raise DatasourceError(f"prometheus: query returned {data.get('resultType')!r}, "
                                  f"not a vector (query {promql})")
        return data.get("result", [])
