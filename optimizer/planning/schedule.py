"""How long an action graph takes when run under the applier's limits.

A list-scheduling simulation: whenever an action finishes, start every ready
action the limits allow, longest remaining chain first. Migrations count
against ``max_parallel_migrations`` and, on both their source and their
destination, against ``max_migrations_per_host``; other actions are not
limited. It estimates; the applier decides at run time.
"""
from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from optimizer.strategies.solution import Migrate

if TYPE_CHECKING:
    from optimizer.planning.graph import ActionGraph


@dataclass(frozen=True)
class Schedule:
    """Simulated start and finish of every action, in seconds from the plan's start."""

    start_s: list[float]
    finish_s: list[float]
    duration_s: float       # under the concurrency limits
    critical_path_s: float  # with unlimited concurrency: the dependencies alone
    peak_parallel_migrations: int


def simulate(graph: ActionGraph) -> Schedule:
    """Run ``graph`` in simulated time under its concurrency limits."""
    n = len(graph)
    order = graph.topological_order()
    duration = graph.durations.tolist()
    children = graph.children
    parents = graph.parent_lists
    host_ids: dict[str, int] = {}
    hosts: list[tuple[int, ...]] = [()] * n  # a migration's source and destination
    for node, action in enumerate(graph.actions):
        if isinstance(action, Migrate):
            hosts[node] = (host_ids.setdefault(action.source, len(host_ids)),
                           host_ids.setdefault(action.destination, len(host_ids)))

    earliest = [0.0] * n  # finish time with unlimited concurrency
    for node in order:
        before = parents[node]
        earliest[node] = duration[node] + (max([earliest[p] for p in before]) if before else 0.0)
    remaining = [0.0] * n  # longest chain from the node's start to the end: its priority
    for node in reversed(order):
        after = children[node]
        remaining[node] = duration[node] + (max([remaining[c] for c in after]) if after else 0.0)

    per_host, parallel = graph.max_migrations_per_host, graph.max_parallel_migrations
    waiting = [len(p) for p in parents]
    start, finish = [0.0] * n, [0.0] * n
    ready_other = [node for node in range(n) if not waiting[node] and not hosts[node]]
    ready_moves = [(-remaining[node], node) for node in range(n)
                   if not waiting[node] and hosts[node]]
    heapq.heapify(ready_moves)
    blocked: dict[int, list[tuple[float, int]]] = defaultdict(list)
    busy = [0] * len(host_ids)
    running: list[tuple[float, int]] = []
    moving = peak = 0
    now = 0.0

    push, pop = heapq.heappush, heapq.heappop  # the loop below runs once per action

    while True:
        for node in ready_other:
            start[node] = now
            finish[node] = end = now + duration[node]
            push(running, (end, node))
        ready_other.clear()
        while ready_moves and moving < parallel:
            entry = pop(ready_moves)
            node = entry[1]
            source, destination = hosts[node]
            full = (source if busy[source] >= per_host
                    else destination if busy[destination] >= per_host else None)
            if full is not None:
                blocked[full].append(entry)  # retried when that host frees a slot
                continue
            busy[source] += 1
            busy[destination] += 1
            moving += 1
            start[node] = now
            finish[node] = end = now + duration[node]
            push(running, (end, node))
        if moving > peak:
            peak = moving
        if not running:
            break
        now, node = pop(running)
        if hosts[node]:
            moving -= 1
            for h in hosts[node]:
                busy[h] -= 1
                if h in blocked:
                    for entry in blocked.pop(h):
                        push(ready_moves, entry)
        for child in children[node]:
            waiting[child] -= 1
            if not waiting[child]:
                if hosts[child]:
                    push(ready_moves, (-remaining[child], child))
                else:
                    ready_other.append(child)
    return Schedule(start, finish, max(finish, default=0.0), max(earliest, default=0.0), peak)
