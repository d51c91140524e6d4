"""A context on a small simulated cloud, with metrics installed for the test."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from optimizer.config import load_config
from optimizer.context import Context, open_context
from optimizer.observability import set_metrics
from optimizer.observability.metrics import Metrics


@pytest.fixture
def ctx(tmp_path) -> Iterator[Context]:
    config = tmp_path / "optimizer.conf"
    config.write_text(f"[database]\nconnection = sqlite:///{tmp_path / 'optimizer.db'}\n"
                      f"[simulated]\nhosts = 8\nseed = 3\nstate_file = {tmp_path / 'cloud.db'}\n")
    context = open_context(load_config(str(config)))
    yield context
    context.close()


@pytest.fixture
def metrics() -> Iterator[Metrics]:
    sink = Metrics()
    previous = set_metrics(sink)
    yield sink
    set_metrics(previous)


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    """The value of one series (0 when absent)."""
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value
