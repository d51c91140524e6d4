"""Invariants every registered strategy keeps, written once and run on each.

Each strategy is found the way users find it, through the
``optimizer.strategies`` entry points, and run on small builder clusters and
a small simulated one. The independent referee replays every solution.
"""
from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from optimizer.models.simulated import SimulationSpec, simulate_cluster
from optimizer.strategies.base import DOC_SECTIONS, GOALS

from optimizer.plugins import load_strategies
from tests.builders import ClusterBuilder
from tests.referee import referee

PLUGINS = load_strategies()
STRATEGIES = sorted(PLUGINS.loaded)
_JSON_TYPES = {"integer": int, "number": (int, float), "boolean": bool, "string": str,
               "array": (list, tuple)}


def params_for(name: str, snapshot) -> dict:
    """Parameters a strategy needs on ``snapshot``; most need none."""
    busiest = snapshot.host_names[int(np.argmax(snapshot.instances_per_host))]
    needs = {
        "host_maintenance": {"maintenance_node": busiest},
        "zone_migration": {"source_hosts": [busiest]},
    }
    return needs.get(name, {})


def spread_cluster():
    """Light hosts, each with a little: room to consolidate."""
    b = ClusterBuilder("spread").hosts(5, vcpus=32, memory_gb=128)
    for k in range(10):
        b.vm(f"v{k}", on=f"h{k % 5 + 1}", vcpus=2 + k % 3, memory_gb=4 * (1 + k % 4),
             cpu_util=0.1 * (1 + k % 5))
    return b.build()


def grouped_cluster():
    """Groups, a stopped instance, a disabled and a down host, reserves and ratios."""
    return (ClusterBuilder("grouped")
            .host("a1", vcpus=16, memory_gb=64, reserved_vcpus=2, reserved_memory_gb=4,
                  cpu_ratio=2.0, zone="az1", rack="r1")
            .host("a2", vcpus=16, memory_gb=64, zone="az1", rack="r1")
            .host("a3", vcpus=32, memory_gb=128, zone="az2", rack="r2")
            .host("off", vcpus=32, memory_gb=128, status="disabled", disabled_reason="repair",
                  zone="az2", rack="r2")
            .host("down", vcpus=32, memory_gb=128, state="down", zone="az2", rack="r3")
            .vm("web1", on="a1", group="web", cpu_util=0.6)
            .vm("web2", on="a2", group="web", cpu_util=0.5)
            .vm("web3", on="a3", group="web", cpu_util=0.4)
            .vm("db1", on="a2", vcpus=4, memory_gb=16, group="db", cpu_util=0.3)
            .vm("db2", on="a2", vcpus=4, memory_gb=16, group="db", cpu_util=0.2)
            .vm("batch", on="a1", vcpus=8, memory_gb=8, cpu_util=0.9)
            .vm("old", on="a3", memory_gb=8, state="shutoff", cpu_util=0.0)
            .vm("stuck", on="off", memory_gb=8, cpu_util=0.2)
            .group("web", "anti-affinity").group("db", "affinity")
            .build())


def hot_cluster():
    """One overloaded host beside idle ones."""
    b = ClusterBuilder("hot").hosts(3, vcpus=16, memory_gb=64)
    for k in range(6):
        b.vm(f"hot{k}", on="h1", vcpus=4, memory_gb=8, cpu_util=0.9)
    return b.vm("cool", on="h2", vcpus=2, memory_gb=4, cpu_util=0.1).build()


def simulated_cluster():
    return simulate_cluster(SimulationSpec(hosts=16, fill=0.45, zones=2, hosts_per_rack=8,
                                           disabled_hosts=1, stopped_instances=6,
                                           server_groups=5, series_length=6, seed=4))


CLUSTERS = {"spread": spread_cluster, "grouped": grouped_cluster, "hot": hot_cluster,
            "simulated": simulated_cluster}


@pytest.fixture(scope="module", params=sorted(CLUSTERS))
def cluster(request):
    return CLUSTERS[request.param]()


@pytest.fixture(params=STRATEGIES)
def strategy(request):
    return PLUGINS.loaded[request.param]


def test_every_registered_strategy_loads():
    assert PLUGINS.failures == []
    assert {"basic_consolidation", "host_maintenance"} <= set(STRATEGIES)


def test_referee_finds_no_violation(strategy, cluster):
    solution = strategy.run(cluster, params_for(strategy.name, cluster))
    verdict = referee(cluster, solution)
    assert verdict.ok, f"{strategy.name}: {verdict.violations[:5]}"
    assert (solution.strategy, solution.goal) == (strategy.name, strategy.goal)


def test_indicators_cover_the_goals_specification(strategy, cluster):
    solution = strategy.run(cluster, params_for(strategy.name, cluster))
    specified = {spec.name for spec in GOALS[strategy.goal].efficacy_specification}
    missing = specified - {indicator.name for indicator in solution.indicators}
    assert not missing, f"{strategy.name} does not report {sorted(missing)} of its goal"


def test_same_input_same_solution(strategy, cluster):
    params = params_for(strategy.name, cluster)
    first, second = strategy.run(cluster, params), strategy.run(cluster, params)
    assert first.actions == second.actions
    assert _untimed(first.notes) == _untimed(second.notes)
    assert [i.name for i in first.indicators] == [i.name for i in second.indicators]


def _untimed(notes: tuple[str, ...]) -> list[str]:
    """Notes without the durations they may report (solver times vary run to run)."""
    return [re.sub(r"\d+(\.\d+)? ?(s|ms|seconds)\b", "<time>", note) for note in notes]


def test_snapshot_is_left_unchanged(strategy, cluster):
    before = cluster.inst_host.copy(), cluster.allocated.copy()
    strategy.run(cluster, params_for(strategy.name, cluster))
    assert np.array_equal(cluster.inst_host, before[0])
    assert np.array_equal(cluster.allocated, before[1])


def test_empty_cluster_gives_no_migrations(strategy):
    snap = (ClusterBuilder("empty").host("h1", zone="az1").host("h2", zone="az1")
            .host("h3", zone="az2").build())
    params = {"host_maintenance": {"maintenance_node": "h1"},
              "zone_migration": {"source_hosts": ["h1"]}}.get(strategy.name, {})
    solution = strategy.run(snap, params)
    assert solution.migrations == ()
    assert referee(snap, solution).ok


def test_docstring_has_every_section(strategy):
    sections = strategy.sections()
    assert sections["summary"] and "\n" not in sections["summary"]
    for name in DOC_SECTIONS:
        assert sections[name].strip(), f"{strategy.name}: empty {name} section"


def test_json_schema_matches_parameters(strategy):
    schema = strategy.schema()
    specs = strategy.describe_parameters()
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert list(schema["properties"]) == [s.name for s in specs]
    assert schema["required"] == [s.name for s in specs if s.required]
    for spec in specs:
        prop = schema["properties"][spec.name]
        assert prop["description"], f"{strategy.name}.{spec.name} has no help"
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        assert set(types) <= set(_JSON_TYPES) | {"null"}
        if not spec.required and spec.default is not None:
            assert isinstance(prop["default"], tuple(
                t for name in types if name != "null" for t in np.atleast_1d(_JSON_TYPES[name])))
        if "enum" in prop and not spec.required:
            assert prop["default"] in prop["enum"]
        if "minimum" in prop and isinstance(spec.default, int | float):
            assert prop["minimum"] <= spec.default


def test_defaults_validate(strategy):
    required = {s.name for s in strategy.describe_parameters() if s.required}
    values = {"host_maintenance": {"maintenance_node": "h1"}}.get(strategy.name, {})
    assert required <= set(values)
    params = strategy.validate(values)
    assert dataclasses.is_dataclass(params)
