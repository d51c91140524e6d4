"""Rounds decided the way production audits decide: strategy plugin, then the planner.

Each round the simulated cloud becomes a :class:`ClusterSnapshot` (one vCPU =
1000 MIPS, so hosts and VMs keep their relative sizes; each instance carries
its last 30 CPU samples as its series), the named strategy runs on it with
its validated parameters, the planner orders the solution into a safe action
graph, and the graph's migrations, in topological order, start in the
simulation. Host power actions are not replayed: an empty host already draws
nothing.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer.models.records import Host, Instance
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.planning import PlannerConfig, plan
from optimizer.strategies.base import Strategy
from optimizer.strategies.solution import Migrate

MIPS_PER_VCPU = 1000.0


def host_name(h: int) -> str:
    return f"host-{h:04d}"


def vm_name(v: int) -> str:
    return f"vm-{v:05d}"


def cluster_snapshot(replay, state) -> ClusterSnapshot:
    """The simulated cloud at a round, as the collectors would describe it."""
    s = replay.setup
    hosts = [Host(name=host_name(h), vcpus=float(replay.h_cap[h]) / MIPS_PER_VCPU,
                  memory_mb=float(replay.h_ram[h]), disk_gb=1000.0, cpu_allocation_ratio=1.0,
                  ram_allocation_ratio=1.0, disk_allocation_ratio=1.0)
             for h in range(s.hosts)]
    n = replay.hist_len
    history = replay.hist[:, :n][:, ::-1]  # oldest first
    instances = []
    for v in np.flatnonzero(replay.alive & (replay.host >= 0)).tolist():
        instances.append(Instance(
            uuid=vm_name(v), host=host_name(int(replay.host[v])),
            vcpus=float(replay.v_mips[v]) / MIPS_PER_VCPU, memory_mb=float(replay.v_ram[v]),
            disk_gb=1.0, cpu_util=float(min(state.vm_u[v], 1.0)),
            cpu_util_series=history[v].tolist() if n else None))
    return ClusterSnapshot.from_records(hosts, instances, name="replay",
                                        metrics_step_s=int(s.interval_s))


@dataclass
class StrategyDecider:
    """Decides a round with a strategy plugin and the planner, as an audit does."""

    strategy: Strategy
    parameters: Mapping[str, Any] = field(default_factory=dict)
    planner: PlannerConfig = field(default_factory=PlannerConfig)

    def __post_init__(self):
        self.strategy.validate(self.parameters)  # bad parameters fail before the replay

    def __call__(self, replay, state) -> tuple[list[tuple[int, int]], int]:
        snapshot = cluster_snapshot(replay, state)
        solution = self.strategy.run(snapshot, self.parameters)
        graph = plan(snapshot, solution, self.planner)
        moves = []
        for node in graph.topological_order():
            action = graph.action(node)
            if isinstance(action, Migrate):
                moves.append((int(action.instance[3:]), int(action.destination[5:])))
        overloaded = int(np.count_nonzero(snapshot.host_load() > 1.0))
        return moves, overloaded
