"""The demo: a simulated cluster, one strategy run, and what it changes.

Figures are computed here from a :class:`~optimizer.models.placement.Placement` so the
command line only formats them. "After" comes from replaying the solution's
migrations one by one on a working copy of the snapshot, checking each move
as the applier would; a move that would not fit is counted, not hidden.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from optimizer.models.placement import Placement
from optimizer.models.records import MEMORY
from optimizer.models.simulated import SimulationSpec, simulate_cluster
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.base import Strategy
from optimizer.strategies.solution import Migrate, Solution


@dataclass(frozen=True)
class ClusterFigures:
    """What a placement looks like: host counts, CPU load and memory allocation."""

    active_hosts: int
    cpu_load_mean: float    # over active hosts, as a fraction of usable cores
    cpu_load_max: float
    cpu_load_stdev: float
    memory_allocated_mean: float  # over active hosts, as a fraction of allocatable memory


@dataclass(frozen=True)
class Replay:
    """The result of applying a solution's migrations to a copy of the snapshot."""

    placement: Placement
    migrations: int
    moved_memory_gb: float
    unfit_moves: list[str] = field(default_factory=list)  # moves that broke a limit


@dataclass(frozen=True)
class DemoResult:
    """One demo run: the cluster, the solution, figures before and after, and timing."""

    snapshot: ClusterSnapshot
    solution: Solution
    before: ClusterFigures
    after: ClusterFigures
    replay: Replay
    planning_seconds: float

    def to_dict(self, max_actions: int = 10) -> dict:
        """A JSON-ready summary, with the first ``max_actions`` actions."""
        return {
            "scenario": self.snapshot.name,
            "hosts": self.snapshot.host_count,
            "instances": self.snapshot.instance_count,
            "strategy": self.solution.strategy,
            "planning_seconds": round(self.planning_seconds, 4),
            "before": asdict(self.before),
            "after": asdict(self.after),
            "migrations": self.replay.migrations,
            "moved_memory_gb": round(self.replay.moved_memory_gb, 1),
            "unfit_moves": self.replay.unfit_moves,
            "actions_total": len(self.solution.actions),
            "actions": [a.to_plan_entry() for a in self.solution.actions[:max_actions]],
        }


def figures(placement: Placement) -> ClusterFigures:
    """Figures over the hosts that hold at least one instance."""
    snap = placement.snapshot
    active = placement.count > 0
    if not active.any():
        return ClusterFigures(0, 0.0, 0.0, 0.0, 0.0)
    load = placement.load[active]
    allocatable = snap.allocatable[active, MEMORY]
    memory = np.divide(placement.allocated[active, MEMORY], allocatable,
                       out=np.zeros_like(allocatable), where=allocatable > 0)
    return ClusterFigures(
        active_hosts=int(active.sum()),
        cpu_load_mean=float(load.mean()),
        cpu_load_max=float(load.max()),
        cpu_load_stdev=float(load.std()),
        memory_allocated_mean=float(memory.mean()),
    )


def replay(snapshot: ClusterSnapshot, solution: Solution) -> Replay:
    """Apply the solution's migrations in order to a working copy of ``snapshot``."""
    placement = snapshot.placement()
    moved_mb, unfit, count = 0.0, [], 0
    for action in solution.actions:
        if not isinstance(action, Migrate):
            continue
        i = snapshot.instance_id(action.instance)
        h = snapshot.host_id(action.destination)
        if not placement.fits(i, h):
            unfit.append(f"{action.instance} → {action.destination}")
        placement.move(i, h)
        moved_mb += float(snapshot.inst_size[i, MEMORY])
        count += 1
    return Replay(placement, count, moved_mb / 1024, unfit)


def run_demo(strategy: Strategy, values: Mapping[str, str], *, hosts: int = 40,
             seed: int = 1) -> DemoResult:
    """Simulate a cluster, run ``strategy`` on it and measure the difference."""
    params = strategy.validate(values)
    snapshot = simulate_cluster(SimulationSpec(hosts=hosts, seed=seed))
    started = time.perf_counter()
    solution = strategy.execute(snapshot, params)
    planning_seconds = time.perf_counter() - started
    replayed = replay(snapshot, solution)
    return DemoResult(
        snapshot=snapshot, solution=solution,
        before=figures(snapshot.placement()), after=figures(replayed.placement),
        replay=replayed, planning_seconds=planning_seconds,
    )
