"""Datasources: where measured host and instance use comes from.

A datasource plugin is declared under the ``optimizer.datasources`` entry
point group. Built in: ``prometheus`` (PromQL over Prometheus's HTTP API).
"""
from optimizer.datasources.base import (
    AGGREGATES,
    METRICS,
    Datasource,
    DatasourceError,
    HistoryDatasource,
    MetricHistory,
    MetricValues,
)

__all__ = ["AGGREGATES", "METRICS", "Datasource", "DatasourceError", "HistoryDatasource",
           "MetricHistory", "MetricValues"]
