"""Fixtures for the audit and plan commands: a private configuration, database and cloud.

Every test gets its own folder holding ``optimizer.conf`` (pointing the
database and the simulated cloud's state file into that folder), and HOME /
XDG folders inside it, so the real user folders are never read or written.
Each :meth:`Cli.run` is a fresh invocation, like a new process, so what a
second call sees is what the first one stored.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
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

    def json_plain(self, *args: str, status: int | None = 0):
        """The JSON document a command prints on stdout without ``--format``."""
        return json.loads(self.run(*args, status=status).stdout)

    def context(self):
        """The context the commands open, for arranging what a test needs."""
        from optimizer.config import load_config
        from optimizer.context import open_context

        ctx = open_context(load_config(str(self.config_file), None))
        return _closing(ctx)

    def cloud(self) -> SimulatedCloud:
        return SimulatedCloud(self.state_file)

    def recommended_plan(self, *extra: str) -> str:
        """The uuid of a fresh RECOMMENDED consolidation plan."""
        document = self.json("audit", "create", "--goal", "server_consolidation",
                             "--strategy", "vm_workload_consolidation", *extra)
        return document["action_plan"]["uuid"]


@contextmanager
def _closing(ctx):
    try:
        yield ctx
    finally:
        ctx.close()


def write_config(folder: Path, database_url: str | None = None, hosts: int = HOSTS) -> Path:
    url = database_url or f"sqlite:///{folder / 'optimizer.db'}"
    path = folder / "optimizer.conf"
    # no retry waits: a failing migration fails its action at once
    path.write_text(f"[database]\nconnection = {url}\n\n[simulated]\nhosts = {hosts}\n"
                    f"seed = 3\nstate_file = {folder / 'cloud.db'}\n\n"
                    "[applier]\nmax_retries = 0\nretry_backoff_s = 0\npoll_interval_s = 0.01\n")
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
    """The command line on a 12-host simulated cloud and a SQLite file, by configuration.

    The file is made as `optimizer db upgrade` would: commands create a
    database only at the default location.
    """
    from optimizer.db import upgrade

    config = write_config(private_home)
    upgrade(f"sqlite:///{private_home / 'optimizer.db'}")
    monkeypatch.setenv("OPTIMIZER_CONFIG_FILE", str(config))
    return Cli(private_home, config, private_home / "cloud.db")



@pytest.fixture
def no_applier(monkeypatch) -> None:
    """As if ``optimizer.applier`` were not installed."""
    import sys

    monkeypatch.setitem(sys.modules, "optimizer.applier", None)
