"""Reading a scenario's hosts and instances column by column, into arrays at once.

Checking 91,000 instances one field at a time in Python (``scenario._instance``)
took seconds at 10,000 hosts. Here every field is pulled out as one list,
its types checked as a set and its values as a numpy array, and the
snapshot is assembled from those columns. The rules are those of the
record-by-record reader in :mod:`optimizer.models.scenario`; when any
column breaks one, :func:`snapshot_from_columns` returns None and that
reader runs instead, so the error names the item, the field and the value
exactly as before.
"""
from __future__ import annotations

from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
from optimizer.models.records import (
    DEFAULT_RATIOS,
    HOST_STATES,
    HOST_STATUSES,
    MAX_INSTANCE_SIZE,
    RATIO_FIELDS,
    RESOURCES,
)
from optimizer.models.snapshot import ClusterSnapshot

_MISSING = object()  # a field that is absent, where it has no default
_NUMBERS = frozenset({int, float})
_FRACTION_LIMIT = 1.0 + 1e-9  # as scenario._fraction allows


class _Refused(Exception):
    """A column breaks a rule: the record-by-record reader says which item and field."""


def snapshot_from_columns(hosts: Any, instances: Any, groups: list, *, name: str,
                          metrics_step_s: int) -> ClusterSnapshot | None:
    """The snapshot of these parsed scenario items, or None if any item is not plainly valid.

    ``groups`` are the already checked :class:`~optimizer.models.records.ServerGroup` records.
    """
    try:
        return _snapshot(hosts, instances, groups, name, metrics_step_s)
    except _Refused:
        return None


def _snapshot(hosts: Any, instances: Any, groups: list, name: str,
              metrics_step_s: int) -> ClusterSnapshot:
    _require(isinstance(hosts, list) and isinstance(instances, list)
             and set(map(type, chain(hosts, instances))) <= {dict})
    host_names = _texts(hosts, "name", required=True)
    host_index = dict(zip(host_names, range(len(host_names)), strict=True))
    group_index = {group.name: k for k, group in enumerate(groups)}
    _require(len(host_index) == len(hosts) and len(group_index) == len(groups))

    uuids = _texts(instances, "uuid", required=True)
    inst_index = dict(zip(uuids, range(len(uuids)), strict=True))
    _require(len(inst_index) == len(instances))
    placed = list(map(host_index.get, _texts(instances, "host", required=True)))
    _require(None not in placed)
    group_index_or_none = {None: -1, **group_index}
    group_of = list(map(group_index_or_none.get, _texts(instances, "server_group")))
    _require(None not in group_of)
    series, cpu_default = _series(instances)
    # instance metadata is rare and free-form: the checked record path reads it
    _require(not any("metadata" in item for item in instances))

    n = len(instances)
    snapshot = ClusterSnapshot(
        name=name, metrics_step_s=metrics_step_s,
        host_names=tuple(host_names),
        host_size=_frozen(_columns(hosts, RESOURCES)),
        host_reserved=_frozen(_columns(hosts, [f"{r}_reserved" for r in RESOURCES], 0)),
        host_ratio=_frozen(_ratios(hosts)),
        host_up=_frozen(np.array(
            [s == "up" for s in _texts(hosts, "state", choices=HOST_STATES, default="up")],
            dtype=bool).reshape(len(hosts))),
        host_enabled=_frozen(np.array(
            [s == "enabled" for s in _texts(hosts, "status", choices=HOST_STATUSES,
                                             default="enabled")],
            dtype=bool).reshape(len(hosts))),
        host_disabled_reason=tuple(_texts(hosts, "disabled_reason")),
        host_zone=tuple(_texts(hosts, "zone")),
        host_rack=tuple(_texts(hosts, "rack")),
        host_aggregates=_aggregates(hosts),
        inst_uuids=tuple(uuids),
        inst_names=tuple(_texts(instances, "name")),
        inst_size=_frozen(_sizes(instances)),
        inst_host=_frozen(np.array(placed, dtype=np.int32).reshape(n)),
        inst_state=tuple(_texts(instances, "state", default="active")),
        inst_cpu_util=_frozen(_fractions(instances, "cpu_util", cpu_default)),
        inst_memory_util=_frozen(_fractions(instances, "memory_util", 1.0)),
        inst_series=series,
        inst_group=_frozen(np.array(group_of, dtype=np.int32).reshape(n)),
        group_names=tuple(g.name for g in groups),
        group_policies=tuple(g.policy for g in groups),
    )
    snapshot._index.update(hosts=host_index, instances=inst_index, groups=group_index)
    return snapshot


def _require(condition: bool) -> None:
    if not condition:
        raise _Refused


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _column(items: list[dict], field: str, default: Any) -> list:
    """The field of every item, ``default`` where it is absent."""
    try:
        return list(map(itemgetter(field), items))  # in C, when every item has it
    except KeyError:
        return [item.get(field, default) for item in items]


def _texts(items: list[dict], field: str, *, required: bool = False,
           choices: tuple[str, ...] | None = None, default: str | None = None) -> list:
    """The field of every item: non-empty strings (None allowed unless required or chosen)."""
    column = _column(items, field, default)
    allowed = {str} if required or choices else {str, type(None)}
    _require(set(map(type, column)) <= allowed and "" not in column)
    _require(choices is None or set(column) <= set(choices))
    return column


def _numbers(items: list[dict], field: str, default: Any = _MISSING) -> np.ndarray:
    """The field of every item as floats: plain numbers, finite and at least 0."""
    return _plain_numbers(_column(items, field, default))


def _plain_numbers(column: list) -> np.ndarray:
    _require(set(map(type, column)) <= _NUMBERS)
    try:
        values = np.array(column, dtype=np.float64).reshape(len(column))
    except OverflowError:  # an integer beyond any float
        raise _Refused from None
    _require(bool(np.isfinite(values).all() and (values >= 0).all()))
    return values


def _columns(items: list[dict], fields, default: Any = _MISSING) -> np.ndarray:
    return np.stack([_numbers(items, f, default) for f in fields], axis=1).reshape(
        len(items), len(fields))


def _ratios(hosts: list[dict]) -> np.ndarray:
    ratios = np.stack([_numbers(hosts, f, d) for f, d in zip(RATIO_FIELDS, DEFAULT_RATIOS,
                                                               strict=True)],
                      axis=1).reshape(len(hosts), len(RATIO_FIELDS))
    _require(bool((ratios > 0).all()))
    return ratios


def _sizes(instances: list[dict]) -> np.ndarray:
    sizes = _columns(instances, RESOURCES)
    _require(bool((sizes <= np.array(MAX_INSTANCE_SIZE)).all()))
    return sizes


def _fractions(items: list[dict], field: str, default: Any) -> np.ndarray:
    """The field of every item as a fraction; ``default`` is one value or one per item."""
    if isinstance(default, list):
        values = _plain_numbers([item.get(field, d) for item, d in zip(items, default,
                                                                        strict=True)])
    else:
        values = _numbers(items, field, default)
    _require(bool((values <= _FRACTION_LIMIT).all()))
    return values


def _aggregates(hosts: list[dict]) -> tuple[tuple[str, ...], ...]:
    column = [item.get("aggregates", []) for item in hosts]
    _require(set(map(type, column)) <= {list}
             and set(map(type, chain.from_iterable(column))) <= {str})
    return tuple(tuple(a) for a in column)


def _series(instances: list[dict]) -> tuple[np.ndarray | None, Any]:
    """(the CPU series matrix or None, the default of ``cpu_util``: one value or one per item).

    The matrix is float32 with NaN after the end of a shorter series, as
    ``ClusterSnapshot.from_records`` makes it.
    """
    column = _column(instances, "cpu_util_series", None)
    kinds = set(map(type, column))
    if kinds <= {type(None)}:
        return None, 0.0
    _require(kinds <= {list, type(None)})
    lengths = np.array([len(s) if s else 0 for s in column], dtype=np.int64)
    if not lengths.any():
        return None, 0.0
    _require(set(map(type, chain.from_iterable(s for s in column if s))) <= _NUMBERS)
    values = np.fromiter(chain.from_iterable(s for s in column if s), dtype=np.float64,
                         count=int(lengths.sum()))
    _require(bool(((values >= 0) & (values <= _FRACTION_LIMIT)).all()))
    matrix = np.full((len(column), int(lengths.max())), np.nan, dtype=np.float32)
    matrix[np.arange(matrix.shape[1]) < lengths[:, None]] = values  # row by row, in order
    defaults = [sum(s) / len(s) if s and "cpu_util" not in item else 0.0
                for s, item in zip(column, instances, strict=True)]
    return _frozen(matrix), defaults
