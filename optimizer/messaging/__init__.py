"""oslo.messaging for the services: transports, RPC between roles, notifications.

``transport`` opens transports on ``settings.transport_url`` (``fake://``
in-process, ``rabbit://...`` between processes); ``rpc`` carries audit and
plan requests to the decision engine and applier topics; ``notifications``
tells the outside world when audits, plans and actions change.
"""
import warnings

# oslo.messaging imports eventlet support it does not use here (the services
# run the threading executor); its deprecation warning would only confuse.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

from optimizer.messaging.transport import Topics, notification_transport, rpc_transport  # noqa: E402

__all__ = ["Topics", "notification_transport", "rpc_transport"]
