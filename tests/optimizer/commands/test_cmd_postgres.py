"""The commands against PostgreSQL (``--database-url``), in a schema of their own.

Without a reachable server this is skipped locally and fails under CI.
"""
from __future__ import annotations

import sqlite3

import pytest

from tests.optimizer.db.conftest import SchemaFactory, _require_postgres


@pytest.fixture(scope="module")
def postgres_url():
    _require_postgres()
    schemas = SchemaFactory("commands")
    yield schemas.url()
    schemas.drop_all()


def test_audits_and_plans_on_postgresql(optimizer, postgres_url):
    optimizer.extra = ("--database-url", postgres_url)
    upgraded = optimizer.json("db", "upgrade")
    assert upgraded["to"] == upgraded["head"] and "postgresql" in upgraded["database"]

    optimizer.run("audittemplate", "create", "pg", "--goal", "server_consolidation",
                  "--strategy", "vm_workload_consolidation")
    document = optimizer.json("audit", "create", "--template", "pg", "--name", "on-pg")
    plan = document["action_plan"]["uuid"]
    shown = optimizer.json("actionplan", "show", plan)
    assert shown["state"] == "RECOMMENDED" and shown["actions_total"] > 0
    first = shown["actions"][0]
    optimizer.run("action", "skip", first["uuid"])

    # a new invocation sees what the earlier ones stored
    assert optimizer.json("audit", "show", "on-pg")["action_plans"][0]["uuid"] == plan
    assert optimizer.json("action", "show", first["uuid"])["state"] == "SKIPPED"
    connection = next(r for r in optimizer.json("config", "show")["settings"]
                      if r["option"] == "connection")
    assert connection["source"] == "command line"
    # the file named in the configuration was overridden: nothing went into it
    with sqlite3.connect(optimizer.folder / "optimizer.db") as file_db:
        assert file_db.execute("SELECT count(*) FROM audits").fetchone() == (0,)
    optimizer.run("actionplan", "cancel", plan)
    optimizer.run("audit", "delete", "on-pg")
    assert optimizer.json("audit", "list") == []
