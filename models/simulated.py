"""A seeded generator of simulated clusters, for the demo and for tests.

The cluster looks like one a spreading scheduler filled: every instance sits
on the host that had the most free memory when it arrived, so hosts are
evenly and lightly used, which is where consolidation starts.
"""
from __future__ import annotations

import heapq
import uuid as uuidlib
from dataclasses import dataclass

import numpy as np
from optimizer.models.errors import UserError
from optimizer.models.records import Host, Instance, ServerGroup
from optimizer.models.snapshot import ClusterSnapshot

# name: vcpus, memory_mb, disk_gb, share of the mix
FLAVORS = {
    "m1.small": (1, 2048, 20, 0.30),
    "m1.medium": (2, 4096, 40, 0.35),
    "m1.large": (4, 8192, 80, 0.25),
    "m1.xlarge": (8, 16384, 160, 0.10),
}
# name: vcpus, memory_mb, disk_gb
HOST_MODELS = {
    "small": (24, 98304, 1500),
    "medium": (32, 131072, 2000),
    "large": (64, 262144, 4000),
}


@dataclass(frozen=True)
class SimulationSpec:
    """What the simulated cluster looks like; every field has a sensible default."""

    hosts: int = 40
    fill: float = 0.4            # share of allocatable memory the instances take
    cpu_util: float = 0.3        # mean CPU use of an instance, as a share of its vcpus
    host_models: tuple[str, ...] = ("medium",)
    zones: int = 3
    hosts_per_rack: int = 20
    disabled_hosts: int = 0
    stopped_instances: int = 0
    server_groups: int = 0       # every fourth is an affinity group
    series_length: int = 0       # CPU samples per instance (0: none)
    seed: int = 1

    def check(self) -> None:
        problems = []
        if self.hosts < 1:
            problems.append(f"hosts must be at least 1, got {self.hosts}")
        if not 0 < self.fill <= 1:
            problems.append(f"fill must be in (0, 1], got {self.fill}")
        if not 0 <= self.cpu_util <= 1:
            problems.append(f"cpu_util must be in [0, 1], got {self.cpu_util}")
        unknown = [m for m in self.host_models if m not in HOST_MODELS]
        if unknown or not self.host_models:
            problems.append(f"host_models must be chosen from {sorted(HOST_MODELS)}, "
                            f"got {list(self.host_models)}")
        if problems:
            raise UserError("simulated cluster: " + "; ".join(problems))


def simulate_cluster(spec: SimulationSpec = SimulationSpec()) -> ClusterSnapshot:
    """A cluster built from ``spec``; the same spec always gives the same cluster."""
    spec.check()
    rng = np.random.default_rng(spec.seed)
    hosts = _hosts(spec, rng)
    instances = _instances(spec, rng, hosts)
    groups = _groups(spec, rng, instances)
    return ClusterSnapshot.from_records(
        hosts, instances, groups, name=f"simulated-h{spec.hosts}-s{spec.seed}")


def _hosts(spec: SimulationSpec, rng: np.random.Generator) -> list[Host]:
    hosts = []
    for k in range(spec.hosts):
        model = spec.host_models[k % len(spec.host_models)]
        vcpus, memory_mb, disk_gb = HOST_MODELS[model]
        hosts.append(Host(
            name=f"compute-{k + 1:05d}", vcpus=vcpus, memory_mb=memory_mb, disk_gb=disk_gb,
            zone=f"az{k % spec.zones + 1}", rack=f"rack-{k // spec.hosts_per_rack + 1:03d}",
        ))
    for k in rng.choice(spec.hosts, size=min(spec.disabled_hosts, spec.hosts), replace=False):
        hosts[k].status = "disabled"
        hosts[k].disabled_reason = "simulated maintenance"
    return hosts


def _instances(spec: SimulationSpec, rng: np.random.Generator, hosts: list[Host]) -> list[Instance]:
    names = list(FLAVORS)
    weights = np.array([FLAVORS[n][3] for n in names])
    mean_memory = float(np.dot(weights, [FLAVORS[n][1] for n in names]))
    enabled = [h for h in hosts if h.status == "enabled"]
    target = spec.fill * sum(h.memory_mb * h.ram_allocation_ratio for h in enabled)
    count = int(target / mean_memory) + 1
    flavors = rng.choice(len(names), size=count, p=weights)
    # a Beta-distributed level around the requested mean, then daily swing and noise
    levels = np.clip(rng.beta(2.0, 5.0, size=count) * spec.cpu_util / (2 / 7), 0.0, 1.0)
    free = {h.name: [h.vcpus * h.cpu_allocation_ratio, h.memory_mb * h.ram_allocation_ratio,
                     h.disk_gb * h.disk_allocation_ratio] for h in enabled}
    heap = [(-f[1], name) for name, f in free.items()]
    heapq.heapify(heap)
    instances, used_memory = [], 0.0
    for k in range(count):
        vcpus, memory_mb, disk_gb, _ = FLAVORS[names[flavors[k]]]
        host = _take_spread(heap, free, (vcpus, memory_mb, disk_gb))
        if host is None or used_memory >= target:
            break
        used_memory += memory_mb
        series = None
        if spec.series_length:
            t = np.arange(spec.series_length)
            swing = rng.uniform(0, 0.5) * levels[k]
            wave = levels[k] + swing * np.sin(2 * np.pi * t / spec.series_length
                                              + rng.uniform(0, 2 * np.pi))
            series = np.round(np.clip(wave + rng.normal(0, 0.03, spec.series_length), 0, 1),
                              4).tolist()
        util = float(np.mean(series)) if series else float(round(levels[k], 4))
        instances.append(Instance(
            uuid=str(uuidlib.UUID(int=int(rng.integers(0, 2**63)) << 64
                                  | int(rng.integers(0, 2**63)), version=4)),
            name=f"vm-{k + 1:06d}", host=host, vcpus=vcpus, memory_mb=memory_mb,
            disk_gb=disk_gb, cpu_util=util, memory_util=round(float(rng.uniform(0.4, 0.95)), 3),
            cpu_util_series=series,
        ))
    stopped = rng.choice(len(instances), size=min(spec.stopped_instances, len(instances)),
                         replace=False)
    for k in stopped:
        instances[k].state = "shutoff"
    return instances


def _take_spread(heap: list, free: dict, size: tuple) -> str | None:
    """Pop the host with the most free memory that fits ``size`` and charge it."""
    skipped, chosen = [], None
    while heap:
        neg_memory, name = heapq.heappop(heap)
        room = free[name]
        if all(s <= r for s, r in zip(size, room, strict=True)):
            for r, s in enumerate(size):
                room[r] -= s
            heapq.heappush(heap, (-room[1], name))
            chosen = name
            break
        skipped.append((neg_memory, name))
    for item in skipped:
        heapq.heappush(heap, item)
    return chosen


def _groups(spec: SimulationSpec, rng: np.random.Generator,
            instances: list[Instance]) -> list[ServerGroup]:
    """Groups of 2-4 active members whose placement already keeps their policy."""
    groups: list[ServerGroup] = []
    taken: set[int] = set()
    by_host: dict[str, list[int]] = {}
    for k, inst in enumerate(instances):
        if inst.state == "active":
            by_host.setdefault(inst.host, []).append(k)
    order = rng.permutation(len(instances)).tolist()
    for g in range(spec.server_groups):
        policy = "affinity" if g % 4 == 0 else "anti-affinity"
        size = int(rng.integers(2, 5))
        if policy == "affinity":
            hosts = [h for h, ks in by_host.items() if sum(k not in taken for k in ks) >= 2]
            if not hosts:
                continue
            host = hosts[int(rng.integers(len(hosts)))]
            members = [k for k in by_host[host] if k not in taken][:size]
        else:
            members, seen = [], set()
            for k in order:
                inst = instances[k]
                if k in taken or inst.state != "active" or inst.host in seen:
                    continue
                members.append(k)
                seen.add(inst.host)
                if len(members) == size:
                    break
        name = f"group-{g + 1:03d}"
        for k in members:
            instances[k].server_group = name
            taken.add(k)
        groups.append(ServerGroup(name, policy))
    return groups
