"""The REST API, compatible with OpenStack Watcher's v1 (python-watcherclient works with it).

``create_app(ctx, dispatcher)`` builds the ASGI app; ``serve_api(ctx,
dispatcher, host, port)`` runs it with uvicorn until interrupted.
"""
from optimizer.api.app import create_app
from optimizer.api.server import serve_api

__all__ = ["create_app", "serve_api"]
