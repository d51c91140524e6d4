"""Schema revisions: upgrade a database, read its revision, refuse unknown ones.

Alembic runs programmatically on the scripts shipped in
``optimizer/db/migrations``; no ``alembic.ini`` is needed. A database
written by a newer version of the optimizer is at a revision this version
does not know, and is refused rather than half-understood.
"""
from __future__ import annotations

import enum
import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DatabaseError as DriverError

from optimizer.config import mask_password
from optimizer.db.errors import DatabaseError
from optimizer.db.schema import TABLE_NAMES

if TYPE_CHECKING:  # Alembic is imported when a database is upgraded or not at the head
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"

# The newest script under migrations/versions. A database at it is seen to be
# current with one query, without importing Alembic (a tenth of a second
# before every command); a test checks that it is Alembic's head.
HEAD_REVISION = "0006"


class RevisionState(enum.Enum):
    """How a database's schema relates to this version's."""

    EMPTY = "empty"            # no optimizer tables yet
    CURRENT = "current"        # at this version's head
    BEHIND = "behind"          # at an older revision this version can upgrade
    UNKNOWN = "unknown"        # at a revision this version does not know
    UNVERSIONED = "unversioned"  # optimizer tables without a revision


@dataclass(frozen=True)
class RevisionStatus:
    """A database's revision, this version's head, and how they relate."""

    current: str | None
    head: str
    state: RevisionState


def alembic_config(connection=None) -> Config:
    """An Alembic configuration on the shipped scripts, bound to ``connection``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision this version of the optimizer knows."""
    return _scripts().get_current_head()


def known_revisions() -> set[str]:
    """Every revision this version ships."""
    return {script.revision for script in _scripts().walk_revisions()}


@contextmanager
def _connected(target: Engine | str) -> Iterator[Engine]:
    """An engine for ``target``; a URL's engine is disposed after, errors made readable."""
    if isinstance(target, Engine):
        engine, owned = target, False
    else:
        from optimizer.db.engine import make_engine  # engine.py imports this module
        engine, owned = make_engine(target), True
    try:
        yield engine
    except DriverError as exc:  # unreachable, refused, or a file that is not a database
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(
            f"cannot use database {mask_password(str(engine.url))}: {reason}") from None
    finally:
        if owned:
            engine.dispose()


def current_revision(target: Engine | str) -> str | None:
    """The revision stored in the database, or None when it has none."""
    from alembic.runtime.migration import MigrationContext

    with _connected(target) as engine, engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _at_head(connection) -> bool:
    """True when the database holds one revision and it is :data:`HEAD_REVISION`."""
    if not inspect(connection).has_table("alembic_version"):
        return False
    stored = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return stored == [HEAD_REVISION]


def revision_status(target: Engine | str) -> RevisionStatus:
    """Where the database stands relative to this version, without changing it."""
    with _connected(target) as engine, engine.connect() as connection:
        if _at_head(connection):
            return RevisionStatus(HEAD_REVISION, HEAD_REVISION, RevisionState.CURRENT)
        from alembic.runtime.migration import MigrationContext

        current = MigrationContext.configure(connection).get_current_revision()
        has_tables = any(inspect(connection).has_table(t) for t in TABLE_NAMES)
    head = head_revision()
    if current is None:
        state = RevisionState.UNVERSIONED if has_tables else RevisionState.EMPTY
    elif current == head:
        state = RevisionState.CURRENT
    elif current in known_revisions():
        state = RevisionState.BEHIND
    else:
        state = RevisionState.UNKNOWN
    return RevisionStatus(current, head, state)


def check_revision(target: Engine | str) -> RevisionStatus:
    """The database's status; :class:`DatabaseError` if this version must not touch it."""
    status = revision_status(target)
    if status.state is RevisionState.UNKNOWN:
        raise DatabaseError(
            f"database at revision {status.current}, which this version does not know "
            f"(newest known: {status.head}); it was probably upgraded by a newer optimizer: "
            "use that version, or point [database] connection at another database")
    if status.state is RevisionState.UNVERSIONED:
        raise DatabaseError(
            "database has optimizer tables but no schema revision; it was not made by "
            "`optimizer db upgrade`: point [database] connection at another database")
    return status


def upgrade(target: Engine | str, revision: str = "head") -> RevisionStatus:
    """Bring the database to ``revision`` (default the newest) and return its status."""
    with _connected(target) as engine:
        check_revision(engine)
        from alembic import command

        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
        return revision_status(engine)
