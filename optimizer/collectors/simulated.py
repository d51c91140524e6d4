"""The simulated cloud as a collector: the default, needing nothing else running."""
from __future__ import annotations

from typing import TYPE_CHECKING

from optimizer.cloud.simulated import SimulatedCloud
from optimizer.models.simulated import SimulationSpec, simulate_cluster
from optimizer.models.snapshot import ClusterSnapshot

if TYPE_CHECKING:
    from optimizer.config import Settings


class SimulatedCollector:
    """Reads the simulated cloud's state file, creating the cloud on first use."""

    name = "simulated"

    def __init__(self, cloud: SimulatedCloud, spec: SimulationSpec):
        self.cloud = cloud
        self.spec = spec

    def collect(self) -> ClusterSnapshot:
        if self.cloud.is_empty:
            self.cloud.load(simulate_cluster(self.spec))
        return self.cloud.snapshot(name=f"simulated-h{self.spec.hosts}-s{self.spec.seed}")


def simulated_collector(settings: Settings) -> SimulatedCollector:
    """Entry point factory: the cloud at ``[simulated] state_file``."""
    spec = SimulationSpec(hosts=settings.simulated.hosts, seed=settings.simulated.seed)
    return SimulatedCollector(SimulatedCloud(settings.simulated.state_file), spec)
