"""``optimizer replay``: JSON and table output, and one-line errors with exit 2."""
from __future__ import annotations

import json

from click.testing import CliRunner

from optimizer.cli import cli

KEYS = {"energy_kwh", "migrations", "slatah_pct", "pdm_pct", "slav", "esv", "host_shutdowns",
        "wall_seconds", "metric_definitions", "paper_metrics", "timeline"}
TIMELINE = {"time_s", "active_hosts", "power_w", "overloaded_hosts", "migrations"}


def day(tmp_path, rows=8, samples=10):
    folder = tmp_path / "day"
    folder.mkdir()
    for i in range(rows):
        values = [(13 * i + 29 * k) % 100 for k in range(samples)]
        (folder / f"vm {i}").write_text("\n".join(map(str, values)) + "\n")
    return folder


def invoke(*args):
    return CliRunner().invoke(cli, ["replay", "--no-progress", *args])


def test_json_has_the_metrics_both_definitions_and_a_timeline(tmp_path):
    result = invoke("--traces", str(day(tmp_path)), "--policy", "thr-mmt-0.8", "--hosts", "6",
                    "--duration", "3000", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc) >= KEYS
    assert set(doc["metric_definitions"]) == {"cloudsim", "paper", "above_target", "rounds"}
    assert set(doc["timeline"]) >= TIMELINE
    assert len(doc["timeline"]["time_s"]) == 9
    assert sum(doc["timeline"]["migrations"]) == doc["migrations"]
    assert doc["policy"] == "thr-mmt-0.8" and doc["fidelity_switches"]["vm_removal"] == "two-zeros"


def test_switches_override_the_preset(tmp_path):
    result = invoke("--traces", str(day(tmp_path)), "--fidelity", "paper", "--hosts", "6",
                    "--duration", "3000", "--no-lr-weighted", "--empty-host", "idle",
                    "--format", "json")
    doc = json.loads(result.output)
    sw = doc["fidelity_switches"]
    assert (sw["vm_removal"], sw["lr_weighted"], sw["empty_host"]) == ("first-zero", False,
                                                                       "idle")


def test_table_output(tmp_path):
    result = invoke("--traces", str(day(tmp_path)), "--policy", "dvfs", "--hosts", "4",
                    "--duration", "3000")
    assert result.exit_code == 0, result.output
    assert "energy (kWh)" in result.output and "SLATAH (%)" in result.output


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    folder = day(tmp_path)
    (folder / "vm 3").write_text("1\n2\nlots\n")
    cases = [
        (["--traces", str(tmp_path / "none")], "does not exist"),
        (["--traces", str(folder), "--duration", "3000"], "vm 3: line 3: 'lots'"),
        (["--traces", str(folder), "--duration", "600", "--policy", "best"], "policy 'best'"),
        (["--traces", str(folder), "--duration", "600", "--fidelity", "x"], "fidelity 'x'"),
    ]
    for args, needle in cases:
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert needle in result.output
        assert result.output.startswith("optimizer: error: ")
        assert result.output.count("\n") == 1
    table = tmp_path / "p.csv"
    table.write_text("box,2,1000,9,8,7,6,5,4,3,2,1,0,0\n")
    result = invoke("--traces", str(folder), "--duration", "600", "--power-tables", str(table))
    assert result.exit_code == 2 and f"{table}: line 1: power at 10 % (8 W)" in result.output


def test_strategy_mode_runs_a_plugin_through_the_planner(tmp_path):
    result = invoke("--traces", str(day(tmp_path, rows=16)), "--strategy",
                    "power_aware_consolidation", "-p", "detector=thr", "-p", "safety=0.8",
                    "--hosts", "8", "--duration", "3000", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["policy"] == "strategy:power_aware_consolidation"
    assert doc["migrations"] > 0 and sum(doc["timeline"]["migrations"]) == doc["migrations"]
    bad = invoke("--traces", str(tmp_path / "day"), "--strategy", "nope", "--duration", "600")
    assert bad.exit_code == 2 and "unknown strategy 'nope'" in bad.output
    bad = invoke("--traces", str(tmp_path / "day"), "--strategy", "power_aware_consolidation",
                 "-p", "detector=xyz", "--duration", "600")
    assert bad.exit_code == 2 and "detector" in bad.output
