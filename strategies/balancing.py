"""Spreading load evenly over hosts: the greedy core of the balancing strategies.

Both ``workload_balance`` and ``workload_stabilization`` ask the same thing:
move instances from busy hosts to quiet ones until the standard deviation of
each balanced metric across hosts is under its threshold, in as few
migrations as possible. A metric is a per-host load in 0..1:

- ``cpu``: CPU demand of the host's instances over its usable cores (the
  referee's ``cpu_load``);
- ``ram``: memory the host's instances allocate over its allocatable memory.

Each step simulates moving the candidate instances of the busiest host(s)
onto the quietest hosts that can take them, scores every (instance,
destination) pair by the weighted sum of the metrics' standard deviations
after the move, and applies the best one. Whole arrays are scored at once;
a step costs a few numpy operations over the hosts, never a Python loop.

The balanced population is the set of hosts running instances in the
snapshot: no move empties a host or fills an empty one, so the population,
and hence what the standard deviation is taken over, stays fixed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from optimizer.models.placement import Placement
from optimizer.models.records import MEMORY
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.moves import order_moves
from optimizer.strategies.parameters import ParameterError
from optimizer.strategies.solution import Indicator, Solution

METRICS = ("cpu", "ram")
_EPS = 1e-6
_OVERLOAD_PRIORITY = 1e6  # puts overloaded hosts ahead of any merely busy host


@dataclass(frozen=True)
class MetricGoal:
    """One balanced metric: its name, the stdev to reach and its weight in the score."""

    name: str
    threshold: float
    weight: float = 1.0


@dataclass(frozen=True)
class BalanceSettings:
    """How the greedy searches; built by each strategy from its parameters."""

    metrics: tuple[MetricGoal, ...]
    cpu_sizing: str = "mean"
    max_cpu_load: float = 1.0
    max_migrations: int = 0          # 0: no limit
    source_hosts: int = 1            # busiest hosts whose instances each step simulates
    destination_hosts: int = 16      # quietest hosts each step tries as destinations
    random_destinations: int = 0     # further destinations drawn at random per step
    seed: int = 0
    # True: a metric earns nothing below its threshold and pays nothing up to it,
    # so moves serve only the metrics still off target (fewer migrations).
    # False: Watcher's plain weighted sum of standard deviations.
    hinge_at_threshold: bool = False


@dataclass
class BalanceResult:
    """Where instances should end up, why, and the balance before and after."""

    target: np.ndarray
    reasons: dict[int, str]
    stdev_before: dict[str, float]
    stdev_after: dict[str, float]
    max_cpu_load_after: float
    notes: list[str] = field(default_factory=list)


def check_metrics(metrics: tuple[str, ...], *, strategy: str) -> None:
    """Raise :class:`ParameterError` naming any metric that is not one of :data:`METRICS`."""
    unknown = [m for m in metrics if m not in METRICS]
    if unknown or not metrics or len(set(metrics)) != len(metrics):
        got = ", ".join(metrics) or "nothing"
        raise ParameterError(f"strategy {strategy}: parameter 'metrics': got {got}; "
                             f"give each of {', '.join(METRICS)} at most once, at least one")


def metric_columns(snapshot: ClusterSnapshot, demand: np.ndarray,
                   names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(K, N) amount each instance adds and (K, H) capacity it is divided by, per metric."""
    amounts, capacities = [], []
    for name in names:
        if name == "cpu":
            amounts.append(demand)
            capacities.append(snapshot.host_cores)
        elif name == "ram":
            amounts.append(snapshot.inst_size[:, MEMORY])
            capacities.append(np.maximum(snapshot.allocatable[:, MEMORY], 1e-9))
        else:
            raise ValueError(f"unknown balancing metric {name!r}; choose from {METRICS}")
    return np.array(amounts).reshape(len(names), -1), np.array(capacities)


def host_loads(placement: Placement, amounts: np.ndarray, capacities: np.ndarray) -> np.ndarray:
    """(K, H) load of every host for every metric under ``placement``."""
    hosts = placement.snapshot.host_count
    return np.array([np.bincount(placement.inst_host, weights=a, minlength=hosts) / c
                     for a, c in zip(amounts, capacities, strict=True)]).reshape(len(amounts), -1)


def balance(snapshot: ClusterSnapshot, settings: BalanceSettings) -> BalanceResult:
    """Greedily migrate instances until every metric's stdev is under its threshold."""
    return _Balancer(snapshot, settings).run()


class _Balancer:
    """The working state of one balancing run (local to :func:`balance`)."""

    def __init__(self, snapshot: ClusterSnapshot, settings: BalanceSettings):
        self.snap = snapshot
        self.settings = settings
        self.names = tuple(m.name for m in settings.metrics)
        self.weights = np.array([m.weight for m in settings.metrics])
        self.thresholds = np.array([m.threshold for m in settings.metrics])
        demand = snapshot.cpu_demand(settings.cpu_sizing)
        self.placement = Placement(snapshot, demand)
        self.amounts, self.capacities = metric_columns(snapshot, demand, self.names)
        self.loads = host_loads(self.placement, self.amounts, self.capacities)
        self.population = snapshot.instances_per_host > 0
        self.n = max(int(self.population.sum()), 1)
        self.sum1 = (self.loads * self.population).sum(axis=1)
        self.sum2 = (self.loads ** 2 * self.population).sum(axis=1)
        self.destinations = self.population & snapshot.can_receive
        self.stuck = np.zeros(snapshot.host_count, dtype=bool)
        self.moved = np.zeros(snapshot.instance_count, dtype=bool)
        self.rng = np.random.default_rng(settings.seed)
        self._index_candidates()

    def _index_candidates(self) -> None:
        """Instances that may move, grouped by host: affinity members stay where they are."""
        snap = self.snap
        affinity = [g for g, p in enumerate(snap.group_policies) if p == "affinity"]
        movable = ~np.isin(snap.inst_group, affinity) & snap.movable
        ids = np.flatnonzero(movable)
        self.by_host = ids[np.argsort(snap.inst_host[ids], kind="stable")]
        hosts = snap.inst_host[self.by_host]
        self.starts = np.searchsorted(hosts, np.arange(snap.host_count + 1))
        self.movable_left = np.diff(self.starts)

    # ----- measures -------------------------------------------------------------

    def stdevs(self) -> np.ndarray:
        mean = self.sum1 / self.n
        return np.sqrt(np.maximum(self.sum2 / self.n - mean ** 2, 0.0))

    def cpu_load(self) -> np.ndarray:
        return self.placement.host_demand / self.snap.host_cores

    def overloaded(self) -> np.ndarray:
        return self.population & (self.cpu_load() > self.settings.max_cpu_load + _EPS)

    # ----- the loop -------------------------------------------------------------

    def run(self) -> BalanceResult:
        before = self.stdevs()
        settings = self.settings
        reasons: dict[int, str] = {}
        notes: list[str] = []
        while True:
            if settings.max_migrations and len(reasons) >= settings.max_migrations:
                if self._unbalanced().any() or self.overloaded().any():
                    notes.append(f"stopped at max_migrations={settings.max_migrations}")
                break
            if not self._unbalanced().any() and not self.overloaded().any():
                break
            excess = self._excess()
            sources = self._pick_sources(excess)
            if sources.size == 0:
                break
            move = self._best_move(sources, excess)
            if move is None:
                self.stuck[sources] = True
                continue
            i, dest = move
            reasons[i] = self._apply(i, dest)
        after = self.stdevs()
        notes.extend(self._shortfalls(after))
        return BalanceResult(
            target=self.placement.inst_host.copy(), reasons=reasons,
            stdev_before=dict(zip(self.names, before.tolist(), strict=True)),
            stdev_after=dict(zip(self.names, after.tolist(), strict=True)),
            max_cpu_load_after=float(self.cpu_load()[self.population].max(initial=0.0)),
            notes=notes,
        )

    def _unbalanced(self) -> np.ndarray:
        return self.stdevs() > self.thresholds + 1e-12

    def _excess(self) -> np.ndarray:
        """(H,) weighted load above the mean: how busy each host is, all metrics together."""
        mean = self.sum1 / self.n
        return self.weights @ (self.loads - mean[:, None])

    def _pick_sources(self, excess: np.ndarray) -> np.ndarray:
        """The busiest hosts that still have an instance to give; overloaded hosts first."""
        overloaded = self.overloaded()
        eligible = (self.population & ~self.stuck & (self.movable_left > 0)
                    & (self.placement.count >= 2))
        if not self._unbalanced().any():
            eligible &= overloaded  # balanced already: only overloads are left to fix
        if not eligible.any():
            return np.empty(0, dtype=np.int64)
        priority = np.where(eligible, excess + _OVERLOAD_PRIORITY * overloaded, -np.inf)
        k = min(self.settings.source_hosts, int(eligible.sum()))
        if k == 1:
            return np.array([int(np.argmax(priority))])
        top = np.argpartition(-priority, k - 1)[:k]
        return top[np.isfinite(priority[top])]

    def _pick_destinations(self, excess: np.ndarray) -> np.ndarray:
        """The quietest hosts that may receive, plus a few drawn at random."""
        ok = self.destinations
        count = int(ok.sum())
        k = min(self.settings.destination_hosts, count)
        if k == 0:
            return np.empty(0, dtype=np.int64)
        score = np.where(ok, excess, np.inf)
        chosen = np.argpartition(score, k - 1)[:k] if k < count else np.flatnonzero(ok)
        extra = min(self.settings.random_destinations, count)
        if extra:
            drawn = self.rng.choice(np.flatnonzero(ok), size=extra, replace=False)
            chosen = np.unique(np.concatenate([chosen, drawn]))
        return chosen

    def _candidates(self, sources: np.ndarray) -> np.ndarray:
        parts = [self.by_host[self.starts[s]:self.starts[s + 1]] for s in sources]
        cands = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
        return cands[~self.moved[cands]]

    def _best_move(self, sources: np.ndarray, excess: np.ndarray) -> tuple[int, int] | None:
        """The (instance, destination) pair that lowers the weighted stdev most, if any."""
        cands = self._candidates(sources)
        if cands.size == 0:
            return None
        dests = self._pick_destinations(excess)
        feasible = self._feasible(cands, dests)
        if not feasible.any() and dests.size < int(self.destinations.sum()):
            # the quietest hosts cannot take any candidate: search every host once
            dests = np.flatnonzero(self.destinations)
            feasible = self._feasible(cands, dests)
        if not feasible.any():
            return None
        return self._score(cands, dests, feasible)

    def _score(self, cands: np.ndarray, dests: np.ndarray,
               feasible: np.ndarray) -> tuple[int, int] | None:
        """The feasible pair with the largest gain in weighted stdev, if it gains at all."""
        src = self.placement.inst_host[cands]
        scored = [k for k in range(len(self.names)) if self.weights[k] > 0]
        new_stdev = np.zeros(feasible.shape)
        for k in scored:
            amount, cap, load = self.amounts[k, cands], self.capacities[k], self.loads[k]
            out = (amount / cap[src])[:, None]
            into = amount[:, None] / cap[dests][None, :]
            la, lb = load[src][:, None], load[dests][None, :]
            d1 = into - out
            d2 = (la - out) ** 2 - la ** 2 + (lb + into) ** 2 - lb ** 2
            mean = (self.sum1[k] + d1) / self.n
            var = (self.sum2[k] + d2) / self.n - mean ** 2
            new_stdev += self.weights[k] * self._counted(np.sqrt(np.maximum(var, 0.0)), k)
        stdevs = self.stdevs()
        now = sum(self.weights[k] * self._counted(stdevs[k], k) for k in scored)
        gain = np.where(feasible, now - new_stdev, -np.inf)
        best = int(np.argmax(gain))
        r, c = divmod(best, dests.size)
        overloaded_source = self.cpu_load()[src[r]] > self.settings.max_cpu_load + _EPS
        if gain[r, c] <= 1e-12 and not (overloaded_source and np.isfinite(gain[r, c])):
            return None
        return int(cands[r]), int(dests[c])

    def _counted(self, stdev: np.ndarray | float, k: int) -> np.ndarray | float:
        """The part of metric ``k``'s stdev the score counts."""
        if self.settings.hinge_at_threshold:
            return np.maximum(stdev, self.thresholds[k])
        return stdev

    def _feasible(self, cands: np.ndarray, dests: np.ndarray) -> np.ndarray:
        """(C, D) pairs within allocatable capacity, CPU load limit and anti-affinity."""
        snap, place = self.snap, self.placement
        src = place.inst_host[cands]
        room = snap.allocatable[dests] - place.allocated[dests]
        ok = np.all(snap.inst_size[cands][:, None, :] <= room[None, :, :] + _EPS, axis=2)
        cpu_room = self.settings.max_cpu_load * snap.host_cores[dests] - place.host_demand[dests]
        ok &= place.demand[cands][:, None] <= cpu_room[None, :] + _EPS
        ok &= dests[None, :] != src[:, None]
        groups = snap.inst_group[cands]
        for r in np.flatnonzero(groups >= 0):
            g = int(groups[r])
            if snap.group_policies[g] == "anti-affinity":
                ok[r] &= ~np.isin(dests, list(place.group_hosts(g)))
        return ok

    def _apply(self, i: int, dest: int) -> str:
        """Move ``i`` onto ``dest`` in the working copy; the reason to record."""
        src = int(self.placement.inst_host[i])
        before = self.cpu_load()[[src, dest]]
        self.placement.move(i, dest)
        for k in range(len(self.names)):
            out = self.amounts[k, i] / self.capacities[k, src]
            into = self.amounts[k, i] / self.capacities[k, dest]
            self._shift(k, src, -out)
            self._shift(k, dest, into)
        self.moved[i] = True
        self.movable_left[src] -= 1
        after = self.cpu_load()[[src, dest]]
        names = self.snap.host_names
        return (f"balance CPU load: {names[src]} {before[0]:.2f}->{after[0]:.2f}, "
                f"{names[dest]} {before[1]:.2f}->{after[1]:.2f}")

    def _shift(self, k: int, h: int, delta: float) -> None:
        old = self.loads[k, h]
        new = old + delta
        self.loads[k, h] = new
        self.sum1[k] += new - old
        self.sum2[k] += new * new - old * old

    def _shortfalls(self, after: np.ndarray) -> list[str]:
        """Notes on goals the run could not reach, naming metric and hosts."""
        notes = []
        for name, value, limit in zip(self.names, after, self.thresholds, strict=True):
            if value > limit + 1e-12:
                notes.append(f"{name} load stdev {value:.4f} stays above threshold {limit:g}: "
                             "no further move within capacity, anti-affinity and "
                             "max_cpu_load lowers it")
        over = np.flatnonzero(self.overloaded())
        if over.size:
            listed = ", ".join(self.snap.host_names[h] for h in over[:5])
            more = f" and {over.size - 5} more" if over.size > 5 else ""
            notes.append(f"{over.size} host(s) stay above max_cpu_load "
                         f"{self.settings.max_cpu_load:g}: {listed}{more}")
        return notes


def balancing_solution(snapshot: ClusterSnapshot, result: BalanceResult, *, strategy: str,
                       goal: str, reported: tuple[str, ...]) -> Solution:
    """Safe-ordered migrations for ``result`` with the balancing efficacy indicators."""
    migrations = order_moves(snapshot, result.target, result.reasons)
    moved = result.target != snapshot.inst_host
    memory_gb = float(snapshot.inst_size[moved, MEMORY].sum()) / 1024
    indicators = [Indicator("instance_migrations_count", len(migrations), "migrations",
                            "Migrations the plan makes.")]
    for name in reported:
        what = ("CPU demand over usable cores" if name == "cpu"
                else "allocated over allocatable memory")
        indicators += [
            Indicator(f"{name}_load_stdev_before", round(result.stdev_before[name], 4), "ratio",
                      f"Standard deviation of host {name} load ({what}) before the plan."),
            Indicator(f"{name}_load_stdev_after", round(result.stdev_after[name], 4), "ratio",
                      f"Standard deviation of host {name} load ({what}) after the plan."),
        ]
    indicators += [
        Indicator("max_cpu_load_after", round(result.max_cpu_load_after, 4), "ratio",
                  "Highest host CPU load after the plan."),
        Indicator("migrated_memory_gb", round(memory_gb, 3), "GB",
                  "Memory of the migrated instances: what moving them costs."),
    ]
    return Solution(strategy=strategy, goal=goal, actions=tuple(migrations),
                    indicators=tuple(indicators), notes=tuple(result.notes))
