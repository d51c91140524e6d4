"""optimizer config show and optimizer db upgrade."""
from __future__ import annotations

import sqlite3

from tests.optimizer.commands.conftest import write_config


def _source(rows, group, option):
    return next(r for r in rows["settings"] if (r["group"], r["option"]) == (group, option))


def test_config_show_says_where_each_value_came_from(optimizer, monkeypatch):
    rows = optimizer.json("config", "show")
    assert rows["config_file"] == str(optimizer.config_file)
    hosts = _source(rows, "simulated", "hosts")
    assert (hosts["value"], hosts["source"]) == (12, str(optimizer.config_file))
    assert _source(rows, "planner", "max_parallel_migrations")["source"] == "default"
    assert _source(rows, "database", "connection")["source"] == str(optimizer.config_file)

    monkeypatch.setenv("OPTIMIZER_DATABASE_URL", "sqlite:////tmp/from-env.db")
    by_env = _source(optimizer.json("config", "show"), "database", "connection")
    assert by_env == {"group": "database", "option": "connection",
                      "value": "sqlite:////tmp/from-env.db",
                      "source": "environment OPTIMIZER_DATABASE_URL"}

    by_flag = _source(optimizer.json("--database-url", "postgresql+psycopg://u:secret@db/x",
                                     "config", "show"), "database", "connection")
    assert by_flag["source"] == "command line"
    assert by_flag["value"] == "postgresql+psycopg://u:***@db/x"  # never the password

    text = optimizer.run("config", "show").stdout
    assert "simulated" in text and "environment OPTIMIZER_DATABASE_URL" in text


def test_config_file_option_beats_the_environment(optimizer, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    config = write_config(other, hosts=5)
    rows = optimizer.json("--config-file", str(config), "config", "show")
    assert rows["config_file"] == str(config)
    assert _source(rows, "simulated", "hosts")["value"] == 5
    missing = optimizer.run("--config-file", str(tmp_path / "nope.conf"), "config", "show",
                            status=2)
    assert "does not exist" in missing.stderr and missing.stderr.count("\n") == 1


def test_db_upgrade_on_a_fresh_file_then_again(optimizer, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    first = optimizer.json("--database-url", url, "db", "upgrade")
    assert first["from"] is None and first["to"] == first["head"]
    again = optimizer.run("--database-url", url, "db", "upgrade").stdout
    assert f"already at revision {first['head']}" in again
    text = optimizer.run("--database-url", f"sqlite:///{tmp_path / 'new.db'}", "db",
                         "upgrade").stdout
    assert f"upgraded from revision (empty) to {first['head']}" in text


def test_db_upgrade_refuses_an_unknown_revision(optimizer, tmp_path):
    path = tmp_path / "future.db"
    optimizer.run("--database-url", f"sqlite:///{path}", "db", "upgrade")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00dcafe9999'")
    for command in (("db", "upgrade"), ("audit", "list")):
        result = optimizer.run("--database-url", f"sqlite:///{path}", *command, status=2)
        assert "f00dcafe9999" in result.stderr and "does not know" in result.stderr
        assert result.stderr.count("\n") == 1


def test_a_file_that_is_not_a_database_is_one_line(optimizer, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 20)
    for command in (("audit", "list"), ("db", "upgrade"), ("audit", "create", "--goal",
                                                            "dummy")):
        result = optimizer.run("--database-url", f"sqlite:///{path}", *command, status=2)
        assert result.stderr.startswith("optimizer: error: "), result.stderr
        assert str(path) in result.stderr and "not a database" in result.stderr
        assert result.stderr.count("\n") == 1
    assert path.read_text().startswith("these are my notes")


def test_a_read_never_creates_a_database_or_its_folder(optimizer, tmp_path):
    missing = tmp_path / "nonexistent" / "dir" / "x.db"
    for command in (("audit", "list"), ("actionplan", "list"), ("audittemplate", "list"),
                    ("action", "list", "--plan", "p"), ("audit", "show", "nightly")):
        result = optimizer.run("--database-url", f"sqlite:///{missing}", *command, status=2)
        assert result.stderr.startswith("optimizer: error: "), result.stderr
        assert str(missing) in result.stderr and "optimizer db upgrade" in result.stderr
        assert result.stderr.count("\n") == 1
    assert not (tmp_path / "nonexistent").exists()


def test_a_write_creates_a_database_only_at_the_default_location(optimizer, tmp_path):
    missing = tmp_path / "typo" / "x.db"
    result = optimizer.run("--database-url", f"sqlite:///{missing}", "audit", "create",
                           "--goal", "dummy", status=2)
    assert "optimizer db upgrade" in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "typo").exists()
    optimizer.run("--database-url", f"sqlite:///{missing}", "db", "upgrade")
    optimizer.run("--database-url", f"sqlite:///{missing}", "audit", "create", "--goal",
                  "dummy")
    assert optimizer.json("--database-url", f"sqlite:///{missing}", "audit", "list")


def test_the_default_database_is_made_on_the_first_write(private_home):
    from click.testing import CliRunner

    from optimizer.cli import cli
    from optimizer.config import default_data_dir

    default = default_data_dir() / "optimizer.db"
    assert str(private_home) in str(default)
    listed = CliRunner().invoke(cli, ["audit", "list"])
    assert listed.exit_code == 2 and "optimizer db upgrade" in listed.stderr
    assert not default.exists()
    created = CliRunner().invoke(cli, ["audit", "create", "--goal", "dummy"])
    assert created.exit_code == 0, created.output
    assert default.is_file()
    assert CliRunner().invoke(cli, ["audit", "list"]).exit_code == 0


def test_a_read_on_an_empty_database_names_db_upgrade(optimizer, tmp_path):
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    result = optimizer.run("--database-url", f"sqlite:///{path}", "audit", "list", status=2)
    assert "optimizer db upgrade" in result.stderr and result.stderr.count("\n") == 1
