"""Edges that keep every host within capacity and anti-affinity groups apart.

Whatever order the applier picks among ready actions, the state it reaches
must be safe. For one host ``h`` let ``I`` be the migrations into it and
``O`` those out of it, each in plan order. Every incoming migration ``k``
gets a requirement: a prefix ``O[:p_k]`` of the outgoing ones, with ``p``
non-decreasing in ``k``, and an edge from each of them. In any reachable
state, if ``q`` is the longest prefix of ``O`` that is complete, only
incoming migrations with ``p_k <= q`` can be done and at least ``O[:q]``
has left, so the allocation on ``h`` is at most::

    allocated[h] + sum(size of I_k with p_k <= q) - sum(size of O[:q])

The planner picks each ``p_k`` as the smallest prefix that keeps this bound
within the allocatable capacity. Incoming migrations that fit in the host's
initial free room get ``p_k = 0``: no edge at all. Anti-affinity is the same
count with capacity one per (group, host) and every member of size one.

Both bounds hold while migrations run, too: an outgoing migration counts as
gone only once it has finished, an incoming one as arrived as soon as it may
start.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from optimizer.models.records import RESOURCES
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.planning.config import PlanInfeasible

_EPS = 1e-6

Edges = tuple[np.ndarray, np.ndarray]  # (parent ids, child ids)


@dataclass(frozen=True)
class Hops:
    """The migrations of a plan as columns: one row per migration."""

    node: np.ndarray  # (M,) action id
    inst: np.ndarray  # (M,) instance index
    src: np.ndarray   # (M,) host index the instance leaves
    dst: np.ndarray   # (M,) host index it goes to
    key: np.ndarray   # (M,) plan order; a detour's second hop sorts just after its first

    def __len__(self) -> int:
        return len(self.node)


def no_edges() -> Edges:
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)


def capacity_edges(snapshot: ClusterSnapshot, hops: Hops) -> Edges:
    """Edges making each incoming migration wait for the outgoing ones that make its room."""
    if not len(hops):
        return no_edges()
    size = snapshot.inst_size[hops.inst]
    into = np.lexsort((hops.key, hops.dst))
    dst = hops.dst[into]
    cum = np.cumsum(size[into], axis=0)
    first = np.r_[True, dst[1:] != dst[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(dst)), 0))
    arrived = cum - cum[start] + size[into[start]]  # this and earlier arrivals on dst
    free = snapshot.allocatable - snapshot.allocated
    need = arrived - free[dst]  # room outgoing migrations must make first
    short = np.flatnonzero(np.any(need > _EPS, axis=1))
    if not len(short):
        return no_edges()

    out_of = np.lexsort((hops.key, hops.src))
    src_sorted = hops.src[out_of]
    parents: list[np.ndarray] = []
    children: list[np.ndarray] = []
    # short rows of one host are contiguous: the tail of its run of arrivals
    for rows in np.split(short, np.flatnonzero(np.diff(dst[short])) + 1):
        h = int(dst[rows[0]])
        lo, hi = np.searchsorted(src_sorted, [h, h + 1])
        leaving = out_of[lo:hi]
        freed = np.vstack([np.zeros((1, len(RESOURCES))), np.cumsum(size[leaving], axis=0)])
        prefix = np.zeros(len(rows), dtype=np.int64)
        for r in range(len(RESOURCES)):
            prefix = np.maximum(prefix, np.searchsorted(freed[:, r], need[rows, r] - _EPS))
        if prefix[-1] > len(leaving):
            raise _over_capacity(snapshot, h, need[rows[-1]] - freed[-1])
        for row, p in zip(rows, prefix, strict=True):
            parents.append(hops.node[leaving[:p]])
            children.append(np.full(p, hops.node[into[row]]))
    return np.concatenate(parents), np.concatenate(children)


def _over_capacity(snapshot: ClusterSnapshot, h: int, excess: np.ndarray) -> PlanInfeasible:
    r = int(np.argmax(excess / np.maximum(snapshot.allocatable[h], 1.0)))
    return PlanInfeasible(
        f"host {snapshot.host_names[h]}: the solution's migrations leave {RESOURCES[r]} "
        f"{excess[r]:g} above its allocatable {snapshot.allocatable[h, r]:g}")


def anti_affinity_edges(snapshot: ClusterSnapshot, hops: Hops) -> Edges:
    """Edges making a group member moving into a host wait for the members leaving it."""
    anti = np.array([p == "anti-affinity" for p in snapshot.group_policies] + [False])
    group = snapshot.inst_group[hops.inst]  # -1 indexes the trailing False
    moving = np.flatnonzero(anti[group])
    if not len(moving):
        return no_edges()
    moving = moving[np.argsort(hops.key[moving], kind="stable")]
    incoming: dict[tuple[int, int], list[int]] = defaultdict(list)
    outgoing: dict[tuple[int, int], list[int]] = defaultdict(list)
    for j in moving.tolist():
        g = int(group[j])
        incoming[g, int(hops.dst[j])].append(j)
        outgoing[g, int(hops.src[j])].append(j)
    members = np.flatnonzero(anti[snapshot.inst_group])
    initial = Counter(zip(snapshot.inst_group[members].tolist(),
                          snapshot.inst_host[members].tolist(), strict=True))

    parents: list[int] = []
    children: list[int] = []
    for (g, h), arriving in incoming.items():
        leaving = outgoing.get((g, h), [])
        present = initial.get((g, h), 0)
        for k, j in enumerate(arriving):
            required = present + k  # members that must have left before this one arrives
            if required > len(leaving):
                raise PlanInfeasible(
                    f"server group {snapshot.group_names[g]!r} (anti-affinity): the solution "
                    f"leaves {present + len(arriving) - len(leaving)} members on host "
                    f"{snapshot.host_names[h]}")
            parents.extend(int(hops.node[x]) for x in leaving[:required])
            children.extend([int(hops.node[j])] * required)
    return np.array(parents, dtype=np.int64), np.array(children, dtype=np.int64)


def safe_sequence(snapshot: ClusterSnapshot, hops: Hops) -> np.ndarray:
    """New plan keys for ``hops``: an order safe one migration at a time, found greedily.

    Each pass takes, in the current plan order, every migration whose instance
    is on its source and that fits its destination now. Migrations still
    waiting when a pass takes none keep their order after all the others
    (the planner then detours one of them).
    """
    where = snapshot.inst_host.copy()
    used = snapshot.allocated.copy()
    anti = np.array([p == "anti-affinity" for p in snapshot.group_policies] + [False])
    members = np.flatnonzero(anti[snapshot.inst_group])
    present = Counter(zip(snapshot.inst_group[members].tolist(),
                          snapshot.inst_host[members].tolist(), strict=True))
    keys = np.empty(len(hops))
    pending = np.argsort(hops.key, kind="stable").tolist()
    taken = 0
    while pending:
        waiting = []
        for j in pending:
            i, src, dst = int(hops.inst[j]), int(hops.src[j]), int(hops.dst[j])
            g = int(snapshot.inst_group[i]) if anti[snapshot.inst_group[i]] else -1
            size = snapshot.inst_size[i]
            if (where[i] != src or (g >= 0 and present[g, dst])
                    or np.any(used[dst] + size > snapshot.allocatable[dst] + _EPS)):
                waiting.append(j)
                continue
            used[src] -= size
            used[dst] += size
            where[i] = dst
            if g >= 0:
                present[g, src] -= 1
                present[g, dst] += 1
            keys[j] = taken
            taken += 1
        if len(waiting) == len(pending):
            break
        pending = waiting
    for j in pending:
        keys[j] = taken
        taken += 1
    return keys
