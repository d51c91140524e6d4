"""The CLI on an unreachable database: one line naming the masked URL, exit 3.

The outage is simulated on a port nothing listens on; the shared PostgreSQL
is never stopped.
"""
from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy.orm import sessionmaker

import optimizer.context
from optimizer.cli import EXIT_DATABASE_UNREACHABLE, cli
from optimizer.db.engine import make_engine
from tests.optimizer.api.test_database_down import down_url


def one_line(result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def test_unreachable_at_start_up(tmp_path):
    url = down_url()
    result = CliRunner().invoke(cli, ["--database-url", url, "audit", "list"])
    assert result.exit_code == EXIT_DATABASE_UNREACHABLE == 3, result.output
    line = one_line(result)
    assert line.startswith("optimizer: error: the database postgresql+psycopg://postgres:***@")
    assert "is unreachable" in line and "s3cret" not in line
    assert "internal error" not in line


def test_unreachable_in_the_middle_of_a_command(tmp_path, monkeypatch):
    """Opened fine, then the server went away: no 'internal error (a bug)'."""
    engines = []
    opened = optimizer.context.open_context  # commands import it when they open the database

    def open_then_lose(settings, **options):
        ctx = opened(settings, **options)
        engines.append(make_engine(down_url()))
        ctx.database.sessions = sessionmaker(engines[-1], expire_on_commit=False)
        return ctx

    database = f"sqlite:///{tmp_path / 'o.db'}"
    # a read never creates a database: make it first, then lose it mid-command
    assert CliRunner().invoke(cli, ["--database-url", database, "db", "upgrade"]).exit_code == 0
    monkeypatch.setattr(optimizer.context, "open_context", open_then_lose)
    try:
        result = CliRunner().invoke(cli, ["--database-url", database, "audit", "list"])
    finally:
        for engine in engines:
            engine.dispose()
    assert result.exit_code == 3, result.output
    line = one_line(result)
    assert "postgres:***@127.0.0.1" in line and "is unreachable" in line
    assert "Connection refused" in line or "connection" in line.lower()


def test_a_sqlite_path_that_cannot_be_opened_is_not_an_outage(tmp_path):
    folder = tmp_path / "not-a-folder"
    folder.write_text("a file where a folder should be")
    result = CliRunner().invoke(cli, ["--database-url", f"sqlite:///{folder / 'x.db'}",
                                      "audit", "list"])
    assert result.exit_code != 3, result.output
