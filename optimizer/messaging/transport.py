"""Opening oslo.messaging transports on the configured URL.

oslo.messaging registers its own options (``transport_url``, rabbit
tuning...) on whatever ``ConfigOpts`` it is given, so it gets a private one
here and the URL from :class:`optimizer.config.Settings` is passed
explicitly. Transports are shared per URL within a process: the ``fake://``
driver only connects clients and servers that share its exchanges, and a
RabbitMQ connection pool is worth reusing.
"""
from __future__ import annotations

import importlib
import importlib.util
import threading
from dataclasses import dataclass

import oslo_messaging
import oslo_messaging.opts
from oslo_config import cfg

from optimizer.config import mask_password
from optimizer.models.errors import UserError

_LOCK = threading.Lock()
_TRANSPORTS: dict[tuple[str, str], oslo_messaging.Transport] = {}


class MessagingError(UserError):
    """A transport URL that oslo.messaging cannot use."""


@dataclass(frozen=True)
class Topics:
    """The topics services talk on; tests give each run its own."""

    decision_engine: str = "optimizer-decision-engine"
    applier: str = "optimizer-applier"
    notifications: str = "optimizer_notifications"
    nova: str = "versioned_notifications"


def messaging_conf() -> cfg.ConfigOpts:
    """A fresh, parsed ``ConfigOpts`` for oslo.messaging alone."""
    conf = cfg.ConfigOpts()
    # Some options (metrics, tracing) are registered on oslo's global CONF only.
    for group, opts in oslo_messaging.opts.list_opts():
        conf.register_opts(opts, group=group)
    for extra in ("oslo_messaging._tracing.client", "oslo_messaging._metrics.client"):
        module = importlib.import_module(extra) if importlib.util.find_spec(extra) else None
        for name in dir(module) if module else ():
            value = getattr(module, name)
            if name.startswith("oslo_messaging_") and isinstance(value, list):
                conf.register_opts(value, group=name)
    conf([], project="optimizer-messaging", default_config_files=[], default_config_dirs=[])
    return conf


def rpc_transport(url: str) -> oslo_messaging.Transport:
    """The RPC transport for ``url`` (one per process and URL)."""
    return _transport("rpc", url)


def notification_transport(url: str) -> oslo_messaging.Transport:
    """The notification transport for ``url`` (one per process and URL)."""
    return _transport("notification", url)


def _transport(kind: str, url: str) -> oslo_messaging.Transport:
    with _LOCK:
        key = (kind, url)
        if key not in _TRANSPORTS:
            conf = messaging_conf()
            opener = (oslo_messaging.get_rpc_transport if kind == "rpc"
                      else oslo_messaging.get_notification_transport)
            try:
                _TRANSPORTS[key] = opener(conf, url=url)
            except (oslo_messaging.InvalidTransportURL,
                    oslo_messaging.DriverLoadFailure) as exc:
                raise MessagingError(
                    f"transport_url {mask_password(url)!r} cannot be used: {exc}") from None
        return _TRANSPORTS[key]


def close_transports() -> None:
    """Close every transport this process opened (at service shutdown)."""
    with _LOCK:
        for transport in _TRANSPORTS.values():
            transport.cleanup()
        _TRANSPORTS.clear()
