"""Writing tens of thousands of rows of one table in a few round trips.

SQLAlchemy's Core ``insert`` runs every value of every row through its
column type (JSON documents through ``json.dumps`` and the NaN check of
:class:`~optimizer.db.types.FiniteJSON`, timestamps through the dialect):
for a 56,000-action plan that per-value Python is most of the 6 s it took
to store. Here each JSON value is serialised once by orjson, values shared
by all rows (a timestamp, the plan's id) go through their column type once,
and the rows reach the driver as plain tuples: PostgreSQL through COPY when
the driver is psycopg 3, any other database through one ``executemany``.
Both run on the session's own connection, inside its transaction.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from typing import Any

import orjson
from sqlalchemy import Table, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from optimizer.db.types import FiniteJSON, finite

LOG = logging.getLogger(__name__)

# orjson writes NaN and infinities as null, as FiniteJSON does; numpy scalars
# are the numbers they hold.
_ORJSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY

# The ORM's events do not see these inserts: who must know what was inserted
# (the notifications of optimizer.messaging) registers here. Each listener is
# called as listener(session, table name, rows) after an insert, where rows()
# gives the inserted rows as dicts, made only when a listener asks.
InsertListener = Callable[[Session, str, Callable[[], list[dict]]], None]
_listeners: list[InsertListener] = []


def add_insert_listener(listener: InsertListener) -> Callable[[], None]:
    """Call ``listener`` after every bulk insert; returns a function that removes it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def insert_columns(session: Session, table: Table, columns: Mapping[str, Sequence[Any]],
                   shared: Mapping[str, Any] | None = None) -> None:
    """Insert rows given column by column (name → one value per row) into ``table``,
    with ``shared`` values (name → value) in every row.

    Every column must hold as many values. Values are stored as the ORM would
    store them; a JSON value orjson cannot write goes through its column type.
    """
    names = list(columns)
    count = len(columns[names[0]]) if names else 0
    if not count:
        return
    shared = dict(shared or {})
    connection = session.connection()
    dialect = connection.dialect
    values = []  # each JSON column is written in one pass
    for name in names:
        column = columns[name]
        if isinstance(table.c[name].type, FiniteJSON):
            write = _json_writer(table, name, dialect)
            column = [write(value) for value in column]
        values.append(column)
    values += [repeat(_bound(table, name, value, dialect)) for name, value in shared.items()]
    names += shared
    tuples = list(zip(*values, strict=False))  # the shared values repeat without end
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy(connection, table, names, tuples)
    elif dialect.paramstyle in ("qmark", "format", "pyformat"):
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        quote = dialect.identifier_preparer.quote
        statement = (f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, names))}) "
                     f"VALUES ({', '.join([mark] * len(names))})")
        connection.exec_driver_sql(statement, tuples)
    else:  # a driver with named parameters: the plain Core insert
        connection.execute(insert(table), _as_rows(columns, shared))
    for listener in list(_listeners):
        listener(session, table.name, lambda: _as_rows(columns, shared))


def _as_rows(columns: Mapping[str, Sequence[Any]], shared: Mapping[str, Any]) -> list[dict]:
    names = list(columns)
    return [{**dict(zip(names, row, strict=True)), **shared}
            for row in zip(*columns.values(), strict=True)]


def _bound(table: Table, name: str, value: Any, dialect) -> Any:
    """``value`` as the driver receives it for column ``name`` (its type applied once)."""
    process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
    return value if process is None else process(value)


def _json_writer(table: Table, name: str, dialect):
    """A function writing one value of JSON column ``name`` as the text the driver stores."""
    fallback = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)

    def write(value: Any) -> str:
        try:
            text = orjson.dumps(value, option=_ORJSON_OPTIONS)
        except TypeError:  # e.g. keys that are not strings: json.dumps converts them
            return fallback(value)
        if b"null" in text and finite(value)[1]:  # a NaN became null: say so, as FiniteJSON does
            LOG.warning("a stored JSON document held NaN or infinite numbers; stored as null")
        return text.decode()

    return write


def _copy(connection, table: Table, columns: list[str], rows: list[tuple]) -> None:
    """COPY ``rows`` into ``table`` on a psycopg 3 connection."""
    import psycopg  # the driver in use: only imported when it is

    quote = connection.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(map(quote, columns))}) FROM STDIN"
    raw = connection.connection.dbapi_connection
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        # as SQLAlchemy wraps driver errors, so outages are recognised as outages
        raise DBAPIError.instance(statement, None, exc, psycopg.Error,
                                  dialect=connection.dialect,
                                  connection_invalidated=raw.closed != 0) from exc
