"""The published OpenAPI document, made to say what the API really answers.

FastAPI declares a 422 for every operation with parameters, which this API
never returns (invalid input is a 400 in Watcher's envelope), and knows
nothing of the errors the middleware and handlers give. :func:`install`
replaces the generated document with one whose operations list exactly
the error statuses they can answer, each with the envelope's schema.
"""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

WRITES = frozenset({"post", "put", "patch", "delete"})
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error_message"],
    "properties": {"error_message": {
        "type": "string",
        "description": "A JSON document as text: faultcode, faultstring, debuginfo "
                       "(what python-watcherclient decodes)."}},
}
ERRORS = {
    "400": "Bad request: an invalid body, parameter, filter, patch or version header, "
           "or a NUL character anywhere in the request",
    "401": "No token, or an unknown one ([api] auth = token)",
    "403": "The token may only read",
    "404": "No item with this id or name",
    "405": "A method this path does not serve; Allow lists those it does",
    "406": "A microversion outside the supported range",
    "409": "A state change the life cycle refuses, or a clash with another item",
    "503": "The database is unreachable; Retry-After says when to try again",
}


def error_statuses(path: str, method: str) -> list[str]:
    """The error statuses an operation can answer."""
    if not path.startswith("/v1"):
        return []  # the version document at / takes no input
    statuses = ["400", "405", "406"]
    if path != "/v1":
        statuses += ["401", "503"]
        if method in WRITES:
            statuses += ["403", "409"]
        if "{" in path or method in WRITES:
            statuses.append("404")  # an unknown id, or a goal, strategy or audit named
    return sorted(statuses)


def _response(status: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": ERRORS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    if status == "405":
        response["headers"] = {"Allow": {"schema": {"type": "string"},
                                         "description": "The methods this path serves"}}
    if status == "503":
        response["headers"] = {"Retry-After": {"schema": {"type": "string"},
                                               "description": "Seconds to wait"}}
    if status == "401":
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return response


def document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document with true error responses."""
    doc = get_openapi(title=app.title, version=app.version, description=app.description,
                      routes=app.routes)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Error"] = ERROR_SCHEMA
    for path, operations in doc.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            for status in error_statuses(path, method):
                responses.setdefault(status, _response(status))
    return doc


def install(app: FastAPI) -> None:
    """Serve :func:`document` (built once, on first request) at ``/openapi.json``."""
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
