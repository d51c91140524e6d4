"""API errors in Watcher's envelope, with the HTTP status a client can act on.

Watcher answers every error with ``{"error_message": "<JSON text>"}`` where
the text holds ``faultcode``, ``faultstring`` and ``debuginfo``;
python-watcherclient decodes that string and shows ``faultstring``. Every
:class:`optimizer.models.errors.UserError` raised below the API becomes a 4xx here,
mapped by its class; anything else is a bug: logged with its traceback and
answered with a 500 that says only that.
"""
from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from optimizer.db.errors import (
    UNREACHABLE,
    AlreadyExists,
    ConcurrentUpdate,
    DatabaseError,
    InvalidQuery,
    NotFound,
    StillRunning,
    describe_unreachable,
    unreachable_cause,
)
from optimizer.models.errors import UserError
from optimizer.states import IllegalTransition

LOG = logging.getLogger(__name__)
RETRY_AFTER_S = 5  # a restarting PostgreSQL is usually back within seconds


class ApiError(Exception):
    """A request the API refuses, with its HTTP status and a one-line reason."""

    status = 400

    def __init__(self, message: str, status: int | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = headers or {}


class BadRequest(ApiError):
    """A malformed body, parameter, filter or patch (400)."""

    status = 400


class Unauthorized(ApiError):
    """No token, or one the service does not know (401)."""

    status = 401


class Forbidden(ApiError):
    """A known token without the role the request needs (403)."""

    status = 403


class ResourceNotFound(ApiError):
    """No item with this id (404)."""

    status = 404


class Conflict(ApiError):
    """A state change the life cycle refuses, or a clash with another item (409)."""

    status = 409


class NotAcceptable(ApiError):
    """An API version this service does not serve (406)."""

    status = 406


# Most specific first: the first class an error is an instance of wins.
USER_ERROR_STATUS: tuple[tuple[type[UserError], int], ...] = (
    (NotFound, 404),
    (AlreadyExists, 409),
    (ConcurrentUpdate, 409),
    (IllegalTransition, 409),
    (StillRunning, 409),
    (InvalidQuery, 400),
    (DatabaseError, 503),
)


def status_of(error: UserError) -> int:
    """The HTTP status of an engine error a user caused."""
    for kind, status in USER_ERROR_STATUS:
        if isinstance(error, kind):
            return status
    return 400


def error_response(status: int, message: str,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """Watcher's error body: ``error_message`` is itself a JSON document, as text."""
    fault = {"faultcode": "Client" if status < 500 else "Server",
             "faultstring": message, "debuginfo": None}
    return JSONResponse({"error_message": json.dumps(fault)}, status_code=status,
                        headers=headers)


def describe_validation(exc: RequestValidationError) -> str:
    """One line naming each invalid field of a request and what is wrong with it."""
    problems = []
    for error in exc.errors():
        where = [str(part) for part in error.get("loc", ()) if part != "body"]
        kind = error.get("type", "")
        if kind == "json_invalid":
            problems.append("request body is not valid JSON")
            continue
        if kind == "extra_forbidden":
            problems.append(f"unknown field {'.'.join(where)!r}")
            continue
        field = ".".join(where) or "request body"
        problems.append(f"{field}: {error.get('msg', 'invalid')}")
    return "; ".join(problems) or "invalid request"


def method_table(routers) -> list[tuple]:
    """(path regex, methods) of every route of ``routers``, for :func:`allowed_methods`."""
    return [(route.path_regex, frozenset(route.methods or ()))
            for router in routers for route in router.routes
            if getattr(route, "path_regex", None) is not None]


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on the request's path (Starlette names only one's)."""
    path = request.scope["path"]
    table = getattr(request.app.state, "method_table", ())
    return sorted({m for regex, methods in table if regex.match(path) for m in methods})


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error in Watcher's envelope, never with a traceback."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError) -> JSONResponse:
        if unreachable_cause(exc) is not None:
            return await _unreachable(request, exc)
        return error_response(status_of(exc), str(exc))

    async def _unreachable(request: Request, exc: Exception) -> JSONResponse:
        # Logged without a traceback: an outage, not a bug; the client retries.
        LOG.warning("%s %s: %s", request.method, request.url.path,
                    describe_unreachable(unreachable_cause(exc) or exc))
        return error_response(503, "the database is unreachable; try again in a few seconds",
                              {"Retry-After": str(RETRY_AFTER_S)})

    for kind in UNREACHABLE:
        app.add_exception_handler(kind, _unreachable)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.status_code)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no resource at {request.url.path}"
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            allowed = allowed_methods(request)
            message = (f"method {request.method} is not allowed on {request.url.path}; "
                       f"allowed: {', '.join(allowed)}")
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        return error_response(exc.status_code, message, headers)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        LOG.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal error (a bug); the API log has the details")
