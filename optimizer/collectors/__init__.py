"""Collectors build the cluster model from wherever the cloud's state lives.

A collector plugin is declared under the ``optimizer.collectors`` entry point
group and names a factory ``factory(settings) -> Collector``. Built in:
``simulated`` (the default: a simulated cloud that persists between
commands) and ``scenario`` (a ``cluster-scenario/1`` file).
"""
from optimizer.collectors.base import Collector, CollectorError, open_collector

__all__ = ["Collector", "CollectorError", "open_collector"]
