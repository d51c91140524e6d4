"""``keep_failover=K``: a consolidation's solution trimmed until its cluster passes the check.

The cluster a solution leaves is its snapshot with every migration applied,
the hosts it disables disabled and the hosts it powers off down (as
:func:`optimizer.strategies.saving_energy.is_powered_off` reads them). When
that cluster fails the K-failure check, hosts the solution would disable or
power off are kept on, enabled and empty, as spare room (the largest first,
spread over zones), the fewest that make it pass. When even keeping all of
them fails, the solution is replaced by one that changes nothing: the
strategies never leave a cluster worse prepared than they found it.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from optimizer.models.snapshot import ClusterSnapshot
from optimizer.readiness.check import check_readiness
from optimizer.strategies.solution import ChangePowerState, ChangeServiceState, Migrate, Solution

_POWERED_OFF = "powered off for failover check"


def cluster_after(snapshot: ClusterSnapshot, solution: Solution,
                  kept: frozenset[str] = frozenset()) -> ClusterSnapshot:
    """The snapshot as ``solution`` leaves it, with the ``kept`` hosts left on and enabled."""
    hosts, instances = snapshot.host_ids, snapshot.instance_ids
    target = snapshot.inst_host.copy()
    enabled, up = snapshot.host_enabled.copy(), snapshot.host_up.copy()
    reasons = list(snapshot.host_disabled_reason)
    for action in solution.actions:
        if isinstance(action, Migrate):
            target[instances[action.instance]] = hosts[action.destination]
        elif isinstance(action, ChangeServiceState) and action.host not in kept:
            enabled[hosts[action.host]] = action.state == "enabled"
        elif isinstance(action, ChangePowerState) and action.host not in kept:
            h = hosts[action.host]
            up[h] = action.state == "on"
            reasons[h] = None if up[h] else _POWERED_OFF
    for array in (target, enabled, up):
        array.flags.writeable = False
    index = {k: v for k, v in snapshot._index.items() if k in ("hosts", "instances", "groups")}
    return dataclasses.replace(snapshot, inst_host=target, host_enabled=enabled, host_up=up,
                               host_disabled_reason=tuple(reasons), _index=index)


def switched_off(snapshot: ClusterSnapshot, solution: Solution) -> list[int]:
    """Hosts the solution disables or powers off, in the order to keep them back."""
    from optimizer.strategies.saving_energy import keep_order

    names = {a.host for a in solution.actions
             if isinstance(a, ChangeServiceState | ChangePowerState)
             and a.state in ("disabled", "off")}
    return keep_order(snapshot, np.array(sorted(snapshot.host_ids[n] for n in names), dtype=int))


def keep_failover(snapshot: ClusterSnapshot, solution: Solution, failures: int) -> Solution:
    """``solution`` with the fewest switched-off hosts kept on so ``failures`` hosts may fail."""
    if failures <= 0:
        return solution

    def passes(kept: list[int]) -> bool:
        names = frozenset(snapshot.host_names[h] for h in kept)
        after = cluster_after(snapshot, solution, names)
        return check_readiness(after, failures, first_failure=True).ok

    candidates = switched_off(snapshot, solution)
    if passes([]):
        return _noted(solution, f"keep_failover={failures}: the cluster after the plan "
                                f"survives {failures} host failure(s)")
    high = _fewest_kept(candidates, passes)
    if high is None:
        return Solution(
            strategy=solution.strategy, goal=solution.goal,
            indicators=tuple(i for i in solution.indicators if i.name == "compute_nodes_count"),
            notes=(f"keep_failover={failures}: the plan's cluster would not survive "
                   f"{failures} host failure(s) even keeping every host it empties, so nothing "
                   "is planned",))
    kept = frozenset(snapshot.host_names[h] for h in candidates[:high])
    actions = tuple(a for a in solution.actions
                    if not (isinstance(a, ChangeServiceState | ChangePowerState)
                            and a.host in kept and a.state in ("disabled", "off")))
    shown = ", ".join(sorted(kept)[:10]) + (" …" if len(kept) > 10 else "")
    return dataclasses.replace(solution, actions=actions, notes=solution.notes + (
        f"keep_failover={failures}: kept {len(kept)} host(s) on and enabled as failover "
        f"room: {shown}",))


def _fewest_kept(candidates: list[int], passes) -> int | None:
    """The least k such that keeping ``candidates[:k]`` passes (k = 0 fails); None if none.

    Galloping (1, 2, 4, …) then bisecting: a failing check stops at its first failing
    host and is cheap, a passing one enumerates every host, so few passing ones are tried.
    """
    low, high = 0, 1
    while high < len(candidates) and not passes(candidates[:high]):
        low, high = high, 2 * high
    if high >= len(candidates):
        high = len(candidates)
        if not candidates or not passes(candidates):
            return None
    while high - low > 1:  # passes(candidates[:high]) holds, [:low] does not
        middle = (low + high) // 2
        if passes(candidates[:middle]):
            high = middle
        else:
            low = middle
    return high


def _noted(solution: Solution, note: str) -> Solution:
    return dataclasses.replace(solution, notes=solution.notes + (note,))
