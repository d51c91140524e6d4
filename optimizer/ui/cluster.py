"""The cluster now, as compact columns for the console's heat map.

One array per figure, one entry per host, in the collector's host order:
a 10,000-host cluster is a few hundred kilobytes of JSON the page draws on
a canvas, not a table of HTML.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from optimizer.models.records import MEMORY
from optimizer.models.snapshot import ClusterSnapshot

DISABLED, DOWN, EMPTY = 1, 2, 4


def host_flags(snapshot: ClusterSnapshot) -> np.ndarray:
    """(H,) bit flags per host: :data:`DISABLED`, :data:`DOWN`, :data:`EMPTY`."""
    return ((~snapshot.host_enabled).astype(np.int64) * DISABLED
            + (~snapshot.host_up).astype(np.int64) * DOWN
            + (snapshot.instances_per_host == 0).astype(np.int64) * EMPTY)


def memory_allocation(snapshot: ClusterSnapshot, placement: np.ndarray | None = None
                      ) -> np.ndarray:
    """(H,) memory allocated over allocatable memory, as a fraction."""
    where = snapshot.inst_host if placement is None else placement
    used = np.bincount(where, weights=snapshot.inst_size[:, MEMORY],
                       minlength=snapshot.host_count)
    return used / np.maximum(snapshot.allocatable[:, MEMORY], 1e-9)


def _rounded(values: np.ndarray) -> list[float]:
    return np.round(np.nan_to_num(values, nan=0.0, posinf=0.0), 3).tolist()


def cluster_columns(snapshot: ClusterSnapshot) -> dict[str, Any]:
    """The ``/ui/data/cluster`` document: hosts as columns, server groups by host."""
    groups: list[dict[str, Any]] = []
    member = snapshot.inst_group
    for g, name in enumerate(snapshot.group_names):
        hosts = np.unique(snapshot.inst_host[member == g]).tolist()
        groups.append({"name": name, "policy": snapshot.group_policies[g],
                       "instances": int((member == g).sum()), "hosts": hosts})
    return {"hosts": list(snapshot.host_names),
            "zones": [z or "" for z in snapshot.host_zone],
            "cpu": _rounded(snapshot.host_load()),
            "memory": _rounded(memory_allocation(snapshot)),
            "instances": snapshot.instances_per_host.tolist(),
            "flags": host_flags(snapshot).tolist(),
            "flag_bits": {"disabled": DISABLED, "down": DOWN, "empty": EMPTY},
            "groups": groups}
