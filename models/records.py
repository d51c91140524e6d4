"""Plain records of hosts, instances and server groups.

They are what builders and exporters speak; strategies read the array form
in :class:`optimizer.models.snapshot.ClusterSnapshot` instead.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

RESOURCES = ("vcpus", "memory_mb", "disk_gb")
VCPUS, MEMORY, DISK = 0, 1, 2
DEFAULT_RATIOS = (4.0, 1.0, 1.0)
RATIO_FIELDS = ("cpu_allocation_ratio", "ram_allocation_ratio", "disk_allocation_ratio")

# The largest flavor believed: beyond any machine built (a notification or an API
# answer above it is garbled, and its sizes would swamp every sum they enter).
MAX_INSTANCE_SIZE = (65536.0, 64.0 * 1024 * 1024, 1024.0 * 1024)  # vcpus, MB (64 TiB), GB (1 PiB)

HOST_STATES = ("up", "down")
HOST_STATUSES = ("enabled", "disabled")
INSTANCE_STATES = (
    "active", "shutoff", "paused", "suspended", "shelved", "stopped",
    "building", "error", "rescued", "resized", "soft_deleted",
)
GROUP_POLICIES = ("affinity", "anti-affinity")
# instances mid-change or broken: Nova refuses to migrate them, so nothing plans to
UNMOVABLE_STATES = frozenset({"building", "error", "resized", "soft_deleted", "deleted",
                              "shelved_offloaded", "migrating", "rebuilding"})


@dataclass(slots=True)
class Host:
    """A compute host: its physical size, what it keeps back, and its ratios."""

    name: str
    vcpus: float
    memory_mb: float
    disk_gb: float
    vcpus_reserved: float = 0
    memory_mb_reserved: float = 0
    disk_gb_reserved: float = 0
    cpu_allocation_ratio: float = DEFAULT_RATIOS[0]
    ram_allocation_ratio: float = DEFAULT_RATIOS[1]
    disk_allocation_ratio: float = DEFAULT_RATIOS[2]
    state: str = "up"
    status: str = "enabled"
    disabled_reason: str | None = None
    zone: str | None = None
    rack: str | None = None
    aggregates: tuple[str, ...] = ()


@dataclass(slots=True)
class Instance:
    """A virtual machine: its flavor, where it runs and what it uses."""

    uuid: str
    host: str
    vcpus: float
    memory_mb: float
    disk_gb: float
    name: str | None = None
    state: str = "active"
    cpu_util: float = 0.0
    memory_util: float = 1.0
    cpu_util_series: list[float] | None = None
    server_group: str | None = None
    # Nova server metadata (key -> text), e.g. an operator's evacuation priority
    metadata: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ServerGroup:
    """Instances that must share a host (affinity) or never share one."""

    name: str
    policy: str
    members: tuple[str, ...] = field(default=())


_PLAIN_NUMBERS = frozenset({int, float})


def instance_size_problem(sizes: tuple[Any, Any, Any]) -> str | None:
    """What is wrong with an instance's (vcpus, memory_mb, disk_gb), or None.

    Each must be a finite number from zero up to :data:`MAX_INSTANCE_SIZE`;
    NaN, infinities, negative, absurd and non-numeric values are refused.
    """
    kinds = {type(v) for v in sizes}
    if kinds <= _PLAIN_NUMBERS and all(0 <= v <= limit for v, limit  # NaN fails both
                                       in zip(sizes, MAX_INSTANCE_SIZE, strict=True)):
        return None  # the common case, checked in one pass
    for name, value, limit in zip(RESOURCES, sizes, MAX_INSTANCE_SIZE, strict=True):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return f"{name} must be a number, got {type(value).__name__} {value!r}"[:120]
        # the range first: math.isfinite overflows on an integer beyond a float's range
        if not 0 <= value <= limit or not math.isfinite(value):
            return f"{name} must be between 0 and {limit:.0f}, got {value!r}"[:120]
    return None
