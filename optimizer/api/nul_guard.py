"""Requests carrying NUL characters are refused at the edge, for every resource.

PostgreSQL cannot store NUL in text or JSON (``\\u0000``) and SQLite would
store it silently, so a NUL in the path, in the query string or in any
string (or key) of a JSON body is a 400 naming where it was, before any
route runs. The body is only parsed when it holds a ``\\u0000`` escape: a
raw NUL byte is not valid JSON and is refused as such by the routes.
"""
from __future__ import annotations

import json
from contextlib import suppress
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from optimizer.api.errors import error_response

NUL = "\x00"
ESCAPED_NUL = b"\\u0000"


def nul_in_query(query: str) -> str | None:
    """The name of the first query parameter whose name or value holds a NUL, if any."""
    for name, value in parse_qsl(query, keep_blank_values=True):
        if NUL in name:
            return f"query parameter name {name.replace(NUL, '')!r}"
        if NUL in value:
            return f"query parameter {name!r}"
    return None


def nul_in_json(value: object, where: tuple[str, ...] = ()) -> str | None:
    """The dotted path of the first string or key holding a NUL in a JSON document."""
    if isinstance(value, str):
        return ".".join(where) or "request body" if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                return ".".join((*where, "<key>")) if where else "a key of the request body"
            found = nul_in_json(item, (*where, key))
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_in_json(item, (*where, str(index)))
            if found:
                return found
    return None


def _refusal(where: str):
    return error_response(400, f"{where}: a NUL character (\\u0000) is not allowed")


class NulGuardMiddleware:
    """Answers 400 to a request with a NUL in its path, query or JSON strings."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if NUL in scope["path"]:
            await _refusal(f"path {scope['path'].replace(NUL, '')!r}")(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:
            where = nul_in_query(query.decode("latin-1"))
            if where:
                await _refusal(where)(scope, receive, send)
                return
        if scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        body, more = await _read_body(receive)
        where = None
        if ESCAPED_NUL in body:
            with suppress(ValueError, RecursionError):  # not JSON: the route says so
                where = nul_in_json(json.loads(body))
        if where:
            await _refusal(where)(scope, receive, send)
            return
        await self.app(scope, _replay(body, more, receive), send)


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole request body, and any non-body message received after it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), [message]
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), []


def _replay(body: bytes, pending: list[Message], receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
