"""The console's figures: host flags, cluster columns, hosts before and after a plan."""
from __future__ import annotations

from optimizer.ui.cluster import DISABLED, DOWN, EMPTY, cluster_columns
from optimizer.ui.plan_data import hosts_before_after
from tests.builders import ClusterBuilder


def small():
    return (ClusterBuilder().host("h1", vcpus=10, memory_gb=100)
            .host("h2", vcpus=10, memory_gb=100, status="disabled")
            .host("h3", vcpus=10, memory_gb=100, state="down")
            .vm("a", on="h1", vcpus=4, memory_gb=50, cpu_util=0.5, group="g")
            .vm("b", on="h2", vcpus=2, memory_gb=25, cpu_util=1.0, group="g")
            .group("g", "anti-affinity").build())


def test_cluster_columns_mark_disabled_down_and_empty_hosts():
    body = cluster_columns(small())
    assert body["hosts"] == ["h1", "h2", "h3"]
    assert body["flags"] == [0, DISABLED, DOWN | EMPTY]
    assert body["instances"] == [1, 1, 0]
    assert body["cpu"][0] == 0.2 and body["cpu"][2] == 0
    assert body["groups"] == [{"name": "g", "policy": "anti-affinity", "instances": 2,
                               "hosts": [0, 1]}]


def test_hosts_the_plan_changes_take_its_figures_the_others_stay():
    changes = {"h2": {"cpu_load": [0.2, 0.0], "memory_allocated_pct": [25.0, 0.0]},
               "gone": {"cpu_load": [0.5, 0.1]}}
    body = hosts_before_after(small(), changes)
    assert body["hosts"] == ["h1", "h2", "h3", "gone"]
    assert body["changed"] == [0, 1, 0, 1]
    assert body["cpu_before"][1] == 0.2 and body["cpu_after"][1] == 0.0
    assert body["memory_after"][1] == 0.0 and body["memory_before"][1] == 0.25
    assert body["cpu_before"][0] == body["cpu_after"][0] == 0.2
    assert body["cpu_after"][3] == 0.1
