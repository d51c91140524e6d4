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

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from optimizer.models.errors import UserError
from optimizer.models.records import INSTANCE_STATES, instance_size_problem

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
    """The event a notification carries; raises for unknown or malformed ones.

    Every field is checked, so the message of a :class:`MalformedNotification`
    names the notification, the field and the value.
    """
    if event_type not in INSTANCE_CHANGES | INSTANCE_REMOVALS | SERVICE_CHANGES:
        raise UnknownNotification(f"{event_type}: not a notification the model follows")
    data = _data(event_type, payload)
    timestamp = _timestamp(event_type, metadata)
    if event_type in SERVICE_CHANGES:
        host = _text(event_type, data, "host")
        where = f"{event_type} for host {host}"
        return ServiceEvent(host, timestamp,
                            enabled=not _flag(where, data, "disabled"),
                            up=not _flag(where, data, "forced_down"),
                            reason=_optional_text(where, data, "disabled_reason"))
    uuid = _text(event_type, data, "uuid")
    if event_type in INSTANCE_REMOVALS:
        return InstanceEvent(uuid, timestamp, removed=True)
    where = f"{event_type} for {uuid}"
    state = _optional_text(where, data, "state")
    if state is not None:
        state = STATE_NAMES.get(state, state)
        if state not in INSTANCE_STATES:
            raise MalformedNotification(f"{where}: unknown state {state!r}")
    host = _optional_text(where, data, "host")
    if event_type in HOST_NOT_LOCATION:
        host = None
    return InstanceEvent(uuid, timestamp, host=host, state=state,
                         flavor=_flavor(where, data.get("flavor")),
                         name=_optional_text(where, data, "display_name"))


def event_problem(event: InstanceEvent | ServiceEvent) -> str | None:
    """What makes an event unfit to apply (a field of the wrong kind), or None.

    :func:`parse` never makes such an event; this guards events handed to
    the model by other code.
    """
    if type(event) is InstanceEvent and _plain(event):
        return None  # what parse makes: checked in one pass
    if not isinstance(event.timestamp, int | float) or not math.isfinite(event.timestamp):
        return f"timestamp must be a finite number, got {_show(event.timestamp)}"
    texts = (("uuid", "host", "state", "name") if isinstance(event, InstanceEvent)
             else ("host", "reason"))
    for key in texts:
        value = getattr(event, key)
        if value is not None and not isinstance(value, str):
            return f"field {key!r} must be a string, got {_show(value)}"
    if isinstance(event, ServiceEvent):
        for key in ("enabled", "up"):
            if not isinstance(getattr(event, key), bool):
                return f"field {key!r} must be true or false, got {_show(getattr(event, key))}"
        return None
    if event.flavor is not None:
        if not isinstance(event.flavor, tuple) or len(event.flavor) != 3:
            return f"flavor must be (vcpus, memory_mb, disk_gb), got {_show(event.flavor)}"
        problem = instance_size_problem(event.flavor)
        if problem:
            return f"flavor {problem}"
    return None


def _plain(event: InstanceEvent) -> bool:
    """An instance event whose fields are all of the kinds they should be."""
    flavor = event.flavor
    return (type(event.uuid) is str and type(event.timestamp) is float
            and math.isfinite(event.timestamp)
            and (event.host is None or type(event.host) is str)
            and (event.state is None or type(event.state) is str)
            and (event.name is None or type(event.name) is str)
            and (flavor is None or (type(flavor) is tuple and len(flavor) == 3
                                    and instance_size_problem(flavor) is None)))


def _show(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"[:100]


def _data(event_type: str, payload: Any) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping) or not isinstance(payload.get("nova_object.data"),
                                                          Mapping):
        raise MalformedNotification(f"{event_type}: payload has no nova_object.data")
    return payload["nova_object.data"]


def _text(event_type: str, data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        what = "missing or empty" if not value else f"not a string: {_show(value)}"
        raise MalformedNotification(f"{event_type}: payload field {key!r} is {what}")
    return value


def _optional_text(where: str, data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedNotification(f"{where}: payload field {key!r} must be a string, "
                                    f"got {_show(value)}")
    return value


def _flag(where: str, data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise MalformedNotification(f"{where}: payload field {key!r} must be true or false, "
                                    f"got {_show(value)}")
    return value


def _flavor(where: str, flavor: Any) -> tuple[float, float, float] | None:
    if flavor is None:
        return None
    data = flavor.get("nova_object.data") if isinstance(flavor, Mapping) else None
    if not isinstance(data, Mapping) or not {"vcpus", "memory_mb", "root_gb"} <= data.keys():
        raise MalformedNotification(f"{where}: flavor needs vcpus, memory_mb and root_gb")
    sizes = (data["vcpus"], data["memory_mb"], data["root_gb"])
    problem = instance_size_problem(sizes)
    if problem:  # NaN or absurd sizes would poison every sum and stored document after
        raise MalformedNotification(f"{where}: flavor {problem.replace('disk_gb', 'root_gb')}")
    return tuple(float(v) for v in sizes)


def _timestamp(event_type: str, metadata: Mapping[str, Any] | None) -> float:
    raw = (metadata or {}).get("timestamp")
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if not math.isfinite(raw):
            raise MalformedNotification(f"{event_type}: metadata timestamp {raw!r} is not a "
                                        "time")
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
