"""Judging a candidate solution the way the neutral referee does.

A goal-only audit compares strategies by what their plans would do to the
cluster, so each one is first checked like an independent referee checks a
plan: the planner must find a safe graph for it (allocation within capacity
at every step, anti-affinity kept, migrations starting where their instance
is, destinations up and enabled or brought up by the plan: the production
checks in :mod:`optimizer.planning`), only active instances live-migrate,
pinned instances stay, affinity groups stay together, and no host is
powered off while it holds instances. Then the CPU load it leaves on each
host is measured (mean demand over usable cores, like the referee): a plan
that takes more hosts above :data:`OVERLOAD` than there were is refused.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass

import numpy as np

from optimizer.models.errors import UserError
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.planning import PlannerConfig, plan
from optimizer.strategies.solution import ChangePowerState, Migrate, Solution

# CPU load (demand over usable cores) above which a host is overloaded, as
# the referee counts it: beyond it instances wait for CPU.
OVERLOAD = 1.0
_EPS = 1e-9
MIGRATION_TYPES = ("live", "cold")


@dataclass(frozen=True)
class Assessment:
    """What a candidate solution would do, as the referee sees it."""

    violations: tuple[str, ...]
    overloaded_before: int
    overloaded_after: int
    max_load_after: float
    active_hosts_after: int
    load_stdev_after: float
    migrations: int

    @property
    def rejection(self) -> str:
        """Why the candidate may not be chosen (empty: it may)."""
        if self.violations:
            more = f" (and {len(self.violations) - 1} more)" if len(self.violations) > 1 else ""
            return f"invalid plan: {self.violations[0]}{more}"
        if self.overloaded_after > self.overloaded_before:
            return (f"overloads hosts: {self.overloaded_after} above {OVERLOAD:.0%} CPU after, "
                    f"{self.overloaded_before} before (peak {self.max_load_after:.0%})")
        return ""


def assess(snapshot: ClusterSnapshot, solution: Solution,
           planner: PlannerConfig | None = None) -> Assessment:
    """Check ``solution`` on ``snapshot`` and measure the load it leaves."""
    violations = _violations(snapshot, solution, planner)
    where = _placement_after(snapshot, solution)
    demand = snapshot.cpu_demand("mean")
    before = snapshot.host_load(demand)
    after = np.bincount(where, weights=demand, minlength=snapshot.host_count) / \
        snapshot.host_cores
    occupied = np.bincount(where, minlength=snapshot.host_count) > 0
    loads = after[occupied].tolist()
    return Assessment(
        violations=tuple(violations),
        overloaded_before=int(np.count_nonzero(before > OVERLOAD + _EPS)),
        overloaded_after=int(np.count_nonzero(after > OVERLOAD + _EPS)),
        max_load_after=max(loads, default=0.0),
        active_hosts_after=int(np.count_nonzero(occupied)),
        load_stdev_after=statistics.pstdev(loads) if loads else 0.0,
        migrations=len(solution.migrations))


def _violations(snapshot: ClusterSnapshot, solution: Solution,
                planner: PlannerConfig | None) -> list[str]:
    try:
        plan(snapshot, solution, planner)
    except UserError as exc:  # PlanInfeasible, or a host or instance the model lacks
        return [str(exc)]
    problems = []
    movable = snapshot.movable
    for k, action in enumerate(solution.actions):
        if not isinstance(action, Migrate):
            continue
        i = snapshot.instance_id(action.instance)
        if action.migration_type not in MIGRATION_TYPES:
            problems.append(f"action {k}: unknown migration_type {action.migration_type!r}")
        elif action.migration_type == "live" and snapshot.inst_state[i] != "active":
            problems.append(f"action {k}: instance {action.instance} is "
                            f"{snapshot.inst_state[i]} but live-migrated")
        if not movable[i]:
            problems.append(f"action {k}: instance {action.instance} must stay (excluded by "
                            "the scope or mid-change)")
    where = _placement_after(snapshot, solution)
    problems += _split_affinity_groups(snapshot, where)
    problems += _powered_off_with_instances(snapshot, solution, where)
    return problems


def _placement_after(snapshot: ClusterSnapshot, solution: Solution) -> np.ndarray:
    """(N,) the host of each instance once every migration is done."""
    where = np.array(snapshot.inst_host, dtype=np.int64)
    for m in solution.migrations:
        i = snapshot.instance_ids.get(m.instance)
        h = snapshot.host_ids.get(m.destination)
        if i is not None and h is not None:
            where[i] = h
    return where


def _split_affinity_groups(snapshot: ClusterSnapshot, where: np.ndarray) -> list[str]:
    problems = []
    groups = np.asarray(snapshot.inst_group)
    for g, policy in enumerate(snapshot.group_policies):
        members = np.flatnonzero(groups == g)
        if policy != "affinity" or len(members) < 2:
            continue
        was = set(np.asarray(snapshot.inst_host)[members].tolist())
        now = set(where[members].tolist())
        if len(was) == 1 < len(now):
            hosts = ", ".join(sorted(snapshot.host_names[h] for h in now))
            problems.append(f"affinity group {snapshot.group_names[g]} split over {hosts}")
    return problems


def _powered_off_with_instances(snapshot: ClusterSnapshot, solution: Solution,
                                where: np.ndarray) -> list[str]:
    power: dict[str, str] = {}
    for action in solution.actions:
        if isinstance(action, ChangePowerState):
            power[action.host] = action.state
    counts = np.bincount(where, minlength=snapshot.host_count)
    return [f"host {host} powered off with {counts[snapshot.host_id(host)]} instances on it"
            for host, state in power.items()
            if state == "off" and counts[snapshot.host_id(host)] > 0]
