"""The console's session: an HttpOnly cookie holding the API token, signed with HMAC.

The cookie carries the token itself (so every request the console makes on
the user's behalf goes to the ``/v1`` API with that identity) and an expiry,
signed with a key derived from the configured tokens: every API worker
computes the same key, and rotating the tokens ends every session. A cookie
whose signature, shape or expiry is wrong is no session at all.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

COOKIE = "optimizer_console"
LIFETIME_S = 8 * 3600


@dataclass(frozen=True)
class Session:
    """Who is logged in: their API token and when the session ends (epoch seconds)."""

    token: str
    expires: float

    def csrf(self, key: bytes) -> str:
        """The value a write must echo in ``X-Console-CSRF``: a cookie alone is not enough."""
        return hmac.new(key, f"csrf|{self.token}|{self.expires}".encode(),
                        hashlib.sha256).hexdigest()


def signing_key(*secrets: str) -> bytes:
    """A key every worker derives alike from the configured secrets (the tokens)."""
    digest = hashlib.sha256(b"optimizer-console-v1")
    for secret in sorted(secrets):
        digest.update(hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest())
    return digest.digest()


def encode(session: Session, key: bytes) -> str:
    """The cookie value of ``session``: base64 JSON, a dot, its HMAC."""
    body = base64.urlsafe_b64encode(json.dumps(
        {"t": session.token, "e": session.expires}).encode()).decode()
    return f"{body}.{_mac(body, key)}"


def decode(value: str | None, key: bytes, now: float | None = None) -> Session | None:
    """The session a cookie holds, or None when it is missing, forged or expired."""
    if not value or value.count(".") != 1:
        return None
    body, mac = value.split(".")
    if not hmac.compare_digest(mac, _mac(body, key)):
        return None
    try:
        fields = json.loads(base64.urlsafe_b64decode(body.encode()))
        session = Session(str(fields["t"]), float(fields["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    if session.expires <= (time.time() if now is None else now):
        return None
    return session


def new_session(token: str, now: float | None = None) -> Session:
    """A session for ``token`` lasting :data:`LIFETIME_S`."""
    return Session(token, (time.time() if now is None else now) + LIFETIME_S)


def _mac(body: str, key: bytes) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
