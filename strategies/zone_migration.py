"""The zone_migration strategy: evacuate hosts, a zone or an aggregate to destinations.

Evacuation only ever adds instances to destinations and removes them from
sources, so every prefix of the plan fits if the whole plan does: that lets
the migrations be ordered in waves spread over the sources (for the
applier's parallelism) rather than in :func:`strategies.moves.order_moves`'
order. The order is still replayed and checked before it is returned.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from optimizer.models.records import MEMORY, VCPUS
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.base import Strategy
from optimizer.strategies.moves import order_moves
from optimizer.strategies.parameters import ParameterError, param
from optimizer.strategies.solution import Action, ChangeServiceState, Indicator, Migrate, Solution

_EPS = 1e-6
PRIORITIES = ("memory", "vcpus", "age")


@dataclass(frozen=True)
class ZoneMigrationParameters:
    source_hosts: tuple[str, ...] = param((), help="Hosts to evacuate.")
    source_zone: str | None = param(None, help="Evacuate every host of this zone.")
    source_aggregate: str | None = param(None, help="Evacuate every host of this aggregate.")
    destination_hosts: tuple[str, ...] = param(
        (), help="Hosts that may receive instances (default: any other up and enabled host).")
    destination_zone: str | None = param(
        None, help="Zone whose hosts may receive instances (with destination_hosts: either).")
    parallel_per_host: int = param(
        2, minimum=1, maximum=1000, help="Concurrent migrations allowed per source host.")
    parallel_total: int = param(
        6, minimum=1, maximum=10000, help="Concurrent migrations allowed in total.")
    priority: str = param("memory", choices=PRIORITIES,
                          help="Which instances move first: largest memory, most vcpus, "
                               "or oldest (snapshot order).")
    disable_sources: bool = param(
        True, help="Disable each source host's compute service before migrating.")


@dataclass(frozen=True)
class Scope:
    """The hosts to evacuate and the hosts that may receive, as (H,) masks."""

    sources: np.ndarray
    destinations: np.ndarray
    notes: tuple[str, ...] = ()


def resolve_scope(snapshot: ClusterSnapshot, params: ZoneMigrationParameters) -> Scope:
    """Source and destination masks; :class:`ParameterError` names every unknown value."""
    problems: list[str] = []
    zones = np.array(snapshot.host_zone, dtype=object)

    def named(names: tuple[str, ...], field: str) -> np.ndarray:
        mask = np.zeros(snapshot.host_count, dtype=bool)
        index = {n: h for h, n in enumerate(snapshot.host_names)}
        for n in names:
            if n in index:
                mask[index[n]] = True
            else:
                problems.append(f"parameter {field!r}: unknown host {n!r}")
        return mask

    def zone(value: str | None, field: str) -> np.ndarray:
        mask = zones == value if value is not None else np.zeros(snapshot.host_count, bool)
        if value is not None and not mask.any():
            problems.append(f"parameter {field!r}: no host is in zone {value!r}")
        return mask.astype(bool)

    sources = named(params.source_hosts, "source_hosts") | zone(params.source_zone, "source_zone")
    if params.source_aggregate is not None:
        in_aggregate = np.array([params.source_aggregate in a for a in snapshot.host_aggregates],
                                dtype=bool).reshape(snapshot.host_count)
        if not in_aggregate.any():
            problems.append(f"parameter 'source_aggregate': no host is in aggregate "
                            f"{params.source_aggregate!r}")
        sources |= in_aggregate
    if not (params.source_hosts or params.source_zone or params.source_aggregate):
        problems.append("no source given: set source_hosts, source_zone or source_aggregate")
    listed = named(params.destination_hosts, "destination_hosts")
    for h in np.flatnonzero(listed & sources):
        problems.append(f"parameter 'destination_hosts': host {snapshot.host_names[h]!r} "
                        "is also a source")
    chosen = listed | zone(params.destination_zone, "destination_zone")
    if problems:
        raise ParameterError("strategy zone_migration: " + "; ".join(problems))

    notes = tuple(f"destination {snapshot.host_names[h]} is not up and enabled: skipped"
                  for h in np.flatnonzero(chosen & ~sources & ~snapshot.can_receive))
    if not (params.destination_hosts or params.destination_zone):
        chosen = np.ones(snapshot.host_count, dtype=bool)
    return Scope(sources, chosen & ~sources & snapshot.can_receive, notes)


def evacuation_units(snapshot: ClusterSnapshot, sources: np.ndarray,
                     priority: str) -> list[list[int]]:
    """Instances on the sources, grouped into units that move together, by priority.

    An affinity group's members on the sources form one unit (they must end
    on one host); every other instance is a unit of its own. Units are sorted
    by their first member's priority; "age" is snapshot order, since the model
    holds no creation time.
    """
    on_source = np.flatnonzero(sources[snapshot.inst_host] & snapshot.movable)
    size = snapshot.inst_size
    if priority == "memory":
        order = sorted(on_source, key=lambda i: (-size[i, MEMORY], -size[i, VCPUS], i))
    elif priority == "vcpus":
        order = sorted(on_source, key=lambda i: (-size[i, VCPUS], -size[i, MEMORY], i))
    else:
        order = list(on_source)
    units: list[list[int]] = []
    affinity_unit: dict[int, list[int]] = {}
    for i in order:
        g = int(snapshot.inst_group[i])
        if g >= 0 and snapshot.group_policies[g] == "affinity":
            if g not in affinity_unit:
                affinity_unit[g] = []
                units.append(affinity_unit[g])
            affinity_unit[g].append(int(i))
        else:
            units.append([int(i)])
    return units


def place_units(snapshot: ClusterSnapshot, units: list[list[int]], destinations: np.ndarray,
                sources: np.ndarray) -> tuple[np.ndarray, list[list[int]]]:
    """Target hosts for every instance, and the units no destination can take.

    Each unit goes to the best-fitting destination: the one left with the
    least room after it (summed shares of its capacity), so roomy hosts stay
    free for large instances. An affinity unit whose group already has members off
    the sources must join them there.
    """
    placement = snapshot.placement()
    unplaced: list[list[int]] = []
    # work on the destinations' rows only: sources never receive
    dest = np.flatnonzero(destinations)
    capacity = snapshot.allocatable[dest]
    scale = np.maximum(capacity, _EPS)
    for unit in units:
        g = int(snapshot.inst_group[unit[0]])
        if g < 0 or snapshot.group_policies[g] != "affinity":
            unit_size = snapshot.inst_size[unit[0]]
            ok = placement.fitting_hosts(unit[0])[dest]
        else:
            # one host must take the whole unit; anti-affinity cannot apply to it
            unit_size = snapshot.inst_size[unit].sum(axis=0)
            ok = np.all(placement.allocated[dest] + unit_size <= capacity + _EPS, axis=1)
            elsewhere = [h for h in placement.group_hosts(g) if not sources[h]]
            if elsewhere:
                ok &= np.isin(dest, elsewhere)
        if not ok.any():
            unplaced.append(unit)
            continue
        left = ((capacity - placement.allocated[dest] - unit_size) / scale).sum(axis=1)
        h = int(dest[np.argmin(np.where(ok, left, np.inf))])
        for i in unit:
            placement.move(i, h)
    return placement.inst_host, unplaced


def in_waves(migrations: list[Migrate], per_host: int, total: int) -> tuple[list[Migrate], int]:
    """Migrations reordered in waves, round-robin by source, and the number of waves.

    A wave holds at most ``total`` migrations and ``per_host`` per source, so
    the first ``total`` actions of the plan are spread over the sources.
    """
    queues: dict[str, list[Migrate]] = defaultdict(list)
    for m in migrations:
        queues[m.source].append(m)
    sources = list(queues)
    out: list[Migrate] = []
    waves, cursor, left = 0, 0, len(migrations)
    while left:
        waves += 1
        taken: dict[str, int] = defaultdict(int)
        wave: list[Migrate] = []
        misses = 0  # sources passed over in a row; a whole round of them ends the wave
        while len(wave) < total and misses < len(sources):
            # the cursor carries over between waves so no source is always served last
            source = sources[cursor % len(sources)]
            cursor += 1
            if queues[source] and taken[source] < per_host:
                wave.append(queues[source].pop(0))
                taken[source] += 1
                misses = 0
            else:
                misses += 1
        out.extend(wave)
        left -= len(wave)
    return out, waves


def safe_at_every_step(snapshot: ClusterSnapshot, migrations: list[Migrate]) -> bool:
    """Whether replaying ``migrations`` in order keeps allocation and anti-affinity."""
    placement = snapshot.placement()
    for m in migrations:
        i, h = snapshot.instance_id(m.instance), snapshot.host_id(m.destination)
        if not placement.fits(i, h):
            return False
        placement.move(i, h)
    return True


def plan_zone_migration(snapshot: ClusterSnapshot, params: ZoneMigrationParameters) -> Solution:
    """Evacuate source hosts (a list, a zone or an aggregate) to destination hosts.

    Optimizes:
        Maintenance: empties the source hosts so they can be serviced, moving
        each instance to the best-fitting destination (the tightest fit
        after ratios and reserves) among up and enabled hosts, keeping
        anti-affinity at every step and affinity groups on one host.
    Metrics:
        Allocation only (flavors against allocatable capacity); no CPU
        measurements.
    Parameters:
        source_hosts, source_zone, source_aggregate: the hosts to evacuate
        (their union; at least one must be given). destination_hosts,
        destination_zone: the hosts that may receive (their union; default any
        other up and enabled host). priority: "memory" (largest first),
        "vcpus", or "age" (snapshot order: the model has no creation time).
        parallel_per_host (default 2), parallel_total (default 6): the
        applier's concurrency; migrations come in waves round-robin by source
        that respect them. disable_sources (default true): disable each
        enabled source host first.
    Limits:
        Instances no destination can take stay where they are and are listed
        in the notes. Active instances migrate live, others cold; instances on
        a source that is down are planned as ordinary migrations.
    """
    scope = resolve_scope(snapshot, params)
    units = evacuation_units(snapshot, scope.sources, params.priority)
    target, unplaced = place_units(snapshot, units, scope.destinations, scope.sources)

    reasons = {i: f"evacuate {snapshot.host_names[snapshot.inst_host[i]]} "
                  f"(priority {params.priority}, rank {rank + 1})"
               for rank, unit in enumerate(units) for i in unit}
    # order_moves gives safe, typed migrations; re-sorting them by priority
    # inside each source before the waves keeps the requested priority.
    rank = {snapshot.inst_uuids[i]: r for r, unit in enumerate(units) for i in unit}
    moves = sorted(order_moves(snapshot, target, reasons), key=lambda m: rank[m.instance])
    migrations, waves = in_waves(moves, params.parallel_per_host, params.parallel_total)
    notes = list(scope.notes)
    if not safe_at_every_step(snapshot, migrations):
        migrations = order_moves(snapshot, target, reasons)
        notes.append("wave order was not safe at every step: kept the safe order instead")

    actions: list[Action] = []
    if params.disable_sources:
        actions += [ChangeServiceState(host=snapshot.host_names[h], state="disabled",
                                       reason="evacuation by zone_migration")
                    for h in np.flatnonzero(scope.sources & snapshot.host_enabled)]
    actions += migrations
    for unit in unplaced:
        for i in unit:
            notes.append(_unplaceable_note(snapshot, i))
    moved = target != snapshot.inst_host
    return Solution(
        strategy="zone_migration", goal="cluster_maintaining", actions=tuple(actions),
        notes=tuple(notes) + (
            f"parallel_per_host={params.parallel_per_host}, "
            f"parallel_total={params.parallel_total}: {len(migrations)} migrations "
            f"in {waves} waves",),
        indicators=(
            Indicator("source_hosts_count", int(scope.sources.sum()), "hosts",
                      "Hosts to evacuate."),
            Indicator("instance_migrations_count", len(migrations), "migrations",
                      "Migrations the plan makes."),
            Indicator("unplaceable_instances_count", sum(len(u) for u in unplaced),
                      "instances", "Instances on the sources no destination can take."),
            Indicator("migrated_memory_gb", round(float(snapshot.inst_size[moved, MEMORY].sum()
                                                        / 1024), 3), "GB",
                      "Memory of the migrated instances: what moving them costs."),
            Indicator("parallel_per_host", params.parallel_per_host, "migrations",
                      "Concurrent migrations the planner may run per source host."),
            Indicator("parallel_total", params.parallel_total, "migrations",
                      "Concurrent migrations the planner may run in total."),
            Indicator("migration_waves", waves, "waves",
                      "Waves of concurrent migrations the plan is ordered in."),
        ),
    )


def _unplaceable_note(snapshot: ClusterSnapshot, i: int) -> str:
    vcpus, memory_mb, disk_gb = snapshot.inst_size[i]
    g = int(snapshot.inst_group[i])
    group = f", {snapshot.group_policies[g]} group {snapshot.group_names[g]}" if g >= 0 else ""
    return (f"instance {snapshot.inst_uuids[i]} on {snapshot.host_names[snapshot.inst_host[i]]}"
            f" ({vcpus:g} vcpus, {memory_mb:g} MB, {disk_gb:g} GB{group}): "
            "no destination fits; it stays")


strategy = Strategy(name="zone_migration", goal="cluster_maintaining",
                    parameters=ZoneMigrationParameters, execute=plan_zone_migration,
                    display_name="Zone migration", auto_select=False)
