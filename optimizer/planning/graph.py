"""The action graph: a solution's actions with the dependencies that make it safe.

Node ids are stable integers: an action's position in the solution, then
any action the planner added (the second hop of a detour) after them. Each
node keeps its :class:`~optimizer.strategies.solution.Action`, its sorted ``parents``
and its estimated ``duration_s``.
"""
from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cache, cached_property
from operator import attrgetter
from typing import TYPE_CHECKING

import numpy as np

from optimizer.models.errors import UserError
from optimizer.planning.config import PlannerConfig
from optimizer.strategies.solution import (
    Action,
    ChangePowerState,
    ChangeServiceState,
    Migrate,
    Nop,
    Sleep,
)

if TYPE_CHECKING:
    import networkx as nx

    from optimizer.planning.schedule import Schedule

ACTION_TYPES: dict[str, type[Action]] = {
    cls.type: cls for cls in (Migrate, ChangeServiceState, ChangePowerState, Nop, Sleep)}


@cache
def _parameter_names(cls: type[Action]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls) if f.name != "reason")


@cache
def _parameter_getter(cls: type[Action]) -> attrgetter | None:
    names = _parameter_names(cls)
    return attrgetter(*names) if names else None


def _parameters(action: Action) -> dict:
    """``action.parameters()`` without its deep copy: action fields are plain values."""
    names, get = _parameter_names(type(action)), _parameter_getter(type(action))
    if get is None:
        return {}
    values = get(action)  # in C; one name gives the value itself, several a tuple
    return {names[0]: values} if len(names) == 1 else dict(zip(names, values, strict=True))


def action_duration(action: Action, memory_mb: float, config: PlannerConfig) -> float:
    """Estimated seconds an action takes; ``memory_mb`` is what a migration moves."""
    if isinstance(action, Migrate):
        bandwidth = config.bandwidth_mb_s(action.source, action.destination)
        return config.action_overhead_s + memory_mb / bandwidth
    if isinstance(action, Sleep):
        return float(action.duration)
    if isinstance(action, Nop):
        return 0.0
    return config.action_overhead_s


@dataclass(eq=False)
class ActionGraph:
    """Actions as nodes of a DAG; an edge u → v means v may start once u has finished.

    The edges are stored as arrays (each node's parents, ascending); ``graph``
    gives the same as a :class:`networkx.DiGraph`, built on first use, whose
    nodes carry ``action``, ``duration_s`` and ``parents``.
    ``max_migrations_per_host`` and ``max_parallel_migrations`` are limits the
    applier enforces while running the graph.
    """

    actions: list[Action]
    parent_start: np.ndarray  # (n + 1,) parents of k: parent_ids[parent_start[k]:parent_start[k+1]]
    parent_ids: np.ndarray    # (E,) ascending within each node
    durations: np.ndarray     # (n,) estimated seconds per action
    config: PlannerConfig = field(default_factory=PlannerConfig)

    @classmethod
    def build(cls, actions: Sequence[Action], parents: Iterable[int], children: Iterable[int],
              durations: Sequence[float], config: PlannerConfig) -> ActionGraph:
        """A graph of ``actions`` (ids are their positions) and the given edges."""
        n = len(actions)
        parents = np.asarray(parents, dtype=np.int64)
        children = np.asarray(children, dtype=np.int64)
        edges = np.unique(children * max(n, 1) + parents)  # by child, then parent
        start = np.searchsorted(edges // max(n, 1), np.arange(n + 1))
        return cls(list(actions), start, edges % max(n, 1),
                   np.asarray(durations, dtype=np.float64), config)

    # ----- reading ------------------------------------------------------------

    @property
    def max_migrations_per_host(self) -> int:
        return self.config.max_migrations_per_host

    @property
    def max_parallel_migrations(self) -> int:
        return self.config.max_parallel_migrations

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def edge_count(self) -> int:
        return len(self.parent_ids)

    def action(self, node: int) -> Action:
        return self.actions[node]

    def parents(self, node: int) -> list[int]:
        """Ids of the actions that must finish before ``node`` starts, ascending."""
        return list(self.parent_lists[node])

    @cached_property
    def parent_lists(self) -> list[list[int]]:
        """Each node's parents, ascending (shared lists: do not change them)."""
        ids, start = self.parent_ids.tolist(), self.parent_start.tolist()
        return [ids[start[k]:start[k + 1]] for k in range(len(self))]

    def duration(self, node: int) -> float:
        return float(self.durations[node])

    @cached_property
    def children(self) -> list[list[int]]:
        """Each node's children, ascending."""
        out: list[list[int]] = [[] for _ in self.actions]
        child_of = np.repeat(np.arange(len(self)), np.diff(self.parent_start))
        order = np.argsort(self.parent_ids, kind="stable")
        for parent, child in zip(self.parent_ids[order].tolist(), child_of[order].tolist(),
                                 strict=True):
            out[parent].append(child)
        return out

    @cached_property
    def graph(self) -> nx.DiGraph:
        """The same graph as networkx, for analysis and drawing."""
        import networkx as nx  # for this view only: planning does not need it

        graph = nx.DiGraph()
        graph.add_nodes_from(
            (k, {"action": a, "duration_s": self.duration(k), "parents": self.parents(k)})
            for k, a in enumerate(self.actions))
        child_of = np.repeat(np.arange(len(self)), np.diff(self.parent_start))
        graph.add_edges_from(zip(self.parent_ids.tolist(), child_of.tolist(), strict=True))
        return graph

    @property
    def migrations(self) -> list[int]:
        return [k for k, a in enumerate(self.actions) if isinstance(a, Migrate)]

    def topological_order(self) -> list[int]:
        """Every node once, parents first; among ready nodes the lowest id goes first."""
        waiting = np.diff(self.parent_start).tolist()
        ready = [k for k, count in enumerate(waiting) if not count]
        heapq.heapify(ready)
        order: list[int] = []
        children = self.children
        while ready:
            node = heapq.heappop(ready)
            order.append(node)
            for child in children[node]:
                waiting[child] -= 1
                if not waiting[child]:
                    heapq.heappush(ready, child)
        if len(order) != len(self):
            raise UserError(f"action graph has a cycle through {len(self) - len(order)} actions")
        return order

    def levels(self) -> list[list[int]]:
        """Nodes grouped by depth: level k holds nodes whose longest parent chain has k edges."""
        depth = [0] * len(self)
        for node in self.topological_order():
            depth[node] = max((depth[p] + 1 for p in self.parents(node)), default=0)
        out: list[list[int]] = [[] for _ in range(max(depth, default=-1) + 1)]
        for node, d in enumerate(depth):
            out[d].append(node)
        return out

    def schedule(self) -> Schedule:
        """Simulated execution under the graph's limits; see :mod:`optimizer.planning.schedule`."""
        from optimizer.planning.schedule import simulate

        return simulate(self)

    # ----- storing --------------------------------------------------------------

    def to_records(self) -> list[dict]:
        """One dict a node, by id: what the database stores."""
        return [
            {"id": node, "type": action.type, "parameters": _parameters(action),
             "reason": action.reason, "parents": list(parents)}
            for node, (action, parents) in enumerate(zip(self.actions, self.parent_lists,
                                                         strict=True))
        ]

    def execution_records(self) -> list[dict]:
        """The actions in :meth:`topological_order`, each with ``type``, ``parameters``,
        ``reason`` and ``parents`` given as positions in that order: a plan as it is stored."""
        order = self.topological_order()
        position = [0] * len(order)
        for k, node in enumerate(order):
            position[node] = k
        actions, parent_lists = self.actions, self.parent_lists
        stored = []
        for node in order:
            action = actions[node]
            parents = [position[p] for p in parent_lists[node]]
            if len(parents) > 1:
                parents.sort()
            stored.append({"type": action.type, "parameters": _parameters(action),
                           "reason": action.reason, "parents": parents})
        return stored

    @classmethod
    def from_records(cls, records: Iterable[Mapping], config: PlannerConfig | None = None,
                     memory_mb: Mapping[str, float] | None = None) -> ActionGraph:
        """Rebuild a graph from :meth:`to_records`; ``memory_mb`` per instance uuid sizes
        migrations for :meth:`schedule` (unknown instances count as moving nothing)."""
        config = config or PlannerConfig()
        memory_mb = memory_mb or {}
        records = sorted(records, key=lambda r: r["id"])
        ids = [r["id"] for r in records]
        if ids != list(range(len(records))):
            raise UserError("action records must have ids 0..n-1, each once")
        actions, durations, parents, children = [], [], [], []
        for rec in records:
            try:
                cls_ = ACTION_TYPES[rec["type"]]
            except KeyError:
                raise UserError(f"action {rec['id']}: unknown type {rec['type']!r}") from None
            try:
                action = cls_(**rec["parameters"], reason=rec.get("reason", ""))
            except TypeError as exc:
                raise UserError(f"action {rec['id']}: bad parameters: {exc}") from None
            actions.append(action)
            memory = memory_mb.get(action.instance, 0.0) if isinstance(action, Migrate) else 0.0
            durations.append(action_duration(action, memory, config))
            for p in rec.get("parents", ()):
                if not 0 <= p < len(records):
                    raise UserError(f"action {rec['id']}: unknown parent {p!r}")
                parents.append(p)
                children.append(rec["id"])
        return cls.build(actions, parents, children, durations, config)
