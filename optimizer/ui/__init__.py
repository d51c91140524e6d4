"""The web console at ``/ui``: the cluster, audits and action plans, in the API's process.

Same process, same auth: the login form takes an API token (checked by the
API's own auth) and keeps it in a signed HttpOnly cookie; reads come from
the collector and database as compact JSON the pages draw on canvas, and
every write goes to the ``/v1`` API with the session's token.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).with_name("static")


def router() -> APIRouter:
    """Every console route under ``/ui``."""
    from optimizer.ui import data, pages, proxy

    ui = APIRouter(prefix="/ui", tags=["console"])
    ui.add_api_route("", pages.home, include_in_schema=False)
    for part in (pages.router, data.router, data.events, proxy.router):
        ui.include_router(part)
    return ui


def install(app: FastAPI) -> None:
    """Serve the console on ``app``: its routes, static files and login redirect."""
    from optimizer.ui.identity import LoginNeeded, login_needed_response

    app.include_router(router())
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="console-static")
    app.add_exception_handler(LoginNeeded, login_needed_response)
