"""Observability: Prometheus metrics, health checks and state-change logs.

The engine reports what happens through :func:`current_metrics`, the process's
metrics sink: a no-op until a service installs a real
:class:`~optimizer.observability.metrics.Metrics` with :func:`set_metrics`
(``optimizer serve`` does), so commands and tests pay nothing and never
import prometheus_client. Each hook in the engine is one call, e.g.
``current_metrics().audit_ended(state, strategy)``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optimizer.observability.metrics import Metrics


class NoMetrics:
    """The sink when nothing is measured: every hook does nothing."""

    enabled = False

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        # cached on the instance: the next call finds a plain attribute at once
        setattr(self, name, _nothing)
        return _nothing


def _nothing(*_args: Any, **_kwargs: Any) -> None:
    return None


_current: NoMetrics | Metrics = NoMetrics()


def current_metrics() -> NoMetrics | Metrics:
    """Where this process's hooks report to (a no-op unless a service set one)."""
    return _current


def set_metrics(sink: Metrics | None) -> NoMetrics | Metrics:
    """Make ``sink`` (None: nothing) the process's metrics; returns the previous one."""
    global _current
    previous, _current = _current, sink if sink is not None else NoMetrics()
    return previous
