"""``POST /v1/webhooks/{audit}``: an event asks an EVENT audit to run now."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response

from optimizer.api.errors import BadRequest, Conflict, NotAcceptable
from optimizer.api.microversion import WEBHOOK, version_of
from optimizer.db import get_audit
from optimizer.states import AuditState, AuditType

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

# An EVENT audit stays ONGOING between events (the decision engine keeps it so).
RUNNABLE = (AuditState.PENDING, AuditState.ONGOING)


@router.post("/{audit}", status_code=202, summary="Run an EVENT audit now")
def trigger(request: Request, audit: str) -> Response:
    if version_of(request) < WEBHOOK:
        raise NotAcceptable(f"the webhook API needs version {WEBHOOK} or later")
    with request.app.state.ctx.database.session() as session:
        row = get_audit(session, audit)
        uuid, kind, state = row.uuid, row.audit_type, row.state
    if kind != AuditType.EVENT:
        raise BadRequest(f"audit {audit} is {kind}; only an EVENT audit runs on a webhook")
    if state not in RUNNABLE:
        raise Conflict(f"audit {audit} is {state}; it runs on a webhook only when "
                       f"{', '.join(RUNNABLE)}")
    request.app.state.dispatcher.trigger_audit(uuid)
    return Response(status_code=202)
