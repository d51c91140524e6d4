"""Who may use the API: bearer tokens with two roles, Keystone, or nobody checked.

With ``[api] auth = token`` a request carries a token as
``Authorization: Bearer <token>`` or ``X-Auth-Token: <token>`` (what
python-watcherclient sends). Tokens in ``admin_tokens`` have the roles
``admin``, ``member`` and ``reader``; tokens in ``reader_tokens`` only
``reader``. With ``auth = keystone`` (:mod:`optimizer.api.keystone`) Keystone
validates the token and gives its roles. Either way the roles go through the
policy rules of :mod:`optimizer.api.policy`: by default admins read and
write, readers and members only read. A request without a token, or with an
unknown one, is a 401; a refused one a 403 naming the rule. With
``auth = none`` every request is an admin's: for local use only.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Request

from optimizer.api.errors import Unauthorized
from optimizer.api.policy import Credentials, Policy, rule_for

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ADMIN, READER = "admin", "reader"
#: the roles a static token of each kind carries into the policy checks
TOKEN_ROLES = {ADMIN: ("admin", "member", "reader"), READER: ("reader",)}


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

    def credentials(self, request: Request) -> Credentials:
        """The caller's roles for the policy checks, or :class:`Unauthorized`."""
        token = token_of(request)
        role = self.role_of(token)
        if role is None:
            raise Unauthorized("a valid token is needed (Authorization: Bearer <token> or "
                               "X-Auth-Token)" if token is None else "the token is not valid",
                               headers={"WWW-Authenticate": "Bearer"})
        return Credentials(TOKEN_ROLES[role])


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
    """Dependency of every protected route: the caller's role, or 401/403.

    The rule is the route's (see :data:`optimizer.api.policy.ROUTE_RULES`); a
    route without one needs ``reader_api`` to read and ``admin_api`` to write.
    """
    who = request.app.state.auth.credentials(request)
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    rule = rule_for(request.method, path) or (
        "reader_api" if request.method in READ_METHODS else "admin_api")
    policy: Policy = request.app.state.policy
    policy.check(rule, who, request.method, request.url.path)
    return ADMIN if "admin" in who.roles else READER
