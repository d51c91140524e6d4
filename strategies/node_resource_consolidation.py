"""node_resource_consolidation: pack by allocation alone, for clouds without metrics."""
from __future__ import annotations

from dataclasses import dataclass

from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.base import Strategy
from optimizer.strategies.consolidation import ConsolidationProblem, consolidate
from optimizer.strategies.moves import consolidation_indicators, disable_emptied, order_moves
from optimizer.strategies.parameters import param
from optimizer.strategies.solution import Solution


@dataclass(frozen=True)
class NodeResourceParameters:
    migration_weight: float = param(
        0.3, help="How much keeping many instances in place counts against keeping the most "
        "allocation in place when choosing which hosts to keep.", minimum=0.0, maximum=10.0)
    disable_emptied_hosts: bool = param(
        True, help="Disable the compute service of every host the plan empties.")


def plan_node_resource_consolidation(snapshot: ClusterSnapshot,
                                     params: NodeResourceParameters) -> Solution:
    """Pack instances onto as few hosts as their flavors allow, ignoring measured load.

    Optimizes:
        Active hosts first, then migrations and moved memory, using only what
        instances allocate (vcpus, memory, disk after allocation ratios and
        reserves): the least-allocated hosts are emptied onto the most
        allocated ones that still have room.
    Metrics:
        None: flavors, reserves and allocation ratios only, so it works on a
        cloud with no telemetry.
    Parameters:
        migration_weight trades migrations against moved memory;
        disable_emptied_hosts adds a change_service_state action per emptied host.
    Limits:
        CPU load is not looked at, so hosts may end up busy if the allocation
        ratios allow it: use vm_workload_consolidation where metrics exist.
        Down or disabled hosts never receive; affinity groups move as one;
        anti-affinity members never share a host; non-active instances move cold.
    """
    problem = ConsolidationProblem.from_snapshot(snapshot, snapshot.cpu_demand(), None,
                                                 params.migration_weight)
    result = consolidate(problem)
    migrations = order_moves(snapshot, result.target, result.reasons)
    actions: list = list(migrations)
    if params.disable_emptied_hosts:
        actions += disable_emptied(snapshot, result.target, "emptied by consolidation")
    return Solution(strategy="node_resource_consolidation", goal="server_consolidation",
                    actions=tuple(actions),
                    indicators=consolidation_indicators(snapshot, result.target, migrations),
                    notes=tuple(result.notes))


strategy = Strategy(
    name="node_resource_consolidation", goal="server_consolidation",
    parameters=NodeResourceParameters, execute=plan_node_resource_consolidation,
    display_name="Node resource consolidation",
)
