"""What a solution changes on each host: instances, CPU load and allocation."""
from __future__ import annotations

import numpy as np

from optimizer.models.records import MEMORY, VCPUS
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.solution import ChangePowerState, ChangeServiceState, Migrate, Solution


def final_placement(snapshot: ClusterSnapshot, solution: Solution) -> np.ndarray:
    """(N,) host index of every instance once the solution's migrations are done."""
    target = snapshot.inst_host.astype(np.int64).copy()
    for action in solution.actions:
        if isinstance(action, Migrate):
            target[snapshot.instance_id(action.instance)] = snapshot.host_id(action.destination)
    return target


def host_changes(snapshot: ClusterSnapshot, solution: Solution) -> dict[str, dict]:
    """For every host the solution touches: figures before and after.

    Keys per host: ``instances``, ``cpu_load``, ``vcpus_allocated_pct``,
    ``memory_allocated_pct`` (each a ``[before, after]`` pair) and ``service`` /
    ``power`` when the plan changes them.
    """
    target = final_placement(snapshot, solution)
    moved = target != snapshot.inst_host
    touched = set(snapshot.inst_host[moved].tolist()) | set(target[moved].tolist())
    states: dict[int, dict] = {}
    for action in solution.actions:
        if isinstance(action, ChangeServiceState | ChangePowerState):
            h = snapshot.host_id(action.host)
            touched.add(h)
            key = "service" if isinstance(action, ChangeServiceState) else "power"
            states.setdefault(h, {})[key] = action.state
    if not touched:
        return {}
    hosts = snapshot.host_count
    demand = snapshot.cpu_demand()
    figures = {}
    for label, where in (("before", snapshot.inst_host), ("after", target)):
        count = np.bincount(where, minlength=hosts)
        load = np.bincount(where, weights=demand, minlength=hosts) / snapshot.host_cores
        alloc = [np.bincount(where, weights=snapshot.inst_size[:, r], minlength=hosts)
                 / np.maximum(snapshot.allocatable[:, r], 1e-9) * 100 for r in (VCPUS, MEMORY)]
        figures[label] = (count, load, alloc[0], alloc[1])
    out = {}
    for h in sorted(touched):
        b, a = figures["before"], figures["after"]
        entry = {
            "instances": [int(b[0][h]), int(a[0][h])],
            "cpu_load": [round(float(b[1][h]), 4), round(float(a[1][h]), 4)],
            "vcpus_allocated_pct": [round(float(b[2][h]), 1), round(float(a[2][h]), 1)],
            "memory_allocated_pct": [round(float(b[3][h]), 1), round(float(a[3][h]), 1)],
        }
        entry.update(states.get(h, {}))
        out[snapshot.host_names[h]] = entry
    return out
