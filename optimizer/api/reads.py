"""Reads without a transaction: a GET costs its queries, not BEGIN and COMMIT too.

A request that only reads gains nothing from a transaction (each statement
already sees committed data under PostgreSQL's READ COMMITTED), but BEGIN
and COMMIT are two more round trips to the database, a third of a short
list's. :class:`ReadMostlyDatabase` hands GET and HEAD requests sessions on
an AUTOCOMMIT view of the same pool; everything else keeps its transaction.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from optimizer.db import Database

READING: ContextVar[bool] = ContextVar("optimizer_api_reading", default=False)
READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass
class ReadMostlyDatabase(Database):
    """A database whose sessions skip the transaction while a GET is served."""

    reads: sessionmaker[Session] | None = None

    @classmethod
    def wrap(cls, database: Database) -> ReadMostlyDatabase:
        engine = database.engine.execution_options(isolation_level="AUTOCOMMIT")
        return cls(database.engine, database.sessions,
                   sessionmaker(engine, expire_on_commit=False))

    @contextmanager
    def session(self) -> Iterator[Session]:
        if self.reads is None or not READING.get():
            with super().session() as session:
                yield session
            return
        with self.reads() as session:
            yield session


class ReadingMiddleware:
    """Marks GET and HEAD requests, for :class:`ReadMostlyDatabase`."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in READ_METHODS:
            await self.app(scope, receive, send)
            return
        token = READING.set(True)  # thread-pool handlers run in a copy of this context
        try:
            await self.app(scope, receive, send)
        finally:
            READING.reset(token)
