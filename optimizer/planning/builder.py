"""Turning a strategy's solution into a safe, parallel action graph.

Edges come from four rules, all computed on arrays of migrations
(:class:`~optimizer.planning.safety.Hops`):

- room and anti-affinity (:mod:`optimizer.planning.safety`): a migration into
  a host waits for the migrations out of it that make its room or take away
  the group member it must not meet;
- an instance's hops run in plan order (a detour's two hops, say);
- host state: enabling a host (service enabled, power on) comes before the
  migrations into it and disabling it after them; a host being emptied is
  disabled before the migrations off it (``disable_before_evacuation``, else
  after them; a host that is also a stop on a detour, before those planned
  after its last arrival) and powered off only after every migration off it;
  the service and power actions of one host keep their plan order.

When those edges form a cycle (two full hosts swapping instances, say), one
migration in the cycle takes a detour through a host with spare room; when
no host can take it, :class:`PlanInfeasible` names the hosts involved.
"""
from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field, replace

import networkx as nx
import numpy as np

from models.records import MEMORY
from models.snapshot import ClusterSnapshot
from optimizer.planning.config import PlanInfeasible, PlannerConfig
from optimizer.planning.graph import ActionGraph, action_duration
from optimizer.planning.safety import Hops, anti_affinity_edges, capacity_edges
from strategies.solution import Action, ChangePowerState, ChangeServiceState, Migrate, Solution

_EPS = 1e-6
MAX_DETOUR_ROUNDS = 20
ENABLING = ("enabled", "on")
DISABLING = ("disabled", "off")


def plan(snapshot: ClusterSnapshot, solution: Solution,
         config: PlannerConfig | None = None) -> ActionGraph:
    """The action graph that runs ``solution`` safely on ``snapshot``'s cluster."""
    config = config or PlannerConfig()
    actions = list(solution.actions)
    table = _read_migrations(snapshot, actions)
    controls = _read_controls(snapshot, actions)
    _check_destinations(snapshot, table, controls)
    for _ in range(MAX_DETOUR_ROUNDS):
        hops = table.frozen()
        parents, children = _edges(snapshot, len(actions), hops, controls, config)
        stuck = _cyclic_nodes(len(actions), parents, children)
        if not len(stuck):
            break
        _break_cycles(snapshot, actions, table, controls, parents, children, stuck)
    else:
        raise PlanInfeasible(f"no safe order found after {MAX_DETOUR_ROUNDS} rounds of detours")
    durations = [action_duration(a, 0.0, config) for a in actions]
    memory = snapshot.inst_size[hops.inst, MEMORY]
    for node, mb in zip(hops.node.tolist(), memory.tolist(), strict=True):
        durations[node] = action_duration(actions[node], mb, config)
    return ActionGraph.build(actions, parents.tolist(), children.tolist(), durations, config)


# ----- reading the solution ---------------------------------------------------


@dataclass
class _HopTable:
    """Migrations as growable columns; :meth:`frozen` gives the array form."""

    node: list[int] = field(default_factory=list)
    inst: list[int] = field(default_factory=list)
    src: list[int] = field(default_factory=list)
    dst: list[int] = field(default_factory=list)
    key: list[float] = field(default_factory=list)

    def append(self, node: int, inst: int, src: int, dst: int, key: float) -> None:
        self.node.append(node)
        self.inst.append(inst)
        self.src.append(src)
        self.dst.append(dst)
        self.key.append(key)

    def frozen(self) -> Hops:
        ints = {name: np.array(getattr(self, name), dtype=np.int64)
                for name in ("node", "inst", "src", "dst")}
        return Hops(key=np.array(self.key, dtype=np.float64), **ints)


def _read_migrations(snapshot: ClusterSnapshot, actions: list[Action]) -> _HopTable:
    """The solution's migrations, checked to start where their instance is at that point."""
    table = _HopTable()
    where: dict[int, int] = {}
    for node, action in enumerate(actions):
        if not isinstance(action, Migrate):
            continue
        i = snapshot.instance_id(action.instance)
        src, dst = snapshot.host_id(action.source), snapshot.host_id(action.destination)
        if src == dst:
            raise PlanInfeasible(f"action {node}: instance {action.instance} migrates from "
                                 f"host {action.source} to itself")
        here = where.get(i, int(snapshot.inst_host[i]))
        if here != src:
            raise PlanInfeasible(
                f"action {node}: instance {action.instance} is on host "
                f"{snapshot.host_names[here]} at that point, not on its source {action.source}")
        where[i] = dst
        table.append(node, i, src, dst, float(node))
    return table


@dataclass(frozen=True)
class _Control:
    """A service or power action on one host."""

    node: int
    host: int
    state: str  # enabled | disabled | on | off
    service: bool


def _read_controls(snapshot: ClusterSnapshot, actions: list[Action]) -> dict[int, list[_Control]]:
    """Service and power actions per host index, in plan order."""
    controls: dict[int, list[_Control]] = defaultdict(list)
    for node, action in enumerate(actions):
        if isinstance(action, ChangeServiceState | ChangePowerState):
            h = snapshot.host_id(action.host)
            controls[h].append(_Control(node, h, action.state,
                                        isinstance(action, ChangeServiceState)))
    return dict(controls)


def _check_destinations(snapshot: ClusterSnapshot, table: _HopTable,
                        controls: dict[int, list[_Control]]) -> None:
    """Every destination is up and enabled, or the solution brings it up and enables it."""
    for node, dst in zip(table.node, table.dst, strict=True):
        if snapshot.can_receive[dst]:
            continue
        states = {c.state for c in controls.get(dst, ())}
        name = snapshot.host_names[dst]
        if not snapshot.host_up[dst] and "on" not in states:
            raise PlanInfeasible(f"action {node}: destination host {name} is down and the "
                                 "solution does not power it on")
        if not snapshot.host_enabled[dst] and "enabled" not in states:
            raise PlanInfeasible(f"action {node}: destination host {name} is disabled and the "
                                 "solution does not enable it")


# ----- edges ------------------------------------------------------------------


def _edges(snapshot: ClusterSnapshot, n: int, hops: Hops, controls: dict[int, list[_Control]],
           config: PlannerConfig) -> tuple[np.ndarray, np.ndarray]:
    """Every dependency edge, without duplicates, as (parents, children) id arrays."""
    parts = [capacity_edges(snapshot, hops), anti_affinity_edges(snapshot, hops),
             _instance_edges(hops), _control_edges(hops, controls, config)]
    parents = np.concatenate([p for p, _ in parts])
    children = np.concatenate([c for _, c in parts])
    unique = np.unique(parents * n + children)
    return unique // n, unique % n


def _instance_edges(hops: Hops) -> tuple[np.ndarray, np.ndarray]:
    """Each hop of an instance after its previous one."""
    order = np.lexsort((hops.key, hops.inst))
    same = np.flatnonzero(hops.inst[order][1:] == hops.inst[order][:-1])
    return hops.node[order[same]], hops.node[order[same + 1]]


def _control_edges(hops: Hops, controls: dict[int, list[_Control]],
                   config: PlannerConfig) -> tuple[np.ndarray, np.ndarray]:
    """Edges between the service and power actions of a host and its migrations."""
    if not controls:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    into, out_of = np.lexsort((hops.key, hops.dst)), np.lexsort((hops.key, hops.src))
    dst_sorted, src_sorted = hops.dst[into], hops.src[out_of]
    parents: list[np.ndarray] = []
    children: list[np.ndarray] = []

    def link(before: np.ndarray | int, after: np.ndarray | int) -> None:
        before, after = np.broadcast_arrays(np.asarray(before), np.asarray(after))
        parents.append(before.ravel())
        children.append(after.ravel())

    for h, host_controls in controls.items():
        lo, hi = np.searchsorted(dst_sorted, [h, h + 1])
        arriving = hops.node[into[lo:hi]]
        last_arrival = hops.key[into[hi - 1]] if hi > lo else -math.inf
        lo, hi = np.searchsorted(src_sorted, [h, h + 1])
        leaving = hops.node[out_of[lo:hi]]
        # a host that takes instances on their way (a detour) is disabled after them,
        # so only migrations planned after its last arrival wait for the disable
        evacuating = leaving[hops.key[out_of[lo:hi]] > last_arrival]
        last_enabling = max((c.node for c in host_controls if c.state in ENABLING), default=-1)
        for earlier, later in itertools.pairwise(host_controls):
            link(earlier.node, later.node)
        for c in host_controls:
            if c.state in ENABLING:
                link(c.node, arriving)
                continue
            if c.node > last_enabling:  # disabled for good: arrivals come first
                link(arriving, c.node)
            if c.service and config.disable_before_evacuation:
                link(c.node, evacuating)
            else:
                link(leaving, c.node)
    return np.concatenate(parents).astype(np.int64), np.concatenate(children).astype(np.int64)


def _cyclic_nodes(n: int, parents: np.ndarray, children: np.ndarray) -> np.ndarray:
    """Nodes a topological sort cannot reach: those on or after a cycle."""
    waiting = np.bincount(children, minlength=n)
    order = np.argsort(parents, kind="stable")
    starts = np.searchsorted(parents[order], np.arange(n + 1))
    kids = children[order].tolist()
    starts = starts.tolist()
    waiting_list = waiting.tolist()
    ready = [node for node in range(n) if not waiting_list[node]]
    done = 0
    while ready:
        node = ready.pop()
        done += 1
        for child in kids[starts[node]:starts[node + 1]]:
            waiting_list[child] -= 1
            if not waiting_list[child]:
                ready.append(child)
    if done == n:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(np.array(waiting_list) > 0)


# ----- detours ----------------------------------------------------------------


def _break_cycles(snapshot: ClusterSnapshot, actions: list[Action], table: _HopTable,
                  controls: dict[int, list[_Control]], parents: np.ndarray,
                  children: np.ndarray, stuck: np.ndarray) -> None:
    """Detour one migration of every cycle through a host with spare room."""
    on_cycle = np.isin(parents, stuck) & np.isin(children, stuck)
    graph = nx.DiGraph()
    graph.add_edges_from(zip(parents[on_cycle].tolist(), children[on_cycle].tolist(),
                             strict=True))
    row_of = {node: row for row, node in enumerate(table.node)}
    detours = _Detours(snapshot, table, controls)
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    for cycle in sorted(cycles):
        members = set(cycle)
        waiting_for_room = [  # migrations waiting on one that leaves their destination
            row_of[node] for node in cycle if node in row_of and any(
                p in members and p in row_of
                and table.src[row_of[p]] == table.dst[row_of[node]]
                for p in graph.pred[node])]
        if not any(detours.try_split(actions, row) for row in waiting_for_room):
            hosts = sorted({snapshot.host_names[h] for node in cycle for h in (
                (table.src[row_of[node]], table.dst[row_of[node]]) if node in row_of
                else (snapshot.host_id(actions[node].host),))})
            raise PlanInfeasible(
                f"no safe order: hosts {', '.join(hosts[:10])} wait on each other "
                "and no other host has spare room for a detour")


class _Detours:
    """Hosts that can take an instance on the way: spare room whatever else arrives."""

    def __init__(self, snapshot: ClusterSnapshot, table: _HopTable,
                 controls: dict[int, list[_Control]]):
        self.snapshot, self.table = snapshot, table
        size = snapshot.inst_size[np.array(table.inst, dtype=np.int64)]
        arriving = np.zeros_like(snapshot.allocated)
        np.add.at(arriving, np.array(table.dst, dtype=np.int64), size)
        # room in the worst case: every planned arrival in, nothing out
        self.room = snapshot.allocatable - snapshot.allocated - arriving
        self.usable = snapshot.can_receive.copy()
        self.usable[list(controls)] = False  # hosts changing state are no place to wait

    def try_split(self, actions: list[Action], row: int) -> bool:
        """Replace hop ``row`` (A→B) by A→T and T→B; False when no host T fits."""
        snap, table = self.snapshot, self.table
        i, src, dst = table.inst[row], table.src[row], table.dst[row]
        ok = self.usable & np.all(self.room >= snap.inst_size[i] - _EPS, axis=1)
        ok[[src, dst]] = False
        g = int(snap.inst_group[i])
        if g >= 0 and snap.group_policies[g] == "anti-affinity":
            ok[snap.inst_host[snap.inst_group == g]] = False
            inst_group = snap.inst_group[np.array(table.inst, dtype=np.int64)]
            ok[np.array(table.dst, dtype=np.int64)[inst_group == g]] = False
        if not ok.any():
            return False
        spare = np.min((self.room - snap.inst_size[i]) / np.maximum(snap.allocatable, 1.0), axis=1)
        via = int(np.argmax(np.where(ok, spare, -np.inf)))
        self.room[via] -= snap.inst_size[i]

        node, key = table.node[row], table.key[row]
        first: Migrate = actions[node]
        via_name = snap.host_names[via]
        reason = f"detour via {via_name} to break a cycle of waiting migrations"
        actions[node] = replace(first, destination=via_name,
                                reason=f"{reason}; {first.reason}".rstrip("; "))
        actions.append(replace(first, source=via_name, reason=first.reason))
        table.dst[row] = via
        table.append(len(actions) - 1, i, via, dst, key + (math.floor(key) + 1 - key) / 2)
        return True
