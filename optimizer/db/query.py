"""Shared row operations: find by uuid or name, list a page, change state safely.

Each table module (templates, audits, action plans) describes its table with
a :class:`Table` and calls these, so listing and state changes behave the
same everywhere.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.orm import Session

from optimizer import states
from optimizer.db import state_log
from optimizer.db.errors import ConcurrentUpdate, InvalidQuery, NotFound
from optimizer.db.types import utcnow

UUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def is_uuid(text: str) -> bool:
    """True when ``text`` is written like a UUID."""
    return bool(UUID_PATTERN.match(text))


@dataclass(frozen=True)
class Page:
    """Which slice of a list: at most ``limit`` rows after the row ``marker`` (a uuid)."""

    limit: int | None = None
    marker: str | None = None
    sort_key: str = "id"
    sort_dir: str = "asc"


@dataclass(frozen=True)
class Table:
    """What the shared operations need to know about one table."""

    row_type: type
    kind: str                       # as users read it: "audit", "action plan"
    filters: Collection[str]        # columns a list may filter on
    sort_keys: Collection[str] = ("id", "created_at", "updated_at")
    editable: Collection[str] = field(default_factory=tuple)
    soft_deleted: bool = True       # rows have ``deleted_at`` and are hidden once set
    by_name: bool = False           # rows can be found by a unique ``name``


def find(session: Session, table: Table, ident: str, include_deleted: bool = False) -> Any:
    """The row whose uuid (or name, if the table has names) is ``ident``."""
    row_type = table.row_type
    column = row_type.uuid if is_uuid(ident) or not table.by_name else row_type.name
    query = select(row_type).where(column == ident)
    if table.soft_deleted and not include_deleted:
        query = query.where(row_type.deleted_at.is_(None))
    row = session.scalars(query.limit(1)).first()
    if row is None:
        raise NotFound(f"{table.kind} {ident!r} not found")
    return row


def list_rows(session: Session, table: Table, filters: Mapping[str, Any] | None = None,
              page: Page | None = None, include_deleted: bool = False,
              query: Select | None = None) -> list[Any]:
    """One page of rows matching ``filters`` (a list value matches any of its items)."""
    query = select(table.row_type) if query is None else query
    return list(session.scalars(_page_of(session, table, query, filters, page, include_deleted)))


def list_columns(session: Session, table: Table, query: Select,
                 filters: Mapping[str, Any] | None = None, page: Page | None = None,
                 include_deleted: bool = False) -> list[Any]:
    """:func:`list_rows` for a ``query`` of columns: plain rows, no ORM objects to build."""
    return list(session.execute(_page_of(session, table, query, filters, page, include_deleted)))


def _page_of(session: Session, table: Table, query: Select, filters: Mapping[str, Any] | None,
             page: Page | None, include_deleted: bool) -> Select:
    row_type = table.row_type
    for name, value in (filters or {}).items():
        if name not in table.filters:
            raise InvalidQuery(f"cannot filter {table.kind}s by {name!r} "
                               f"(filters: {', '.join(sorted(table.filters))})")
        column = getattr(row_type, name)
        many = isinstance(value, list | tuple | set | frozenset)
        query = query.where(column.in_(list(value)) if many else column == value)
    if table.soft_deleted and not include_deleted:
        query = query.where(row_type.deleted_at.is_(None))
    return _paginate(session, table, query, page or Page())


def _paginate(session: Session, table: Table, query: Select, page: Page) -> Select:
    row_type = table.row_type
    if page.sort_key not in table.sort_keys:
        raise InvalidQuery(f"cannot sort {table.kind}s by {page.sort_key!r} "
                           f"(sort keys: {', '.join(table.sort_keys)})")
    if page.sort_dir not in ("asc", "desc"):
        raise InvalidQuery(f"sort direction must be asc or desc, got {page.sort_dir!r}")
    if page.limit is not None and page.limit < 1:
        raise InvalidQuery(f"limit must be at least 1, got {page.limit}")
    key, tie = getattr(row_type, page.sort_key), row_type.id
    descending = page.sort_dir == "desc"
    if page.marker is not None:
        marker = session.execute(
            select(key, tie).where(row_type.uuid == page.marker)).first()
        if marker is None:
            raise InvalidQuery(f"marker {page.marker!r} is not the uuid of any {table.kind}")
        # Rows strictly after the marker in (sort key, id) order; id breaks ties.
        after = (key < marker[0]) if descending else (key > marker[0])
        tie_after = (tie < marker[1]) if descending else (tie > marker[1])
        query = query.where(or_(after, and_(key == marker[0], tie_after)))
    order = (key.desc(), tie.desc()) if descending else (key.asc(), tie.asc())
    query = query.order_by(*order)
    return query.limit(page.limit) if page.limit is not None else query


def change(session: Session, table: Table, row: Any, changes: Mapping[str, Any],
           expect_state: str | None = None) -> Any:
    """Apply ``changes`` to ``row``; a new ``state`` must be allowed by the life cycle.

    The write only happens if the stored state is still the one read, so two
    processes cannot both move a plan out of PENDING. A caller that decided
    on an earlier read passes ``expect_state``: the row it holds may have been
    read again since (a session keeps rows only while someone refers to
    them), and a second claimant must not see PENDING → ONGOING turn into a
    harmless-looking ONGOING → ONGOING.
    """
    if expect_state is not None and row.state != expect_state:
        raise ConcurrentUpdate(f"{table.kind} {row.uuid} is {row.state} now, no longer "
                               f"{expect_state}")
    unknown = set(changes) - set(table.editable)
    if unknown:
        raise InvalidQuery(f"{table.kind} fields {', '.join(sorted(unknown))} cannot be changed "
                           f"(editable: {', '.join(sorted(table.editable))})")
    values = dict(changes)
    old_state = getattr(row, "state", None)
    if "state" in values and values["state"] != row.state:
        states.check_transition(table.kind, row.state, values["state"])
        if values["state"] == "DELETED" and table.soft_deleted:
            values["deleted_at"] = utcnow()
    values["updated_at"] = utcnow()
    row_type = table.row_type
    guard = [row_type.id == row.id]
    if hasattr(row_type, "state"):
        guard.append(row_type.state == row.state)
    session.flush()  # pending changes to the row go first, so the refresh keeps them
    result = session.execute(update(row_type).where(*guard).values(**values)
                             .execution_options(synchronize_session=False))
    session.refresh(row)
    if result.rowcount != 1:
        raise ConcurrentUpdate(f"{table.kind} {row.uuid} changed meanwhile (now "
                               f"{getattr(row, 'state', 'deleted')}); read it again and retry")
    if "state" in values and values["state"] != old_state:
        state_log.note_row(session, table.kind, row, old_state)
    return row


def soft_delete(session: Session, table: Table, row: Any) -> Any:
    """Hide a row without a life cycle (e.g. a template) by setting ``deleted_at``."""
    row.deleted_at = row.updated_at = utcnow()
    session.flush()
    return row
