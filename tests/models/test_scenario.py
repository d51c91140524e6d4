"""Reading and writing cluster-scenario/1: round trips and one-line errors."""
from __future__ import annotations

import copy
import json
import subprocess
import sys

import numpy as np
import pytest
from optimizer.models.errors import ScenarioError
from optimizer.models.scenario import (
    load_scenario,
    save_scenario,
    scenario_from_dict,
    scenario_to_dict,
)


@pytest.fixture
def document(data_dir) -> dict:
    return json.loads((data_dir / "tiny.json").read_text())


def assert_same_cluster(a, b) -> None:
    for name in ("host_names", "host_disabled_reason", "host_zone", "host_rack",
                 "host_aggregates", "inst_uuids", "inst_names", "inst_state",
                 "group_names", "group_policies", "name", "metrics_step_s"):
        assert getattr(a, name) == getattr(b, name), name
    for name in ("host_size", "host_reserved", "host_ratio", "host_up", "host_enabled",
                 "inst_size", "inst_host", "inst_cpu_util", "inst_memory_util", "inst_group"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.inst_series, b.inst_series, equal_nan=True)


def test_round_trip_keeps_everything(data_dir, tmp_path):
    first = load_scenario(data_dir / "tiny.json")
    save_scenario(first, tmp_path / "again.json")
    second = load_scenario(tmp_path / "again.json")
    assert_same_cluster(first, second)
    assert scenario_to_dict(first) == scenario_to_dict(second)


def test_round_trip_details(data_dir):
    snap = load_scenario(data_dir / "tiny.json")
    out = scenario_to_dict(snap)
    h1, h2, h3 = out["hosts"]
    assert (h1["vcpus_reserved"], h1["memory_mb_reserved"], h1["disk_gb_reserved"]) == (
        2, 4096, 20)
    assert (h1["cpu_allocation_ratio"], h1["ram_allocation_ratio"]) == (2.0, 1.5)
    assert (h2["status"], h2["disabled_reason"]) == ("disabled", "broken fan")
    assert h3["aggregates"] == ["ssd"]
    a, b = out["instances"][:2]
    assert a["cpu_util_series"] == pytest.approx([0.4, 0.5, 0.6])
    assert "cpu_util_series" not in b
    assert (a["server_group"], out["instances"][2]["server_group"]) == ("web", "db")
    assert out["server_groups"] == [{"name": "web", "policy": "anti-affinity"},
                                    {"name": "db", "policy": "affinity"}]


def test_defaults_fill_optional_fields():
    snap = scenario_from_dict({
        "format": "cluster-scenario/1",
        "hosts": [{"name": "h", "vcpus": 8, "memory_mb": 1024, "disk_gb": 10}],
        "instances": [{"uuid": "u", "host": "h", "vcpus": 1, "memory_mb": 512, "disk_gb": 1,
                       "cpu_util_series": [0.2, 0.4]}],
    })
    assert snap.host_ratio[0].tolist() == [4.0, 1.0, 1.0]
    assert snap.can_receive.tolist() == [True]
    assert snap.inst_state == ("active",)
    assert snap.inst_cpu_util[0] == pytest.approx(0.3)  # mean of the series
    assert snap.inst_memory_util[0] == 1.0


def test_malformed_json_names_file_and_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"format": "cluster-scenario/1",\n "hosts": [,]}')
    with pytest.raises(ScenarioError, match=r"bad\.json: malformed JSON at line 2"):
        load_scenario(path)


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read scenario"):
        load_scenario(tmp_path / "absent.json")


def _break(document: dict, section: str, index: int, field: str, value) -> dict:
    broken = copy.deepcopy(document)
    if value is _DELETE:
        del broken[section][index][field]
    else:
        broken[section][index][field] = value
    return broken


_DELETE = object()


@pytest.mark.parametrize("section, index, field, value, expected", [
    ("hosts", 0, "vcpus", _DELETE, r"host 'h1': field 'vcpus' .* missing"),
    ("hosts", 0, "memory_mb", "lots", r"host 'h1': field 'memory_mb' .* got 'lots'"),
    ("hosts", 1, "disk_gb", -5, r"host 'h2': field 'disk_gb' .* non-negative .* got -5"),
    ("hosts", 0, "state", "sleepy", r"host 'h1': field 'state' .* got 'sleepy'"),
    ("instances", 2, "vcpus", -1, r"instance 'c': field 'vcpus' .* got -1"),
    ("instances", 2, "memory_mb", 1e300,
     r"instance 'c': field 'memory_mb' must be at most 67108864, got 1e\+300"),
    ("instances", 0, "cpu_util", 1.5, r"instance 'a': field 'cpu_util' .* got 1\.5"),
    # JSON integers beyond a float's range: refused, not an OverflowError
    ("hosts", 0, "memory_mb", 10**400, r"host 'h1': field 'memory_mb' .* got 1000000000"),
    ("instances", 2, "vcpus", 10**400, r"instance 'c': field 'vcpus' .* got 1000000000"),
    ("instances", 1, "host", "h9", r"instance b: field 'host' names unknown host 'h9'"),
    ("instances", 1, "server_group", "cache",
     r"instance b: field 'server_group' names unknown group 'cache'"),
    ("instances", 3, "uuid", "a", r"instance a: duplicate uuid"),
    ("server_groups", 0, "policy", "soft", r"server group 'web': field 'policy' .* got 'soft'"),
])
def test_bad_fields_name_item_field_and_value(document, section, index, field, value,
                                               expected):
    with pytest.raises(ScenarioError, match=expected) as caught:
        scenario_from_dict(_break(document, section, index, field, value))
    assert "\n" not in str(caught.value)


def test_wrong_format_and_shapes(document):
    with pytest.raises(ScenarioError, match="'format'"):
        scenario_from_dict({**document, "format": "other/2"})
    with pytest.raises(ScenarioError, match="'hosts' must be a list"):
        scenario_from_dict({**document, "hosts": {"h1": {}}})
    with pytest.raises(ScenarioError, match="expected a JSON object"):
        scenario_from_dict([document])


def test_scenario_file_errors_name_the_file(document, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(_break(document, "instances", 0, "memory_mb", -2)))
    with pytest.raises(ScenarioError, match=r"broken\.json: instance 'a': field 'memory_mb'"):
        load_scenario(path)


def test_loads_a_scenario_from_the_shared_generator(shared_dir, tmp_path):
    out = tmp_path / "generated.json"
    subprocess.run(
        [sys.executable, str(shared_dir / "scenarios" / "generate.py"), "--family", "hetero",
         "--hosts", "30", "--seed", "7", "--groups", "6", "--disabled", "2", "--stopped", "5",
         "--series-len", "12", "-o", str(out)],
        check=True, capture_output=True, timeout=60)
    raw = json.loads(out.read_text())
    snap = load_scenario(out)
    assert snap.host_count == len(raw["hosts"]) == 30
    assert snap.instance_count == len(raw["instances"]) > 0
    assert int(np.count_nonzero(~snap.host_enabled)) == 2
    assert sum(s != "active" for s in snap.inst_state) == 5
    assert snap.inst_series is not None and snap.inst_series.shape[1] == 12
    assert len(snap.group_names) == len(raw["server_groups"])
    # what the generator placed fits what the model allows
    assert np.all(snap.allocated <= snap.allocatable + 1e-6)
    assert_same_cluster(snap, scenario_from_dict(scenario_to_dict(snap)))
