"""`optimizer audit show --trace`: spans stored in the database by the command that ran."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from optimizer.cli import cli
from optimizer.tracing import is_enabled


@pytest.fixture
def run(tmp_path, monkeypatch):
    config = tmp_path / "optimizer.conf"
    config.write_text(f"[tracing]\nenabled = true\n[simulated]\nhosts = 12\n"
                      f"state_file = {tmp_path / 'cloud.db'}\n")
    monkeypatch.setenv("OPTIMIZER_CONFIG_FILE", str(config))
    monkeypatch.setenv("OPTIMIZER_DATABASE_URL", f"sqlite:///{tmp_path / 'o.db'}")

    def invoke(*args: str):
        result = CliRunner().invoke(cli, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    invoke("db", "upgrade")
    return invoke


def test_show_trace_prints_where_the_time_went(run):
    run("audit", "create", "--goal", "server_consolidation", "--strategy",
        "vm_workload_consolidation", "--name", "traced", "--auto-trigger")
    assert not is_enabled()  # the command turned tracing off again
    document = json.loads(run("audit", "show", "traced", "--trace", "--format", "json"))
    spans = {s["name"]: s for s in document["trace"]}
    root = spans["optimizer audit create"]
    assert root["service"] == "cli" and root["parent_id"] is None
    assert spans["audit"]["parent_id"] == root["span_id"]
    assert spans["planner"]["parent_id"] == spans["audit"]["span_id"]
    assert spans["action plan"]["attributes"]["optimizer.plan_state"] == "SUCCEEDED"
    migrations = [s for s in document["trace"] if s["name"] == "action migrate"]
    assert migrations and all(s["parent_id"] == spans["action plan"]["span_id"]
                              for s in migrations)
    assert len({s["trace_id"] for s in document["trace"]}) == 1

    table = run("audit", "show", "traced", "--trace")
    assert f"trace {root['trace_id']}: {len(document['trace'])} spans" in table
    assert "decision-engine" in table and "applier" in table and "store" in table


def test_show_trace_says_when_there_is_none(run, tmp_path, monkeypatch):
    config = tmp_path / "optimizer.conf"
    config.write_text(config.read_text().replace("enabled = true", "enabled = false"))
    run("audit", "create", "--goal", "dummy", "--strategy", "dummy", "--name", "plain")
    assert "no trace is stored for this audit" in run("audit", "show", "plain", "--trace")
    assert json.loads(run("audit", "show", "plain", "--trace", "--format", "json"))["trace"] == []
