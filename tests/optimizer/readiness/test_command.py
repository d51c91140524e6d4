"""``optimizer readiness``: what it prints and exits with."""
from __future__ import annotations

import json

from click.testing import CliRunner

from optimizer.cli import cli


def scenario(tmp_path, second_host_gb: int) -> str:
    document = {
        "format": "cluster-scenario/1", "name": "pair",
        "hosts": [{"name": "h1", "vcpus": 16, "memory_mb": 16384, "disk_gb": 500},
                  {"name": "h2", "vcpus": 16, "memory_mb": second_host_gb * 1024,
                   "disk_gb": 500}],
        "instances": [{"uuid": "u1", "host": "h1", "vcpus": 2, "memory_mb": 8192,
                       "disk_gb": 20}],
    }
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(document))
    return str(path)


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_ready_cluster_exits_zero(tmp_path):
    result = invoke("readiness", "--scenario", scenario(tmp_path, 16))
    assert result.exit_code == 0, result.output
    assert "pair: READY for 1 host failure(s) (exact: all 1 single-host failures)" \
        in result.output


def test_not_ready_cluster_names_stranded_instance_as_json(tmp_path):
    result = invoke("readiness", "--scenario", scenario(tmp_path, 4), "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert document["ok"] is False
    assert document["worst"]["label"] == "h1"
    assert document["worst"]["stranded_instances"] == ["u1"]


def test_default_model_is_the_configured_collector():
    result = invoke("readiness", "--by", "zone", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    document = json.loads(result.output)
    assert document["cluster"].startswith("simulated-")
    assert document["search"] == "exact: all 3 zone failures"


def test_bad_failure_count_is_one_line(tmp_path):
    result = invoke("readiness", "-k", "0", "--scenario", scenario(tmp_path, 16))
    assert result.exit_code == 2
    assert result.stderr.strip() == \
        "optimizer: error: failures must be a whole number from 1 to 1000, got 0"
