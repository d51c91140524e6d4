"""The saving_energy strategy: power off surplus empty hosts, keeping free headroom.

Convention for "powered off" in our model: a host is powered off when its
state is ``down`` and its ``disabled_reason`` starts with ``"powered off"``
(any case). Hosts that are down for any other reason are broken or in
maintenance: this strategy never powers them on. To keep that convention
true after a plan runs, powering off is planned as a ``change_service_state
disabled`` (whose reason starts with "powered off", for the applier to
record as ``disabled_reason``) followed by ``change_power_state off``;
powering on as ``change_power_state on`` followed by ``change_service_state
enabled``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from optimizer.models.records import MEMORY, VCPUS
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.base import Strategy
from optimizer.strategies.moves import consolidation_indicators
from optimizer.strategies.parameters import param
from optimizer.strategies.solution import (
    Action,
    ChangePowerState,
    ChangeServiceState,
    Indicator,
    Solution,
)

POWERED_OFF_REASON = "powered off"
# The headroom counts vcpus and memory, as the parameter's help says.
HEADROOM_RESOURCES = (VCPUS, MEMORY)


@dataclass(frozen=True)
class SavingEnergyParameters:
    free_capacity_percent: float = param(
        20.0, minimum=0, maximum=100,
        help="Share (percent) of the allocatable vcpus and memory of powered-on, up and "
             "enabled hosts that must stay free after the plan.")
    min_free_hosts: int = param(
        1, minimum=0, maximum=10000,
        help="Empty powered-on hosts to keep ready for new instances.")
    keep_failover: int = param(
        0, minimum=0, maximum=1000,
        help="Hosts that may fail at once after the plan with every instance still "
             "rebuildable elsewhere (optimizer readiness); hosts the plan would power off stay "
             "on until the check passes. 0 turns the check off.")


def is_powered_off(snapshot: ClusterSnapshot) -> np.ndarray:
    """(H,) hosts our model counts as powered off (see the module docstring)."""
    reasons = snapshot.host_disabled_reason
    return ~snapshot.host_up & np.array(
        [bool(r) and r.strip().lower().startswith(POWERED_OFF_REASON) for r in reasons],
        dtype=bool).reshape(snapshot.host_count)


def keep_order(snapshot: ClusterSnapshot, hosts: np.ndarray) -> list[int]:
    """``hosts`` (indices) in the order to keep them: largest first, spread over zones.

    Round ``k`` takes the ``k``-th largest host of every zone; within a round
    the larger hosts come first. Ties go by name, so the order is deterministic.
    """
    alloc = snapshot.allocatable
    by_zone: dict[str, list[int]] = {}
    for h in hosts:
        by_zone.setdefault(snapshot.host_zone[h] or "", []).append(int(h))

    def size_key(h: int) -> tuple:
        return (-alloc[h, MEMORY], -alloc[h, VCPUS], snapshot.host_names[h])

    for members in by_zone.values():
        members.sort(key=size_key)
    rounds = max((len(m) for m in by_zone.values()), default=0)
    out: list[int] = []
    for k in range(rounds):
        out.extend(sorted((m[k] for m in by_zone.values() if k < len(m)), key=size_key))
    return out


def free_share(total: np.ndarray, allocated: np.ndarray) -> float:
    """The smallest free share over the headroom resources; 0 without capacity."""
    shares = [(total[r] - allocated[r]) / total[r] if total[r] > 0 else 0.0
              for r in HEADROOM_RESOURCES]
    return float(min(shares))


def plan_saving_energy(snapshot: ClusterSnapshot, params: SavingEnergyParameters) -> Solution:
    """Power off the empty hosts a cluster does not need, or power on the ones it lacks.

    Optimizes:
        Energy: run after a consolidation, it powers off the up and enabled
        hosts that hold no instance, beyond those kept as headroom. Which empty
        hosts stay on is deterministic: the largest first, spread over zones.
        When the headroom is already short, it powers on hosts our model
        counts as powered off (down, with a disabled_reason starting with
        "powered off"), again the largest first, spread over zones.
    Metrics:
        Allocation only (flavors against allocatable capacity after ratios and
        reserves); no CPU measurements.
    Parameters:
        free_capacity_percent: share of the allocatable vcpus and memory of
        the powered-on, up and enabled hosts that must stay free (default 20).
        min_free_hosts: empty powered-on hosts to keep (default 1).
        keep_failover: keep powering-off candidates on until K host failures
        could be absorbed (default 0: no check).
    Limits:
        Never moves an instance and never powers off a host holding one. Hosts
        that are disabled, or down for other reasons, are left as they are.
        The headroom counts whole clusters, not zones or aggregates.
    """
    if snapshot.host_count == 0:
        return Solution(strategy="saving_energy", goal="server_consolidation")
    target = params.free_capacity_percent / 100.0
    pool = snapshot.can_receive
    empty = snapshot.instances_per_host == 0
    alloc = snapshot.allocatable
    total = alloc[pool].sum(axis=0)
    allocated = snapshot.allocated[pool].sum(axis=0)
    spare = keep_order(snapshot, np.flatnonzero(pool & empty))

    # Keep the fewest empty hosts (at least min_free_hosts) that leave the headroom.
    # Removing an empty host lowers free and total capacity alike, so the
    # free share only grows with every host kept: the first k that works is the least.
    busy_total = total - alloc[spare].sum(axis=0)
    kept_total = busy_total.copy()
    keep = 0
    while keep < len(spare) and (keep < params.min_free_hosts
                                 or free_share(kept_total, allocated) < target):
        kept_total += alloc[spare[keep]]
        keep += 1
    power_off = spare[keep:]

    power_on: list[int] = []
    notes: list[str] = []
    if keep == len(spare):
        candidates = keep_order(snapshot, np.flatnonzero(is_powered_off(snapshot) & empty))
        free_hosts = len(spare)
        for h in candidates:
            if free_hosts >= params.min_free_hosts and free_share(kept_total, allocated) >= target:
                break
            power_on.append(h)
            kept_total += alloc[h]
            free_hosts += 1
        if free_hosts < params.min_free_hosts or free_share(kept_total, allocated) < target:
            notes.append(
                f"headroom still short after the plan: {free_hosts} empty hosts "
                f"(min_free_hosts={params.min_free_hosts}), "
                f"{100 * free_share(kept_total, allocated):.1f}% free "
                f"(free_capacity_percent={params.free_capacity_percent:g}); "
                "no more powered-off hosts to power on")

    share_after = 100 * free_share(kept_total, allocated)
    actions = _power_actions(snapshot, power_off, power_on, share_after, params)
    solution = Solution(
        strategy="saving_energy", goal="server_consolidation", actions=tuple(actions),
        # no instance moves: the consolidation figures say so, in the goal's terms
        indicators=(
            *consolidation_indicators(snapshot, snapshot.inst_host, []),
            Indicator("hosts_powered_off", len(power_off), "hosts",
                      "Empty hosts the plan powers off."),
            Indicator("hosts_powered_on", len(power_on), "hosts",
                      "Powered-off hosts the plan powers on to restore the headroom."),
            Indicator("free_capacity_percent_after", round(share_after, 3), "%",
                      "Smallest free share of vcpus and memory over the powered-on, up "
                      "and enabled hosts after the plan."),
        ),
        notes=tuple(notes),
    )
    if not params.keep_failover:
        return solution
    from optimizer.readiness.failover import keep_failover

    return keep_failover(snapshot, solution, params.keep_failover)


def _power_actions(snapshot: ClusterSnapshot, power_off: list[int], power_on: list[int],
                   share_after: float, params: SavingEnergyParameters) -> list[Action]:
    actions: list[Action] = []
    for h in power_on:
        name = snapshot.host_names[h]
        why = (f"restore headroom: keep {params.free_capacity_percent:g}% free and "
               f"{params.min_free_hosts} empty hosts")
        actions.append(ChangePowerState(host=name, state="on", reason=why))
        actions.append(ChangeServiceState(host=name, state="enabled", reason=why))
    # Smallest surplus hosts first: the order they would be kept in, reversed.
    for h in reversed(power_off):
        name = snapshot.host_names[h]
        why = (f"{POWERED_OFF_REASON} by saving_energy: empty, and "
               f"{share_after:.1f}% stays free without it")
        actions.append(ChangeServiceState(host=name, state="disabled", reason=why))
        actions.append(ChangePowerState(host=name, state="off", reason=why))
    return actions


strategy = Strategy(name="saving_energy", goal="server_consolidation",
                    parameters=SavingEnergyParameters, execute=plan_saving_energy,
                    display_name="Saving energy")
