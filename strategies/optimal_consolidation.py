"""optimal_consolidation: the fewest active hosts a mixed-integer program can prove."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from optimizer.models.snapshot import CPU_SIZINGS, ClusterSnapshot
from optimizer.strategies.base import Strategy
from optimizer.strategies.instance_classes import assign_members, build_classes
from optimizer.strategies.milp_model import (
    MilpOutcome,
    hosts_lower_bound,
    problem_size,
    solve_consolidation,
)
from optimizer.strategies.moves import (
    InfeasibleOrder,
    consolidation_indicators,
    disable_emptied,
    order_moves,
)
from optimizer.strategies.parameters import param
from optimizer.strategies.solution import Indicator, Solution

NAME = "optimal_consolidation"
GOAL = "server_consolidation"


@dataclass(frozen=True)
class OptimalConsolidationParameters:
    target_cpu_load: float = param(
        0.8, help="Highest CPU load (busy cores / usable cores) any receiving host may carry.",
        minimum=0.05, maximum=1.0)
    time_limit_s: float = param(
        30.0, help="Seconds the solver may spend in all before returning its best plan.",
        minimum=0.05, maximum=86400)
    mip_rel_gap: float = param(
        0.005, help="Relative optimality gap at which the solver stops.", minimum=0.0, maximum=1.0)
    max_problem_size: int = param(
        4000, help="Most variables in one model, estimated as hosts x (1 + flavor classes) + "
        "instances; larger clusters are split into blocks of hosts solved one after another.",
        minimum=100, maximum=10_000_000)
    cpu_sizing: str = param(
        "mean", help="How an instance's CPU demand is sized from its series: mean, a percentile "
        "or the peak over the audit window.", choices=CPU_SIZINGS)
    demand_bins: int = param(
        6, help="CPU demand classes per flavor: more is less conservative but a larger model.",
        minimum=1, maximum=1000)
    disable_emptied_hosts: bool = param(
        True, help="Disable the compute service of every host the plan empties.")
    keep_failover: int = param(
        0, minimum=0, maximum=1000,
        help="Hosts that may fail at once after the plan with every instance still "
             "rebuildable elsewhere (optimizer readiness); hosts the plan would empty stay "
             "on until the check passes. 0 turns the check off.")


@dataclass
class _Progress:
    """What the blocks solved so far add up to."""

    target: np.ndarray
    outcomes: list[MilpOutcome]
    failed_blocks: int = 0


def plan_optimal_consolidation(snapshot: ClusterSnapshot,
                               params: OptimalConsolidationParameters) -> Solution:
    """Pack instances onto the fewest hosts, proven optimal within a stated gap.

    Optimizes:
        Active hosts first, then the memory of the instances that move (one
        host always outweighs every migration). Instances of one flavor and
        similar CPU demand are counted as a class, so a hundred hosts solve to
        a proven gap in seconds. Emptied hosts are disabled.
    Metrics:
        Each instance's CPU use (cpu_util, or its series when cpu_sizing is not
        mean); a class is sized by its busiest member. Allocation comes from
        flavors, reserves and allocation ratios.
    Parameters:
        target_cpu_load caps each receiving host's CPU demand against its
        physical cores; time_limit_s and mip_rel_gap stop the solver;
        max_problem_size splits larger clusters into blocks of hosts;
        cpu_sizing and demand_bins size the classes; keep_failover keeps emptied
        hosts enabled until K host failures could be absorbed.
    Limits:
        Down or disabled hosts never receive and may only keep their instances.
        Anti-affinity members never share a host; affinity groups that start on
        one host end on one host. Past max_problem_size the blocks are solved
        apart, so the gap is measured against a capacity bound instead. When the
        solver finds no plan in time, the heuristic vm_workload_consolidation
        plans instead and the notes say so.
    """
    solution = _plan(snapshot, params)
    if not params.keep_failover:
        return solution
    from optimizer.readiness.failover import keep_failover

    return keep_failover(snapshot, solution, params.keep_failover)


def _plan(snapshot: ClusterSnapshot, params: OptimalConsolidationParameters) -> Solution:
    started = time.perf_counter()
    n = snapshot.instance_count
    if n == 0:
        return Solution(strategy=NAME, goal=GOAL, notes=("no instances: nothing to consolidate",))
    if not snapshot.movable.all():
        # the model has no notion of an instance that must stay; the heuristic has
        return _fallback(snapshot, params, "some instances may not move (scope or state)")
    demand = snapshot.cpu_demand(params.cpu_sizing)
    grouped = _rule_bound(snapshot)
    blocks = _host_blocks(snapshot, params, grouped)
    progress = _Progress(target=snapshot.inst_host.astype(np.int64), outcomes=[])
    deadline = started + params.time_limit_s
    for b, hosts in enumerate(blocks):
        budget = (deadline - time.perf_counter()) / (len(blocks) - b)
        _solve_block(snapshot, hosts, demand, grouped, params, budget, progress)
    if progress.failed_blocks == len(blocks):
        return _fallback(snapshot, params, "the solver found no plan within "
                         f"{params.time_limit_s:g} s ({progress.outcomes[-1].status})")
    try:
        migrations = order_moves(snapshot, progress.target, _reasons(snapshot, progress.target))
    except InfeasibleOrder as exc:
        return _fallback(snapshot, params, f"the optimal placement has no safe order: {exc}")
    solution = _solution(snapshot, params, demand, grouped, blocks, progress, migrations,
                         time.perf_counter() - started)
    if solution.indicator("optimality_gap") <= params.mip_rel_gap:
        return solution
    # not proven: the heuristic is cheap, so keep whichever plan is better
    heuristic = _fallback(snapshot, params, "it beat the solver, which did not prove its plan")
    if _score(heuristic) < _score(solution):
        return heuristic
    return solution


def _score(solution: Solution) -> tuple[float, float]:
    """(active hosts after, moved memory): smaller is better, hosts first."""
    after = solution.indicator("compute_nodes_count") or 0
    after -= solution.indicator("released_compute_nodes_count") or 0
    return after, solution.indicator("migrated_memory_gb") or 0.0


def _rule_bound(snapshot: ClusterSnapshot) -> np.ndarray:
    """(N,) instances whose server-group rule the model writes out, one class each.

    Anti-affinity members always; affinity members when their group starts on
    one host (the groups the rule is kept for).
    """
    out = np.zeros(snapshot.instance_count, dtype=bool)
    for g, policy in enumerate(snapshot.group_policies):
        members = snapshot.inst_group == g
        together = np.unique(snapshot.inst_host[members]).size == 1
        if policy == "anti-affinity" or together:
            out |= members
    return out


def _host_blocks(snapshot: ClusterSnapshot, params: OptimalConsolidationParameters,
                 grouped: np.ndarray) -> list[np.ndarray]:
    """All hosts in one model, or blocks of hosts small enough to solve one at a time.

    Blocks are dealt from hosts sorted by how full they are, so each has
    full hosts to pack onto and empty ones to release.
    """
    flavors = np.unique(snapshot.inst_size, axis=0).shape[0]
    size = problem_size(snapshot.host_count, flavors * params.demand_bins,
                        snapshot.instance_count)
    count = max(1, math.ceil(size / params.max_problem_size))
    if count == 1:
        return [np.arange(snapshot.host_count)]
    fill = (snapshot.allocated / np.maximum(snapshot.allocatable, 1e-9)).max(axis=1)
    order = np.argsort(-fill, kind="stable")
    return [np.sort(order[b::count]) for b in range(count)]


def _solve_block(snapshot, hosts, demand, grouped, params, budget, progress) -> None:
    instances = np.flatnonzero(np.isin(snapshot.inst_host, hosts))
    if instances.size == 0:
        return
    classes = build_classes(snapshot, hosts, instances, demand, params.demand_bins, grouped)
    outcome = solve_consolidation(snapshot, classes, target_cpu_load=params.target_cpu_load,
                                  time_limit_s=budget, mip_rel_gap=params.mip_rel_gap)
    progress.outcomes.append(outcome)
    if outcome.counts is None:
        progress.failed_blocks += 1
        return
    assign_members(snapshot, classes, outcome.counts, progress.target)


def _reasons(snapshot: ClusterSnapshot, target: np.ndarray) -> dict[int, str]:
    moved = np.flatnonzero(target != snapshot.inst_host)
    return {int(i): f"pack onto fewer hosts: {snapshot.host_names[snapshot.inst_host[i]]} "
            f"→ {snapshot.host_names[target[i]]} (optimal consolidation)" for i in moved}


def _global_bound(snapshot: ClusterSnapshot, demand: np.ndarray, grouped: np.ndarray,
                  params: OptimalConsolidationParameters) -> int:
    hosts = np.arange(snapshot.host_count)
    classes = build_classes(snapshot, hosts, np.arange(snapshot.instance_count), demand,
                            params.demand_bins, grouped)
    return hosts_lower_bound(snapshot, classes, params.target_cpu_load)


def _bound_gap(active: int, bound: int) -> float:
    """Relative gap of ``active`` hosts to a proven lower bound."""
    return (active - bound) / active if active else 0.0


def _solution(snapshot, params, demand, grouped, blocks, progress, migrations,
              seconds) -> Solution:
    target = progress.target
    active = int(np.count_nonzero(np.bincount(target, minlength=snapshot.host_count)))
    solver_seconds = sum(o.seconds for o in progress.outcomes)
    notes = []
    if len(blocks) == 1:
        outcome = progress.outcomes[0]
        gap = outcome.gap
        bound = outcome.hosts_lower_bound
        notes.append(f"MILP (HiGHS), {outcome.variables} variables: {outcome.status}; "
                     f"proven gap {gap:.2%}; {active} active hosts, bound {bound}; "
                     f"{solver_seconds:.1f} s")
    else:
        bound = _global_bound(snapshot, demand, grouped, params)
        gap = _bound_gap(active, bound)
        notes.append(f"problem above max_problem_size={params.max_problem_size}: solved as "
                     f"{len(blocks)} blocks of hosts, so the plan may miss moves between blocks; "
                     f"proven gap {gap:.2%} against the capacity bound of {bound} hosts")
        if progress.failed_blocks:
            notes.append(f"{progress.failed_blocks} block(s) found no plan in time and stay as "
                         "they are")
    actions: list = list(migrations)
    if params.disable_emptied_hosts:
        actions += disable_emptied(snapshot, target, "emptied by optimal consolidation")
    indicators = consolidation_indicators(snapshot, target, migrations) + (
        Indicator("optimality_gap", round(gap, 6), "ratio",
                  "Proven relative gap between the plan and the best possible one."),
        Indicator("solver_seconds", round(solver_seconds, 3), "s", "Time spent in HiGHS."),
        Indicator("model_blocks", len(blocks), "blocks",
                  "Models solved: 1 unless the cluster was split for size."),
        Indicator("heuristic_fallback", 0, "bool", "1 when the heuristic planned instead."),
    )
    return Solution(strategy=NAME, goal=GOAL, actions=tuple(actions), indicators=indicators,
                    notes=tuple(notes))


def _fallback(snapshot: ClusterSnapshot, params: OptimalConsolidationParameters,
              why: str) -> Solution:
    """The heuristic's plan, labelled as such, when the solver cannot deliver one."""
    from optimizer.strategies.vm_workload_consolidation import strategy as heuristic

    solution = heuristic.run(snapshot, {"target_cpu_load": params.target_cpu_load,
                                        "cpu_sizing": params.cpu_sizing,
                                        "disable_emptied_hosts": params.disable_emptied_hosts})
    demand = snapshot.cpu_demand(params.cpu_sizing)
    bound = _global_bound(snapshot, demand, _rule_bound(snapshot), params)
    gap = _bound_gap(int(_score(solution)[0]), bound)
    extra = tuple(i for i in (
        Indicator("optimality_gap", round(gap, 6), "ratio",
                  "Proven relative gap of active hosts to the capacity bound."),
        Indicator("heuristic_fallback", 1, "bool", "1 when the heuristic planned instead."),
    ) if solution.indicator(i.name) is None)
    return Solution(strategy=NAME, goal=GOAL, actions=solution.actions,
                    indicators=solution.indicators + extra,
                    notes=(f"fell back to vm_workload_consolidation: {why}",) + solution.notes)


# goal-only audits skip it: with its time limit it would make every such audit slow
strategy = Strategy(name=NAME, goal=GOAL, parameters=OptimalConsolidationParameters,
                    execute=plan_optimal_consolidation, display_name="Optimal consolidation (MILP)",
                    auto_select=False)
