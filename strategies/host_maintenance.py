"""The host maintenance strategy: disable one host and move everything off it.

Like Watcher's ``host_maintenance``: the host's compute service is disabled
first so nothing new lands on it, then each instance moves to the backup
host when one is named and can take them all, or else to the best-fitting
other host. Instances that fit nowhere stay and are listed in the notes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from optimizer.models.errors import ScenarioError
from optimizer.models.placement import Placement
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.base import Strategy
from optimizer.strategies.moves import order_moves
from optimizer.strategies.parameters import ParameterError, param
from optimizer.strategies.solution import ChangeServiceState, Indicator, Solution

NAME = "host_maintenance"
GOAL = "cluster_maintaining"
_EPS = 1e-6
# destinations are first sought under this CPU load, then under any load that fits
_COMFORTABLE_LOAD = 1.0


@dataclass(frozen=True)
class HostMaintenanceParameters:
    maintenance_node: str = param(help="Host to disable and empty for maintenance.")
    backup_node: str | None = param(
        None, help="Host to move every instance to, when it can take them all.")


def plan_host_maintenance(snapshot: ClusterSnapshot,
                          params: HostMaintenanceParameters) -> Solution:
    """Disable a host and move its instances to a backup host or the best-fitting others.

    Optimizes:
        Nothing but availability (goal cluster_maintaining): the host is
        disabled, then emptied with as few surprises as possible.
    Metrics:
        The flavors' vcpus, memory and disk for allocation; cpu_util to keep
        destinations under full CPU load where possible.
    Parameters:
        maintenance_node names the host to empty; backup_node, when given,
        is tried first for all of its instances together.
    Limits:
        Affinity groups on the host move together; anti-affinity is kept.
        Instances that fit on no up and enabled host stay where they are and
        are listed in the solution's notes.
    """
    source = _host_index(snapshot, "maintenance_node", params.maintenance_node)
    backup = (_host_index(snapshot, "backup_node", params.backup_node)
              if params.backup_node is not None else None)
    if backup == source:
        raise ParameterError(f"strategy {NAME}: parameter 'backup_node' must differ from "
                             f"'maintenance_node', both are {params.maintenance_node!r}")
    name = snapshot.host_names[source]
    actions: list = []
    if snapshot.host_enabled[source]:
        actions.append(ChangeServiceState(host=name, state="disabled",
                                          reason=f"maintenance of {name}"))
    on_host = np.flatnonzero(snapshot.inst_host == source)
    units = _units(snapshot, on_host.tolist())
    notes: list[str] = [f"instance {snapshot.inst_uuids[i]} stays on {name}: it is "
                        f"{snapshot.inst_state[i]} or excluded by the audit's scope"
                        for i in on_host[~snapshot.movable[on_host]]]
    placement = Placement(snapshot)
    if backup is not None and not _all_onto(placement, units, backup, notes):
        placement = Placement(snapshot)
        backup = None
    unplaced = [] if backup is not None else _spread(placement, units, source)
    for unit in unplaced:
        notes.extend(f"instance {snapshot.inst_uuids[i]} stays on {name}: no up and enabled "
                     "host has room for it" + (" and its affinity group" if len(unit) > 1 else "")
                     for i in unit)
    reasons = {int(i): f"evacuate {name} for maintenance"
               for i in np.flatnonzero(placement.inst_host != snapshot.inst_host)}
    migrations = order_moves(snapshot, placement.inst_host, reasons)
    actions.extend(migrations)
    unplaced_count = sum(len(u) for u in unplaced)
    return Solution(
        strategy=NAME, goal=GOAL, actions=tuple(actions), notes=tuple(notes),
        indicators=(
            Indicator("instance_migrations_count", len(migrations), "migrations",
                      "Migrations the plan makes."),
            Indicator("unplaced_instances_count", unplaced_count, "instances",
                      "Instances left on the maintenance host for want of room."),
        ),
    )


def _host_index(snapshot: ClusterSnapshot, field: str, name: str) -> int:
    try:
        return snapshot.host_id(name)
    except ScenarioError:
        raise ParameterError(f"strategy {NAME}: parameter {field!r} names unknown host "
                             f"{name!r}") from None


def _units(snapshot: ClusterSnapshot, members: list[int]) -> list[list[int]]:
    """Instances that move together (an affinity group as one), biggest memory first."""
    groups: dict[int, list[int]] = {}
    units: list[list[int]] = []
    for i in members:
        if not snapshot.movable[i]:
            continue  # pinned by the scope or mid-change: it stays, and the notes say so
        g = int(snapshot.inst_group[i])
        if g >= 0 and snapshot.group_policies[g] == "affinity":
            groups.setdefault(g, []).append(i)
        else:
            units.append([i])
    units.extend(groups.values())
    memory = snapshot.inst_size[:, 1]
    units.sort(key=lambda unit: (-float(memory[unit].sum()), unit[0]))
    return units


def _all_onto(placement: Placement, units: list[list[int]], backup: int,
              notes: list[str]) -> bool:
    """Move every unit onto ``backup``; False (with a note) when they do not all fit."""
    snap = placement.snapshot
    for unit in units:
        for i in unit:
            if not placement.fits(i, backup):
                notes.append(f"backup_node {snap.host_names[backup]} cannot take instance "
                             f"{snap.inst_uuids[i]}; other hosts are used instead")
                return False
            placement.move(i, backup)
    return True


def _spread(placement: Placement, units: list[list[int]], source: int) -> list[list[int]]:
    """Move each unit to its best-fitting host; return the units that fit nowhere."""
    unplaced = []
    for unit in units:
        dest = _best_fit(placement, unit, source, _COMFORTABLE_LOAD)
        if dest is None:
            dest = _best_fit(placement, unit, source, None)
        if dest is None:
            unplaced.append(unit)
            continue
        for i in unit:
            placement.move(i, dest)
    return unplaced


def _best_fit(placement: Placement, unit: list[int], source: int,
              max_load: float | None) -> int | None:
    """The host the unit fills most snugly (least mean room left after), or None."""
    snap = placement.snapshot
    if len(unit) == 1:
        ok = placement.fitting_hosts(unit[0], max_load)
    else:
        size = snap.inst_size[unit].sum(axis=0)
        ok = snap.can_receive & np.all(
            placement.allocated + size <= snap.allocatable + _EPS, axis=1)
        if max_load is not None:
            demand = placement.demand[unit].sum()
            ok &= placement.host_demand + demand <= max_load * snap.host_cores + _EPS
    ok[source] = False
    if not ok.any():
        return None
    size = snap.inst_size[unit].sum(axis=0)
    room = (placement.free - size) / np.maximum(snap.allocatable, _EPS)
    return int(np.argmin(np.where(ok, room.mean(axis=1), np.inf)))


strategy = Strategy(name=NAME, goal=GOAL, parameters=HostMaintenanceParameters,
                    execute=plan_host_maintenance, display_name="Host maintenance",
                    auto_select=False)
