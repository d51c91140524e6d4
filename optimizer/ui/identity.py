"""Who is using the console: the role of the session's token, asked of the API's auth.

Pages that find no valid session send the browser to the login form; the
JSON and event endpoints answer 401 instead, and the console's script then
goes to the login form itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse

from optimizer.api.auth import ADMIN
from optimizer.ui.session import COOKIE, Session, decode, signing_key


@dataclass(frozen=True)
class Identity:
    """A logged-in user (or anyone, when the API checks no tokens)."""

    role: str
    session: Session | None
    csrf: str

    @property
    def admin(self) -> bool:
        return self.role == ADMIN


class LoginNeeded(Exception):
    """No valid session: a page redirects to the login form, data answers 401."""

    def __init__(self, page: bool, path: str):
        super().__init__(path)
        self.page, self.path = page, path


def console_key(request: Request) -> bytes:
    """The signing key of this API's sessions (derived from its configured tokens)."""
    auth = request.app.state.auth
    return signing_key(*getattr(auth, "admin_tokens", ()), *getattr(auth, "reader_tokens", ()))


def identify(request: Request) -> Identity | None:
    """The caller's identity from the session cookie, or None (log in first)."""
    auth = request.app.state.auth
    key = console_key(request)
    session = decode(request.cookies.get(COOKIE), key)
    role = auth.role_of(session.token if session else None)
    if role is None:
        return None
    return Identity(role, session, session.csrf(key) if session else Session("", 0).csrf(key))


def page_identity(request: Request) -> Identity:
    """Dependency of the HTML pages: the identity, else a redirect to the login form."""
    found = identify(request)
    if found is None:
        raise LoginNeeded(True, request.url.path)
    return found


def data_identity(request: Request) -> Identity:
    """Dependency of the JSON and event endpoints: the identity, else a 401."""
    found = identify(request)
    if found is None:
        raise LoginNeeded(False, request.url.path)
    return found


def login_needed_response(request: Request, exc: LoginNeeded):
    """How a missing session is answered (installed as the exception's handler)."""
    if exc.page:
        return RedirectResponse(f"/ui/login?next={quote(exc.path)}", status_code=303)
    return JSONResponse({"error": "log in again: the session is missing, forged or expired",
                         "login": "/ui/login"}, status_code=401)


PageUser = Annotated[Identity, Depends(page_identity)]
DataUser = Annotated[Identity, Depends(data_identity)]
