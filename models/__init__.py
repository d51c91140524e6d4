"""The cluster data model: hosts, instances, server groups, and how they are built."""
from models.errors import ScenarioError, UserError
from models.placement import Placement
from models.records import RESOURCES, Host, Instance, ServerGroup
from models.scenario import load_scenario, save_scenario, scenario_from_dict, scenario_to_dict
from models.simulated import SimulationSpec, simulate_cluster
from models.snapshot import ClusterSnapshot

__all__ = [
    "RESOURCES", "ClusterSnapshot", "Host", "Instance", "Placement", "ScenarioError",
    "ServerGroup", "SimulationSpec", "UserError", "load_scenario", "save_scenario",
    "scenario_from_dict", "scenario_to_dict", "simulate_cluster",
]
