"""The console's way to the ``/v1`` API: a request forwarded in-process with the session's token.

Every write the console makes (start, cancel, skip, create, suspend) is a
call of the same API an operator's CLI or watcherclient makes — the same
authorization, validation and state machine — carried out by handing the
request to this very application as if it came with ``X-Auth-Token``. A
write must also carry the session's CSRF value in ``X-Console-CSRF``, so a
page elsewhere cannot make the browser write with its cookie.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from optimizer.ui.identity import DataUser, Identity

API_VERSION = "infra-optim 1.7"
READS = frozenset({"GET", "HEAD"})
router = APIRouter()


@dataclass
class Answer:
    """What the API answered: status, headers and body."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@router.api_route("/api/{path:path}", methods=["GET", "POST", "PATCH", "DELETE"],
                  include_in_schema=False)
async def forward(request: Request, who: DataUser, path: str) -> Response:
    """``/ui/api/X`` is ``/v1/X`` called with the session's token."""
    if request.method not in READS and not hmac.compare_digest(
            request.headers.get("x-console-csrf", ""), who.csrf):
        return JSONResponse({"error": "the request did not come from a console page "
                                      "(X-Console-CSRF missing or wrong); reload the page"},
                            status_code=403)
    answer = await call_api(request, f"/v1/{path}", who)
    kept = [(k, v) for k, v in answer.headers if k.lower() in (b"content-type", b"location")]
    response = Response(answer.body, status_code=answer.status)
    for key, value in kept:
        response.headers[key.decode("latin-1")] = value.decode("latin-1")
    return response


async def call_api(request: Request, path: str, who: Identity) -> Answer:
    """Run ``path`` through the whole application (middleware, auth, routes) once."""
    body = await request.body()
    headers = [(b"openstack-api-version", API_VERSION.encode()),
               (b"content-type", request.headers.get("content-type",
                                                     "application/json").encode("latin-1"))]
    if who.session is not None:
        headers.append((b"x-auth-token", who.session.token.encode("latin-1", "replace")))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": request.method, "scheme": request.url.scheme, "path": path,
             "raw_path": path.encode(), "root_path": "",
             "query_string": request.scope.get("query_string", b""), "headers": headers,
             "client": request.scope.get("client"), "server": request.scope.get("server"),
             "state": {}}
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    answer = Answer(500, [], b"")

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            answer.status, answer.headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            answer.body += message.get("body", b"")

    await request.app(scope, receive, send)
    return answer
