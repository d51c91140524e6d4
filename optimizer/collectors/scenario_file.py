"""A ``cluster-scenario/1`` file as a collector: a fixed snapshot to audit."""
from __future__ import annotations

from typing import TYPE_CHECKING

from optimizer.collectors.base import CollectorError
from optimizer.models.scenario import load_scenario
from optimizer.models.snapshot import ClusterSnapshot

if TYPE_CHECKING:
    from optimizer.config import Settings


class ScenarioCollector:
    """Reads the snapshot from a scenario file each time it is asked."""

    name = "scenario"

    def __init__(self, path: str):
        self.path = path

    def collect(self) -> ClusterSnapshot:
        return load_scenario(self.path)


def scenario_collector(settings: Settings) -> ScenarioCollector:
    """Entry point factory: the file at ``[collector] scenario_file``."""
    if not settings.collector.scenario_file:
        raise CollectorError("collector 'scenario' needs [collector] scenario_file in the "
                             "configuration")
    return ScenarioCollector(settings.collector.scenario_file)
