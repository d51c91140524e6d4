"""The zone → rack → host → instance graph."""
from __future__ import annotations

import networkx as nx

from tests.builders import ClusterBuilder


def test_topology_is_a_tree_from_zones_to_instances():
    snap = (ClusterBuilder()
            .host("h1", zone="az1", rack="r1").host("h2", zone="az1", rack="r1")
            .host("h3", zone="az2", rack="r9").host("loose")
            .vm("v1", on="h1").vm("v2", on="h1").vm("v3", on="h3").build())
    graph = snap.topology()
    assert nx.is_forest(graph)
    assert set(graph.successors(("zone", "az1"))) == {("rack", ("az1", "r1"))}
    assert set(graph.successors(("rack", ("az1", "r1")))) == {("host", "h1"), ("host", "h2")}
    assert set(graph.successors(("host", "h1"))) == {("instance", "v1"), ("instance", "v2")}
    assert nx.has_path(graph, ("zone", "az2"), ("instance", "v3"))
    # a host without zone or rack still hangs from a (None) zone
    assert nx.has_path(graph, ("zone", None), ("host", "loose"))
    zones = [n for n in graph if n[0] == "zone"]
    assert len(zones) == 3
    assert all(graph.in_degree(z) == 0 for z in zones)


def test_topology_is_built_once():
    snap = ClusterBuilder().host("h1").build()
    assert snap.topology() is snap.topology()
