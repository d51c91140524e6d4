"""The cluster data model: hosts, instances, server groups, and how they are built."""
from optimizer.models.errors import ScenarioError, UserError
from optimizer.models.placement import Placement
from optimizer.models.records import RESOURCES, Host, Instance, ServerGroup
from optimizer.models.scenario import (
    load_scenario,
    save_scenario,
    scenario_from_dict,
    scenario_to_dict,
)
from optimizer.models.simulated import SimulationSpec, simulate_cluster
from optimizer.models.snapshot import ClusterSnapshot

__all__ = [
    "RESOURCES", "ClusterSnapshot", "Host", "Instance", "Placement", "ScenarioError",
    "ServerGroup", "SimulationSpec", "UserError", "load_scenario", "save_scenario",
    "scenario_from_dict", "scenario_to_dict", "simulate_cluster",
]
