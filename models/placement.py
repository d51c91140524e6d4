"""A working copy of where instances run, for strategies to try moves on.

Copying it costs a few arrays, never the snapshot: the snapshot an audit
took stays as it was whatever a strategy tries.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from optimizer.models.snapshot import ClusterSnapshot

_EPS = 1e-6


class Placement:
    """Where each instance is, with per-host allocation, demand and counts kept in step."""

    def __init__(self, snapshot: ClusterSnapshot, demand: np.ndarray | None = None):
        self.snapshot = snapshot
        self.demand = snapshot.cpu_demand() if demand is None else demand
        self.inst_host = snapshot.inst_host.copy()
        self.allocated = snapshot.allocated.copy()
        self.host_demand = snapshot.host_demand(self.demand)
        self.count = snapshot.instances_per_host.astype(np.int64)
        # group -> {host index: members there}, only for instances in a group
        self._group_hosts: dict[int, dict[int, int]] = {}
        for i in np.flatnonzero(snapshot.inst_group >= 0):
            hosts = self._group_hosts.setdefault(int(snapshot.inst_group[i]), {})
            h = int(self.inst_host[i])
            hosts[h] = hosts.get(h, 0) + 1

    def copy(self) -> Placement:
        other = Placement.__new__(Placement)
        other.snapshot = self.snapshot
        other.demand = self.demand
        other.inst_host = self.inst_host.copy()
        other.allocated = self.allocated.copy()
        other.host_demand = self.host_demand.copy()
        other.count = self.count.copy()
        other._group_hosts = {g: dict(h) for g, h in self._group_hosts.items()}
        return other

    # ----- queries ----------------------------------------------------------

    @property
    def free(self) -> np.ndarray:
        """(H, R) allocatable capacity still unallocated."""
        return self.snapshot.allocatable - self.allocated

    @property
    def load(self) -> np.ndarray:
        """(H,) CPU load per host."""
        return self.host_demand / self.snapshot.host_cores

    def active_hosts(self) -> int:
        return int(np.count_nonzero(self.count))

    def group_hosts(self, group: int) -> dict[int, int]:
        """Hosts holding members of ``group``, with how many members each holds."""
        return self._group_hosts.get(group, {})

    def fits(self, i: int, h: int, max_load: float | None = None) -> bool:
        """Whether instance ``i`` may move onto host ``h`` now.

        Checks that the host may receive, allocation after ratios and
        reserves, anti-affinity, and (when ``max_load`` is given) CPU load.
        """
        snap = self.snapshot
        if h == self.inst_host[i] or not snap.can_receive[h]:
            return False
        if np.any(self.allocated[h] + snap.inst_size[i] > snap.allocatable[h] + _EPS):
            return False
        if max_load is not None and (
            self.host_demand[h] + self.demand[i] > max_load * snap.host_cores[h] + _EPS
        ):
            return False
        return not self._breaks_anti_affinity(i, h)

    def fitting_hosts(self, i: int, max_load: float | None = None) -> np.ndarray:
        """(H,) bool: hosts instance ``i`` may move onto now (see :meth:`fits`)."""
        snap = self.snapshot
        ok = snap.can_receive & np.all(
            self.allocated + snap.inst_size[i] <= snap.allocatable + _EPS, axis=1)
        if max_load is not None:
            ok &= self.host_demand + self.demand[i] <= max_load * snap.host_cores + _EPS
        ok[self.inst_host[i]] = False
        g = int(snap.inst_group[i])
        if g >= 0 and snap.group_policies[g] == "anti-affinity":
            for h in self._group_hosts.get(g, {}):
                ok[h] = False
        return ok

    def _breaks_anti_affinity(self, i: int, h: int) -> bool:
        g = int(self.snapshot.inst_group[i])
        if g < 0 or self.snapshot.group_policies[g] != "anti-affinity":
            return False
        return self._group_hosts.get(g, {}).get(h, 0) > 0

    # ----- changes ------------------------------------------------------------

    def move(self, i: int, h: int) -> None:
        """Move instance ``i`` onto host ``h``; callers check :meth:`fits` first."""
        src = int(self.inst_host[i])
        size = self.snapshot.inst_size[i]
        self.allocated[src] -= size
        self.allocated[h] += size
        self.host_demand[src] -= self.demand[i]
        self.host_demand[h] += self.demand[i]
        self.count[src] -= 1
        self.count[h] += 1
        self.inst_host[i] = h
        g = int(self.snapshot.inst_group[i])
        if g >= 0:
            hosts = self._group_hosts[g]
            hosts[src] -= 1
            if not hosts[src]:
                del hosts[src]
            hosts[h] = hosts.get(h, 0) + 1
