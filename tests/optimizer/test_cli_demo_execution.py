"""The demo runs its plan on a throwaway simulated cloud and shows the cloud after."""
from __future__ import annotations

import json

from click.testing import CliRunner

from optimizer.cli import cli


def test_demo_executes_its_plan_and_the_cloud_matches_the_plan(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    result = CliRunner().invoke(cli, ["demo", "--hosts", "12", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    execution = document["execution"]
    assert execution["state"] == "SUCCEEDED"
    assert execution["failed"] == 0
    assert execution["after"]["active_hosts"] == document["after"]["active_hosts"]
    assert execution["moved_memory_gb"] == document["moved_memory_gb"]


def test_demo_without_execution(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    result = CliRunner().invoke(cli, ["demo", "--hosts", "12", "--no-execute", "--format",
                                      "json"])
    assert result.exit_code == 0, result.output
    assert "execution" not in json.loads(result.output)
