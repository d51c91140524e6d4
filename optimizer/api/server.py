"""Serving the API with uvicorn, in the foreground."""
from __future__ import annotations

import gc

import uvicorn

from optimizer.api.app import create_app
from optimizer.context import Context
from optimizer.dispatch import Dispatcher


def serve_api(ctx: Context, dispatcher: Dispatcher, host: str | None = None,
              port: int | None = None, log_level: str = "info") -> None:
    """Run the API until interrupted; host and port default to ``[api]`` settings."""
    api = getattr(ctx.settings, "api", None)
    host = host or (api.host if api else "127.0.0.1")
    port = port if port is not None else (api.port if api else 9322)
    app = create_app(ctx, dispatcher)
    # Everything loaded so far (plugins, numpy, SQLAlchemy) lives as long as the
    # process: kept out of the collector's sight, a full collection no longer
    # walks it, which took 100 ms pauses out of big pages.
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
