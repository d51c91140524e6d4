"""Does a stored plan still fit the cloud as it is now?

A plan is built on a snapshot; by the time someone starts it the cloud may
have changed. Starting a plan whose premises no longer hold would move the
wrong instances or overload hosts, so such a plan is superseded instead.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from optimizer.models.snapshot import ClusterSnapshot


def broken_premises(snapshot: ClusterSnapshot, actions: Iterable[Mapping[str, Any]],
                    limit: int = 5) -> list[str]:
    """Up to ``limit`` reasons why the plan's actions no longer fit ``snapshot``.

    ``actions`` are stored actions (``type`` and ``parameters``) in plan order;
    only actions not yet run should be passed.
    """
    hosts = snapshot.host_ids
    instances = snapshot.instance_ids
    enabled = {n: bool(snapshot.can_receive[h]) for n, h in hosts.items()}
    where: dict[str, str] = {}
    problems: list[str] = []
    for action in actions:
        kind, params = action["type"], action.get("parameters") or {}
        if kind == "migrate":
            uuid, source, dest = params.get("instance"), params.get("source"), \
                params.get("destination")
            if uuid not in instances:
                problems.append(f"instance {uuid} no longer exists")
            else:
                now = where.get(uuid) or snapshot.host_names[
                    snapshot.inst_host[instances[uuid]]]
                if now != source:
                    problems.append(f"instance {uuid} is on {now}, not {source}")
                where[uuid] = dest
            if dest not in hosts:
                problems.append(f"host {dest} no longer exists")
            elif not enabled.get(dest, False):
                problems.append(f"host {dest} is disabled or down")
        elif kind in ("change_service_state", "change_power_state"):
            host = params.get("host")
            if host not in hosts:
                problems.append(f"host {host} no longer exists")
            elif params.get("state") in ("enabled", "on"):
                enabled[host] = True
        if len(problems) >= limit:
            break
    return problems
