"""The ``optimizer`` command line: what it prints, writes and exits with."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from click.testing import CliRunner

import optimizer.cli
import optimizer.demo
import optimizer.plugins
from optimizer.cli import cli

SCENARIO = {
    "format": "cluster-scenario/1",
    "name": "two-hosts",
    "hosts": [
        {"name": "h1", "vcpus": 16, "memory_mb": 65536, "disk_gb": 500},
        {"name": "h2", "vcpus": 16, "memory_mb": 65536, "disk_gb": 500},
    ],
    "instances": [
        {"uuid": "u1", "name": "vm-1", "host": "h1", "vcpus": 2, "memory_mb": 4096,
         "disk_gb": 20, "cpu_util": 0.2, "server_group": "web"},
        {"uuid": "u2", "name": "vm-2", "host": "h2", "vcpus": 2, "memory_mb": 4096,
         "disk_gb": 20, "cpu_util": 0.3, "server_group": "web"},
    ],
    "server_groups": [{"name": "web", "policy": "anti-affinity"}],
}


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def write_scenario(tmp_path: Path, document) -> Path:
    path = tmp_path / "scenario.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("optimizer: error: ")
    assert "Traceback" not in result.stderr + result.output
    for fragment in fragments:
        assert fragment in lines[0]


# ----- demo -----------------------------------------------------------------------


def test_demo_prints_before_and_after_table_actions_and_next_step():
    result = invoke("demo", "--strategy", "dummy", "--hosts", "6", "-p", "count=2")
    assert result.exit_code == 0, result.stderr
    for text in ("active hosts", "migrations", "moved memory (GB)", "host CPU load, mean",
                 "memory allocated, mean", "planning time", "4 actions", "optimizer plan"):
        assert text in result.output


def test_demo_json_has_figures_before_and_after():
    result = invoke("demo", "--strategy", "dummy", "--hosts", "6", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.output)
    assert document["before"]["active_hosts"] == document["after"]["active_hosts"] == 6
    assert document["migrations"] == 0
    assert document["actions_total"] == 6
    assert len(document["actions"]) == 6


def test_demo_default_strategy_releases_hosts():
    plugins = optimizer.plugins.load_strategies()
    if "vm_workload_consolidation" not in plugins.loaded:
        pytest.skip("vm_workload_consolidation is not installed")
    result = invoke("demo", "--hosts", "10", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.output)
    assert document["after"]["active_hosts"] < document["before"]["active_hosts"]
    assert document["unfit_moves"] == []


def test_demo_bad_parameter_is_one_line():
    assert_one_line_error(invoke("demo", "--strategy", "dummy", "-p", "count=lots"),
                          "count", "lots")


# ----- plan -------------------------------------------------------------------------


def test_plan_writes_action_plan_with_planning_seconds(tmp_path):
    scenario, plan_path = write_scenario(tmp_path, SCENARIO), tmp_path / "plan.json"
    result = invoke("plan", "--scenario", str(scenario), "--strategy", "dummy",
                    "-p", "count=2", "-o", str(plan_path))
    assert result.exit_code == 0, result.stderr
    assert "4 actions" in result.output and "0 migrations" in result.output
    document = json.loads(plan_path.read_text())
    assert document["format"] == "action-plan/1"
    assert document["scenario"] == "two-hosts"
    assert document["strategy"] == "dummy"
    assert isinstance(document["planning_seconds"], float)
    assert document["planning_seconds"] >= 0
    assert [a["type"] for a in document["actions"]] == ["nop", "sleep"] * 2


def test_plan_without_output_prints_the_plan_json(tmp_path):
    result = invoke("plan", "-s", str(write_scenario(tmp_path, SCENARIO)),
                    "--strategy", "dummy", "-p", "count=1")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.output)["format"] == "action-plan/1"


def test_plan_table_without_output_shows_actions(tmp_path):
    result = invoke("plan", "-s", str(write_scenario(tmp_path, SCENARIO)), "--strategy",
                    "dummy", "-p", "count=1", "--format", "table")
    assert result.exit_code == 0, result.stderr
    assert "planned: 2 actions" in result.output and "dummy step 1" in result.output


def test_plan_summary_as_json(tmp_path):
    result = invoke("plan", "-s", str(write_scenario(tmp_path, SCENARIO)), "--strategy",
                    "dummy", "-o", str(tmp_path / "p.json"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.output)
    assert summary["actions"] == 6 and summary["migrations"] == 0
    assert summary["indicators"][0]["name"] == "planned_actions"


def _mutated(change):
    document = copy.deepcopy(SCENARIO)
    change(document)
    return document


BAD_SCENARIOS = {
    "malformed JSON": ('{"format": "cluster-scenario/1", "hosts": [', ("malformed JSON",)),
    "missing field": (_mutated(lambda d: d["hosts"][0].pop("vcpus")), ("'h1'", "vcpus")),
    "mistyped field": (_mutated(lambda d: d["instances"][0].update(memory_mb="4G")),
                       ("'u1'", "memory_mb", "4G")),
    "negative size": (_mutated(lambda d: d["instances"][1].update(disk_gb=-5)),
                      ("'u2'", "disk_gb", "-5")),
    "unknown host": (_mutated(lambda d: d["instances"][0].update(host="h9")), ("u1", "h9")),
    "duplicate uuid": (_mutated(lambda d: d["instances"][1].update(uuid="u1")),
                       ("u1", "duplicate")),
    "unknown server group": (_mutated(lambda d: d["instances"][0].update(server_group="db")),
                             ("u1", "'db'")),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_plan_bad_scenario_is_one_line(tmp_path, case):
    document, fragments = BAD_SCENARIOS[case]
    result = invoke("plan", "-s", str(write_scenario(tmp_path, document)),
                    "--strategy", "dummy")
    assert_one_line_error(result, "scenario.json", *fragments)


@pytest.mark.parametrize(("params", "fragments"), [
    (["-p", "count=-1"], ("count", "at least 0")),
    (["-p", "para1=fast"], ("para1", "fast")),
    (["-p", "colour=red"], ("unknown parameter 'colour'",)),
    (["-p", "count"], ("key=value",)),
])
def test_plan_bad_parameter_is_one_line(tmp_path, params, fragments):
    result = invoke("plan", "-s", str(write_scenario(tmp_path, SCENARIO)),
                    "--strategy", "dummy", *params)
    assert_one_line_error(result, *fragments)


def test_plan_unknown_strategy_is_one_line(tmp_path):
    result = invoke("plan", "-s", str(write_scenario(tmp_path, SCENARIO)),
                    "--strategy", "no_such_strategy")
    assert_one_line_error(result, "no_such_strategy", "dummy")


def test_plan_missing_scenario_file_is_one_line(tmp_path):
    result = invoke("plan", "-s", str(tmp_path / "absent.json"), "--strategy", "dummy")
    assert_one_line_error(result, "absent.json")


def test_plan_non_utf8_scenario_is_one_line(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('{"format": "cluster-scenario/1", "name": "caf\u00e9"}'.encode("latin-1"))
    result = invoke("plan", "-s", str(path), "--strategy", "dummy")
    assert_one_line_error(result, "latin1.json", "UTF-8")


def test_plan_unwritable_output_is_one_line(tmp_path):
    result = invoke("plan", "-s", str(write_scenario(tmp_path, SCENARIO)), "--strategy",
                    "dummy", "-o", str(tmp_path / "no" / "such" / "dir" / "plan.json"))
    assert_one_line_error(result, "cannot write plan")


# ----- strategies and strategy show -----------------------------------------------------


def test_strategies_lists_dummy():
    result = invoke("strategies")
    assert result.exit_code == 0
    assert "dummy" in result.output and "Plan pairs of nop and sleep" in result.output


def test_strategies_json_is_valid():
    result = invoke("strategies", "--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.output)
    dummy = next(s for s in document["strategies"] if s["name"] == "dummy")
    assert dummy["goal"] == "dummy"
    assert isinstance(document["failures"], list)


def test_strategy_show_prints_sections_and_parameters():
    result = invoke("strategy", "show", "dummy")
    assert result.exit_code == 0, result.stderr
    for text in ("Optimizes", "Metrics", "Parameters", "Limits", "para1", "count",
                 "0 .. 1000", "How many nop / sleep pairs"):
        assert text in result.output


def test_strategy_show_json_includes_schema():
    result = invoke("strategy", "show", "dummy", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.output)
    assert set(document["sections"]) == {"Optimizes", "Metrics", "Parameters", "Limits"}
    assert document["schema"]["properties"]["count"]["maximum"] == 1000
    assert [p["name"] for p in document["parameters"]] == ["para1", "para2", "count"]


def test_strategy_show_unknown_is_one_line():
    assert_one_line_error(invoke("strategy", "show", "nope"), "'nope'")


# ----- broken plugins ----------------------------------------------------------------------


@pytest.fixture
def broken_plugin(monkeypatch):
    """Installed strategies: dummy, and one whose module does not import."""
    group = optimizer.plugins.STRATEGY_GROUP
    fake = [EntryPoint("dummy", "optimizer.strategies.dummy:strategy", group),
            EntryPoint("broken", "no_such_module_for_tests:strategy", group)]
    monkeypatch.setattr(optimizer.plugins, "entry_points",
                        lambda group=None: [e for e in fake if e.group == group])


def test_strategies_reports_broken_plugin_by_name(broken_plugin):
    result = invoke("strategies")
    assert result.exit_code == 0
    assert "dummy" in result.output
    assert "broken" in result.stderr and "no_such_module_for_tests" in result.stderr


def test_strategies_json_lists_failures(broken_plugin):
    document = json.loads(invoke("strategies", "--format", "json").output)
    assert [f["name"] for f in document["failures"]] == ["broken"]
    assert "ModuleNotFoundError" in document["failures"][0]["error"]


def test_asking_for_broken_plugin_names_its_error(broken_plugin):
    result = invoke("strategy", "show", "broken")
    assert_one_line_error(result, "'broken' failed to load", "ModuleNotFoundError")


def test_no_strategy_loaded_exits_non_zero(monkeypatch):
    monkeypatch.setattr(optimizer.plugins, "entry_points", lambda group=None: [])
    assert invoke("strategies").exit_code == 1


# ----- simulate ------------------------------------------------------------------------------


def test_simulate_writes_a_scenario_plan_accepts(tmp_path):
    scenario = tmp_path / "cluster.json"
    result = invoke("simulate", "--hosts", "5", "--seed", "3", "--server-groups", "2",
                    "-o", str(scenario))
    assert result.exit_code == 0, result.stderr
    assert "5 hosts" in result.output
    document = json.loads(scenario.read_text())
    assert document["format"] == "cluster-scenario/1" and len(document["hosts"]) == 5
    planned = invoke("plan", "-s", str(scenario), "--strategy", "dummy")
    assert planned.exit_code == 0, planned.stderr


def test_simulate_summary_as_json(tmp_path):
    scenario = tmp_path / "cluster.json"
    result = invoke("simulate", "--hosts", "4", "-o", str(scenario), "--format", "json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    written = json.loads(scenario.read_text())
    assert summary == {"path": str(scenario), "scenario": written["name"], "hosts": 4,
                       "instances": len(written["instances"])}


def test_simulate_bad_spec_is_one_line(tmp_path):
    result = invoke("simulate", "--fill", "2", "-o", str(tmp_path / "c.json"))
    assert_one_line_error(result, "fill")


# ----- internal errors -------------------------------------------------------------------------


def _explode(*args, **kwargs):
    raise RuntimeError("boom")


def test_internal_error_is_one_line_with_exit_1(monkeypatch):
    monkeypatch.setattr(optimizer.demo, "run_demo", _explode)  # the demo command imports it
    result = invoke("demo", "--strategy", "dummy")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "optimizer: internal error: RuntimeError: boom (run with --debug for the traceback)")


def test_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setattr(optimizer.demo, "run_demo", _explode)  # the demo command imports it
    result = invoke("--debug", "demo", "--strategy", "dummy")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and "_explode" in result.stderr


def test_installed_script_runs():
    script = Path(sys.executable).parent / "optimizer"
    if not script.exists():
        pytest.skip("the optimizer console script is not installed next to this Python")
    done = subprocess.run([str(script), "strategy", "show", "dummy", "--format", "json"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["name"] == "dummy"


@pytest.mark.parametrize(("args", "fragments"), [
    (["plan"], ("Missing option", "--scenario", "plan --help")),
    (["--bogus"], ("No such option", "--bogus")),
    (["nosuchcommand"], ("No such command", "nosuchcommand")),
    (["audit", "frobnicate"], ("No such command", "frobnicate", "audit --help")),
    (["simulate", "--hosts", "many", "-o", "x.json"], ("--hosts", "many")),
    (["demo", "--format", "xml"], ("--format", "xml")),
    (["plan", "--scenario"], ("--scenario", "requires an argument", "plan --help")),
    (["audit", "list", "--limit"], ("--limit", "audit list --help")),
])
def test_usage_errors_are_one_line(args, fragments):
    assert_one_line_error(invoke(*args), *fragments)


def test_a_group_without_its_command_still_prints_its_help():
    result = invoke("audit")
    assert "Commands:" in result.output and "create" in result.output
