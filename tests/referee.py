"""An independent checker of solutions, for tests.

It replays a solution's actions in order on a snapshot and lists every rule
a step breaks. It reads only the snapshot's raw columns and recomputes
capacity itself, and it looks at actions by their ``type`` name, so it
shares no code with the strategies it judges.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from optimizer.models.snapshot import ClusterSnapshot

_EPS = 1e-6


@dataclass
class Verdict:
    """What replaying a solution found, and the cluster it leaves behind."""

    violations: list[str] = field(default_factory=list)
    placement: np.ndarray | None = None   # (N,) host index of each instance after the plan
    active_hosts: int = 0                 # hosts holding at least one instance after
    host_load: np.ndarray | None = None   # (H,) CPU load after the plan
    enabled: np.ndarray | None = None     # (H,) service enabled after the plan
    migrations: int = 0

    @property
    def ok(self) -> bool:
        return not self.violations

    host_of: dict[str, str] = field(default_factory=dict)  # instance uuid -> host after



def referee(snapshot: ClusterSnapshot, solution: Any, *,
            allow_repeat_moves: bool = False) -> Verdict:
    """Replay ``solution`` on ``snapshot`` and report every broken rule.

    ``allow_repeat_moves`` accepts an instance moved more than once (a detour
    to break a cycle of waiting moves); by default that is a violation.
    """
    return _Replay(snapshot, allow_repeat_moves).run(solution.actions)


class _Replay:
    def __init__(self, snapshot: ClusterSnapshot, allow_repeat_moves: bool):
        self.s = snapshot
        self.allow_repeat_moves = allow_repeat_moves
        self.hosts = {name: h for h, name in enumerate(snapshot.host_names)}
        self.instances = {uuid: i for i, uuid in enumerate(snapshot.inst_uuids)}
        usable = np.maximum(np.asarray(snapshot.host_size) - snapshot.host_reserved, 0)
        self.capacity = usable * snapshot.host_ratio
        self.where = np.array(snapshot.inst_host, dtype=np.int64)
        self.used = np.zeros_like(self.capacity)
        for i, h in enumerate(self.where):
            self.used[h] += snapshot.inst_size[i]
        self.up = np.array(snapshot.host_up, dtype=bool)
        self.enabled = np.array(snapshot.host_enabled, dtype=bool)
        self.moves: Counter[str] = Counter()
        self.violations: list[str] = []

    def run(self, actions) -> Verdict:
        for step, action in enumerate(actions, 1):
            kind = getattr(action, "type", None)
            if kind == "migrate":
                self._migrate(step, action)
            elif kind == "evacuate":
                self._evacuate(step, action)
            elif kind == "change_service_state":
                self._service(step, action)
            elif kind == "change_power_state":
                self._power(step, action)
        self._check_affinity()
        s = self.s
        demand = np.asarray(s.inst_size[:, 0]) * s.inst_cpu_util
        cores = np.maximum(s.host_size[:, 0] - s.host_reserved[:, 0], 1e-9)
        load = np.bincount(self.where, weights=demand, minlength=s.host_count) / cores
        counts = np.bincount(self.where, minlength=s.host_count)
        host_of = {uuid: s.host_names[h] for uuid, h in zip(s.inst_uuids, self.where.tolist(),
                                                             strict=True)}
        return Verdict(self.violations, self.where.copy(), int(np.count_nonzero(counts)),
                       load, self.enabled.copy(), sum(self.moves.values()), host_of)

    def _fail(self, step: int, message: str) -> None:
        self.violations.append(f"step {step}: {message}")

    def _host(self, step: int, name: str) -> int | None:
        h = self.hosts.get(name)
        if h is None:
            self._fail(step, f"unknown host {name!r}")
        return h

    def _migrate(self, step: int, action) -> None:
        s, uuid = self.s, action.instance
        i = self.instances.get(uuid)
        src, dest = self._host(step, action.source), self._host(step, action.destination)
        if i is None:
            self._fail(step, f"unknown instance {uuid!r}")
            return
        if src is None or dest is None:
            return
        self.moves[uuid] += 1
        if self.moves[uuid] > 1 and not self.allow_repeat_moves:
            self._fail(step, f"instance {uuid} moved {self.moves[uuid]} times")
        if self.where[i] != src:
            self._fail(step, f"instance {uuid} is on {s.host_names[self.where[i]]}, "
                             f"not on the named source {action.source}")
            src = int(self.where[i])
        if dest == src:
            self._fail(step, f"instance {uuid} moved onto its own host {action.destination}")
            return
        if not (self.up[dest] and self.enabled[dest]):
            self._fail(step, f"destination {action.destination} of {uuid} is not up and enabled")
        migration = getattr(action, "migration_type", "live")
        if migration == "live" and s.inst_state[i] != "active":
            self._fail(step, f"instance {uuid} is {s.inst_state[i]} but live-migrated")
        size = s.inst_size[i]
        self.used[src] -= size
        self.used[dest] += size
        self.where[i] = dest
        over = self.used[dest] > self.capacity[dest] + _EPS
        if over.any():
            names = ", ".join(r for r, o in zip(("vcpus", "memory_mb", "disk_gb"), over,
                                                strict=True) if o)
            self._fail(step, f"host {action.destination} over allocatable {names} "
                             f"after {uuid} arrives")
        g = int(s.inst_group[i])
        if g >= 0 and s.group_policies[g] == "anti-affinity":
            peers = np.flatnonzero((np.asarray(s.inst_group) == g) & (self.where == dest))
            if len(peers) > 1:
                self._fail(step, f"anti-affinity group {s.group_names[g]} has "
                                 f"{len(peers)} members on {action.destination}")

    def _evacuate(self, step: int, action) -> None:
        """A rebuild elsewhere: like a migration, but only off a host that is down."""
        src = self.hosts.get(action.source)
        if src is not None and self.up[src]:
            self._fail(step, f"instance {action.instance} evacuated from {action.source}, "
                             "which is up")
        self._migrate(step, action)

    def _service(self, step: int, action) -> None:
        h = self._host(step, action.host)
        if h is not None:
            self.enabled[h] = action.state == "enabled"

    def _power(self, step: int, action) -> None:
        h = self._host(step, action.host)
        if h is None:
            return
        if action.state == "off":
            if np.any(self.where == h):
                self._fail(step, f"host {action.host} powered off while it holds instances")
            self.up[h] = False
        else:
            self.up[h] = True

    def _check_affinity(self) -> None:
        s = self.s
        groups = np.asarray(s.inst_group)
        start = np.asarray(s.inst_host)
        for g, policy in enumerate(s.group_policies):
            members = np.flatnonzero(groups == g)
            if policy != "affinity" or len(members) < 2:
                continue
            if len(set(start[members].tolist())) == 1 and len(
                    set(self.where[members].tolist())) > 1:
                hosts = sorted({s.host_names[h] for h in self.where[members]})
                self.violations.append(
                    f"end: affinity group {s.group_names[g]} split over {', '.join(hosts)}")
