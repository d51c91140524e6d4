"""The cluster data model: hosts, instances, server groups, and how they are built."""
from optimizer.lazy import lazy_exports

# name -> the module of this package that defines it, imported when the name is used
_EXPORTS = {
    "ScenarioError": "errors", "UserError": "errors", "Placement": "placement",
    "RESOURCES": "records", "Host": "records", "Instance": "records", "ServerGroup": "records",
    "load_scenario": "scenario", "save_scenario": "scenario", "scenario_from_dict": "scenario",
    "scenario_to_dict": "scenario", "SimulationSpec": "simulated",
    "simulate_cluster": "simulated", "ClusterSnapshot": "snapshot",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "RESOURCES", "ClusterSnapshot", "Host", "Instance", "Placement", "ScenarioError",
    "ServerGroup", "SimulationSpec", "UserError", "load_scenario", "save_scenario",
    "scenario_from_dict", "scenario_to_dict", "simulate_cluster",
]
