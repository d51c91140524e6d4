"""The ASGI application: Watcher's v1 REST API over the optimizer's engine.

:func:`create_app` wires the routers to a :class:`~optimizer.context.Context`
(storage, strategies, collector) and a
:class:`~optimizer.dispatch.Dispatcher` (where audits and plans go to run).
Request handlers are plain functions: FastAPI runs them on its thread pool,
so the synchronous storage layer never blocks the event loop.
"""
from __future__ import annotations

from fastapi import Depends, FastAPI

from optimizer.api import (
    action_plans,
    actions,
    audit_templates,
    audits,
    data_model,
    goals,
    health,
    metrics,
    readiness,
    root,
    scoring_engines,
    services,
    strategies,
    webhooks,
)
from optimizer.api.auth import TokenAuth, authorize
from optimizer.api.errors import install_error_handlers, method_table
from optimizer.api.microversion import MicroversionMiddleware
from optimizer.api.nul_guard import NulGuardMiddleware
from optimizer.api.openapi import install as install_openapi
from optimizer.api.policy import Policy
from optimizer.api.services import ServiceLister, embedded_services
from optimizer.api.tracing import TracingMiddleware
from optimizer.config import ApiSettings
from optimizer.context import Context
from optimizer.dispatch import Dispatcher
from optimizer.ui import install as install_console

PROTECTED = (goals, strategies, audit_templates, audits, action_plans, actions, data_model,
             readiness, scoring_engines, services, webhooks)


def create_app(ctx: Context, dispatcher: Dispatcher, api: ApiSettings | None = None,
               services_list: ServiceLister | None = None) -> FastAPI:
    """The API app; ``api`` defaults to ``ctx.settings.api`` (auth off when there is none)."""
    api = api or getattr(ctx.settings, "api", None) or ApiSettings()
    app = FastAPI(title="optimizer", version="1.0",
                  description="OpenStack Watcher compatible v1 API of the optimizer: goals, "
                              "strategies, audit templates, audits, action plans, actions.")
    app.state.ctx = ctx
    app.state.dispatcher = dispatcher
    app.state.auth = _authenticator(api)
    app.state.policy = Policy(api.policy_file)
    app.state.services = services_list or embedded_services
    install_error_handlers(app)
    metrics.install(app)  # GET /metrics (without a token) and the requests' metrics
    app.add_middleware(MicroversionMiddleware)
    app.add_middleware(TracingMiddleware)
    app.add_middleware(NulGuardMiddleware)  # added last: runs first, before any route
    app.include_router(root.router)
    health.install(app)  # GET /healthz, without a token
    for module in PROTECTED:
        app.include_router(module.router, dependencies=[Depends(authorize)])
    app.state.method_table = method_table([root.router, metrics.router, health.router,
                                           *(m.router for m in PROTECTED)])
    install_openapi(app)
    install_console(app)  # the web console at /ui (optimizer.ui)
    return app


def _authenticator(api: ApiSettings):
    """Who checks callers: Keystone, the static tokens, or nobody (``auth = none``)."""
    if api.auth == "keystone":
        from optimizer.api.keystone import KeystoneAuth  # keystonemiddleware only when used

        return KeystoneAuth(api.keystone)
    return TokenAuth(api.auth == "token", tuple(api.admin_tokens), tuple(api.reader_tokens))
