"""The column-by-column scenario reader builds the very snapshot the record reader does."""
from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
from optimizer.models import scenario
from optimizer.models.scenario import scenario_from_dict, scenario_to_dict
from optimizer.models.scenario_columns import snapshot_from_columns
from optimizer.models.simulated import SimulationSpec, simulate_cluster

from tests.models.test_scenario import assert_same_cluster as assert_same_columns


def by_records(document: dict, monkeypatch):
    """The snapshot as the record-by-record reader alone makes it."""
    with monkeypatch.context() as patch:
        patch.setattr(scenario, "snapshot_from_columns", lambda *a, **k: None)
        return scenario_from_dict(document)


def by_columns(document: dict):
    groups = scenario._groups(document)
    made = snapshot_from_columns(document["hosts"], document["instances"], groups,
                                 name=scenario._name(document),
                                 metrics_step_s=scenario._step(document))
    assert made is not None, "a valid document must be read as columns"
    return made


def assert_same_cluster(a, b) -> None:
    if a.inst_series is None or b.inst_series is None:
        assert a.inst_series is None and b.inst_series is None
        a, b = (copy.copy(x) for x in (a, b))
        for x in (a, b):
            object.__setattr__(x, "inst_series", x.inst_size)  # compared apart, above
    assert_same_columns(a, b)
    assert a.inst_series.dtype == b.inst_series.dtype


def assert_same_lookups(a, b) -> None:
    assert dict(a.host_ids) == dict(b.host_ids)
    assert dict(a.instance_ids) == dict(b.instance_ids)
    assert a._index["groups"] == b._index["groups"]


@pytest.mark.parametrize("spec", [
    SimulationSpec(hosts=30, seed=3),
    SimulationSpec(hosts=30, seed=4, disabled_hosts=3, stopped_instances=5, server_groups=4,
                   series_length=12, host_models=("small", "large"), zones=2),
])
def test_simulated_clusters_read_the_same_both_ways(spec, monkeypatch):
    document = json.loads(json.dumps(scenario_to_dict(simulate_cluster(spec))))
    fast, slow = by_columns(document), by_records(document, monkeypatch)
    assert_same_cluster(fast, slow)
    assert_same_lookups(fast, slow)


def test_tiny_scenario_with_defaults_and_ragged_series_reads_the_same(data_dir, monkeypatch):
    document = json.loads((data_dir / "tiny.json").read_text())
    document["instances"][0]["cpu_util_series"] = [0.2, 0.4]
    document["instances"][1]["cpu_util_series"] = [0.1, 0.3, 0.5, 0.7]
    del document["instances"][1]["cpu_util"]  # the mean of its series, then
    document["instances"][2]["cpu_util_series"] = []
    document["instances"][2]["state"] = None
    for key in ("vcpus_reserved", "cpu_allocation_ratio", "state", "aggregates"):
        document["hosts"][0].pop(key, None)
    fast, slow = by_columns(document), by_records(document, monkeypatch)
    assert_same_cluster(fast, slow)
    assert_same_lookups(fast, slow)
    assert fast.inst_cpu_util[1] == pytest.approx(0.4)


@pytest.mark.parametrize(("section", "field", "value"), [
    ("hosts", "vcpus", True), ("hosts", "cpu_allocation_ratio", 0),
    ("hosts", "aggregates", ["a", 1]), ("hosts", "name", ""),
    ("instances", "memory_mb", float("nan")), ("instances", "vcpus", 1e300),
    ("instances", "cpu_util", 1.5), ("instances", "host", "nowhere"),
    ("instances", "server_group", "no-such-group"), ("instances", "cpu_util_series", [0.1, 2]),
    ("instances", "cpu_util_series", [0.1, False]), ("instances", "uuid", None),
])
def test_anything_not_plainly_valid_is_left_to_the_record_reader(data_dir, section, field,
                                                                 value):
    document = json.loads((data_dir / "tiny.json").read_text())
    broken = copy.deepcopy(document)
    broken[section][1][field] = value
    assert snapshot_from_columns(broken["hosts"], broken["instances"],
                                 scenario._groups(broken), name="x", metrics_step_s=300) is None
    with pytest.raises(scenario.ScenarioError):
        scenario_from_dict(broken)


def test_unusual_valid_values_are_read_by_the_record_reader(data_dir):
    document = json.loads((data_dir / "tiny.json").read_text())
    document["hosts"][1]["state"] = None  # neither up nor down: it cannot receive
    assert snapshot_from_columns(document["hosts"], document["instances"],
                                 scenario._groups(document), name="x", metrics_step_s=300) is None
    assert not scenario_from_dict(document).host_up[1]


def test_duplicates_are_left_to_the_record_reader(data_dir):
    document = json.loads((data_dir / "tiny.json").read_text())
    document["instances"][1]["uuid"] = document["instances"][0]["uuid"]
    with pytest.raises(scenario.ScenarioError, match="duplicate uuid"):
        scenario_from_dict(document)


def test_shared_generator_scenario_reads_the_same_both_ways(shared_dir, tmp_path, monkeypatch):
    path = tmp_path / "gen.json"
    subprocess.run([sys.executable, str(shared_dir / "scenarios" / "generate.py"), "--hosts",
                    "40", "--series-len", "6", "--groups", "3", "--stopped", "2", "--disabled",
                    "2", "--family", "hetero", "-o", str(path)], check=True)
    document = json.loads(path.read_text())
    assert_same_cluster(by_columns(document), by_records(document, monkeypatch))
