"""The cluster data model as arrays: what every strategy reads.

A :class:`ClusterSnapshot` is built once per audit and never changes: its
arrays are read-only. Strategies try moves on a :class:`optimizer.models.placement.Placement`,
a cheap working copy of the few arrays a move touches.

Shapes: ``H`` hosts, ``N`` instances, ``R = 3`` resources (vcpus, memory_mb,
disk_gb, in that order, see :data:`models.records.RESOURCES`).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
from optimizer.models.errors import ScenarioError
from optimizer.models.records import RESOURCES, UNMOVABLE_STATES, VCPUS, Host, Instance, ServerGroup

if TYPE_CHECKING:
    import networkx as nx
    from optimizer.models.placement import Placement

CPU_SIZINGS = ("mean", "p50", "p90", "p95", "p99", "max")


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class ClusterSnapshot:
    """Hosts, instances and server groups at one moment, stored column-wise."""

    name: str
    metrics_step_s: int
    # hosts
    host_names: tuple[str, ...]
    host_size: np.ndarray          # (H, R) physical size
    host_reserved: np.ndarray      # (H, R) held back for the host itself
    host_ratio: np.ndarray         # (H, R) allocation ratios
    host_up: np.ndarray            # (H,) bool
    host_enabled: np.ndarray       # (H,) bool
    host_disabled_reason: tuple[str | None, ...]
    host_zone: tuple[str | None, ...]
    host_rack: tuple[str | None, ...]
    host_aggregates: tuple[tuple[str, ...], ...]
    # instances
    inst_uuids: tuple[str, ...]
    inst_names: tuple[str | None, ...]
    inst_size: np.ndarray          # (N, R) flavor
    inst_host: np.ndarray          # (N,) int32 index into hosts
    inst_state: tuple[str, ...]
    inst_cpu_util: np.ndarray      # (N,) fraction of own vcpus, 0..1
    inst_memory_util: np.ndarray   # (N,) fraction of own memory, 0..1
    inst_series: np.ndarray | None  # (N, T) float32, NaN where a series is shorter
    inst_group: np.ndarray         # (N,) int32 index into groups, -1 for none
    # server groups
    group_names: tuple[str, ...]
    group_policies: tuple[str, ...]
    _index: dict = field(default_factory=dict, repr=False)
    # instances an audit's scope leaves where they are; None: every one may move
    inst_pinned: np.ndarray | None = None
    # (N,) Nova metadata per instance; None when no instance has any
    inst_metadata: tuple[Mapping[str, str] | None, ...] | None = None

    # ----- construction -------------------------------------------------

    @classmethod
    def from_records(
        cls,
        hosts: Sequence[Host],
        instances: Sequence[Instance],
        groups: Iterable[ServerGroup] = (),
        *,
        name: str = "cluster",
        metrics_step_s: int = 300,
    ) -> ClusterSnapshot:
        """Build a snapshot from records, checking that they refer to each other."""
        host_index = {h.name: i for i, h in enumerate(hosts)}
        if len(host_index) != len(hosts):
            seen: set[str] = set()
            for h in hosts:
                if h.name in seen:
                    raise ScenarioError(f"host {h.name!r}: duplicate name")
                seen.add(h.name)
        groups = list(groups)
        group_index = {g.name: i for i, g in enumerate(groups)}
        if len(group_index) != len(groups):
            raise ScenarioError("server_groups: duplicate group name")

        n = len(instances)
        inst_host = np.empty(n, dtype=np.int32)
        inst_group = np.full(n, -1, dtype=np.int32)
        inst_index: dict[str, int] = {}
        series: list[list[float] | None] = []
        for i, inst in enumerate(instances):
            if inst.uuid in inst_index:
                raise ScenarioError(f"instance {inst.uuid}: duplicate uuid")
            inst_index[inst.uuid] = i
            try:
                inst_host[i] = host_index[inst.host]
            except KeyError:
                raise ScenarioError(
                    f"instance {inst.uuid}: field 'host' names unknown host {inst.host!r}"
                ) from None
            if inst.server_group is not None:
                try:
                    inst_group[i] = group_index[inst.server_group]
                except KeyError:
                    raise ScenarioError(
                        f"instance {inst.uuid}: field 'server_group' names unknown group "
                        f"{inst.server_group!r}"
                    ) from None
            series.append(inst.cpu_util_series)

        def host_column(attrs: tuple[str, ...]) -> np.ndarray:
            return np.array([[getattr(h, a) for a in attrs] for h in hosts],
                            dtype=np.float64).reshape(len(hosts), len(attrs))

        inst_size = np.array([(x.vcpus, x.memory_mb, x.disk_gb) for x in instances],
                             dtype=np.float64).reshape(n, 3)
        snapshot = cls(
            name=name,
            metrics_step_s=metrics_step_s,
            host_names=tuple(h.name for h in hosts),
            host_size=_frozen(host_column(RESOURCES)),
            host_reserved=_frozen(host_column(tuple(f"{r}_reserved" for r in RESOURCES))),
            host_ratio=_frozen(host_column(
                ("cpu_allocation_ratio", "ram_allocation_ratio", "disk_allocation_ratio"))),
            host_up=_frozen(np.array([h.state == "up" for h in hosts], dtype=bool)),
            host_enabled=_frozen(np.array([h.status == "enabled" for h in hosts], dtype=bool)),
            host_disabled_reason=tuple(h.disabled_reason for h in hosts),
            host_zone=tuple(h.zone for h in hosts),
            host_rack=tuple(h.rack for h in hosts),
            host_aggregates=tuple(tuple(h.aggregates) for h in hosts),
            inst_uuids=tuple(x.uuid for x in instances),
            inst_names=tuple(x.name for x in instances),
            inst_size=_frozen(inst_size),
            inst_host=_frozen(inst_host),
            inst_state=tuple(x.state for x in instances),
            inst_cpu_util=_frozen(np.array([x.cpu_util for x in instances], dtype=np.float64)),
            inst_memory_util=_frozen(
                np.array([x.memory_util for x in instances], dtype=np.float64)),
            inst_series=_series_matrix(series),
            inst_group=_frozen(inst_group),
            group_names=tuple(g.name for g in groups),
            group_policies=tuple(g.policy for g in groups),
            inst_metadata=_metadata(x.metadata for x in instances),
        )
        snapshot._index.update(hosts=host_index, instances=inst_index, groups=group_index)
        return snapshot

    # ----- sizes and lookups --------------------------------------------

    @property
    def host_count(self) -> int:
        return len(self.host_names)

    @property
    def instance_count(self) -> int:
        return len(self.inst_uuids)

    @property
    def host_ids(self) -> Mapping[str, int]:
        """Host name → index, for callers that look many names up."""
        return MappingProxyType(self._index["hosts"])

    @property
    def instance_ids(self) -> Mapping[str, int]:
        """Instance uuid → index, for callers that look many uuids up."""
        return MappingProxyType(self._index["instances"])

    def host_id(self, name: str) -> int:
        """Index of the host called ``name``; a clear error when there is none."""
        try:
            return self._index["hosts"][name]
        except KeyError:
            raise ScenarioError(f"unknown host {name!r}") from None

    def instance_id(self, uuid: str) -> int:
        """Index of the instance ``uuid``; a clear error when there is none."""
        try:
            return self._index["instances"][uuid]
        except KeyError:
            raise ScenarioError(f"unknown instance {uuid!r}") from None

    def group_id(self, name: str) -> int:
        try:
            return self._index["groups"][name]
        except KeyError:
            raise ScenarioError(f"unknown server group {name!r}") from None

    # ----- derived per host -----------------------------------------------

    @cached_property
    def allocatable(self) -> np.ndarray:
        """(H, R) capacity strategies may allocate: (size - reserved) * ratio."""
        return _frozen(np.maximum(self.host_size - self.host_reserved, 0.0) * self.host_ratio)

    @cached_property
    def host_cores(self) -> np.ndarray:
        """(H,) physical cores left for instances: the denominator of CPU load."""
        return _frozen(np.maximum(self.host_size[:, VCPUS] - self.host_reserved[:, VCPUS], 1e-9))

    @cached_property
    def can_receive(self) -> np.ndarray:
        """(H,) hosts that may take new instances: up and enabled."""
        return _frozen(self.host_up & self.host_enabled)

    @cached_property
    def allocated(self) -> np.ndarray:
        """(H, R) what the instances on each host allocate."""
        out = np.zeros((self.host_count, len(RESOURCES)))
        for r in range(len(RESOURCES)):
            out[:, r] = np.bincount(self.inst_host, weights=self.inst_size[:, r],
                                    minlength=self.host_count)
        return _frozen(out)

    @cached_property
    def instances_per_host(self) -> np.ndarray:
        return _frozen(np.bincount(self.inst_host, minlength=self.host_count))

    @cached_property
    def inst_active(self) -> np.ndarray:
        """(N,) instances that may be live-migrated."""
        return _frozen(np.array([s == "active" for s in self.inst_state], dtype=bool))

    def cpu_demand(self, sizing: str = "mean") -> np.ndarray:
        """(N,) physical cores each instance keeps busy, sized by ``sizing``.

        ``mean`` uses ``cpu_util``; ``pNN`` and ``max`` read the CPU series and
        fall back to ``cpu_util`` for instances without one.
        """
        if sizing not in CPU_SIZINGS:
            raise ScenarioError(f"unknown CPU sizing {sizing!r}; choose from {CPU_SIZINGS}")
        util = self.inst_cpu_util
        if sizing != "mean" and self.inst_series is not None:
            key = ("demand", sizing)
            if key not in self._index:
                series = self.inst_series
                has = ~np.isnan(series).all(axis=1)
                stat = np.array(util, dtype=np.float64)
                if has.any():
                    q = 100.0 if sizing == "max" else float(sizing[1:])
                    stat[has] = np.nanpercentile(series[has], q, axis=1)
                self._index[key] = _frozen(stat)
            util = self._index[key]
        return self.inst_size[:, VCPUS] * util

    def host_demand(self, demand: np.ndarray | None = None) -> np.ndarray:
        """(H,) CPU demand per host, in physical cores."""
        if demand is None:
            demand = self.cpu_demand()
        return np.bincount(self.inst_host, weights=demand, minlength=self.host_count)

    def host_load(self, demand: np.ndarray | None = None) -> np.ndarray:
        """(H,) CPU load per host: demand over usable physical cores."""
        return self.host_demand(demand) / self.host_cores

    @cached_property
    def movable(self) -> np.ndarray:
        """(N,) instances strategies may move: not pinned by a scope, not mid-change."""
        movable = np.array([s not in UNMOVABLE_STATES for s in self.inst_state], dtype=bool)
        if self.inst_pinned is not None:
            movable &= ~self.inst_pinned
        return _frozen(movable.reshape(self.instance_count))

    def restrict(self, hosts: np.ndarray, pinned: np.ndarray | None = None) -> ClusterSnapshot:
        """The part of the cluster on ``hosts`` (an (H,) mask), with ``pinned`` instances.

        Instances on the other hosts leave with their hosts; ``pinned`` (an (N,)
        mask over this snapshot's instances) marks instances that stay put.
        """
        keep_inst = hosts[self.inst_host]
        new_index = np.cumsum(hosts) - 1
        h, i = np.flatnonzero(hosts), np.flatnonzero(keep_inst)
        series = None if self.inst_series is None else _frozen(self.inst_series[i])
        pin = None if pinned is None else _frozen(np.asarray(pinned, dtype=bool)[i].copy())
        restricted = ClusterSnapshot(
            name=self.name, metrics_step_s=self.metrics_step_s,
            host_names=tuple(self.host_names[k] for k in h),
            host_size=_frozen(self.host_size[h]), host_reserved=_frozen(self.host_reserved[h]),
            host_ratio=_frozen(self.host_ratio[h]), host_up=_frozen(self.host_up[h]),
            host_enabled=_frozen(self.host_enabled[h]),
            host_disabled_reason=tuple(self.host_disabled_reason[k] for k in h),
            host_zone=tuple(self.host_zone[k] for k in h),
            host_rack=tuple(self.host_rack[k] for k in h),
            host_aggregates=tuple(self.host_aggregates[k] for k in h),
            inst_uuids=tuple(self.inst_uuids[k] for k in i),
            inst_names=tuple(self.inst_names[k] for k in i),
            inst_size=_frozen(self.inst_size[i]),
            inst_host=_frozen(new_index[self.inst_host[i]].astype(np.int32)),
            inst_state=tuple(self.inst_state[k] for k in i),
            inst_cpu_util=_frozen(self.inst_cpu_util[i]),
            inst_memory_util=_frozen(self.inst_memory_util[i]),
            inst_series=series, inst_group=_frozen(self.inst_group[i]),
            group_names=self.group_names, group_policies=self.group_policies,
            inst_pinned=pin,
            inst_metadata=None if self.inst_metadata is None
            else tuple(self.inst_metadata[k] for k in i),
        )
        restricted._index.update(
            hosts={n: k for k, n in enumerate(restricted.host_names)},
            instances={u: k for k, u in enumerate(restricted.inst_uuids)},
            groups=dict(self._index.get("groups", {})))
        return restricted

    # ----- views ----------------------------------------------------------

    def placement(self) -> Placement:
        """A working copy strategies may move instances on."""
        from optimizer.models.placement import Placement

        return Placement(self)

    def topology(self) -> nx.DiGraph:
        """Zone → rack → host → instance, as a networkx graph (built on demand)."""
        from optimizer.models.topology import build_topology

        key = "topology"
        if key not in self._index:
            self._index[key] = build_topology(self)
        return self._index[key]

    def host_record(self, h: int) -> Host:
        """Host ``h`` as a record, for exports and messages."""
        size, reserved, ratio = self.host_size[h], self.host_reserved[h], self.host_ratio[h]
        return Host(
            name=self.host_names[h],
            vcpus=_num(size[0]), memory_mb=_num(size[1]), disk_gb=_num(size[2]),
            vcpus_reserved=_num(reserved[0]), memory_mb_reserved=_num(reserved[1]),
            disk_gb_reserved=_num(reserved[2]),
            cpu_allocation_ratio=float(ratio[0]), ram_allocation_ratio=float(ratio[1]),
            disk_allocation_ratio=float(ratio[2]),
            state="up" if self.host_up[h] else "down",
            status="enabled" if self.host_enabled[h] else "disabled",
            disabled_reason=self.host_disabled_reason[h],
            zone=self.host_zone[h], rack=self.host_rack[h],
            aggregates=self.host_aggregates[h],
        )

    def instance_record(self, i: int) -> Instance:
        """Instance ``i`` as a record, for exports and messages."""
        size = self.inst_size[i]
        group = int(self.inst_group[i])
        series = None
        if self.inst_series is not None:
            row = self.inst_series[i]
            row = row[~np.isnan(row)]
            series = [round(float(v), 6) for v in row] if row.size else None
        return Instance(
            uuid=self.inst_uuids[i], name=self.inst_names[i],
            host=self.host_names[self.inst_host[i]],
            vcpus=_num(size[0]), memory_mb=_num(size[1]), disk_gb=_num(size[2]),
            state=self.inst_state[i],
            cpu_util=float(self.inst_cpu_util[i]),
            memory_util=float(self.inst_memory_util[i]),
            cpu_util_series=series,
            server_group=self.group_names[group] if group >= 0 else None,
            metadata=None if self.inst_metadata is None or self.inst_metadata[i] is None
            else dict(self.inst_metadata[i]),
        )

    def group_records(self) -> list[ServerGroup]:
        members: dict[int, list[str]] = {}
        for i in np.flatnonzero(self.inst_group >= 0):
            members.setdefault(int(self.inst_group[i]), []).append(self.inst_uuids[i])
        return [ServerGroup(n, p, tuple(members.get(g, ())))
                for g, (n, p) in enumerate(zip(self.group_names, self.group_policies, strict=True))]


def _num(value: float) -> float | int:
    """Whole numbers as int, so exports read like their inputs."""
    return int(value) if float(value).is_integer() else float(value)


def _metadata(values: Iterable[Mapping[str, str] | None]
              ) -> tuple[Mapping[str, str] | None, ...] | None:
    """Per-instance metadata as read-only mappings; None when no instance has any."""
    out = tuple(MappingProxyType(dict(m)) if m else None for m in values)
    return out if any(m is not None for m in out) else None


def _series_matrix(series: list[list[float] | None]) -> np.ndarray | None:
    lengths = [len(s) for s in series if s]
    if not lengths:
        return None
    out = np.full((len(series), max(lengths)), np.nan, dtype=np.float32)
    for i, s in enumerate(series):
        if s:
            out[i, : len(s)] = s
    return _frozen(out)
