"""A small fluent builder of cluster snapshots for tests.

    ClusterBuilder().host("h1", vcpus=32, memory_gb=128) \
        .vm("v1", on="h1", vcpus=4, memory_gb=8, cpu_util=0.7, group="g") \
        .group("g", "anti-affinity").build()

Sizes are given in GB for readability and stored in MB as the model wants.
Instance names double as their uuids, so assertions can name them plainly.
"""
from __future__ import annotations

from optimizer.models.records import Host, Instance, ServerGroup
from optimizer.models.snapshot import ClusterSnapshot


class ClusterBuilder:
    """Collects hosts, instances and server groups, then builds one snapshot."""

    def __init__(self, name: str = "test-cluster") -> None:
        self.name = name
        self._hosts: list[Host] = []
        self._instances: list[Instance] = []
        self._groups: list[ServerGroup] = []

    def host(self, name: str, *, vcpus: float = 32, memory_gb: float = 128,
             disk_gb: float = 1000, state: str = "up", status: str = "enabled",
             reserved_vcpus: float = 0, reserved_memory_gb: float = 0,
             reserved_disk_gb: float = 0, cpu_ratio: float = 4.0, ram_ratio: float = 1.0,
             disk_ratio: float = 1.0, disabled_reason: str | None = None,
             zone: str | None = None, rack: str | None = None) -> ClusterBuilder:
        """Add a host; sizes in vcpus and GB."""
        self._hosts.append(Host(
            name=name, vcpus=vcpus, memory_mb=memory_gb * 1024, disk_gb=disk_gb,
            vcpus_reserved=reserved_vcpus, memory_mb_reserved=reserved_memory_gb * 1024,
            disk_gb_reserved=reserved_disk_gb, cpu_allocation_ratio=cpu_ratio,
            ram_allocation_ratio=ram_ratio, disk_allocation_ratio=disk_ratio,
            state=state, status=status, disabled_reason=disabled_reason, zone=zone, rack=rack,
        ))
        return self

    def hosts(self, count: int, prefix: str = "h", **sizes) -> ClusterBuilder:
        """Add ``count`` identical hosts named ``{prefix}1`` … ``{prefix}{count}``."""
        for k in range(count):
            self.host(f"{prefix}{k + 1}", **sizes)
        return self

    def vm(self, name: str, *, on: str, vcpus: float = 2, memory_gb: float = 4,
           disk_gb: float = 40, cpu_util: float = 0.3, memory_util: float = 1.0,
           state: str = "active", group: str | None = None,
           series: list[float] | None = None,
           metadata: dict[str, str] | None = None) -> ClusterBuilder:
        """Add an instance on host ``on``; its uuid is ``name``."""
        self._instances.append(Instance(
            uuid=name, name=name, host=on, vcpus=vcpus, memory_mb=memory_gb * 1024,
            disk_gb=disk_gb, state=state, cpu_util=cpu_util, memory_util=memory_util,
            cpu_util_series=series, server_group=group, metadata=metadata,
        ))
        return self

    def group(self, name: str, policy: str) -> ClusterBuilder:
        """Add a server group (``affinity`` or ``anti-affinity``)."""
        self._groups.append(ServerGroup(name, policy))
        return self

    def build(self) -> ClusterSnapshot:
        return ClusterSnapshot.from_records(self._hosts, self._instances, self._groups,
                                            name=self.name)
