"""Read-only commands start without the heavy machinery they never use.

Each case runs a command in a fresh interpreter and lists the modules it
imported: `--help` must not load SQLAlchemy or numpy, and listing or showing
stored items must not load the planner, networkx, scipy, numpy, the decision
engine or Alembic (at the head revision). A behaviour test of what is
imported, not a timing test: the figures are in benchmarks/bench_cli.py.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY_FOR_READS = ("networkx", "scipy", "numpy", "optimizer.planning.builder",
                   "optimizer.decision.engine", "alembic", "optimizer.strategies.consolidation")
HEAVY_FOR_HELP = (*HEAVY_FOR_READS, "sqlalchemy", "oslo_config")

# Runs the CLI in-process on the given arguments, then prints which of the
# named modules it imported (a listing's output goes to a black hole).
PROBE = """
import contextlib, io, json, sys
from optimizer.cli import cli
with contextlib.redirect_stdout(io.StringIO()):
    try:
        cli.main(sys.argv[2:], prog_name="optimizer", standalone_mode=False)
    except SystemExit:
        pass
names = json.loads(sys.argv[1])
print(json.dumps(sorted(n for n in names if n in sys.modules)))
"""


def imported(args: list[str], names: tuple[str, ...], env: dict[str, str]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(names), *args],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def stored(tmp_path):
    """An environment whose database holds an audit and its plan."""
    env = {"PATH": "", "HOME": str(tmp_path),
           "OPTIMIZER_DATABASE_URL": f"sqlite:///{tmp_path / 'optimizer.db'}"}
    for args in (["db", "upgrade"],
                 ["audit", "create", "--goal", "dummy", "--strategy", "dummy", "--format", "json"]):
        done = subprocess.run([sys.executable, "-m", "optimizer.cli", *args],
                              capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
    return env, json.loads(done.stdout)["action_plan_uuid"]


def test_help_imports_neither_the_database_nor_numpy(tmp_path):
    """The root help and a group's help."""
    env = {"PATH": "", "HOME": str(tmp_path)}
    assert imported(["--help"], HEAVY_FOR_HELP, env) == []
    # a group's help imports its commands' module, and with it the database layer
    assert imported(["audit", "--help"], HEAVY_FOR_READS, env) == []


def test_reading_commands_import_no_planner_engine_or_numpy(stored):
    env, plan = stored
    for args in (["audit", "list"], ["actionplan", "show", plan], ["actionplan", "list"],
                 ["action", "list", "--plan", plan], ["config", "show"],
                 ["audittemplate", "list"]):
        assert imported(args, HEAVY_FOR_READS, env) == [], args


def test_config_show_opens_no_database(stored):
    env, _ = stored
    assert imported(["config", "show"], ("sqlalchemy.orm", "optimizer.db.schema"), env) == []


def test_the_probe_sees_what_a_planning_command_imports(stored):
    env, _ = stored  # so the test above can fail: creating an audit does load them
    assert "optimizer.decision.engine" in imported(
        ["audit", "create", "--goal", "dummy", "--strategy", "dummy"], HEAVY_FOR_READS, env)


def test_a_config_file_without_plugin_sections_loads_no_plugin(stored, tmp_path):
    """Checking the file's keys needs the [openstack] and [prometheus] options only
    when the file has those sections: their modules bring openstacksdk's collector."""
    env, _ = stored
    conf = tmp_path / "optimizer.conf"
    conf.write_text("[planner]\nmax_migrations_per_host = 3\n")
    assert imported(["--config-file", str(conf), "config", "show"],
                    ("optimizer.openstack.options", "optimizer.datasources.prometheus",
                     "sqlalchemy"), env) == []
