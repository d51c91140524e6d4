"""RPC between the services: requests cast to the decision engine and applier topics.

The API (or the scheduler) holds an :class:`RPCDispatcher`; it *casts*
requests, so it never waits for an audit or a plan to finish, and RabbitMQ
gives each cast to one consumer of the topic. Consumers still claim the
work in the database (see :mod:`optimizer.scheduler.audit_worker` and the
applier's own PENDING → ONGOING claim), because queues redeliver.
"""
from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

import oslo_messaging

from optimizer.messaging.transport import Topics, rpc_transport
from optimizer.tracing import extracted, inject, span

if TYPE_CHECKING:
    from optimizer.context import Context
    from optimizer.scheduler.audit_worker import AuditWorker

LOG = logging.getLogger(__name__)
VERSION = "1.0"


class RPCDispatcher:
    """A :class:`optimizer.dispatch.Dispatcher` that casts over oslo.messaging."""

    def __init__(self, transport_url: str, topics: Topics | None = None):
        self.topics = topics = topics or Topics()
        transport = rpc_transport(transport_url)
        self._decision = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic=topics.decision_engine, version=VERSION))
        self._applier = oslo_messaging.get_rpc_client(
            transport, oslo_messaging.Target(topic=topics.applier, version=VERSION))

    def trigger_audit(self, audit_uuid: str) -> None:
        # The request id lets an EVENT audit run once per webhook call.
        self._decision.cast(inject({}), "trigger_audit", audit_uuid=audit_uuid,
                            request_id=uuid.uuid4().hex)

    def launch_plan(self, plan_uuid: str) -> None:
        self._applier.cast(inject({}), "launch_plan", plan_uuid=plan_uuid)


class DecisionEngineEndpoint:
    """RPC methods of the decision engine topic."""

    target = oslo_messaging.Target(version=VERSION)

    def __init__(self, audits: AuditWorker):
        self.audits = audits

    def trigger_audit(self, ctxt, audit_uuid: str, request_id: str | None = None) -> str:
        try:
            with extracted(ctxt), span("rpc trigger_audit", service="decision-engine",
                                       audit_uuid=audit_uuid):
                return self.audits.handle_request(audit_uuid, request_id)
        except Exception:  # one bad request never stops the server
            LOG.exception("audit %s: request failed", audit_uuid)
            return "error"


class ApplierEndpoint:
    """RPC methods of the applier topic."""

    target = oslo_messaging.Target(version=VERSION)

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def launch_plan(self, ctxt, plan_uuid: str) -> str:
        try:
            from optimizer.applier import execute_plan  # claims PENDING → ONGOING itself
        except ImportError as exc:
            LOG.error("action plan %s not executed: no applier installed (%s)", plan_uuid, exc)
            return "no applier"
        from optimizer.models.errors import UserError

        try:
            with extracted(ctxt), span("rpc launch_plan", service="applier", plan_uuid=plan_uuid):
                execute_plan(self.ctx, plan_uuid)
        except UserError as exc:  # claimed by recovery or another applier first, or over
            LOG.info("action plan %s not executed here: %s", plan_uuid, exc)
            return "skipped"
        except Exception:
            LOG.exception("action plan %s: execution failed", plan_uuid)
            return "error"
        return "executed"


def rpc_server(transport_url: str, topic: str, server_name: str,
               endpoints: list) -> oslo_messaging.MessageHandlingServer:
    """A started-on-demand RPC server consuming ``topic`` with a thread pool."""
    target = oslo_messaging.Target(topic=topic, server=server_name, version=VERSION)
    return oslo_messaging.get_rpc_server(rpc_transport(transport_url), target, endpoints)
