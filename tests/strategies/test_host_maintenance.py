"""host_maintenance: disable first, then empty onto the backup or the best fits."""
from __future__ import annotations

import pytest
from optimizer.strategies.host_maintenance import strategy
from optimizer.strategies.parameters import ParameterError
from optimizer.strategies.solution import ChangeServiceState, Migrate

from tests.builders import ClusterBuilder
from tests.referee import referee


def run(snapshot, **params):
    solution = strategy.run(snapshot, params)
    verdict = referee(snapshot, solution)
    assert verdict.ok, verdict.violations
    return solution, verdict


def cluster() -> ClusterBuilder:
    return (ClusterBuilder().hosts(4, vcpus=16, memory_gb=64)
            .vm("a", on="h1", memory_gb=8).vm("b", on="h1", memory_gb=16, state="shutoff")
            .vm("c", on="h2", memory_gb=48).vm("d", on="h3", memory_gb=8))


def test_disables_the_host_first_then_empties_it():
    solution, verdict = run(cluster().build(), maintenance_node="h1")
    first = solution.actions[0]
    assert isinstance(first, ChangeServiceState)
    assert (first.host, first.state) == ("h1", "disabled") and first.reason
    assert all(isinstance(a, Migrate) for a in solution.actions[1:])
    assert {m.instance for m in solution.migrations} == {"a", "b"}
    assert "h1" not in verdict.host_of.values()
    assert not verdict.enabled[0]
    assert solution.notes == ()


def test_best_fit_prefers_the_snuggest_host():
    _, verdict = run(cluster().build(), maintenance_node="h1")
    # b (16 GB) fills h2 (48 of 64 GB used) exactly; a (8 GB) then fits h3 snuggest
    assert verdict.host_of["b"] == "h2"
    assert verdict.host_of["a"] == "h3"


def test_stopped_instances_move_cold():
    solution, _ = run(cluster().build(), maintenance_node="h1")
    types = {m.instance: m.migration_type for m in solution.migrations}
    assert types == {"a": "live", "b": "cold"}


def test_backup_node_takes_everything_when_it_fits():
    solution, verdict = run(cluster().build(), maintenance_node="h1", backup_node="h4")
    assert {m.destination for m in solution.migrations} == {"h4"}
    assert verdict.host_of["a"] == verdict.host_of["b"] == "h4"


def test_backup_node_too_small_falls_back_with_a_note():
    solution, verdict = run(cluster().build(), maintenance_node="h1", backup_node="h2")
    assert "h1" not in verdict.host_of.values()
    assert any("backup_node h2" in note for note in solution.notes)


def test_anti_affinity_and_affinity_are_kept():
    snap = (ClusterBuilder().hosts(4, memory_gb=64)
            .vm("a", on="h1", group="anti").vm("b", on="h2", group="anti")
            .vm("c", on="h1", memory_gb=8, group="aff").vm("d", on="h1", memory_gb=8, group="aff")
            .vm("big", on="h3", memory_gb=50)
            .group("anti", "anti-affinity").group("aff", "affinity").build())
    _, verdict = run(snap, maintenance_node="h1")
    assert verdict.host_of["a"] not in ("h1", "h2")
    assert verdict.host_of["c"] == verdict.host_of["d"] != "h1"


def test_instances_that_fit_nowhere_stay_and_are_noted():
    snap = (ClusterBuilder().host("h1", memory_gb=64).host("h2", memory_gb=32)
            .vm("huge", on="h1", memory_gb=48).vm("small", on="h1", memory_gb=4).build())
    solution, verdict = run(snap, maintenance_node="h1")
    assert verdict.host_of == {"huge": "h1", "small": "h2"}
    assert len(solution.notes) == 1 and "huge" in solution.notes[0]
    assert solution.indicator("unplaced_instances_count") == 1


def test_already_disabled_host_is_only_emptied():
    snap = (ClusterBuilder().host("h1", status="disabled", disabled_reason="fan").host("h2")
            .vm("a", on="h1").build())
    solution, verdict = run(snap, maintenance_node="h1")
    assert [type(a).__name__ for a in solution.actions] == ["Migrate"]
    assert verdict.host_of["a"] == "h2"


def test_empty_host_is_just_disabled():
    snap = ClusterBuilder().hosts(2).vm("a", on="h2").build()
    solution, _ = run(snap, maintenance_node="h1")
    assert [type(a).__name__ for a in solution.actions] == ["ChangeServiceState"]


def test_unknown_host_names_are_parameter_errors():
    snap = cluster().build()
    with pytest.raises(ParameterError, match="'maintenance_node' names unknown host 'h9'"):
        strategy.run(snap, {"maintenance_node": "h9"})
    with pytest.raises(ParameterError, match="'backup_node' names unknown host 'nope'"):
        strategy.run(snap, {"maintenance_node": "h1", "backup_node": "nope"})
    with pytest.raises(ParameterError, match="must differ"):
        strategy.run(snap, {"maintenance_node": "h1", "backup_node": "h1"})
    with pytest.raises(ParameterError, match="'maintenance_node' is required"):
        strategy.run(snap, {})
