"""Storage fixtures: every test runs on SQLite and on PostgreSQL.

PostgreSQL tests work in a schema of their own (named after the process and
the test module) that is dropped afterwards, so runs repeat and never touch
other tests' tables. Without a reachable server the PostgreSQL half is
skipped locally and fails under CI (``CI`` set), where it must run.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import delete

from optimizer.db import Database, open_database
from optimizer.db.schema import Base

POSTGRES_URL = os.environ.get("OPTIMIZER_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def _admin_connection():
    import psycopg

    url = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(url, autocommit=True, connect_timeout=3)


def _require_postgres() -> None:
    try:
        _admin_connection().close()
    except Exception as exc:  # any failure means: no server to test against
        reason = f"PostgreSQL at {POSTGRES_URL} unreachable: {exc}".splitlines()[0]
        if running_in_ci():
            pytest.fail(reason + " (CI is set, so this is a failure)", pytrace=False)
        pytest.skip(reason)


class SchemaFactory:
    """Fresh PostgreSQL schemas for one test module, dropped at the end."""

    def __init__(self, module: str):
        self.prefix = "optimizer_test_{}_{}".format(os.getpid(), re.sub(r"\W", "_", module))
        self.made: list[str] = []

    def url(self) -> str:
        """The URL of a new, empty schema (search_path points into it)."""
        name = f"{self.prefix}_{len(self.made)}".lower()
        with _admin_connection() as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
            connection.execute(f'CREATE SCHEMA "{name}"')
        self.made.append(name)
        return f"{POSTGRES_URL}?options=-csearch_path%3D{name}"

    def drop_all(self) -> None:
        with _admin_connection() as connection:
            for name in self.made:
                connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    """The name of the database backend the module's tests run on."""
    if request.param == "postgresql":
        _require_postgres()
    return request.param


@pytest.fixture(scope="module")
def new_url(backend, request, tmp_path_factory):
    """A function making URLs of new, empty databases on the module's backend."""
    if backend == "sqlite":
        folder = tmp_path_factory.mktemp("db")
        counter = iter(range(1_000_000))
        yield lambda: f"sqlite:///{folder / f'optimizer-{next(counter)}.db'}"
        return
    schemas = SchemaFactory(request.module.__name__.rsplit(".", 1)[-1])
    yield schemas.url
    schemas.drop_all()


@pytest.fixture(scope="module")
def module_database(new_url) -> Iterator[Database]:
    """One upgraded database shared by a module's tests."""
    database = open_database(new_url())
    yield database
    database.close()


@pytest.fixture
def db(module_database) -> Database:
    """The module's database, emptied before each test."""
    with module_database.session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))
    return module_database


@pytest.fixture
def session(db):
    """A session whose work is committed when the test ends without error."""
    with db.session() as session:
        yield session
