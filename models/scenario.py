"""Read and write the ``cluster-scenario/1`` exchange format.

The format is described in ``shared/scenarios/FORMAT.md``. Reading checks
every field and fails on the first problem with one line naming the item,
the field and the value.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import orjson
from optimizer.models.errors import ScenarioError
from optimizer.models.records import (
    GROUP_POLICIES,
    HOST_STATES,
    HOST_STATUSES,
    MAX_INSTANCE_SIZE,
    RATIO_FIELDS,
    RESOURCES,
    Host,
    Instance,
    ServerGroup,
)
from optimizer.models.scenario_columns import snapshot_from_columns
from optimizer.models.snapshot import ClusterSnapshot

FORMAT = "cluster-scenario/1"

_NUMBER = (int, float)


def load_scenario(path: str | Path) -> ClusterSnapshot:
    """Read a scenario file into a snapshot; :class:`ScenarioError` on any problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"scenario {path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} "
                            f"at offset {exc.start}); save it as UTF-8 JSON") from None
    try:
        document = _parse(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"scenario {path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    try:
        return scenario_from_dict(document)
    except ScenarioError as exc:
        raise ScenarioError(f"scenario {path}: {exc}") from None


def _parse(text: str) -> Any:
    """The JSON document in ``text``: orjson reads it in half the time; what orjson refuses
    (NaN tokens, integers beyond 64 bits, malformed text) the standard parser reads or
    explains with its line and column."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def scenario_from_dict(document: Any) -> ClusterSnapshot:
    """Build a snapshot from a parsed ``cluster-scenario/1`` document."""
    if not isinstance(document, dict):
        raise ScenarioError(f"expected a JSON object, got {type(document).__name__}")
    fmt = document.get("format")
    if fmt != FORMAT:
        raise ScenarioError(f"field 'format' must be {FORMAT!r}, got {fmt!r}")
    plain = _read_as_columns(document)
    if plain is not None:
        return plain
    hosts = [_host(item, k) for k, item in enumerate(_list(document, "hosts"))]
    instances = [_instance(item, k) for k, item in enumerate(_list(document, "instances"))]
    groups = _groups(document)
    step, name = _step(document), _name(document)
    return ClusterSnapshot.from_records(hosts, instances, groups, name=name, metrics_step_s=step)


def _read_as_columns(document: dict) -> ClusterSnapshot | None:
    """The snapshot read column by column (fast), or None: then the checks above name
    the first problem, in the order they always did."""
    try:
        groups, step, name = _groups(document), _step(document), _name(document)
    except ScenarioError:
        return None
    return snapshot_from_columns(document.get("hosts"), document.get("instances"), groups,
                                 name=name, metrics_step_s=step)


def _groups(document: dict) -> list[ServerGroup]:
    return [_group(item, k) for k, item in enumerate(document.get("server_groups") or [])]


def _step(document: dict) -> int:
    step = document.get("metrics_step_s", 300)
    if not isinstance(step, int) or isinstance(step, bool) or step <= 0:
        raise ScenarioError(f"field 'metrics_step_s' must be a positive integer, got {step!r}")
    return step


def _name(document: dict) -> str:
    name = document.get("name") or "scenario"
    if not isinstance(name, str):
        raise ScenarioError(f"field 'name' must be a string, got {name!r}")
    return name


def scenario_to_dict(snapshot: ClusterSnapshot) -> dict:
    """The snapshot as a ``cluster-scenario/1`` document."""
    hosts = []
    for h in range(snapshot.host_count):
        rec = snapshot.host_record(h)
        entry = {
            "name": rec.name, "vcpus": rec.vcpus, "memory_mb": rec.memory_mb,
            "disk_gb": rec.disk_gb, "vcpus_reserved": rec.vcpus_reserved,
            "memory_mb_reserved": rec.memory_mb_reserved,
            "disk_gb_reserved": rec.disk_gb_reserved,
            "cpu_allocation_ratio": rec.cpu_allocation_ratio,
            "ram_allocation_ratio": rec.ram_allocation_ratio,
            "disk_allocation_ratio": rec.disk_allocation_ratio,
            "state": rec.state, "status": rec.status,
        }
        for key in ("disabled_reason", "zone", "rack"):
            if getattr(rec, key) is not None:
                entry[key] = getattr(rec, key)
        if rec.aggregates:
            entry["aggregates"] = list(rec.aggregates)
        hosts.append(entry)
    instances = []
    for i in range(snapshot.instance_count):
        rec = snapshot.instance_record(i)
        entry = {
            "uuid": rec.uuid, "name": rec.name, "host": rec.host, "vcpus": rec.vcpus,
            "memory_mb": rec.memory_mb, "disk_gb": rec.disk_gb, "state": rec.state,
            "cpu_util": rec.cpu_util, "memory_util": rec.memory_util,
        }
        if rec.cpu_util_series is not None:
            entry["cpu_util_series"] = rec.cpu_util_series
        if rec.server_group is not None:
            entry["server_group"] = rec.server_group
        if rec.metadata:
            entry["metadata"] = rec.metadata
        instances.append(entry)
    return {
        "format": FORMAT,
        "name": snapshot.name,
        "metrics_step_s": snapshot.metrics_step_s,
        "hosts": hosts,
        "instances": instances,
        "server_groups": [{"name": g.name, "policy": g.policy}
                          for g in snapshot.group_records()],
    }


def save_scenario(snapshot: ClusterSnapshot, path: str | Path) -> None:
    """Write the snapshot to ``path`` as ``cluster-scenario/1``."""
    Path(path).write_text(json.dumps(scenario_to_dict(snapshot), separators=(",", ":")))


# ----- field checks ---------------------------------------------------------


def _list(document: dict, key: str) -> list:
    value = document.get(key)
    if not isinstance(value, list):
        raise ScenarioError(f"field {key!r} must be a list, got {_show(value)}")
    return value


def _show(value: Any) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"[:80]


def _label(kind: str, item: Any, key: str, k: int) -> str:
    name = item.get(key) if isinstance(item, dict) else None
    return f"{kind} {name!r}" if isinstance(name, str) else f"{kind} #{k}"


def _size(item: dict, field: str, label: str, default: float | None = None) -> float:
    value = item.get(field, default)
    if (not isinstance(value, _NUMBER) or isinstance(value, bool)
            or not _finite(value) or value < 0):
        what = "missing" if field not in item else f"got {repr(value)[:40]}"
        raise ScenarioError(f"{label}: field {field!r} must be a non-negative number, {what}")
    return value


def _finite(value: float | int) -> bool:
    """Whether ``value`` is a finite float; JSON integers beyond a float's range are not."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _fraction(item: dict, field: str, label: str, default: float) -> float:
    value = _size(item, field, label, default)
    if value > 1.0 + 1e-9:
        raise ScenarioError(f"{label}: field {field!r} must be between 0 and 1, got {value!r}")
    return value


def _text(item: dict, field: str, label: str, *, required: bool = False,
          choices: tuple[str, ...] | None = None, default: str | None = None) -> str | None:
    value = item.get(field, default)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        what = "missing" if field not in item else f"got {value!r}"
        raise ScenarioError(f"{label}: field {field!r} must be a non-empty string, {what}")
    if choices is not None and value not in choices:
        raise ScenarioError(
            f"{label}: field {field!r} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _host(item: Any, k: int) -> Host:
    label = _label("host", item, "name", k)
    if not isinstance(item, dict):
        raise ScenarioError(f"{label}: expected an object, got {_show(item)}")
    name = _text(item, "name", label, required=True)
    sizes = [_size(item, r, label) for r in RESOURCES]
    reserved = [_size(item, f"{r}_reserved", label, 0) for r in RESOURCES]
    ratios = []
    for field, default in zip(RATIO_FIELDS, (4.0, 1.0, 1.0), strict=True):
        ratio = _size(item, field, label, default)
        if ratio == 0:
            raise ScenarioError(f"{label}: field {field!r} must be above 0, got 0")
        ratios.append(ratio)
    aggregates = item.get("aggregates", [])
    if not isinstance(aggregates, list) or not all(isinstance(a, str) for a in aggregates):
        raise ScenarioError(f"{label}: field 'aggregates' must be a list of strings, "
                            f"got {aggregates!r}")
    return Host(
        name=name, vcpus=sizes[0], memory_mb=sizes[1], disk_gb=sizes[2],
        vcpus_reserved=reserved[0], memory_mb_reserved=reserved[1], disk_gb_reserved=reserved[2],
        cpu_allocation_ratio=ratios[0], ram_allocation_ratio=ratios[1],
        disk_allocation_ratio=ratios[2],
        state=_text(item, "state", label, choices=HOST_STATES, default="up"),
        status=_text(item, "status", label, choices=HOST_STATUSES, default="enabled"),
        disabled_reason=_text(item, "disabled_reason", label),
        zone=_text(item, "zone", label),
        rack=_text(item, "rack", label),
        aggregates=tuple(aggregates),
    )


def _instance(item: Any, k: int) -> Instance:
    label = _label("instance", item, "uuid", k)
    if not isinstance(item, dict):
        raise ScenarioError(f"{label}: expected an object, got {_show(item)}")
    uuid = _text(item, "uuid", label, required=True)
    series = item.get("cpu_util_series")
    if series is not None and (not isinstance(series, list) or not all(
        isinstance(v, _NUMBER) and not isinstance(v, bool) and 0 <= v <= 1 + 1e-9
        for v in series
    )):
        raise ScenarioError(
            f"{label}: field 'cpu_util_series' must be a list of numbers between 0 and 1")
    cpu_default = sum(series) / len(series) if series else 0.0
    for field, limit in zip(RESOURCES, MAX_INSTANCE_SIZE, strict=True):
        if _size(item, field, label) > limit:  # finite, but larger than any machine
            raise ScenarioError(f"{label}: field {field!r} must be at most {limit:.0f}, "
                                f"got {item[field]!r}")
    return Instance(
        uuid=uuid,
        name=_text(item, "name", label),
        host=_text(item, "host", label, required=True),
        vcpus=_size(item, "vcpus", label),
        memory_mb=_size(item, "memory_mb", label),
        disk_gb=_size(item, "disk_gb", label),
        state=_text(item, "state", label, default="active"),
        cpu_util=_fraction(item, "cpu_util", label, cpu_default),
        memory_util=_fraction(item, "memory_util", label, 1.0),
        cpu_util_series=series or None,
        server_group=_text(item, "server_group", label),
        metadata=_metadata(item, label),
    )


def _metadata(item: dict, label: str) -> dict[str, str] | None:
    """An instance's ``metadata``: an object of text keys and text or number values."""
    raw = item.get("metadata")
    if raw is None:
        return None
    if not isinstance(raw, dict) or not all(
            isinstance(k, str) and isinstance(v, str | int | float) and not isinstance(v, bool)
            for k, v in raw.items()):
        raise ScenarioError(f"{label}: field 'metadata' must be an object of text keys and "
                            f"text or number values, got {_show(raw)}")
    return {k: str(v) for k, v in raw.items()} or None


def _group(item: Any, k: int) -> ServerGroup:
    label = _label("server group", item, "name", k)
    if not isinstance(item, dict):
        raise ScenarioError(f"{label}: expected an object, got {_show(item)}")
    return ServerGroup(
        name=_text(item, "name", label, required=True),
        policy=_text(item, "policy", label, required=True, choices=GROUP_POLICIES),
    )
