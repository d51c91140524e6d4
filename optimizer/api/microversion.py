"""API microversions: the ``OpenStack-API-Version: infra-optim 1.x`` header.

As in Watcher, a request under ``/v1`` without the header is served as the
minimum version, ``latest`` means the maximum, and the version served is
echoed with the supported range on every ``/v1`` response, so
python-watcherclient can negotiate. A version outside 1.0–1.7 is refused
with 406 (carrying the range headers the client negotiates from); a header
that is not a version at all is a 400.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from optimizer.api.errors import error_response

SERVICE_TYPE = "infra-optim"
VERSION_HEADER = "OpenStack-API-Version"
MIN_HEADER = "OpenStack-API-Minimum-Version"
MAX_HEADER = "OpenStack-API-Maximum-Version"


@dataclass(frozen=True, order=True)
class Version:
    """A microversion such as 1.5."""

    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


MIN_VERSION = Version(1, 0)
MAX_VERSION = Version(1, 7)

# What each feature needs (Watcher's history of the v1 API).
START_END_TIME = Version(1, 1)
FORCE = Version(1, 2)
DATA_MODEL = Version(1, 3)
WEBHOOK = Version(1, 4)
SKIP_ACTION = Version(1, 5)   # PATCH of actions, status_message fields
DEFAULT_PARAMETERS = Version(1, 7)

_VERSION = re.compile(r"^(\d{1,6})\.(\d{1,6})$")


class VersionError(ValueError):
    """A version header the API cannot serve; ``status`` is 400 or 406."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def requested_version(header: str | None) -> Version:
    """The version asked for by an ``OpenStack-API-Version`` header value (None: minimum)."""
    if header is None:
        return MIN_VERSION
    wanted = None
    for part in header.split(","):
        words = part.split()
        if len(words) == 2 and words[0].lower() == SERVICE_TYPE:
            wanted = words[1]
    if wanted is None:
        return MIN_VERSION  # the header is about other services only
    if wanted.lower() == "latest":
        return MAX_VERSION
    match = _VERSION.match(wanted)
    if match is None:
        raise VersionError(f"{VERSION_HEADER} header {header!r} is not "
                           f"'{SERVICE_TYPE} <major>.<minor>' or '{SERVICE_TYPE} latest'", 400)
    version = Version(int(match[1]), int(match[2]))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise VersionError(f"version {version} was requested but this service supports "
                           f"[{MIN_VERSION}, {MAX_VERSION}]", 406)
    return version


def range_headers() -> dict[str, str]:
    return {MIN_HEADER: str(MIN_VERSION), MAX_HEADER: str(MAX_VERSION),
            "Vary": VERSION_HEADER}


def version_of(request) -> Version:
    """The version a request is served at (set by :class:`MicroversionMiddleware`)."""
    return request.scope.get("state", {}).get("api_version", MIN_VERSION)


class MicroversionMiddleware:
    """Reads the version header of ``/v1`` requests and echoes the version served."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1"):
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope.get("headers", ()):
            if name.decode("latin-1").lower() == VERSION_HEADER.lower():
                header = value.decode("latin-1")
        try:
            version = requested_version(header)
        except VersionError as exc:
            response = error_response(exc.status, str(exc), range_headers())
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["api_version"] = version
        extra = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in range_headers().items()]
        extra.append((VERSION_HEADER.encode("latin-1"),
                      f"{SERVICE_TYPE} {version}".encode("latin-1")))

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_version)
