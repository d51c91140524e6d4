"""The basic consolidation strategy: empty the least-used hosts, one at a time.

Like Watcher's ``basic`` (Sercon) strategy: hosts are scored by how much of
their CPU and memory is used; the least-used active host is emptied onto the
most-used hosts that still fit each instance, and the loop goes on with the
next least-used host. Emptied hosts are then disabled so they can be
released.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from optimizer.models.placement import Placement
from optimizer.models.records import MEMORY
from optimizer.models.snapshot import CPU_SIZINGS, ClusterSnapshot
from optimizer.strategies.base import Strategy
from optimizer.strategies.consolidation import ConsolidationProblem, consolidate
from optimizer.strategies.moves import consolidation_indicators, disable_emptied, order_moves
from optimizer.strategies.parameters import param
from optimizer.strategies.solution import Solution

NAME = "basic_consolidation"
GOAL = "server_consolidation"
_EPS = 1e-6


@dataclass(frozen=True)
class BasicConsolidationParameters:
    target_cpu_load: float = param(
        0.8, help="Highest CPU load (share of a host's physical cores) a destination may "
                  "reach.", minimum=0.05, maximum=4.0)
    max_migrations: int = param(
        0, help="Most migrations the plan may make (0: no limit).", minimum=0)
    cpu_sizing: str = param(
        "mean", help="How each instance's CPU demand is sized from its metrics.",
        choices=CPU_SIZINGS)


def plan_basic_consolidation(snapshot: ClusterSnapshot,
                             params: BasicConsolidationParameters) -> Solution:
    """Empty the least-used hosts onto the most-used ones that still fit.

    Optimizes:
        The number of active hosts (goal server_consolidation), greedily: one
        host at a time, least used first, each instance onto the most used
        host that can still take it.
    Metrics:
        cpu_util of every instance (or its series, per cpu_sizing); the
        flavors' vcpus, memory and disk for allocation.
    Parameters:
        target_cpu_load caps a destination's CPU load; max_migrations caps
        the plan's size (0: unlimited); cpu_sizing picks mean, pNN or max.
    Limits:
        Hosts above target_cpu_load are relieved first, onto hosts with room.
        Greedy, so it can miss packings a global search finds. A host is
        emptied completely or not at all; affinity groups move as one unit;
        hosts holding building, error or resized instances stay as they are;
        a host that received instances is not emptied afterwards.
    """
    demand = snapshot.cpu_demand(params.cpu_sizing)
    placement = Placement(snapshot, demand)
    reasons: dict[int, str] = {}
    notes = _relieve(placement, demand, params.target_cpu_load, reasons)
    _consolidate(placement, params, reasons)
    target = placement.inst_host
    migrations = order_moves(snapshot, target, reasons)
    disables = disable_emptied(snapshot, target, "emptied by basic_consolidation")
    return Solution(
        strategy=NAME, goal=GOAL, actions=(*migrations, *disables),
        indicators=consolidation_indicators(snapshot, target, migrations), notes=notes,
    )


def _relieve(placement: Placement, demand, target_cpu_load: float,
             reasons: dict[int, str]) -> tuple[str, ...]:
    """First move instances off hosts above the target load (Sercon itself never would)."""
    snap = placement.snapshot
    problem = ConsolidationProblem.from_snapshot(snap, demand, target_cpu_load)
    relief = consolidate(problem, keep_all=True)
    for i in np.flatnonzero(relief.target != snap.inst_host).tolist():
        placement.move(i, int(relief.target[i]))
        reasons[i] = relief.reasons.get(i, "relieve an overloaded host")
    return tuple(relief.notes)


def _consolidate(placement: Placement, params: BasicConsolidationParameters,
                 reasons: dict[int, str]) -> None:
    """Empty hosts one at a time, least used first, keeping only complete emptyings."""
    snap = placement.snapshot
    by_host = _instances_by_host(snap)
    frozen = np.zeros(snap.host_count, dtype=bool)
    frozen[snap.inst_host[~snap.movable]] = True
    # candidates: active hosts we may empty; released: emptied, never a destination again
    candidate = (placement.count > 0) & snap.can_receive & ~frozen
    released = np.zeros(snap.host_count, dtype=bool)
    weight = (snap.inst_size / np.maximum(snap.inst_size.max(axis=0, initial=0), _EPS)).sum(axis=1)
    budget = params.max_migrations or np.inf
    used = 0
    while candidate.any():
        score = np.where(candidate, _scores(placement, params.target_cpu_load), np.inf)
        src = int(np.argmin(score))
        candidate[src] = False
        members = by_host.get(src, [])
        if len(members) > budget - used:
            continue
        units = _units(snap, members, weight)
        moved = _empty_host(placement, src, units, ~released, params.target_cpu_load)
        if moved is None:
            continue
        used += len(moved)
        released[src] = True
        for i, dest in moved:
            candidate[dest] = False  # it is filling up: emptying it would move twice
            reasons[i] = (f"empty {snap.host_names[src]} (least used host) onto "
                          f"{snap.host_names[dest]}")
        if used >= budget:
            break


def _instances_by_host(snap: ClusterSnapshot) -> dict[int, list[int]]:
    order = np.argsort(snap.inst_host, kind="stable")
    hosts = snap.inst_host[order]
    bounds = np.flatnonzero(np.diff(hosts)) + 1
    return {int(snap.inst_host[chunk[0]]): chunk.tolist()
            for chunk in np.split(order, bounds) if len(chunk)}


def _scores(placement: Placement, target_load: float) -> np.ndarray:
    """(H,) how used each host is: mean of CPU load over target and memory share."""
    snap = placement.snapshot
    memory = placement.allocated[:, MEMORY] / np.maximum(snap.allocatable[:, MEMORY], _EPS)
    return (placement.load / target_load + memory) / 2


def _empty_host(placement: Placement, src: int, units: list[list[int]], allowed: np.ndarray,
                target_load: float) -> list[tuple[int, int]] | None:
    """Move every unit off ``src``; undo and return None if one does not fit."""
    moved: list[tuple[int, int]] = []
    for unit in units:
        dest = _best_destination(placement, unit, allowed, target_load)
        if dest is None:
            for i, _ in reversed(moved):
                placement.move(i, src)
            return None
        for i in unit:
            placement.move(i, dest)
            moved.append((i, dest))
    return moved


def _units(snap: ClusterSnapshot, members: list[int], weight: np.ndarray) -> list[list[int]]:
    """Instances that move together (affinity groups as one), biggest first."""
    groups: dict[int, list[int]] = {}
    units: list[list[int]] = []
    for i in members:
        g = int(snap.inst_group[i])
        if g >= 0 and snap.group_policies[g] == "affinity":
            groups.setdefault(g, []).append(i)
        else:
            units.append([i])
    units.extend(groups.values())
    units.sort(key=lambda unit: (-float(weight[unit].sum()), unit[0]))
    return units


def _best_destination(placement: Placement, unit: list[int], allowed: np.ndarray,
                      target_load: float) -> int | None:
    """The most used host that fits the whole unit, or None."""
    if len(unit) == 1:
        ok = placement.fitting_hosts(unit[0], target_load) & allowed
    else:
        ok = _fitting_unit(placement, unit, target_load) & allowed
    if not ok.any():
        return None
    return int(np.argmax(np.where(ok, _scores(placement, target_load), -np.inf)))


def _fitting_unit(placement: Placement, unit: list[int], target_load: float) -> np.ndarray:
    """(H,) hosts that can take every instance of an affinity unit at once."""
    snap = placement.snapshot
    size = snap.inst_size[unit].sum(axis=0)
    demand = placement.demand[unit].sum()
    ok = snap.can_receive & np.all(placement.allocated + size <= snap.allocatable + _EPS, axis=1)
    ok &= placement.host_demand + demand <= target_load * snap.host_cores + _EPS
    ok[placement.inst_host[unit[0]]] = False
    return ok


strategy = Strategy(name=NAME, goal=GOAL, parameters=BasicConsolidationParameters,
                    execute=plan_basic_consolidation, display_name="Basic consolidation")
