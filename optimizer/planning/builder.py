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

When those edges form a cycle (the solution lists migrations in an order that
is not safe), the planner first re-orders the migrations greedily into one
that is; when none exists (two full hosts swapping instances, say), one
migration in the cycle takes a detour through a host with spare room; when
no host can take it, :class:`PlanInfeasible` names the hosts involved.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from optimizer.models.records import MEMORY
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.planning.config import PlanInfeasible, PlannerConfig
from optimizer.planning.graph import ActionGraph, action_duration
from optimizer.planning.safety import Hops, anti_affinity_edges, capacity_edges, safe_sequence
from optimizer.strategies.solution import (
    Action,
    ChangePowerState,
    ChangeServiceState,
    Migrate,
    Solution,
)

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
    _check_destinations(snapshot, actions, table, controls)
    resequenced = False
    for _ in range(MAX_DETOUR_ROUNDS):
        hops = table.frozen()
        parents, children = _edges(snapshot, len(actions), hops, controls, config)
        stuck = _cyclic_nodes(len(actions), parents, children)
        if not len(stuck):
            break
        if not resequenced:  # the solution's order is not safe: find one that is, then detour
            table.key = safe_sequence(snapshot, hops).tolist()
            resequenced = True
            continue
        _break_cycles(snapshot, actions, table, controls, parents, children, stuck)
    else:
        raise PlanInfeasible(f"no safe order found after {MAX_DETOUR_ROUNDS} rounds of detours")
    durations = [action_duration(a, 0.0, config) for a in actions]
    memory = snapshot.inst_size[hops.inst, MEMORY]
    for node, mb in zip(hops.node.tolist(), memory.tolist(), strict=True):
        durations[node] = action_duration(actions[node], mb, config)
    return ActionGraph.build(actions, parents, children, durations, config)


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
    host_id, instance_id = snapshot.host_id, snapshot.instance_id
    for node, action in enumerate(actions):
        if not isinstance(action, Migrate):
            continue
        i = instance_id(action.instance)
        src, dst = host_id(action.source), host_id(action.destination)
        here = where.get(i)
        if here is None:
            here = int(snapshot.inst_host[i])
        if here != src or src == dst:
            raise PlanInfeasible(
                f"action {node}: instance {action.instance} migrates from host {action.source} "
                "to itself" if src == dst else
                f"action {node}: instance {action.instance} is on host "
                f"{snapshot.host_names[here]} at that point, not on its source {action.source}")
        where[i] = dst
        table.append(node, i, src, dst, float(node))
    return table


@dataclass(frozen=True)
class _Controls:
    """The service and power actions of a solution, as columns in plan order."""

    node: np.ndarray      # (C,) action id
    host: np.ndarray      # (C,) host index
    enabling: np.ndarray  # (C,) service enabled or power on
    service: np.ndarray   # (C,) a service action (else power)

    @property
    def hosts(self) -> set[int]:
        return set(self.host.tolist())

    def states_of(self, actions: list[Action], h: int) -> set[str]:
        return {actions[k].state for k in self.node[self.host == h].tolist()}


def _read_controls(snapshot: ClusterSnapshot, actions: list[Action]) -> _Controls:
    """Service and power actions with their hosts."""
    picked = [(node, a) for node, a in enumerate(actions)
              if isinstance(a, (ChangeServiceState, ChangePowerState))]  # noqa: UP038 (faster)
    return _Controls(
        node=np.array([node for node, _ in picked], dtype=np.int64),
        host=np.array([snapshot.host_id(a.host) for _, a in picked], dtype=np.int64),
        enabling=np.array([a.state in ENABLING for _, a in picked], dtype=bool),
        service=np.array([isinstance(a, ChangeServiceState) for _, a in picked], dtype=bool))


def _check_destinations(snapshot: ClusterSnapshot, actions: list[Action], table: _HopTable,
                        controls: _Controls) -> None:
    """Every destination is up and enabled, or the solution brings it up and enables it."""
    dst = np.array(table.dst, dtype=np.int64)
    for k in np.flatnonzero(~snapshot.can_receive[dst]).tolist():
        node, dst = table.node[k], table.dst[k]
        states = controls.states_of(actions, dst)
        name = snapshot.host_names[dst]
        if not snapshot.host_up[dst] and "on" not in states:
            raise PlanInfeasible(f"action {node}: destination host {name} is down and the "
                                 "solution does not power it on")
        if not snapshot.host_enabled[dst] and "enabled" not in states:
            raise PlanInfeasible(f"action {node}: destination host {name} is disabled and the "
                                 "solution does not enable it")


# ----- edges ------------------------------------------------------------------


def _edges(snapshot: ClusterSnapshot, n: int, hops: Hops, controls: _Controls,
           config: PlannerConfig) -> tuple[np.ndarray, np.ndarray]:
    """Every dependency edge as (parents, children) id arrays; an edge may repeat."""
    parts = [capacity_edges(snapshot, hops), anti_affinity_edges(snapshot, hops),
             _instance_edges(hops), _control_edges(snapshot, hops, controls, config)]
    parents = np.concatenate([p for p, _ in parts])
    children = np.concatenate([c for _, c in parts])
    return parents, children


def _instance_edges(hops: Hops) -> tuple[np.ndarray, np.ndarray]:
    """Each hop of an instance after its previous one."""
    order = np.lexsort((hops.key, hops.inst))
    same = np.flatnonzero(hops.inst[order][1:] == hops.inst[order][:-1])
    return hops.node[order[same]], hops.node[order[same + 1]]


def _control_edges(snapshot: ClusterSnapshot, hops: Hops, controls: _Controls,
                   config: PlannerConfig) -> tuple[np.ndarray, np.ndarray]:
    """Edges between the service and power actions of a host and its migrations."""
    if not len(controls.node):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    last_enabling = np.full(snapshot.host_count, -1)
    np.maximum.at(last_enabling, controls.host[controls.enabling],
                  controls.node[controls.enabling])
    last_arrival = np.full(snapshot.host_count, -np.inf)
    np.maximum.at(last_arrival, hops.dst, hops.key)
    final_disabling = ~controls.enabling & (controls.node > last_enabling[controls.host])
    # a host that takes instances on their way (a detour) is disabled after them,
    # so only migrations planned after its last arrival wait for the disable
    evacuating = hops.key > last_arrival[hops.src]
    gate = controls.service & ~controls.enabling & config.disable_before_evacuation

    by_host = np.lexsort((controls.node, controls.host))
    same = np.flatnonzero(controls.host[by_host][1:] == controls.host[by_host][:-1])
    pairs = [
        (controls.node[by_host[same]], controls.node[by_host[same + 1]]),  # plan order
        _join(controls, controls.enabling, hops.node, hops.dst),
        _join(controls, final_disabling, hops.node, hops.dst)[::-1],
        _join(controls, gate, hops.node[evacuating], hops.src[evacuating]),
        _join(controls, ~controls.enabling & ~gate, hops.node, hops.src)[::-1],
    ]
    return (np.concatenate([p for p, _ in pairs]).astype(np.int64),
            np.concatenate([c for _, c in pairs]).astype(np.int64))


def _join(controls: _Controls, chosen: np.ndarray, hop_nodes: np.ndarray,
          hop_hosts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(control, migration) id pairs for every chosen control and migration on the same host."""
    ctl_host, ctl_node = controls.host[chosen], controls.node[chosen]
    order = np.argsort(ctl_host, kind="stable")
    ctl_host, ctl_node = ctl_host[order], ctl_node[order]
    lo = np.searchsorted(ctl_host, hop_hosts, side="left")
    count = np.searchsorted(ctl_host, hop_hosts, side="right") - lo
    total = int(count.sum())
    offset = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    return ctl_node[np.repeat(lo, count) + offset], np.repeat(hop_nodes, count)


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
                  controls: _Controls, parents: np.ndarray,
                  children: np.ndarray, stuck: np.ndarray) -> None:
    """Detour one migration of every cycle through a host with spare room."""
    import networkx as nx  # only plans with cycles need it; importing it costs 0.1 s

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
                 controls: _Controls):
        self.snapshot, self.table = snapshot, table
        size = snapshot.inst_size[np.array(table.inst, dtype=np.int64)]
        arriving = np.zeros_like(snapshot.allocated)
        np.add.at(arriving, np.array(table.dst, dtype=np.int64), size)
        # room in the worst case: every planned arrival in, nothing out
        self.room = snapshot.allocatable - snapshot.allocated - arriving
        self.usable = snapshot.can_receive.copy()
        self.usable[controls.host] = False  # hosts changing state are no place to wait

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
