"""The ``openstack`` collector: Nova and Placement, read in a few listing calls.

One audit reads: nova-compute services, hypervisors, host aggregates,
servers (with embedded flavors), server groups, and Placement's resource
providers — each one paged listing call whatever the cluster size — plus one
inventory call per resource provider, since Placement has no bulk inventory
listing (the allocation ratios and reserves live only there). The number of
calls is therefore constant in the number of servers. CPU and memory use come
from a :class:`optimizer.datasources.Datasource`, one query per metric; a
server without data is counted, logged and keeps cpu_util 0. With a history
window, each server's CPU series (what ``cpu_sizing=p95`` and ``max`` read)
comes from one more range query for all servers; a server without history
keeps no series and is sized by its mean cpu_util, holes in a series are
left out of its percentiles.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer.collectors.base import CollectorError
from optimizer.datasources.base import DatasourceError, HistoryDatasource
from optimizer.models.records import Host, Instance, ServerGroup, instance_size_problem
from optimizer.models.snapshot import ClusterSnapshot

LOG = logging.getLogger(__name__)

# Nova server status → the model's instance state.
NOVA_STATES = {
    "ACTIVE": "active", "SHUTOFF": "shutoff", "PAUSED": "paused", "SUSPENDED": "suspended",
    "SHELVED": "shelved", "BUILD": "building", "ERROR": "error", "RESCUE": "rescued",
    "VERIFY_RESIZE": "resized", "SOFT_DELETED": "soft_deleted", "STOPPED": "stopped",
}
POLICIES = {"affinity": "affinity", "anti-affinity": "anti-affinity",
            "soft-affinity": "affinity", "soft-anti-affinity": "anti-affinity"}


@dataclass
class CollectionReport:
    """What the last collection left out or could not measure, for logs and tests."""

    skipped_servers: list[str] = field(default_factory=list)   # "uuid: reason"
    skipped_hosts: list[str] = field(default_factory=list)     # "host: reason"
    no_cpu_data: list[str] = field(default_factory=list)       # server uuids
    no_memory_data: list[str] = field(default_factory=list)    # server uuids
    metric_errors: list[str] = field(default_factory=list)
    no_cpu_history: list[str] = field(default_factory=list)  # server uuids, no series
    cpu_history_holes: dict[str, int] = field(default_factory=dict)  # uuid → missing samples
    history_error: str | None = None  # why the history query failed, if it did


@dataclass(frozen=True)
class MetricsOptions:
    """Which window and aggregate the collector asks the datasource for.

    ``history_window_s`` > 0 also fills each server's CPU series with its
    history over that many seconds, one sample every ``history_step_s``.
    """

    window_s: int = 600
    aggregate: str = "mean"
    history_window_s: int = 0
    history_step_s: int = 300


class OpenStackCollector:
    """Builds a :class:`ClusterSnapshot` from an openstacksdk ``Connection``."""

    name = "openstack"

    def __init__(self, connection: Any, datasource: Any | None = None,
                 metrics: MetricsOptions | None = None, cloud_name: str = "openstack",
                 clock: Callable[[], float] = time.time):
        self.connection = connection
        self.datasource = datasource
        self.metrics = metrics or MetricsOptions()
        self.cloud_name = cloud_name
        self.clock = clock
        self.last_report = CollectionReport()

    def collect(self) -> ClusterSnapshot:
        report = CollectionReport()
        try:
            hosts = self._hosts(report)
            instances = self._instances({h.name for h in hosts}, report)
            groups = self._groups({i.uuid for i in instances})
        except CollectorError:
            raise
        except Exception as exc:  # openstacksdk raises many kinds; one line for the user
            raise CollectorError(f"openstack collector: {type(exc).__name__}: "
                                 f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
        for instance in instances:
            instance.server_group = groups.members.get(instance.uuid)
        self._measure(instances, report)
        self.last_report = report
        for line in report.skipped_hosts + report.skipped_servers:
            LOG.warning("openstack collector: skipped %s", line)
        if report.no_cpu_data:
            LOG.warning("openstack collector: %d servers have no CPU data (cpu_util 0)",
                        len(report.no_cpu_data))
        _log_history(report, len(instances), self.metrics)
        return ClusterSnapshot.from_records(hosts, instances, groups.groups,
                                            name=self.cloud_name)

    # -- hosts --------------------------------------------------------------
    def _hosts(self, report: CollectionReport) -> list[Host]:
        compute = self.connection.compute
        services = {s.host: s for s in compute.services(binary="nova-compute")}
        zones, aggregates = _zones_and_aggregates(compute.aggregates())
        providers = {p.name: p for p in self.connection.placement.resource_providers()}
        hosts = []
        for hypervisor in compute.hypervisors(details=True):
            service_host = (hypervisor.service_details or {}).get("host") or hypervisor.name
            service = services.get(service_host)
            provider = providers.get(hypervisor.name)
            if service is None or provider is None:
                missing = "nova-compute service" if service is None else "resource provider"
                report.skipped_hosts.append(f"{service_host}: no {missing}")
                continue
            inventory = {i.resource_class: i for i in
                         self.connection.placement.resource_provider_inventories(provider)}
            if not {"VCPU", "MEMORY_MB"} <= inventory.keys():
                report.skipped_hosts.append(f"{service_host}: no VCPU/MEMORY_MB inventory")
                continue
            hosts.append(_host_record(service_host, service, inventory, zones, aggregates))
        return hosts

    # -- servers ------------------------------------------------------------
    def _instances(self, host_names: set[str], report: CollectionReport) -> list[Instance]:
        instances = []
        for server in self.connection.compute.servers(details=True, all_projects=True):
            host = server.compute_host
            if not host or host not in host_names:
                report.skipped_servers.append(f"{server.id}: not on a known host ({host})")
                continue
            flavor = server.flavor
            if flavor is None or flavor.vcpus is None:
                report.skipped_servers.append(f"{server.id}: flavor not embedded")
                continue
            try:
                sizes = (float(flavor.vcpus), float(flavor.ram or 0), float(
                    (flavor.disk or 0) + (flavor.ephemeral or 0) + (flavor.swap or 0) / 1024))
            except (TypeError, ValueError):
                sizes = (flavor.vcpus, flavor.ram, flavor.disk)
            problem = instance_size_problem(sizes)
            if problem:  # a NaN or absurd flavor would poison every audit after it
                report.skipped_servers.append(f"{server.id}: flavor {problem}")
                continue
            instances.append(Instance(
                uuid=server.id, host=host, vcpus=sizes[0],
                memory_mb=sizes[1], disk_gb=sizes[2], name=server.name,
                state=NOVA_STATES.get(server.status, "active"),
                cpu_util=0.0, memory_util=1.0))
        return instances

    def _groups(self, known: set[str]) -> _Groups:
        groups: list[ServerGroup] = []
        members: dict[str, str] = {}
        for group in self.connection.compute.server_groups(all_projects=True):
            policy = POLICIES.get(group.policy or (group.policies or [None])[0])
            inside = tuple(m for m in group.member_ids or () if m in known and m not in members)
            if policy is None or not inside:
                continue
            groups.append(ServerGroup(name=group.id, policy=policy, members=inside))
            members.update(dict.fromkeys(inside, group.id))
        return _Groups(groups, members)

    # -- metrics ------------------------------------------------------------
    def _measure(self, instances: list[Instance], report: CollectionReport) -> None:
        if self.datasource is None:
            report.no_cpu_data = [i.uuid for i in instances]
            return
        window, aggregate = self.metrics.window_s, self.metrics.aggregate
        cpu = self.datasource.fetch("instance_cpu_util", window, aggregate)
        memory = self.datasource.fetch("instance_memory_util", window, aggregate)
        report.metric_errors += list(cpu.errors) + list(memory.errors)
        for instance in instances:
            if instance.uuid in cpu.values:
                instance.cpu_util = cpu.values[instance.uuid]
            else:
                report.no_cpu_data.append(instance.uuid)
            if instance.uuid in memory.values:
                instance.memory_util = memory.values[instance.uuid]
            else:
                report.no_memory_data.append(instance.uuid)
        if self.metrics.history_window_s > 0 and instances:
            self._fill_cpu_series(instances, report)

    def _fill_cpu_series(self, instances: list[Instance], report: CollectionReport) -> None:
        """Each server's CPU series from one history query over the history window."""
        window, step = self.metrics.history_window_s, self.metrics.history_step_s
        if not isinstance(self.datasource, HistoryDatasource):
            report.no_cpu_history = [i.uuid for i in instances]
            report.history_error = f"datasource {self.datasource.name!r} keeps no history"
            return
        end = math.floor(self.clock() / step) * step  # on the step, so Prometheus can cache
        try:
            history = self.datasource.history("instance_cpu_util", [i.uuid for i in instances],
                                              end - window, end, step)
        except DatasourceError as exc:
            report.no_cpu_history = [i.uuid for i in instances]
            report.history_error = str(exc)
            return
        report.metric_errors += list(history.errors)
        for instance, row in zip(instances, history.values, strict=True):
            present = row[~np.isnan(row)]
            if not present.size:
                report.no_cpu_history.append(instance.uuid)
                continue
            instance.cpu_util_series = [float(v) for v in present]
            if present.size < row.size:
                report.cpu_history_holes[instance.uuid] = row.size - present.size


def _log_history(report: CollectionReport, servers: int, metrics: MetricsOptions) -> None:
    """Say which servers lack CPU history and how they are sized instead."""
    if metrics.history_window_s <= 0 or not servers:
        return
    if report.history_error:
        LOG.warning("openstack collector: no CPU history for any of the %d servers (%s); "
                    "they are sized by their mean cpu_util", servers, report.history_error)
        return
    if report.no_cpu_history:
        LOG.warning("openstack collector: %d of %d servers have no CPU history over the last "
                    "%d s (e.g. %s); they are sized by their mean cpu_util",
                    len(report.no_cpu_history), servers, metrics.history_window_s,
                    ", ".join(report.no_cpu_history[:3]))
        LOG.debug("openstack collector: servers without CPU history: %s",
                  ", ".join(report.no_cpu_history))
    if report.cpu_history_holes:
        samples = metrics.history_window_s // metrics.history_step_s + 1
        LOG.warning("openstack collector: %d servers have holes in their CPU history "
                    "(%d of %d samples missing); their percentiles use the samples present",
                    len(report.cpu_history_holes), sum(report.cpu_history_holes.values()),
                    samples * len(report.cpu_history_holes))


@dataclass
class _Groups:
    groups: list[ServerGroup]
    members: dict[str, str]


def _zones_and_aggregates(aggregates: Iterable[Any]) -> tuple[dict[str, str],
                                                              dict[str, tuple[str, ...]]]:
    zones: dict[str, str] = {}
    member_of: dict[str, list[str]] = {}
    for aggregate in aggregates:
        zone = (aggregate.metadata or {}).get("availability_zone") or aggregate.availability_zone
        for host in aggregate.hosts or ():
            member_of.setdefault(host, []).append(aggregate.name)
            if zone:
                zones[host] = zone
    return zones, {h: tuple(sorted(names)) for h, names in member_of.items()}


def _host_record(name: str, service: Any, inventory: dict[str, Any], zones: dict[str, str],
                 aggregates: dict[str, tuple[str, ...]]) -> Host:
    def size(resource_class: str) -> tuple[float, float, float]:
        item = inventory.get(resource_class)
        if item is None:
            return 0.0, 0.0, 1.0
        return float(item.total), float(item.reserved or 0), float(item.allocation_ratio or 1)

    vcpus, vcpus_reserved, cpu_ratio = size("VCPU")
    memory, memory_reserved, ram_ratio = size("MEMORY_MB")
    disk, disk_reserved, disk_ratio = size("DISK_GB")
    return Host(
        name=name, vcpus=vcpus, memory_mb=memory, disk_gb=disk,
        vcpus_reserved=vcpus_reserved, memory_mb_reserved=memory_reserved,
        disk_gb_reserved=disk_reserved, cpu_allocation_ratio=cpu_ratio,
        ram_allocation_ratio=ram_ratio, disk_allocation_ratio=disk_ratio,
        state="up" if service.state == "up" else "down",
        status="enabled" if service.status == "enabled" else "disabled",
        disabled_reason=service.disabled_reason, zone=zones.get(name) or service.availability_zone,
        aggregates=aggregates.get(name, ()),
    )
