"""The action graph: a solution's actions with the dependencies that make it safe.

Node ids are stable integers: an action's position in the solution, then
any action the planner added (the second hop of a detour) after them. Each
node keeps its :class:`~strategies.solution.Action`, its sorted ``parents``
and its estimated ``duration_s``.
"""
from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx

from models.errors import UserError
from optimizer.planning.config import PlannerConfig
from strategies.solution import (
    Action,
    ChangePowerState,
    ChangeServiceState,
    Migrate,
    Nop,
    Sleep,
)

ACTION_TYPES: dict[str, type[Action]] = {
    cls.type: cls for cls in (Migrate, ChangeServiceState, ChangePowerState, Nop, Sleep)}


def action_duration(action: Action, memory_mb: float, config: PlannerConfig) -> float:
    """Estimated seconds an action takes; ``memory_mb`` is what a migration moves."""
    if isinstance(action, Migrate):
        return config.action_overhead_s + memory_mb / config.migration_bandwidth_mb_s
    if isinstance(action, Sleep):
        return float(action.duration)
    if isinstance(action, Nop):
        return 0.0
    return config.action_overhead_s


@dataclass
class ActionGraph:
    """Actions as nodes of a DAG; an edge u → v means v may start once u has finished.

    ``max_migrations_per_host`` and ``max_parallel_migrations`` are limits the
    applier enforces while running the graph.
    """

    graph: nx.DiGraph
    config: PlannerConfig = field(default_factory=PlannerConfig)

    @classmethod
    def build(cls, actions: Sequence[Action], parents: Iterable[int], children: Iterable[int],
              durations: Sequence[float], config: PlannerConfig) -> ActionGraph:
        """A graph of ``actions`` (ids are their positions) and the given edges."""
        graph = nx.DiGraph()
        graph.add_nodes_from(
            (i, {"action": a, "duration_s": d, "parents": []})
            for i, (a, d) in enumerate(zip(actions, durations, strict=True)))
        graph.add_edges_from(zip(parents, children, strict=True))
        nodes = graph.nodes
        for node, preds in graph.pred.items():
            if preds:
                nodes[node]["parents"] = sorted(preds)
        return cls(graph, config)

    # ----- reading ------------------------------------------------------------

    @property
    def max_migrations_per_host(self) -> int:
        return self.config.max_migrations_per_host

    @property
    def max_parallel_migrations(self) -> int:
        return self.config.max_parallel_migrations

    def __len__(self) -> int:
        return self.graph.number_of_nodes()

    def action(self, node: int) -> Action:
        return self.graph.nodes[node]["action"]

    def parents(self, node: int) -> list[int]:
        """Ids of the actions that must finish before ``node`` starts, ascending."""
        return self.graph.nodes[node]["parents"]

    def duration(self, node: int) -> float:
        return self.graph.nodes[node]["duration_s"]

    @property
    def migrations(self) -> list[int]:
        return [n for n, a in self.graph.nodes(data="action") if isinstance(a, Migrate)]

    def topological_order(self) -> list[int]:
        """Every node once, parents first; among ready nodes the lowest id goes first."""
        waiting = {n: len(p) for n, p in self.graph.pred.items()}
        ready = [n for n, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order: list[int] = []
        succ = self.graph.succ
        while ready:
            node = heapq.heappop(ready)
            order.append(node)
            for child in succ[node]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    heapq.heappush(ready, child)
        if len(order) != len(waiting):
            raise UserError(f"action graph has a cycle through {len(waiting) - len(order)} "
                            "actions")
        return order

    def levels(self) -> list[list[int]]:
        """Nodes grouped by depth: level k holds nodes whose longest parent chain has k edges."""
        depth: dict[int, int] = {}
        for node in self.topological_order():
            depth[node] = max((depth[p] + 1 for p in self.graph.pred[node]), default=0)
        out: list[list[int]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
        for node in sorted(depth):
            out[depth[node]].append(node)
        return out

    def schedule(self):
        """Simulated execution under the graph's limits; see :mod:`optimizer.planning.schedule`."""
        from optimizer.planning.schedule import simulate

        return simulate(self)

    # ----- storing --------------------------------------------------------------

    def to_records(self) -> list[dict]:
        """One dict a node, by id: what the database stores."""
        return [
            {"id": node, "type": action.type, "parameters": action.parameters(),
             "reason": action.reason, "parents": list(self.parents(node))}
            for node, action in sorted(self.graph.nodes(data="action"))
        ]

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
