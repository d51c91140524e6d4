"""GET requests of API workers read without a transaction; writes keep theirs."""
from __future__ import annotations

import asyncio

from optimizer.api.reads import READING, ReadingMiddleware, ReadMostlyDatabase


def isolation(database, reading: bool) -> str | None:
    token = READING.set(reading)
    try:
        with database.session() as session:
            return session.connection().get_execution_options().get("isolation_level")
    finally:
        READING.reset(token)


def test_reads_use_autocommit_and_writes_a_transaction(ctx):
    database = ReadMostlyDatabase.wrap(ctx.database)
    assert isolation(database, reading=True) == "AUTOCOMMIT"
    assert isolation(database, reading=False) is None
    assert database.engine is ctx.database.engine  # one pool for both


def test_the_middleware_marks_only_gets_and_heads():
    seen = {}

    async def app(scope, receive, send):
        seen[scope["method"]] = READING.get()

    middleware = ReadingMiddleware(app)
    for method in ("GET", "HEAD", "POST", "PATCH", "DELETE"):
        asyncio.run(middleware({"type": "http", "method": method}, None, None))
    assert seen == {"GET": True, "HEAD": True, "POST": False, "PATCH": False,
                    "DELETE": False}
    assert READING.get() is False
