"""Turning a target placement into migrations that are safe at every step.

Strategies decide where instances should end up; this module finds an order
in which to move them such that, replayed one at a time, no destination ever
exceeds its allocatable capacity and no anti-affinity group ever shares a
host. When moves wait on each other in a cycle, one instance takes a detour
through a host with spare room.
"""
from __future__ import annotations

from collections import defaultdict, deque

import numpy as np
from optimizer.models.errors import UserError
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.solution import ChangeServiceState, Indicator, Migrate

_EPS = 1e-6


class InfeasibleOrder(UserError):
    """No safe order exists for the requested moves."""


def migration_type(snapshot: ClusterSnapshot, i: int) -> str:
    """Live for active instances, cold for all others."""
    return "live" if snapshot.inst_state[i] == "active" else "cold"


def order_moves(snapshot: ClusterSnapshot, target: np.ndarray,
                reasons: dict[int, str] | None = None) -> list[Migrate]:
    """Migrations taking every instance from its snapshot host to ``target``.

    ``target`` is an (N,) array of host indices. Only instances whose target
    differs from their host move, each once (twice only to break a cycle).
    """
    reasons = reasons or {}
    moving = np.flatnonzero(target != snapshot.inst_host)
    free_order, waiting_order = _split_safe(snapshot, target, moving)
    out = _migrations(snapshot, free_order, snapshot.inst_host[free_order],
                      target[free_order], reasons)
    if not len(waiting_order):
        return out
    state = _Replay(snapshot)
    for i in free_order.tolist():
        state.move(i, int(target[i]))
    out += _replay_in_safe_order(snapshot, state, target, waiting_order, reasons)
    return out


def _split_safe(snapshot: ClusterSnapshot, target: np.ndarray,
                moving: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Moves safe in any order, and the moves that must wait for others.

    A move is safe at any moment when its destination could take every move
    into it before anything leaves, and its instance has no anti-affinity
    group (whose members may have to leave first).
    """
    hosts = snapshot.host_count
    dest = target[moving]
    incoming = np.column_stack([
        np.bincount(dest, weights=snapshot.inst_size[moving, r], minlength=hosts)
        for r in range(snapshot.inst_size.shape[1])]).reshape(hosts, -1)
    roomy = np.all(snapshot.allocated + incoming <= snapshot.allocatable + _EPS, axis=1)
    anti = np.array([p == "anti-affinity" for p in snapshot.group_policies] + [False])
    grouped = anti[snapshot.inst_group[moving]]
    safe = roomy[dest] & ~grouped
    return moving[safe], moving[~safe]


def _replay_in_safe_order(snapshot, state, target, moving, reasons) -> list[Migrate]:
    """Emit moves one at a time, each when its destination has room right then."""
    waiting: dict[int, deque[int]] = defaultdict(deque)  # destination -> instances
    ready: deque[int] = deque(int(i) for i in moving)
    out: list[Migrate] = []
    pending = len(ready)
    detoured: set[int] = set()  # one detour an instance: bounds the loop
    while pending:
        progressed = False
        while ready:
            i = ready.popleft()
            dest = int(target[i])
            if state.room_for(i, dest):
                src = int(state.host[i])
                out.append(_migrate(snapshot, i, src, dest, reasons))
                state.move(i, dest)
                pending -= 1
                progressed = True
                # the source has more room now, and one group member fewer
                ready.extend(waiting.pop(src, ()))
            else:
                waiting[dest].append(i)
        if pending and not progressed:
            ready.extend(_break_cycle(snapshot, state, waiting, target, out, reasons,
                                      detoured))
            if not ready:
                hosts = sorted({snapshot.host_names[h] for h in waiting})
                raise InfeasibleOrder(
                    f"no safe order for {pending} migrations: hosts {', '.join(hosts[:10])} "
                    "wait on each other and no host has spare room for a detour")
        elif pending and not ready:
            for dest in list(waiting):
                ready.extend(waiting.pop(dest))
    return out


def _break_cycle(snapshot, state, waiting, target, out, reasons, detoured) -> list[int]:
    """Send one waiting instance through a host with spare room; return moves to retry.

    An instance takes at most one detour; when every waiting one has had its
    detour, there is nothing left to try and the caller reports the cycle.
    """
    for dest, queue in waiting.items():
        for i in queue:
            if i in detoured:
                continue
            src = int(state.host[i])
            for h in _spare_hosts(snapshot, state, i):
                if h in (src, dest):
                    continue
                out.append(_migrate(snapshot, i, src, h, reasons, detour=True))
                state.move(i, h)
                detoured.add(i)
                retry = []
                for d in list(waiting):
                    retry.extend(waiting.pop(d))
                return retry
    return []


def _spare_hosts(snapshot, state, i):
    fits = snapshot.can_receive & np.all(
        state.allocated + snapshot.inst_size[i] <= snapshot.allocatable + _EPS, axis=1)
    free = (snapshot.allocatable - state.allocated).sum(axis=1)
    for h in np.argsort(-np.where(fits, free, -np.inf)):
        if not fits[h]:
            break
        if not state.anti_affinity_blocks(i, int(h)):
            yield int(h)


def _migrations(snapshot: ClusterSnapshot, moving: np.ndarray, sources: np.ndarray,
                destinations: np.ndarray, reasons: dict[int, str]) -> list[Migrate]:
    """Migrate actions for many moves at once (the common, unconstrained case)."""
    uuids, names, states = snapshot.inst_uuids, snapshot.host_names, snapshot.inst_state
    return [
        Migrate(instance=uuids[i], source=names[s], destination=names[d],
                migration_type="live" if states[i] == "active" else "cold",
                reason=reasons.get(i, ""))
        for i, s, d in zip(moving.tolist(), sources.tolist(), destinations.tolist(), strict=True)
    ]


def _migrate(snapshot, i, src, dest, reasons, detour=False) -> Migrate:
    reason = reasons.get(i, "")
    if detour:
        reason = f"detour to break a cycle of waiting moves; {reason}".rstrip("; ")
    return Migrate(instance=snapshot.inst_uuids[i], source=snapshot.host_names[src],
                   destination=snapshot.host_names[dest],
                   migration_type=migration_type(snapshot, i), reason=reason)


class _Replay:
    """Allocation and anti-affinity state while replaying moves one at a time."""

    def __init__(self, snapshot: ClusterSnapshot):
        self.snapshot = snapshot
        self.host = snapshot.inst_host.copy()
        self.allocated = snapshot.allocated.copy()
        self.members: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        anti = [g for g, p in enumerate(snapshot.group_policies) if p == "anti-affinity"]
        if anti:
            for i in np.flatnonzero(np.isin(snapshot.inst_group, anti)):
                self.members[int(snapshot.inst_group[i])][int(self.host[i])] += 1

    def anti_affinity_blocks(self, i: int, dest: int) -> bool:
        g = int(self.snapshot.inst_group[i])
        return g in self.members and self.members[g].get(dest, 0) > 0

    def room_for(self, i: int, dest: int) -> bool:
        snap = self.snapshot
        if not all(self.allocated[dest] + snap.inst_size[i] <= snap.allocatable[dest] + _EPS):
            return False
        return not self.anti_affinity_blocks(i, dest)

    def move(self, i: int, dest: int) -> None:
        src = int(self.host[i])
        size = self.snapshot.inst_size[i]
        self.allocated[src] -= size
        self.allocated[dest] += size
        self.host[i] = dest
        g = int(self.snapshot.inst_group[i])
        if g in self.members:
            self.members[g][src] -= 1
            self.members[g][dest] += 1


def disable_emptied(snapshot: ClusterSnapshot, target: np.ndarray,
                    reason: str) -> list[ChangeServiceState]:
    """Disable the enabled hosts that held instances before and hold none after."""
    before = snapshot.instances_per_host > 0
    after = np.bincount(target, minlength=snapshot.host_count) > 0
    emptied = np.flatnonzero(before & ~after & snapshot.host_enabled).tolist()
    return [ChangeServiceState(host=snapshot.host_names[h], state="disabled", reason=reason)
            for h in emptied]


def consolidation_indicators(snapshot: ClusterSnapshot, target: np.ndarray,
                             migrations: list[Migrate]) -> tuple[Indicator, ...]:
    """The efficacy indicators of a consolidation, as Watcher names them."""
    before = int(np.count_nonzero(snapshot.instances_per_host))
    after = int(np.count_nonzero(np.bincount(target, minlength=snapshot.host_count)))
    moved = target != snapshot.inst_host
    memory_gb = float(snapshot.inst_size[moved, 1].sum() / 1024)
    return (
        Indicator("compute_nodes_count", before, "hosts", "Hosts running instances before."),
        Indicator("released_compute_nodes_count", before - after, "hosts",
                  "Hosts the plan empties."),
        Indicator("instance_migrations_count", len(migrations), "migrations",
                  "Migrations the plan makes."),
        Indicator("migrated_memory_gb", round(memory_gb, 3), "GB",
                  "Memory of the migrated instances: what moving them costs."),
    )
