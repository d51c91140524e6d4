"""Fixtures for the audit and plan commands: a private configuration, database and cloud.

Every test gets its own folder holding ``optimizer.conf`` (pointing the
database and the simulated cloud's state file into that folder), and HOME /
XDG folders inside it, so the real user folders are never read or written.
Each :meth:`Cli.run` is a fresh invocation, like a new process, so what a
second call sees is what the first one stored.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from optimizer.cli import cli
from optimizer.cloud.simulated import SimulatedCloud

HOSTS = 12


@dataclass
class Cli:
    """Runs ``optimizer`` commands against one test's configuration."""

    folder: Path
    config_file: Path
    state_file: Path
    extra: tuple[str, ...] = ()

    def run(self, *args: str, status: int | None = 0) -> Result:
        """The result of ``optimizer <extra> <args>``; checks the exit status unless None."""
        result = CliRunner().invoke(cli, [*self.extra, *args])
        if status is not None:
            assert result.exit_code == status, (result.output, result.exception)
        return result

    def json(self, *args: str, status: int | None = 0):
        """The JSON document a ``--format json`` command printed on stdout."""
        return json.loads(self.run(*args, "--format", "json", status=status).stdout)

    def cloud(self) -> SimulatedCloud:
        return SimulatedCloud(self.state_file)

    def recommended_plan(self, *extra: str) -> str:
        """The uuid of a fresh RECOMMENDED consolidation plan."""
        document = self.json("audit", "create", "--goal", "server_consolidation",
                             "--strategy", "vm_workload_consolidation", *extra)
        return document["action_plan"]["uuid"]


def write_config(folder: Path, database_url: str | None = None, hosts: int = HOSTS) -> Path:
    url = database_url or f"sqlite:///{folder / 'optimizer.db'}"
    path = folder / "optimizer.conf"
    path.write_text(f"[database]\nconnection = {url}\n\n[simulated]\nhosts = {hosts}\n"
                    f"seed = 3\nstate_file = {folder / 'cloud.db'}\n")
    return path


@pytest.fixture
def private_home(tmp_path, monkeypatch) -> Path:
    """HOME and the XDG folders in the test's folder; no optimizer variables leak in."""
    for name in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
                 "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / "home" / name.lower()))
    for name in ("OPTIMIZER_CONFIG_FILE", "OPTIMIZER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def optimizer(private_home, monkeypatch) -> Cli:
    """The command line on a 12-host simulated cloud and a SQLite file, by configuration."""
    config = write_config(private_home)
    monkeypatch.setenv("OPTIMIZER_CONFIG_FILE", str(config))
    return Cli(private_home, config, private_home / "cloud.db")


@dataclass
class FakeProgress:
    """The fields of the applier's ``PlanProgress``."""

    plan_uuid: str
    state: str
    total: int
    pending: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    moved_memory_mb: float = 0.0
    message: str = ""


class FakeApplier:
    """Stands in for ``optimizer.applier``: marks every action SUCCEEDED (or the first FAILED).

    It tests what the commands do with the applier's API, not the applier.
    """

    def __init__(self, fail_first: bool = False):
        self.fail_first = fail_first
        self.calls: list[tuple[str, str]] = []

    def execute_plan(self, ctx, plan_uuid, on_progress=None):
        from optimizer.db import (
            get_action_plan,
            list_actions,
            set_action_plan_state,
            set_action_state,
        )

        self.calls.append(("execute", plan_uuid))
        with ctx.database.session() as session:
            set_action_plan_state(session, plan_uuid, "ONGOING")
            actions = list_actions(session, get_action_plan(session, plan_uuid))
            for k, action in enumerate(actions):
                set_action_state(session, action.uuid, "ONGOING")
                failed = self.fail_first and k == 0
                set_action_state(session, action.uuid, "FAILED" if failed else "SUCCEEDED")
                if on_progress:
                    on_progress(self.plan_progress(ctx, plan_uuid, session))
            set_action_plan_state(session, plan_uuid, "FAILED" if self.fail_first
                                  else "SUCCEEDED")
        return self.plan_progress(ctx, plan_uuid)

    def plan_progress(self, ctx, plan_uuid, session=None):
        from optimizer.db import get_action_plan, list_actions

        if session is None:
            with ctx.database.session() as session:
                return self.plan_progress(ctx, plan_uuid, session)
        plan = get_action_plan(session, plan_uuid)
        states = [a.state for a in list_actions(session, plan)]
        return FakeProgress(plan_uuid, plan.state, len(states),
                            pending=states.count("PENDING"), succeeded=states.count("SUCCEEDED"),
                            failed=states.count("FAILED"), skipped=states.count("SKIPPED"),
                            moved_memory_mb=1024.0 * states.count("SUCCEEDED"))

    def pause_plan(self, ctx, uuid):
        self.calls.append(("pause", uuid))

    def resume_plan(self, ctx, uuid):
        self.calls.append(("resume", uuid))


@pytest.fixture
def fake_applier(monkeypatch) -> FakeApplier:
    """``optimizer.applier`` replaced by a :class:`FakeApplier`."""
    import sys
    import types

    fake = FakeApplier()
    module = types.ModuleType("optimizer.applier")
    for name in ("execute_plan", "plan_progress", "pause_plan", "resume_plan"):
        setattr(module, name, getattr(fake, name))
    monkeypatch.setitem(sys.modules, "optimizer.applier", module)
    return fake


@pytest.fixture
def no_applier(monkeypatch) -> None:
    """As if ``optimizer.applier`` were not installed."""
    import sys

    monkeypatch.setitem(sys.modules, "optimizer.applier", None)
