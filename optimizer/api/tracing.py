"""A span around every API write, so an audit's trace starts at the request that made it."""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from optimizer.tracing import is_enabled, span

READS = frozenset({"GET", "HEAD", "OPTIONS"})


class TracingMiddleware:
    """Traces POST, PATCH, PUT and DELETE requests while tracing is on; reads are not traced."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READS or not is_enabled():
            await self.app(scope, receive, send)
            return
        with span(f"{scope['method']} {scope['path']}", service="api") as current:
            async def send_traced(message: Message) -> None:
                if message["type"] == "http.response.start":
                    current.set_attribute("http.response.status_code", message["status"])
                await send(message)

            await self.app(scope, receive, send_traced)
