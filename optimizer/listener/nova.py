"""Nova's versioned notifications, read into the few facts the model needs.

A notification is (event_type, payload, metadata) with a payload like::

    {"nova_object.name": "InstanceActionPayload",
     "nova_object.data": {"uuid": ..., "host": "compute-1", "node": ..., "state": "active",
                          "flavor": {"nova_object.data": {"vcpus": 2, "memory_mb": 2048,
                                                          "root_gb": 20, ...}}, ...}}

and ``metadata["timestamp"]`` saying when it was sent. Instance events say
where an instance is, in which state and of what size (or that it is
gone); ``service.update`` says whether a compute service is enabled and up.
Anything else is unknown; a payload missing what its type needs is
:class:`MalformedNotification`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from optimizer.models.errors import UserError
from optimizer.models.records import INSTANCE_STATES

INSTANCE_CHANGES = frozenset({
    "instance.create.end", "instance.update", "instance.live_migration_post.end",
    "instance.live_migration_post_dest.end", "instance.resize_confirm.end",
    "instance.resize.end", "instance.resize_finish.end", "instance.power_off.end",
    "instance.power_on.end", "instance.shutdown.end", "instance.pause.end",
    "instance.unpause.end", "instance.suspend.end", "instance.resume.end",
    "instance.rebuild.end", "instance.evacuate", "instance.unshelve.end",
    "instance.shelve.end", "instance.rescue.end", "instance.unrescue.end",
})
INSTANCE_REMOVALS = frozenset({"instance.delete.end", "instance.shelve_offload.end"})
SERVICE_CHANGES = frozenset({"service.update", "service.create"})
# sent by the source compute without reloading the instance: its host is the
# SOURCE, and it arrives after post_dest.end, which names the destination
HOST_NOT_LOCATION = frozenset({"instance.live_migration_post.end"})
# Nova's vm_state names that differ from the model's
STATE_NAMES = {"soft-delete": "soft_deleted", "shelved_offloaded": "shelved"}


class MalformedNotification(UserError):
    """A notification of a known type that lacks or garbles what it must say."""


class UnknownNotification(UserError):
    """A notification of a type the model does not follow."""


@dataclass(frozen=True, slots=True)
class InstanceEvent:
    """An instance appeared, moved, changed state or size, or (``removed``) went away."""

    uuid: str
    timestamp: float
    host: str | None = None
    state: str | None = None
    flavor: tuple[float, float, float] | None = None  # vcpus, memory_mb, disk_gb
    name: str | None = None
    removed: bool = False


@dataclass(frozen=True, slots=True)
class ServiceEvent:
    """A compute service was enabled or disabled, forced down or up."""

    host: str
    timestamp: float
    enabled: bool
    up: bool
    reason: str | None = None


def parse(event_type: str, payload: Any,
          metadata: Mapping[str, Any] | None) -> InstanceEvent | ServiceEvent:
    """The event a notification carries; raises for unknown or malformed ones."""
    if event_type not in INSTANCE_CHANGES | INSTANCE_REMOVALS | SERVICE_CHANGES:
        raise UnknownNotification(f"{event_type}: not a notification the model follows")
    data = _data(event_type, payload)
    timestamp = _timestamp(event_type, metadata)
    if event_type in SERVICE_CHANGES:
        host = _text(event_type, data, "host")
        return ServiceEvent(host, timestamp, enabled=not data.get("disabled", False),
                            up=not data.get("forced_down", False),
                            reason=data.get("disabled_reason"))
    uuid = _text(event_type, data, "uuid")
    if event_type in INSTANCE_REMOVALS:
        return InstanceEvent(uuid, timestamp, removed=True)
    state = data.get("state")
    if state is not None:
        state = STATE_NAMES.get(state, state)
        if state not in INSTANCE_STATES:
            raise MalformedNotification(f"{event_type} for {uuid}: unknown state {state!r}")
    host = None if event_type in HOST_NOT_LOCATION else data.get("host") or None
    return InstanceEvent(uuid, timestamp, host=host, state=state,
                         flavor=_flavor(event_type, uuid, data.get("flavor")),
                         name=data.get("display_name"))


def _data(event_type: str, payload: Any) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping) or not isinstance(payload.get("nova_object.data"),
                                                          Mapping):
        raise MalformedNotification(f"{event_type}: payload has no nova_object.data")
    return payload["nova_object.data"]


def _text(event_type: str, data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedNotification(f"{event_type}: payload field {key!r} is missing or empty")
    return value


def _flavor(event_type: str, uuid: str, flavor: Any) -> tuple[float, float, float] | None:
    if flavor is None:
        return None
    data = flavor.get("nova_object.data") if isinstance(flavor, Mapping) else None
    try:
        return (float(data["vcpus"]), float(data["memory_mb"]), float(data["root_gb"]))
    except (TypeError, KeyError, ValueError):
        raise MalformedNotification(
            f"{event_type} for {uuid}: flavor needs vcpus, memory_mb and root_gb") from None


def _timestamp(event_type: str, metadata: Mapping[str, Any] | None) -> float:
    raw = (metadata or {}).get("timestamp")
    if isinstance(raw, int | float):
        return float(raw)
    try:
        moment = datetime.fromisoformat(str(raw))
    except ValueError:
        raise MalformedNotification(f"{event_type}: metadata timestamp {raw!r} is not a "
                                    "time") from None
    if moment.tzinfo is None:  # oslo.messaging stamps naive UTC times
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def instance_payload(uuid: str, host: str, state: str, vcpus: float, memory_mb: float,
                     disk_gb: float, name: str | None = None) -> dict:
    """A Nova ``InstanceActionPayload`` for an instance (as the simulated cloud sends)."""
    flavor = {"nova_object.name": "FlavorPayload", "nova_object.namespace": "nova",
              "nova_object.version": "1.4",
              "nova_object.data": {"vcpus": vcpus, "memory_mb": memory_mb, "root_gb": disk_gb,
                                   "ephemeral_gb": 0, "swap": 0}}
    return {"nova_object.name": "InstanceActionPayload", "nova_object.namespace": "nova",
            "nova_object.version": "1.8",
            "nova_object.data": {"uuid": uuid, "host": host, "node": host, "state": state,
                                 "display_name": name, "flavor": flavor}}


def service_payload(host: str, enabled: bool, up: bool, reason: str | None = None) -> dict:
    """A Nova ``ServiceStatusPayload`` for a compute service."""
    return {"nova_object.name": "ServiceStatusPayload", "nova_object.namespace": "nova",
            "nova_object.version": "1.1",
            "nova_object.data": {"host": host, "binary": "nova-compute", "disabled": not enabled,
                                 "disabled_reason": reason, "forced_down": not up,
                                 "topic": "compute"}}
