"""Consolidation on arrays: choose the hosts to keep, relieve overload, pack the rest.

Shared by the consolidation strategies. Given sizes and capacities in four
measures (vcpus, memory, disk allocation and CPU demand), it keeps the
fullest receiving hosts, moves everything else onto them, and searches for
the fewest kept hosts with which everything fits.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.packing import Units, build_units, pack
from optimizer.strategies.repair import make_room

_EPS = 1e-6


@dataclass
class ConsolidationProblem:
    """Units to place and the hosts they may use, in four measures."""

    units: Units
    capacity: np.ndarray      # (H, 4) allocatable vcpus, memory, disk; CPU cores × target
    receives: np.ndarray      # (H,) may take new units: up and enabled
    host_names: tuple[str, ...]
    n_instances: int
    inst_host: np.ndarray
    count_weight: float = 0.3

    @classmethod
    def from_snapshot(cls, snapshot: ClusterSnapshot, demand: np.ndarray,
                      target_cpu_load: float | None,
                      count_weight: float = 0.3) -> ConsolidationProblem:
        """The problem for ``snapshot``; ``target_cpu_load=None`` ignores CPU demand.

        ``count_weight`` trades moved memory for migrations when choosing the
        hosts to keep: 0 keeps the hosts with the most allocated, higher
        values favour hosts with many instances.
        """
        if target_cpu_load is None:
            demand = np.zeros(snapshot.instance_count)
            cpu_capacity = np.full(snapshot.host_count, np.inf)
        else:
            cpu_capacity = snapshot.host_cores * target_cpu_load
        units = build_units(snapshot.inst_size, demand, snapshot.inst_host,
                            snapshot.inst_group, snapshot.group_policies, snapshot.movable)
        capacity = np.column_stack([snapshot.allocatable, cpu_capacity])
        return cls(units=units, capacity=capacity, receives=snapshot.can_receive.copy(),
                   host_names=snapshot.host_names, n_instances=snapshot.instance_count,
                   inst_host=snapshot.inst_host, count_weight=count_weight)


@dataclass
class ConsolidationResult:
    """Where every instance should end, why each moved one moves, and caveats."""

    target: np.ndarray
    reasons: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def host_usage(units: Units, hosts: int, where: np.ndarray | None = None) -> np.ndarray:
    """(H, 4) what the units use on each host (``where`` overrides their hosts)."""
    where = units.host if where is None else where
    return np.column_stack([np.bincount(where, weights=units.size[:, k], minlength=hosts)
                            for k in range(units.size.shape[1])]).reshape(hosts, -1)


def consolidate(problem: ConsolidationProblem, retries: int = 4,
                keep_all: bool = False) -> ConsolidationResult:
    """Relieve hosts over capacity, then pack onto the fewest receiving hosts.

    When relieving leaves units no host can take, it tries again evicting
    only units smaller than those: more, smaller moves fit fragmented room.
    With ``keep_all`` it only relieves: every receiving host is kept, none
    is emptied (for strategies that consolidate their own way afterwards).
    """
    units = problem.units
    limit = np.full(units.size.shape[1], np.inf)
    for _ in range(retries + 1):
        placed, leftover, reasons, kept = _plan(problem, limit, keep_all)
        stuck = leftover[np.isin(leftover, list(reasons))] if len(leftover) else leftover
        if not len(stuck):
            break
        limit = np.minimum(limit, units.size[stuck].min(axis=0) * 0.999)
    result = _result(problem, placed, reasons, kept)
    if len(leftover):
        hosts = sorted({problem.host_names[units.host[u]] for u in leftover.tolist()})
        result.notes.append(
            f"{len(leftover)} unit(s) found no room and stay where they are, on "
            f"{', '.join(hosts[:10])}{' …' if len(hosts) > 10 else ''}")
    return result


def _plan(problem: ConsolidationProblem, limit: np.ndarray, keep_all: bool = False):
    units, hosts = problem.units, len(problem.host_names)
    usage = host_usage(units, hosts)
    evicted, reasons = _evictions(problem, usage, limit)
    staying = np.ones(len(units.host), dtype=bool)
    staying[evicted] = False
    usage_left = usage - np.column_stack([
        np.bincount(units.host[evicted], weights=units.size[evicted, k], minlength=hosts)
        for k in range(units.size.shape[1])])
    order = _keep_order(problem, usage_left)
    fixed = ~problem.receives
    need = usage_left[order].sum(axis=0) + units.size[evicted].sum(axis=0)

    def attempt(k: int):
        return _attempt(problem, order, k, staying, evicted, usage_left, fixed)

    if keep_all:
        placed, leftover = attempt(len(order))
        return placed, leftover, reasons, order
    k_low = _fewest_hosts(problem.capacity[order], need)
    placed, leftover, k_used = _search(attempt, k_low, len(order))
    return placed, leftover, reasons, order[:k_used]


def _evictions(problem: ConsolidationProblem, usage: np.ndarray,
               limit: np.ndarray) -> tuple[np.ndarray, dict]:
    """Units to move off hosts above capacity in any measure, fewest and smallest first."""
    units, cap = problem.units, problem.capacity
    over = np.flatnonzero(np.any(usage > cap + _EPS, axis=1))
    if not len(over):
        return np.zeros(0, dtype=np.int64), {}
    by_host: dict[int, list[int]] = {}
    movable = np.isin(units.host, over)
    if units.pinned is not None:
        movable &= ~units.pinned
    for u in np.flatnonzero(movable).tolist():
        by_host.setdefault(int(units.host[u]), []).append(u)
    # a unit bigger than any spare room elsewhere would only come back as a leftover
    spare = np.where(problem.receives[:, None], cap - usage, 0.0)
    spare[over] = 0.0
    largest_room = np.minimum(spare.max(axis=0), limit)
    evicted, reasons = [], {}
    for h in over.tolist():
        excess = usage[h] - cap[h]
        candidates = np.array(by_host.get(h, []), dtype=np.int64)
        placeable = np.all(units.size[candidates] <= largest_room + _EPS, axis=1)
        if _covers(units.size[candidates[placeable]], excess):
            candidates = candidates[placeable]
        chosen = _cover(units.size[candidates], excess)
        why = _overload_reason(problem, h, usage[h], cap[h])
        for u in candidates[chosen].tolist():
            evicted.append(u)
            reasons[u] = why
    return np.array(evicted, dtype=np.int64), reasons


def _covers(sizes: np.ndarray, excess: np.ndarray) -> bool:
    return bool(np.all(sizes.sum(axis=0) >= excess - _EPS))


def _cover(sizes: np.ndarray, excess: np.ndarray) -> list[int]:
    """Indices of few, small rows whose sum covers the positive part of ``excess``."""
    need = np.maximum(excess, 0.0)
    chosen: list[int] = []
    left = np.ones(len(sizes), dtype=bool)
    scale = np.where(need > 0, need, 1.0)
    while np.any(need > _EPS) and left.any():
        covers = left & np.all(sizes >= need - _EPS, axis=1)
        if covers.any():
            # one unit is enough: the one that moves the least memory
            k = int(np.argmin(np.where(covers, sizes[:, 1], np.inf)))
        else:
            gain = (np.minimum(sizes, need) / scale).sum(axis=1)
            k = int(np.argmax(np.where(left, gain, -np.inf)))
        chosen.append(k)
        left[k] = False
        need = np.maximum(need - sizes[k], 0.0)
    return chosen


def _overload_reason(problem: ConsolidationProblem, h: int, usage: np.ndarray,
                     cap: np.ndarray) -> str:
    name = problem.host_names[h]
    if usage[3] > cap[3] + _EPS:
        return f"relieve {name}: CPU demand {usage[3]:.1f} cores above its target {cap[3]:.1f}"
    measure = ("vcpus", "memory_mb", "disk_gb")[int(np.argmax(usage[:3] - cap[:3]))]
    return f"relieve {name}: {measure} allocated beyond its capacity"


def _keep_order(problem: ConsolidationProblem, usage: np.ndarray) -> np.ndarray:
    """Receiving hosts, fullest first: they are kept, the rest are emptied into them."""
    receivers = np.flatnonzero(problem.receives)
    cap = problem.capacity[receivers]
    finite = np.where(np.isfinite(cap), cap, 0.0)
    scale = np.maximum(finite.mean(axis=0), _EPS)
    fullness = (usage[receivers] / scale).sum(axis=1)
    # every instance left in place is a migration saved, whatever its size
    counts = np.bincount(problem.units.host, minlength=len(problem.host_names))[receivers]
    fullness = fullness + problem.count_weight * counts / max(counts.mean(), 1.0)
    size = (finite / scale).sum(axis=1)
    return receivers[np.lexsort((-size, -fullness))]


def _fewest_hosts(capacity: np.ndarray, need: np.ndarray) -> int:
    """Smallest k with the first k hosts' capacity covering ``need`` in every measure."""
    total = np.cumsum(capacity, axis=0)
    k = 0
    for m in range(capacity.shape[1]):
        if need[m] <= _EPS:
            continue
        k = max(k, int(np.searchsorted(total[:, m], need[m] - _EPS)) + 1)
    return min(max(k, 1), len(capacity)) if len(capacity) else 0


def _search(attempt, k_low: int, k_max: int):
    """Fewest kept hosts with which packing succeeds: grow fast, then bisect back."""
    if k_max == 0:
        return attempt(0) + (0,)
    k, step, failed = k_low, 1, k_low - 1
    best = None
    while True:
        placed, leftover = attempt(k)
        if not len(leftover) or k >= k_max:
            best = (placed, leftover, k)
            break
        failed, k, step = k, min(k + step, k_max), step * 2
    lo, hi = failed + 1, best[2] - 1
    while lo <= hi and not len(best[1]):
        mid = (lo + hi) // 2
        placed, leftover = attempt(mid)
        if len(leftover):
            lo = mid + 1
        else:
            best, hi = (placed, leftover, mid), mid - 1
    return best


def _attempt(problem, order, k, staying, evicted, usage_left, fixed):
    units = problem.units
    kept = order[:k]
    is_kept = np.zeros(len(problem.host_names), dtype=bool)
    is_kept[kept] = True
    on_kept = is_kept[units.host]
    on_fixed = fixed[units.host]
    free = ~on_kept & ~on_fixed & staying
    if units.pinned is not None:
        free &= ~units.pinned
    pool = np.concatenate([np.flatnonzero(free), evicted])
    room = problem.capacity[kept] - usage_left[kept]
    stay = np.flatnonzero(staying & (on_kept | on_fixed) & (units.anti_group >= 0))
    group_hosts: dict[int, set[int]] = {}
    for u in stay.tolist():
        group_hosts.setdefault(int(units.anti_group[u]), set()).add(int(units.host[u]))
    placed, leftover = pack(units, pool, kept, room, group_hosts, first=evicted)
    if len(leftover):
        movable = np.ones(len(units.host), dtype=bool) if units.pinned is None \
            else ~units.pinned
        movable &= (units.anti_group < 0) & (np.arange(len(units.host)) < len(units.single))
        residents = staying & on_kept & movable
        residents[list(placed)] = movable[list(placed)]
        leftover = make_room(units, leftover, kept, room, np.flatnonzero(residents), placed)
    return placed, leftover


def _result(problem: ConsolidationProblem, placed: dict[int, int], reasons: dict,
            kept: np.ndarray) -> ConsolidationResult:
    units = problem.units
    target = problem.inst_host.astype(np.int64).copy()
    moved = np.fromiter(placed, dtype=np.int64, count=len(placed))
    dest = np.fromiter(placed.values(), dtype=np.int64, count=len(placed))
    keep = dest != units.host[moved]
    moved, dest = moved[keep], dest[keep]
    names = problem.host_names
    why: dict[int, str] = {}
    singles = moved < len(units.single)
    instances = units.single[moved[singles]]
    target[instances] = dest[singles]
    sources = units.host[moved[singles]].tolist()
    for u, i, src in zip(moved[singles].tolist(), instances.tolist(), sources, strict=True):
        why[i] = reasons.get(u) or f"empty {names[src]}"
    for u, h in zip(moved[~singles].tolist(), dest[~singles].tolist(), strict=True):
        members = units.members(u)
        target[members] = h
        text = reasons.get(u) or f"empty {names[int(units.host[u])]}"
        why.update(dict.fromkeys(members.tolist(), text))
    return ConsolidationResult(target=target, reasons=why)
