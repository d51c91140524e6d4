"""The K-failure readiness check: a pure function of a cluster snapshot.

For each failure set (every single host for K = 1, every zone or aggregate
with ``by``), the instances of the failed hosts are re-placed onto the
surviving up and enabled hosts with :func:`optimizer.strategies.packing.pack`,
the packer consolidation uses: allocation ratios and reserves bound the room,
affinity members on a failed host move as one unit, anti-affinity members
avoid hosts holding another member, and an instance stays in its host's zone
(unless the whole zone failed). Hosts that run instances are tried first,
then empty up hosts (which would have to be *kept* on), then powered-off hosts
(which would have to be *woken*). A placement found is a real one; an
instance reported stranded found no room under this greedy packing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optimizer.models.errors import UserError
from optimizer.models.records import MEMORY
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.packing import MEASURES, Units, build_units, pack
from optimizer.strategies.saving_energy import is_powered_off

FAILURE_DOMAINS = ("host", "zone", "aggregate")
MAX_FAILURES = 1000
# receivers tried first for one failed host, beyond one per unit on it
_FIRST_RECEIVERS = 16
_RANDOM_SETS = 32


class ReadinessError(UserError):
    """A readiness check asked with parameters it cannot answer."""


@dataclass(frozen=True)
class FailureCase:
    """One failure set and what re-placing its instances needed."""

    failed: tuple[str, ...]             # host names
    label: str                          # the host, zone or aggregate that failed
    stranded: tuple[str, ...] = ()      # instance uuids with nowhere to go
    hosts_to_keep: tuple[str, ...] = ()  # empty up hosts the rebuild uses
    hosts_to_wake: tuple[str, ...] = ()  # powered-off hosts the rebuild uses
    memory_mb: float = 0.0              # memory of the instances to rebuild

    @property
    def ok(self) -> bool:
        return not self.stranded and not self.hosts_to_wake

    def severity(self) -> tuple[int, int, int, float]:
        """Stranded instances, then hosts to wake, to keep, then memory to rebuild."""
        return (len(self.stranded), len(self.hosts_to_wake), len(self.hosts_to_keep),
                self.memory_mb)

    def to_dict(self) -> dict:
        return {"label": self.label, "failed_hosts": list(self.failed),
                "stranded_instances": list(self.stranded),
                "hosts_to_keep": list(self.hosts_to_keep),
                "hosts_to_wake": list(self.hosts_to_wake), "memory_mb": self.memory_mb}


@dataclass(frozen=True)
class Readiness:
    """The answer: whether every failure set tried could be absorbed, and the worst one."""

    ok: bool
    failures: int
    by: str
    search: str
    sets_tried: int
    failing_sets: int
    worst: FailureCase | None
    failing: tuple[FailureCase, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "failures": self.failures, "by": self.by, "search": self.search,
                "sets_tried": self.sets_tried, "failing_sets": self.failing_sets,
                "worst": None if self.worst is None else self.worst.to_dict(),
                "failing": [c.label for c in self.failing[:100]]}


def check_readiness(snapshot: ClusterSnapshot, failures: int = 1, by: str = "host",
                    seed: int = 0, first_failure: bool = False) -> Readiness:
    """Whether the cluster survives any ``failures`` hosts failing (``by="host"``), or any
    one zone / aggregate (``by="zone"`` / ``"aggregate"``, where ``failures`` must be 1).

    K = 1 by host and every zone / aggregate are enumerated exactly. For K > 1 the
    search is bounded: the K most loaded hosts, greedy sets grown from each of the
    worst single failures, and seeded random sets; ``search`` says what was tried.
    With ``first_failure`` the single-host enumeration stops at the first failing
    host, heaviest first (for callers that only need ok / not ok).
    """
    if by not in FAILURE_DOMAINS:
        raise ReadinessError(f"by must be one of {', '.join(FAILURE_DOMAINS)}, got {by!r}")
    if isinstance(failures, bool) or not isinstance(failures, int | np.integer) \
            or not 1 <= failures <= MAX_FAILURES:
        raise ReadinessError(f"failures must be a whole number from 1 to {MAX_FAILURES}, "
                             f"got {failures!r}")
    if by != "host" and failures != 1:
        raise ReadinessError(f"failures={failures} applies to --by host only; by {by} "
                             "checks every single zone or aggregate")
    if failures > snapshot.host_count:
        raise ReadinessError(f"failures={failures} exceeds the {snapshot.host_count} hosts "
                             "of the cluster")
    model = _Model(snapshot)
    if by == "host" and failures == 1:
        cases = _single_hosts(model, first_failure)
        search = f"exact: all {len(cases)} single-host failures"
        if first_failure and cases and not cases[-1].ok:
            search = f"stopped at the first failing host of {len(cases)} tried, heaviest first"
    elif by == "host":
        cases, search = _bounded(model, failures, seed)
    else:
        domains = _domains(snapshot, by)
        cases = [model.fail(hosts, label, whole_zone=by == "zone")
                 for label, hosts in domains.items()]
        search = f"exact: all {len(cases)} {by} failures"
    failing = tuple(sorted((c for c in cases if not c.ok), key=lambda c: c.severity(),
                           reverse=True))
    worst = max(cases, key=lambda c: c.severity(), default=None)
    return Readiness(ok=not failing, failures=failures, by=by, search=search,
                     sets_tried=len(cases), failing_sets=len(failing), worst=worst,
                     failing=failing)


def _single_hosts(model: _Model, first_failure: bool) -> list[FailureCase]:
    loaded = model.loaded_hosts()
    if first_failure:
        loaded = loaded[np.argsort(-model.host_weight[loaded], kind="stable")]
    cases = []
    for h in loaded.tolist():
        cases.append(model.fail(np.array([h]), model.snapshot.host_names[h]))
        if first_failure and not cases[-1].ok:
            break
    return cases


def _domains(snapshot: ClusterSnapshot, by: str) -> dict[str, np.ndarray]:
    members: dict[str, list[int]] = {}
    for h in range(snapshot.host_count):
        names = [snapshot.host_zone[h]] if by == "zone" else snapshot.host_aggregates[h]
        for name in names:
            if name:
                members.setdefault(name, []).append(h)
    return {name: np.array(hosts) for name, hosts in sorted(members.items())}


def _bounded(model: _Model, k: int, seed: int) -> tuple[list[FailureCase], str]:
    """Failure sets of ``k`` hosts worth trying: the most loaded, greedy and random."""
    snap = model.snapshot
    loaded = model.loaded_hosts()
    by_load = loaded[np.argsort(-model.host_weight[loaded], kind="stable")]
    seen: set[tuple[int, ...]] = set()
    cases: list[FailureCase] = []

    def attempt(hosts: np.ndarray) -> None:
        key = tuple(sorted(int(h) for h in hosts))
        if len(key) == k and key not in seen:
            seen.add(key)
            cases.append(model.fail(np.array(key), "+".join(snap.host_names[h] for h in key)))

    attempt(by_load[:k] if len(by_load) >= k else np.arange(k))
    # greedy: from each of the 8 heaviest hosts, add the heaviest hosts of its zone
    zones = np.array([z or "" for z in snap.host_zone], dtype=object)
    for start in by_load[:8]:
        same = by_load[(zones[by_load] == zones[start]) & (by_load != start)]
        attempt(np.r_[start, same[:k - 1]])
    rng = np.random.default_rng(seed)
    pool = by_load if len(by_load) >= k else np.arange(snap.host_count)
    for _ in range(_RANDOM_SETS):
        attempt(rng.choice(pool, size=k, replace=False))
    search = (f"bounded: the {k} most loaded hosts, greedy same-zone sets from the 8 most "
              f"loaded, {_RANDOM_SETS} random sets (seed {seed}); {len(cases)} sets tried")
    return cases, search


class _Model:
    """What every failure set shares: units, room per host and the receiver tiers."""

    def __init__(self, snapshot: ClusterSnapshot):
        self.snapshot = snapshot
        self.units: Units = build_units(
            snapshot.inst_size, np.zeros(snapshot.instance_count), snapshot.inst_host,
            snapshot.inst_group, snapshot.group_policies)
        n_units = len(self.units.host)
        order = np.argsort(self.units.host, kind="stable")
        self._unit_order = order
        self._unit_starts = np.searchsorted(self.units.host[order],
                                            np.arange(snapshot.host_count + 1))
        room = np.zeros((snapshot.host_count, MEASURES))
        room[:, :3] = snapshot.allocatable - snapshot.allocated
        room[:, 3] = np.inf  # allocation only: CPU demand does not bound a rebuild
        self.room = room
        busy = snapshot.instances_per_host > 0
        self.tier = np.full(snapshot.host_count, -1)  # -1: never receives
        self.tier[snapshot.can_receive & busy] = 0
        self.tier[snapshot.can_receive & ~busy] = 1
        self.tier[is_powered_off(snapshot)] = 2
        scale = np.maximum(snapshot.allocatable.max(axis=0), 1e-9)
        self.free_score = (np.clip(room[:, :3], 0, None) / scale).min(axis=1)
        self.host_weight = (snapshot.allocated / scale).max(axis=1)
        self.zone_id = np.unique(np.array([z or "" for z in snapshot.host_zone], dtype=object),
                                 return_inverse=True)[1] if snapshot.host_count else np.array([])
        # per zone and tier: receivers, most free first
        self._ranked: dict[tuple[int, int], np.ndarray] = {}
        for z in np.unique(self.zone_id):
            for t in (0, 1, 2):
                hosts = np.flatnonzero((self.zone_id == z) & (self.tier == t))
                self._ranked[(int(z), t)] = hosts[np.argsort(-self.free_score[hosts],
                                                             kind="stable")]
        self._all_ranked = {t: np.flatnonzero(self.tier == t)[
            np.argsort(-self.free_score[self.tier == t], kind="stable")] for t in (0, 1, 2)}
        anti = self.units.anti_group
        self._anti_hosts: dict[int, set[int]] = {}
        for u in np.flatnonzero(anti >= 0).tolist():
            self._anti_hosts.setdefault(int(anti[u]), set()).add(int(self.units.host[u]))
        self.n_units = n_units

    def loaded_hosts(self) -> np.ndarray:
        return np.flatnonzero(self.snapshot.instances_per_host > 0)

    def units_on(self, hosts: np.ndarray) -> np.ndarray:
        parts = [self._unit_order[self._unit_starts[h]:self._unit_starts[h + 1]]
                 for h in hosts.tolist()]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def fail(self, failed: np.ndarray, label: str, whole_zone: bool = False) -> FailureCase:
        """Re-place the units of ``failed`` hosts; what was stranded, kept and woken."""
        snap = self.snapshot
        dead = np.zeros(snap.host_count, dtype=bool)
        dead[failed] = True
        rooms: dict[int, np.ndarray] = {}  # rows this failure consumed
        groups = {g: set(h) for g, h in self._anti_hosts.items()}
        stranded: list[int] = []
        used: set[int] = set()
        zones = [None] if whole_zone else np.unique(self.zone_id[failed]).tolist()
        for z in zones:
            in_zone = failed if z is None else failed[self.zone_id[failed] == z]
            left = self.units_on(in_zone)
            for tier in (0, 1, 2):
                ranked = self._all_ranked[tier] if z is None else self._ranked[(int(z), tier)]
                ranked = ranked[~dead[ranked]]
                if tier == 0:  # the roomiest few first: most failures need no more
                    left = self._pack(left, ranked[:len(left) + _FIRST_RECEIVERS], rooms,
                                      groups, used)
                left = self._pack(left, ranked, rooms, groups, used)
                if not len(left):
                    break
            stranded += [int(i) for u in left.tolist() for i in self.units.members(u)]
        names = snap.host_names
        return FailureCase(
            failed=tuple(names[h] for h in failed.tolist()), label=label,
            stranded=tuple(snap.inst_uuids[i] for i in sorted(stranded)),
            hosts_to_keep=tuple(names[h] for h in sorted(used) if self.tier[h] == 1),
            hosts_to_wake=tuple(names[h] for h in sorted(used) if self.tier[h] == 2),
            memory_mb=float(snap.allocated[failed, MEMORY].sum()))

    def _pack(self, pool: np.ndarray, receivers: np.ndarray, rooms: dict[int, np.ndarray],
              groups: dict[int, set[int]], used: set[int]) -> np.ndarray:
        if not len(pool) or not len(receivers):
            return pool
        room = self.room[receivers]
        for r, h in enumerate(receivers.tolist()):
            if h in rooms:
                room[r] = rooms[h]
        # only receivers that could take the smallest unit left are worth a look
        smallest = self.units.size[pool, :3].min(axis=0)
        fits = np.all(room[:, :3] >= smallest - 1e-6, axis=1)
        receivers, room = receivers[fits], room[fits]
        if not len(receivers):
            return pool
        placed, left = pack(self.units, pool, receivers, room, groups)
        for r, h in enumerate(receivers.tolist()):
            rooms[h] = room[r]
        used.update(placed.values())
        return left
