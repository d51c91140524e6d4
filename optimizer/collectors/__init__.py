"""Collectors build the cluster model from wherever the cloud's state lives.

A collector plugin is declared under the ``optimizer.collectors`` entry point
group and names a factory ``factory(settings) -> Collector``. Built in:
``simulated`` (the default: a simulated cloud that persists between
commands) and ``scenario`` (a ``cluster-scenario/1`` file).
"""
from optimizer.lazy import lazy_exports

# name -> the module of this package that defines it, imported when the name is used
_EXPORTS = {
    "Collector": "base", "CollectorError": "base", "open_collector": "base",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = ["Collector", "CollectorError", "open_collector"]
