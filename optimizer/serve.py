"""`optimizer serve`: run the services (see :mod:`optimizer.services`).

The command imports the services only when it runs, so other commands do
not pay for loading oslo.messaging.
"""
from __future__ import annotations

import dataclasses

import click

ROLES = ("all", "api", "decision-engine", "applier")


@click.command("serve", short_help="Run the services: API, decision engine, applier.")
@click.option("--role", type=click.Choice(ROLES), default="all", show_default=True,
              help="Which service to run; 'all' runs every one in this process.")
@click.option("--host", "api_host", default=None, help="Address the API listens on.")
@click.option("--port", "api_port", type=int, default=None, help="Port the API listens on.")
@click.option("--transport-url", default=None,
              help="oslo.messaging URL (overrides the configuration), e.g. "
                   "rabbit://guest:guest@127.0.0.1:5672/.")
def serve_command(role: str, api_host: str | None, api_port: int | None,
                  transport_url: str | None) -> None:
    """Run the optimizer's services until SIGTERM or SIGINT.

    With --role all (the default) everything runs in this process, on the
    configured database and fake:// messaging. For several processes use a
    shared database (PostgreSQL) and RabbitMQ, and start one process per role.
    """
    from optimizer.commands.common import current_settings

    settings = current_settings()
    if transport_url:
        settings = dataclasses.replace(settings, transport_url=transport_url)
    import optimizer.messaging  # noqa: F401  (quiets oslo's eventlet warning before loading it)
    from optimizer.services import run

    run(settings, role, api_host, api_port)
