"""Opening the database: an engine per URL, checked and upgraded before use."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from optimizer.config import mask_password
from optimizer.db import migrate
from optimizer.db.errors import DatabaseError, remember_url

# Connections a process keeps open to a server database. SQLAlchemy's default
# (5) closes every connection past the fifth after each use, so an API worker
# serving 20 clients opened and closed connections all the time, and each new
# PostgreSQL connection is a new server process: with 20 clients on 2 API
# workers that churn cost about a third of the throughput. Connections are
# opened only as they are needed.
POOL_SIZE = 20


def make_engine(url: str, *, create_folder: bool = True) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created unless ``create_folder`` is off."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"database URL {mask_password(url)!r} is not valid") from None
    options: dict = {"pool_pre_ping": True, "pool_size": POOL_SIZE}
    if parsed.get_backend_name() == "sqlite":
        if create_folder and sqlite_path(url) is not None:
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        options = {}
    # JSON documents are read by orjson: json.loads of a 10,000-host plan's host
    # changes was a fifth of `actionplan show`. What is stored is finite JSON
    # (FiniteJSON), which orjson reads to the same values.
    options["json_deserializer"] = orjson.loads
    try:
        engine = create_engine(parsed, **options)
    except (NoSuchModuleError, ImportError) as exc:
        raise DatabaseError(
            f"database URL {mask_password(url)!r}: no driver for it ({exc})") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "handle_error", remember_url)  # so errors can name the database
    return engine


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Foreign keys are off by default in SQLite; WAL lets the CLI read while
    # the applier writes, and with synchronous=NORMAL it syncs at checkpoints
    # rather than at every commit (still never corrupts); the timeout waits
    # for a writer instead of failing. A 64 MB page cache (memory taken only as
    # pages are read) keeps the indexes of a growing actions table in memory:
    # storing a 56,000-action plan then takes a third less time.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


@dataclass
class Database:
    """An open database: its engine and a factory of sessions."""

    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def open_database(url: str, *, create: bool = True) -> Database:
    """The database at ``url``, ready to use.

    An empty database gets the tables, unless ``create`` is off: then a
    missing SQLite file (no file or folder is made) or a database without
    tables is refused, naming ``optimizer db upgrade``. One at a revision this
    version does not know, or at an older one, is refused with a
    :class:`DatabaseError` saying what to do.
    """
    if not create:
        _require_file(url)
    engine = make_engine(url, create_folder=create)
    try:
        status = migrate.check_revision(engine)
        if status.state is migrate.RevisionState.EMPTY and not create:
            raise DatabaseError(
                f"database {mask_password(url)} has no tables yet: `optimizer db upgrade` "
                "creates them (or check --database-url, $OPTIMIZER_DATABASE_URL and "
                "[database] connection)")
        if status.state is migrate.RevisionState.EMPTY:
            migrate.upgrade(engine)
        elif status.state is migrate.RevisionState.BEHIND:
            raise DatabaseError(
                f"database at revision {status.current}, older than this version's "
                f"{status.head}: run `optimizer db upgrade` first")
    except DatabaseError:
        engine.dispose()
        raise
    # Rows stay readable after commit, so callers can print what they stored.
    return Database(engine, sessionmaker(engine, expire_on_commit=False))


def _require_file(url: str) -> None:
    # Connecting to a missing SQLite file would create it: say so instead.
    try:
        path = sqlite_path(url)
    except ArgumentError:
        return  # make_engine names the bad URL
    if path is not None and not path.exists():
        raise DatabaseError(
            f"database {path} does not exist: `optimizer db upgrade` creates it (or check "
            "--database-url, $OPTIMIZER_DATABASE_URL and [database] connection)")
