"""vm_workload_consolidation: relieve overloaded hosts, then run on as few hosts as possible."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from optimizer.models.snapshot import CPU_SIZINGS, ClusterSnapshot
from optimizer.strategies.base import Strategy
from optimizer.strategies.consolidation import ConsolidationProblem, consolidate
from optimizer.strategies.moves import consolidation_indicators, disable_emptied, order_moves
from optimizer.strategies.parameters import param
from optimizer.strategies.solution import Indicator, Solution


@dataclass(frozen=True)
class ConsolidationParameters:
    target_cpu_load: float = param(
        0.8, help="Highest CPU load (busy cores / usable cores) any host may carry after the plan.",
        minimum=0.05, maximum=1.0)
    cpu_sizing: str = param(
        "mean", help="How an instance's CPU demand is sized from its series: mean, a percentile "
        "or the peak over the audit window.", choices=CPU_SIZINGS)
    migration_weight: float = param(
        0.3, help="How much keeping many instances in place counts against keeping the most "
        "allocation in place when choosing which hosts to keep: higher means fewer migrations "
        "but more moved memory.", minimum=0.0, maximum=10.0)
    disable_emptied_hosts: bool = param(
        True, help="Disable the compute service of every host the plan empties.")
    keep_failover: int = param(
        0, minimum=0, maximum=1000,
        help="Hosts that may fail at once after the plan with every instance still "
             "rebuildable elsewhere (optimizer readiness); hosts the plan would empty stay "
             "on until the check passes. 0 turns the check off.")


def plan_consolidation(snapshot: ClusterSnapshot, params: ConsolidationParameters) -> Solution:
    """Pack instances onto as few hosts as possible without overloading any.

    Optimizes:
        Active hosts first, then migrations and moved memory. Hosts above the
        target CPU load are relieved first; then the least-used hosts are
        emptied onto the fullest ones that still have room, and the emptied
        hosts are disabled so the scheduler leaves them empty.
    Metrics:
        Each instance's CPU use (cpu_util, or its series when cpu_sizing is not
        mean). Allocation comes from flavors, reserves and allocation ratios.
    Parameters:
        target_cpu_load caps every host's CPU load after the plan, measured
        against its physical cores (not vcpus × allocation ratio);
        cpu_sizing chooses how demand is read from the series;
        migration_weight trades migrations against moved memory;
        disable_emptied_hosts adds a change_service_state action per emptied host;
        keep_failover keeps emptied hosts enabled until K host failures could be absorbed.
    Limits:
        Hosts that are down or disabled never receive instances and keep theirs
        unless they are overloaded. Affinity groups move as one; anti-affinity
        members never share a host. Instances that are not active move cold.
        When no packing can relieve an overloaded host, the plan says so in its notes.
    """
    demand = snapshot.cpu_demand(params.cpu_sizing)
    problem = ConsolidationProblem.from_snapshot(snapshot, demand, params.target_cpu_load,
                                                 params.migration_weight)
    result = consolidate(problem)
    target = result.target
    migrations = order_moves(snapshot, target, result.reasons)
    actions: list = list(migrations)
    if params.disable_emptied_hosts:
        actions += disable_emptied(snapshot, target, "emptied by consolidation")
    load_after = np.bincount(target, weights=demand, minlength=snapshot.host_count)
    load_after = load_after / snapshot.host_cores
    indicators = consolidation_indicators(snapshot, target, migrations) + (
        Indicator("max_cpu_load_after", round(float(load_after.max(initial=0.0)), 4), "ratio",
                  "Highest host CPU load after the plan."),
    )
    solution = Solution(strategy="vm_workload_consolidation", goal="server_consolidation",
                        actions=tuple(actions), indicators=indicators, notes=tuple(result.notes))
    if not params.keep_failover:
        return solution
    from optimizer.readiness.failover import keep_failover

    return keep_failover(snapshot, solution, params.keep_failover)


strategy = Strategy(
    name="vm_workload_consolidation", goal="server_consolidation",
    parameters=ConsolidationParameters, execute=plan_consolidation,
    display_name="VM workload consolidation",
)
