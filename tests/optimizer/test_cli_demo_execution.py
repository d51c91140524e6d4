"""The demo runs its plan on a throwaway simulated cloud and shows the cloud after."""
from __future__ import annotations

import json
import re
import shutil
import sys

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


def _demo_table(tmp_path, monkeypatch, *args: str) -> str:
    monkeypatch.setenv("HOME", str(tmp_path))
    result = CliRunner().invoke(cli, ["demo", "--hosts", "12", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def _row(text: str, label: str) -> list[str]:
    line = next(line for line in text.splitlines() if f" {label} " in line)
    return [cell.strip() for cell in line.strip().strip("│").split("│")]


def test_the_executed_column_counts_migrations_and_times_alike(tmp_path, monkeypatch):
    text = _demo_table(tmp_path, monkeypatch)
    document = json.loads(_demo_table(tmp_path, monkeypatch, "--format", "json"))
    label, before, planned, executed = _row(text, "migrations")
    assert label == "migrations" and before == ""
    assert planned == executed == str(document["migrations"]) != "0"
    assert document["execution"]["migrations"] == document["migrations"]
    planning, run = _row(text, "planning time"), _row(text, "run time")
    assert re.fullmatch(r"\d+\.\d{3} s", planning[2]) and planning[3] == ""
    assert re.fullmatch(r"\d+\.\d{3} s", run[3]) and run[2] == ""
    assert "GiB" not in text and "moved memory (GB)" in text


def test_the_next_hint_names_the_program_as_it_was_run(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", [".venv/bin/optimizer", "demo"])
    monkeypatch.setattr(shutil, "which", lambda name: None)  # not on PATH
    text = _demo_table(tmp_path, monkeypatch, "--no-execute", "-p", "target_cpu_load=0.6")
    hint = next(line for line in text.splitlines() if line.startswith("Next"))
    assert ": .venv/bin/optimizer simulate --hosts 12 " in hint
    assert "&& .venv/bin/optimizer plan " in hint and "-p target_cpu_load=0.6 -o plan.json" in hint
