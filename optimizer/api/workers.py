"""API worker processes: each builds its own app from the parent's settings.

With ``[api] workers`` above one, uvicorn's supervisor starts that many
processes on one listening socket; each imports :func:`app` (a factory) and
opens its own database pool, RPC client and notification emitter, so no
connection is ever shared across a fork. The parent hands its settings over
in an environment variable, which spawned children inherit.
"""
from __future__ import annotations

import base64
import gc
import logging
import os
import pickle
from dataclasses import dataclass

from fastapi import FastAPI

from optimizer.config import Settings
from optimizer.messaging.transport import Topics

LOG = logging.getLogger(__name__)
ENVIRONMENT = "OPTIMIZER_API_WORKER_SPEC"


@dataclass(frozen=True)
class WorkerSpec:
    """What every API worker process needs: the settings and the RPC topics."""

    settings: Settings
    topics: Topics


def export(spec: WorkerSpec) -> None:
    """Make ``spec`` what worker processes started from now on build their app from."""
    os.environ[ENVIRONMENT] = base64.b64encode(pickle.dumps(spec)).decode("ascii")


def imported() -> WorkerSpec:
    """The spec the parent exported (only ever set by :func:`export` of our own parent)."""
    encoded = os.environ.get(ENVIRONMENT)
    if not encoded:
        raise RuntimeError(f"{ENVIRONMENT} is not set: API workers are started by serve_api")
    return pickle.loads(base64.b64decode(encoded))  # noqa: S301 (written by our parent)


def app() -> FastAPI:
    """The app of one worker process (a uvicorn factory)."""
    from optimizer.api.app import create_app
    from optimizer.api.reads import ReadingMiddleware, ReadMostlyDatabase
    from optimizer.context import open_context
    from optimizer.messaging.notifications import NotificationEmitter, watch_database
    from optimizer.messaging.rpc import RPCDispatcher

    spec = imported()
    settings = spec.settings
    ctx = open_context(settings)
    ctx.database = ReadMostlyDatabase.wrap(ctx.database)  # this process's own context
    closers = [ctx.close]
    if settings.service.notifications:
        emitter = NotificationEmitter(settings.transport_url, spec.topics.notifications,
                                      settings.service.host)
        emitter.database = ctx.database
        closers[:0] = [watch_database(ctx.database, emitter), emitter.flush, emitter.close]
    application = create_app(ctx, RPCDispatcher(settings.transport_url, spec.topics))
    application.add_middleware(ReadingMiddleware)
    if settings.tracing.enabled:
        from optimizer.tracing import configure_tracing, shutdown_tracing

        configure_tracing(settings.tracing, settings.database_url, "api")
        closers.append(shutdown_tracing)

    def close() -> None:
        for closer in closers:
            try:
                closer()
            except Exception:  # closing the rest matters more than this one
                LOG.exception("closing the API worker failed")

    application.router.on_shutdown.append(close)
    gc.freeze()  # see serve_api
    LOG.info("API worker %d ready", os.getpid())
    return application
