"""Who may use the API: bearer tokens with two roles, or nobody checked.

With ``[api] auth = token`` a request carries a token as
``Authorization: Bearer <token>`` or ``X-Auth-Token: <token>`` (what
python-watcherclient sends). Tokens in ``admin_tokens`` read and write;
tokens in ``reader_tokens`` only read (GET and HEAD). A write without a
token, or with an unknown one, is a 401; a reader's write is a 403. With
``auth = none`` every request is an admin's: for local use only.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Request

from optimizer.api.errors import Forbidden, Unauthorized

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ADMIN, READER = "admin", "reader"


@dataclass(frozen=True)
class TokenAuth:
    """The configured tokens and whether they are checked at all."""

    enabled: bool = False
    admin_tokens: tuple[str, ...] = ()
    reader_tokens: tuple[str, ...] = ()

    def role_of(self, token: str | None) -> str | None:
        """``admin``, ``reader`` or None for an unknown or missing token."""
        if not self.enabled:
            return ADMIN
        if not token:
            return None
        given = _header_bytes(token)
        # compare_digest against every token: the time taken tells nothing. Bytes,
        # since compare_digest refuses str with non-ASCII characters.
        admin = any(hmac.compare_digest(given, t.encode()) for t in self.admin_tokens)
        reader = any(hmac.compare_digest(given, t.encode()) for t in self.reader_tokens)
        return ADMIN if admin else READER if reader else None


def _header_bytes(value: str) -> bytes:
    """The bytes a client sent: ASGI servers hand header values over as latin-1 text."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:  # not from a header: compare it as configured tokens are
        return value.encode("utf-8", "surrogatepass")


def token_of(request: Request) -> str | None:
    """The token of a request, from ``X-Auth-Token`` or ``Authorization: Bearer``."""
    token = request.headers.get("x-auth-token")
    if token:
        return token.strip()
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def authorize(request: Request) -> str:
    """Dependency of every protected route: the caller's role, or 401/403."""
    auth: TokenAuth = request.app.state.auth
    token = token_of(request)
    role = auth.role_of(token)
    if role is None:
        raise Unauthorized("a valid token is needed (Authorization: Bearer <token> or "
                           "X-Auth-Token)" if token is None else "the token is not valid",
                           headers={"WWW-Authenticate": "Bearer"})
    if role != ADMIN and request.method not in READ_METHODS:
        raise Forbidden(f"{request.method} {request.url.path} needs an admin token; "
                        "this token may only read")
    return role
