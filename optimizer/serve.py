"""`optimizer serve`: run the services (see :mod:`optimizer.services`).

The command imports the services only when it runs, so other commands do
not pay for loading oslo.messaging.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import logging

import click

from optimizer.models.errors import UserError
from optimizer.observability.logs import use_format

LOG = logging.getLogger(__name__)

ROLES = ("all", "api", "decision-engine", "applier")


@click.command("serve", short_help="Run the services: API, decision engine, applier.")
@click.option("--role", type=click.Choice(ROLES), default="all", show_default=True,
              help="Which service to run; 'all' runs every one in this process.")
@click.option("--host", "api_host", default=None, help="Address the API listens on.")
@click.option("--port", "api_port", type=int, default=None, help="Port the API listens on.")
@click.option("--transport-url", default=None,
              help="oslo.messaging URL (overrides the configuration), e.g. "
                   "rabbit://guest:guest@127.0.0.1:5672/.")
@click.option("--insecure", is_flag=True,
              help="Serve the API with [api] auth = none on an address other than "
                   "loopback (anyone who reaches it may change the cloud).")
def serve_command(role: str, api_host: str | None, api_port: int | None,
                  transport_url: str | None, insecure: bool) -> None:
    """Run the optimizer's services until SIGTERM or SIGINT.

    With --role all (the default) everything runs in this process, on the
    configured database and fake:// messaging. For several processes use a
    shared database (PostgreSQL) and RabbitMQ, and start one process per role.
    """
    from optimizer.commands.common import current_settings

    settings = current_settings()
    use_format(settings.observability.log_format)  # [logging] format, INFO and up
    if role in ("all", "api"):
        check_exposure(api_host or settings.api.host, settings.api.auth, insecure)
    if transport_url:
        settings = dataclasses.replace(settings, transport_url=transport_url)
    import optimizer.messaging  # noqa: F401  (quiets oslo's eventlet warning before loading it)
    from optimizer.services import run

    run(settings, role, api_host, api_port)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is an address only this machine can reach."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_exposure(host: str, auth: str, insecure: bool) -> None:
    """Refuse an API without authentication on a reachable address, unless ``insecure``."""
    if auth != "none" or is_loopback(host):
        return
    if not insecure:
        raise UserError(
            f"[api] auth = none with [api] host = {host!r}: anyone who reaches this address "
            "could change the cloud; set [api] auth = token (and admin_tokens), listen on "
            "127.0.0.1, or pass --insecure to serve it anyway")
    LOG.warning("INSECURE: the API listens on %s without authentication ([api] auth = none); "
                "anyone who reaches it can start action plans on the cloud", host)
