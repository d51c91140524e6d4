"""Audit scopes: which hosts an audit may touch and which instances stay put.

A scope is a small JSON document::

    {"include": {"hosts": [...], "zones": [...], "aggregates": [...]},
     "exclude": {"hosts": [...], "zones": [...], "aggregates": [...], "instances": [...]}}

Every key is optional; an empty scope covers the whole cluster. Included
hosts are those matching any include rule (all hosts when there is none),
less the excluded ones. Hosts out of scope leave the model with their
instances; excluded instances stay where they are. Watcher's list form
(``[{"compute": [{"availability_zones": [{"name": "az1"}]}, {"exclude":
[{"instances": [{"uuid": "…"}]}]}]}]``) is read too.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from optimizer.models.errors import UserError
from optimizer.models.snapshot import ClusterSnapshot

HOST_KEYS = ("hosts", "zones", "aggregates")
EXCLUDE_KEYS = HOST_KEYS + ("instances",)


class ScopeError(UserError):
    """A scope document that cannot be understood."""


def normalize_scope(raw: Any) -> dict:
    """The scope in its canonical form, checking every key and value."""
    if raw in (None, [], {}):
        return {}
    if isinstance(raw, list):
        return _merge([_from_watcher(item) if "compute" in (item or {}) else normalize_scope(item)
                       for item in raw])
    if not isinstance(raw, dict):
        raise ScopeError(f"scope must be an object or a list, got {type(raw).__name__}")
    unknown = set(raw) - {"include", "exclude"}
    if unknown:
        raise ScopeError(f"scope: unknown key(s) {', '.join(sorted(unknown))} "
                         "(expected include, exclude)")
    out = {}
    for part, keys in (("include", HOST_KEYS), ("exclude", EXCLUDE_KEYS)):
        section = raw.get(part) or {}
        if not isinstance(section, dict):
            raise ScopeError(f"scope: {part} must be an object, got {section!r}")
        bad = set(section) - set(keys)
        if bad:
            raise ScopeError(f"scope: {part} has unknown key(s) {', '.join(sorted(bad))} "
                             f"(expected {', '.join(keys)})")
        for key, values in section.items():
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ScopeError(f"scope: {part}.{key} must be a list of names, got {values!r}")
            if values:
                out.setdefault(part, {})[key] = sorted(set(values))
    return out


def apply_scope(snapshot: ClusterSnapshot, scope: Any) -> ClusterSnapshot:
    """The part of ``snapshot`` the scope covers; unknown names are an error."""
    scope = normalize_scope(scope)
    if not scope:
        return snapshot
    include, exclude = scope.get("include", {}), scope.get("exclude", {})
    _check_names(snapshot, include, exclude)
    hosts = _matching(snapshot, include) if include else np.ones(snapshot.host_count, bool)
    if any(exclude.get(k) for k in HOST_KEYS):
        hosts &= ~_matching(snapshot, exclude)
    pinned = np.isin(np.array(snapshot.inst_uuids, dtype=object),
                     exclude.get("instances", []))
    return snapshot.restrict(hosts, pinned if pinned.any() else None)


def _matching(snapshot: ClusterSnapshot, rules: dict) -> np.ndarray:
    hosts = set(rules.get("hosts", ()))
    zones = set(rules.get("zones", ()))
    aggregates = set(rules.get("aggregates", ()))
    return np.array([
        name in hosts or zone in zones or bool(aggregates.intersection(aggs))
        for name, zone, aggs in zip(snapshot.host_names, snapshot.host_zone,
                                    snapshot.host_aggregates, strict=True)
    ], dtype=bool)


def _check_names(snapshot: ClusterSnapshot, include: dict, exclude: dict) -> None:
    known = {
        "hosts": set(snapshot.host_names),
        "zones": {z for z in snapshot.host_zone if z},
        "aggregates": {a for aggs in snapshot.host_aggregates for a in aggs},
        "instances": set(snapshot.inst_uuids),
    }
    for part, section in (("include", include), ("exclude", exclude)):
        for key, values in section.items():
            missing = [v for v in values if v not in known[key]]
            if missing:
                raise ScopeError(f"scope: {part}.{key} names unknown {key[:-1]} "
                                 f"{', '.join(missing[:5])}")


def _merge(parts: list[dict]) -> dict:
    out: dict = {}
    for part in parts:
        for section, rules in part.items():
            for key, values in rules.items():
                merged = set(out.setdefault(section, {}).get(key, [])) | set(values)
                out[section][key] = sorted(merged)
    return out


def _from_watcher(item: dict) -> dict:
    """Watcher's ``{"compute": [...]}`` scope element in our form."""
    out: dict = {}
    for rule in item.get("compute") or []:
        if not isinstance(rule, dict):
            raise ScopeError(f"scope: compute rule must be an object, got {rule!r}")
        for key, values in rule.items():
            if key == "exclude":
                for sub in values:
                    for sub_key, sub_values in sub.items():
                        field = {"instances": ("instances", "uuid"),
                                 "compute_nodes": ("hosts", "name"),
                                 "host_aggregates": ("aggregates", "name"),
                                 "availability_zones": ("zones", "name")}.get(sub_key)
                        if field is None:
                            raise ScopeError(f"scope: unknown exclude rule {sub_key!r}")
                        out.setdefault("exclude", {}).setdefault(field[0], []).extend(
                            str(v.get(field[1]) or v.get("id")) for v in sub_values)
                continue
            field = {"compute_nodes": ("hosts", "name"), "host_aggregates": ("aggregates", "name"),
                     "availability_zones": ("zones", "name")}.get(key)
            if field is None:
                raise ScopeError(f"scope: unknown compute rule {key!r}")
            out.setdefault("include", {}).setdefault(field[0], []).extend(
                str(v.get(field[1]) or v.get("id")) for v in values)
    return normalize_scope(out)
