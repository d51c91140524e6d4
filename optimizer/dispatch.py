"""Handing work to the decision engine and the applier.

The API and the scheduler do not run audits or plans themselves: they
dispatch them. :class:`InProcessDispatcher` runs them on a small thread pool
in this process (the embedded default); the messaging layer provides a
dispatcher that casts the same requests over oslo.messaging RPC to separate
decision-engine and applier processes.
"""
from __future__ import annotations

import contextvars
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from optimizer.context import Context

LOG = logging.getLogger(__name__)


class Dispatcher(Protocol):
    """Where audits and plans go to be worked on."""

    def trigger_audit(self, audit_uuid: str) -> None:
        """Run the audit soon (it is PENDING, or ONGOING for a continuous one)."""

    def launch_plan(self, plan_uuid: str) -> None:
        """Execute the PENDING action plan soon."""


class InProcessDispatcher:
    """Runs audits and plans on worker threads of this process."""

    def __init__(self, ctx: Context, workers: int = 2):
        self.ctx = ctx
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dispatch")
        self.futures: list[Future] = []

    def trigger_audit(self, audit_uuid: str) -> None:
        # the caller's context goes along: the audit continues the request's trace
        self.futures.append(self.pool.submit(contextvars.copy_context().run, self._audit,
                                             audit_uuid))

    def launch_plan(self, plan_uuid: str) -> None:
        self.futures.append(self.pool.submit(contextvars.copy_context().run, self._plan,
                                             plan_uuid))

    def wait(self) -> None:
        """Wait for everything dispatched so far (tests and one-shot commands)."""
        while self.futures:
            self.futures.pop(0).result()

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def _audit(self, uuid: str) -> None:
        outcome = self.ctx.decision_engine().run_audit(uuid)
        LOG.info("audit %s: %s", uuid, outcome.state)
        if outcome.action_plan_uuid and self._auto_trigger(uuid):
            from optimizer.operations import auto_start

            plan = auto_start(self.ctx, outcome.action_plan_uuid)
            if plan.state == "PENDING":
                self.launch_plan(plan.uuid)

    def _plan(self, uuid: str) -> None:
        from optimizer.applier import execute_plan  # the applier issue provides it

        execute_plan(self.ctx, uuid)

    def _auto_trigger(self, uuid: str) -> bool:
        from optimizer.operations import audit_of

        return bool(audit_of(self.ctx, uuid).auto_trigger)
