"""Serving the API with uvicorn, in the foreground, in one process or several."""
from __future__ import annotations

import gc
import os

import uvicorn

from optimizer.api.app import create_app
from optimizer.api.workers import WorkerSpec, export
from optimizer.context import Context
from optimizer.dispatch import Dispatcher


def worker_count(configured: int, role: str) -> int:
    """API processes for ``role``: all-in-one keeps one, else ``[api] workers`` or per CPU."""
    if role == "all":
        return 1  # the in-process dispatcher and fake:// transport live in this process
    return configured if configured > 0 else max(2, os.cpu_count() or 1)


def serve_api(ctx: Context, dispatcher: Dispatcher, host: str | None = None,
              port: int | None = None, log_level: str = "info", workers: int = 1,
              spec: WorkerSpec | None = None) -> None:
    """Run the API until interrupted; host and port default to ``[api]`` settings.

    With ``workers`` above one (and a ``spec`` to build them from), uvicorn
    runs that many worker processes on the same socket, each with its own
    app (see :mod:`optimizer.api.workers`); ``ctx`` and ``dispatcher`` then
    stay with this supervising process.
    """
    api = getattr(ctx.settings, "api", None)
    host = host or (api.host if api else "127.0.0.1")
    port = port if port is not None else (api.port if api else 9322)
    if workers > 1 and spec is not None:
        export(spec)
        uvicorn.run("optimizer.api.workers:app", factory=True, workers=workers, host=host,
                    port=port, log_level=log_level, access_log=False)
        return
    app = create_app(ctx, dispatcher)
    # Everything loaded so far (plugins, numpy, SQLAlchemy) lives as long as the
    # process: kept out of the collector's sight, a full collection no longer
    # walks it, which took 100 ms pauses out of big pages.
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
