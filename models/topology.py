"""The cluster's topology as a graph: zone → rack → host → instance."""
from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:
    from optimizer.models.snapshot import ClusterSnapshot


def build_topology(snapshot: ClusterSnapshot) -> nx.DiGraph:
    """A directed tree whose nodes are ``(kind, name)`` pairs.

    Kinds are ``zone``, ``rack``, ``host`` and ``instance``; a host without a
    zone or rack hangs from the missing level's ``None`` node, so every host
    is reachable from a zone.
    """
    graph = nx.DiGraph()
    racks = set()
    for h, name in enumerate(snapshot.host_names):
        zone = ("zone", snapshot.host_zone[h])
        rack = ("rack", (snapshot.host_zone[h], snapshot.host_rack[h]))
        if rack not in racks:
            racks.add(rack)
            graph.add_edge(zone, rack)
        graph.add_edge(rack, ("host", name))
    hosts = snapshot.host_names
    graph.add_edges_from(
        (("host", hosts[h]), ("instance", uuid))
        for uuid, h in zip(snapshot.inst_uuids, snapshot.inst_host.tolist(), strict=True)
    )
    return graph
