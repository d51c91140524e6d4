"""Running an audit: snapshot → scope → strategy → planner → stored plan.

Each audit works on its own snapshot, so two audits can run at once. A
strategy that fails fails its audit with the reason; it never takes the
process down. Every phase is logged with its duration.

The outcome (the plan, the audit's final state) is written through database
outages: each write is retried for a bounded time (:mod:`.recording`) and is
safe to repeat, so a plan is never stored twice; when the database stays
away, :class:`~optimizer.decision.recording.OutcomeNotRecorded` leaves the
audit ONGOING for its caller to run again. A ONESHOT audit found ONGOING
with its plan already stored is only completed, not run again.
"""
from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select, update

from optimizer.db import get_audit, set_audit_state, state_log
from optimizer.db.action_plans import add_action_plan
from optimizer.db.engine import Database
from optimizer.db.schema import ActionPlanRow
from optimizer.db.types import new_uuid
from optimizer.decision.effects import host_changes
from optimizer.decision.recording import OutcomeNotRecorded, RecordRetry, unreachable
from optimizer.decision.scope import apply_scope
from optimizer.decision.selection import Candidate, choose
from optimizer.gc_pause import gc_paused
from optimizer.models.errors import UserError
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.observability import current_metrics
from optimizer.planning import PlannerConfig, plan
from optimizer.states import ActionPlanState, AuditState, AuditType
from optimizer.strategies.base import Strategy
from optimizer.strategies.solution import Solution
from optimizer.tracing import span

LOG = logging.getLogger(__name__)
HOSTNAME = socket.gethostname()


@dataclass(frozen=True)
class AuditOutcome:
    """What one run of an audit produced."""

    audit_uuid: str
    state: str
    action_plan_uuid: str | None = None
    strategy: str | None = None
    message: str = ""
    seconds: dict[str, float] | None = None


@dataclass
class DecisionEngine:
    """Turns audits into recommended action plans."""

    database: Database
    collect: Callable[[], ClusterSnapshot]
    strategies: Mapping[str, Strategy]
    planner: PlannerConfig
    retry: RecordRetry = field(default_factory=RecordRetry)
    # asked before each audit: the planner settings with what was learnt since
    calibrate: Callable[[PlannerConfig], PlannerConfig] | None = None

    def run_audit(self, ident: str) -> AuditOutcome:
        """Run the audit ``ident`` (uuid or name) once; never raises for a strategy's failure.

        Raises OutcomeNotRecorded when the database stayed unreachable while
        the outcome was written (the audit is then left ONGOING).
        """
        with span("audit", service="decision-engine") as current:
            outcome = self._run(ident)
            if current is not None:
                current.set_attributes({"optimizer.audit_uuid": outcome.audit_uuid,
                                        "optimizer.audit_state": outcome.state,
                                        "optimizer.plan_uuid": outcome.action_plan_uuid or ""})
        current_metrics().audit_ended(outcome.state, outcome.strategy)
        return outcome

    def _run(self, ident: str) -> AuditOutcome:
        with self.database.session() as session:
            audit = get_audit(session, ident)
            uuid, kind = audit.uuid, audit.audit_type
            stored = _stored_plan(session, audit.id) if (
                kind == AuditType.ONESHOT and audit.state == AuditState.ONGOING) else None
            if audit.state != AuditState.ONGOING:
                set_audit_state(session, uuid, AuditState.ONGOING)
            audit.hostname = HOSTNAME
            request = (audit.id, audit.goal, audit.strategy, dict(audit.parameters),
                       audit.scope)
            # only a ONESHOT audit ends on it: a failed CONTINUOUS or EVENT one never runs again
            busy = None if audit.force or kind != AuditType.ONESHOT else _ongoing_plan(session)
        if busy is not None and stored is None:
            # Watcher's rule: a plan being carried out changes the cluster under the
            # audit's feet; force says the operator wants the audit anyway
            return self._fail(uuid, f"action plan {busy} is ONGOING; create the audit "
                                    "with force to run it while a plan executes")
        if stored is not None:  # an earlier run stored it, then could not finish
            LOG.warning("audit %s: its plan %s was stored by an earlier run; completing it",
                        uuid, stored[0])
            outcome = AuditOutcome(uuid, AuditState.ONGOING, stored[0], stored[1],
                                   stored[2] or "")
        else:
            try:
                with gc_paused():  # millions of short-lived objects, no cycles
                    outcome = self._decide(uuid, *request)
            except OutcomeNotRecorded:
                raise
            except UserError as exc:
                return self._fail(uuid, str(exc))
            except Exception as exc:  # a broken plugin fails its audit, not the process
                if unreachable(exc):
                    raise OutcomeNotRecorded(f"audit {uuid}: {exc}") from exc
                LOG.exception("audit %s failed", uuid)
                return self._fail(uuid, f"{type(exc).__name__}: {exc}")
        if kind == AuditType.ONESHOT:
            self._record_state(uuid, AuditState.SUCCEEDED, outcome.message or None)
            return AuditOutcome(**{**outcome.__dict__, "state": AuditState.SUCCEEDED})
        return outcome

    def _record_state(self, uuid: str, state: str, message: str | None) -> None:
        def write() -> None:
            with self.database.session() as session:
                set_audit_state(session, uuid, state, message)

        self.retry.run(f"recording audit {uuid} {state}", write)

    def _decide(self, uuid: str, audit_id: int, goal: str, strategy_name: str | None,
                parameters: dict, scope) -> AuditOutcome:
        seconds: dict[str, float] = {}
        clock = time.perf_counter()
        with span("collect", audit_uuid=uuid) as current:
            snapshot = apply_scope(self.collect(), scope)
            if current is not None:
                current.set_attributes({"optimizer.hosts": snapshot.host_count,
                                        "optimizer.instances": len(snapshot.inst_uuids)})
        seconds["model"] = time.perf_counter() - clock

        clock = time.perf_counter()
        planner = self.calibrate(self.planner) if self.calibrate else self.planner
        comparison: list[Candidate] = []
        with span("strategy", audit_uuid=uuid, strategy=strategy_name or f"best for {goal}"):
            if strategy_name:
                strategy = self._strategy(strategy_name, goal)
                solution = strategy.run(snapshot, parameters)
            else:
                strategy, solution, comparison = choose(snapshot, goal, dict(self.strategies),
                                                       planner)
        seconds["strategy"] = time.perf_counter() - clock
        _check_pinned(snapshot, solution, strategy.name)

        clock = time.perf_counter()
        with span("planner", audit_uuid=uuid) as current:
            graph = plan(snapshot, solution, planner)
            duration = graph.schedule().duration_s
            if current is not None:
                current.set_attribute("optimizer.actions", len(graph))
        seconds["planner"] = time.perf_counter() - clock

        clock = time.perf_counter()
        efficacy = [{"name": i.name, "value": i.value, "unit": i.unit}
                    for i in solution.indicators]
        if comparison:
            efficacy.append({"name": "strategy_comparison",
                             "value": [c.as_dict() for c in comparison], "unit": ""})
        message = "; ".join(solution.notes) or None
        plan_uuid = new_uuid()  # chosen here, so a repeated write finds an earlier one
        fields = {"uuid": plan_uuid, "audit_id": audit_id, "strategy": strategy.name,
                  "global_efficacy": efficacy, "estimated_duration_s": duration,
                  "host_changes": host_changes(snapshot, solution), "status_message": message}
        actions = graph.execution_records()
        indicators = [{"name": i.name, "value": float(i.value), "unit": i.unit,
                       "description": i.description} for i in solution.indicators]

        def store() -> None:
            with self.database.session() as session:
                if session.scalar(select(ActionPlanRow.id)
                                  .where(ActionPlanRow.uuid == plan_uuid)) is not None:
                    return  # an attempt whose answer was lost did commit
                row = add_action_plan(session, fields, actions, indicators)
                _supersede_older(session, audit_id, row.id)

        with span("store", audit_uuid=uuid, plan_uuid=plan_uuid):
            self.retry.run(f"storing the plan of audit {uuid}", store)
        seconds["store"] = time.perf_counter() - clock
        current_metrics().audit_planned(strategy.name, seconds, len(actions))
        LOG.info("audit %s: plan %s by %s with %d actions (%s)", uuid, plan_uuid,
                 strategy.name, len(graph), ", ".join(f"{k} {v:.3f}s" for k, v in seconds.items()))
        return AuditOutcome(uuid, AuditState.ONGOING, plan_uuid, strategy.name,
                            message or "", seconds)

    def _strategy(self, name: str, goal: str) -> Strategy:
        strategy = self.strategies.get(name)
        if strategy is None:
            raise UserError(f"unknown strategy {name!r} "
                            f"(installed: {', '.join(sorted(self.strategies))})")
        if strategy.goal != goal:
            raise UserError(f"strategy {name} serves goal {strategy.goal}, not {goal}")
        return strategy

    def _fail(self, uuid: str, reason: str) -> AuditOutcome:
        LOG.warning("audit %s failed: %s", uuid, reason)
        self._record_state(uuid, AuditState.FAILED, reason)
        return AuditOutcome(uuid, AuditState.FAILED, message=reason)


def _ongoing_plan(session) -> str | None:
    """The uuid of an action plan being carried out, if any."""
    return session.scalar(select(ActionPlanRow.uuid)
                          .where(ActionPlanRow.state == ActionPlanState.ONGOING).limit(1))


def _stored_plan(session, audit_id: int) -> tuple[str, str, str | None] | None:
    """(uuid, strategy, message) of the audit's newest plan, if it has one."""
    row = session.execute(
        select(ActionPlanRow.uuid, ActionPlanRow.strategy, ActionPlanRow.status_message)
        .where(ActionPlanRow.audit_id == audit_id, ActionPlanRow.deleted_at.is_(None))
        .order_by(ActionPlanRow.id.desc()).limit(1)).first()
    return None if row is None else (row[0], row[1], row[2])


def _supersede_older(session, audit_id: int, newest_id: int) -> None:
    """A newer recommendation of the same audit replaces the older ones."""
    superseded = session.scalars(
        update(ActionPlanRow)
        .where(ActionPlanRow.audit_id == audit_id, ActionPlanRow.id != newest_id,
               ActionPlanRow.state == ActionPlanState.RECOMMENDED)
        .values(state=ActionPlanState.SUPERSEDED,
                status_message="superseded by a newer plan of the same audit")
        .returning(ActionPlanRow.uuid)
        .execution_options(synchronize_session=False)).all()
    state_log.note_many(session, "action_plan", superseded, ActionPlanState.RECOMMENDED,
                        ActionPlanState.SUPERSEDED)


def _check_pinned(snapshot: ClusterSnapshot, solution: Solution, strategy: str) -> None:
    """A plugin that ignores ``snapshot.movable`` must not get its plan through."""
    if snapshot.movable.all():
        return
    stay = {snapshot.inst_uuids[i] for i in np.flatnonzero(~snapshot.movable)}
    moved = [m.instance for m in solution.migrations if m.instance in stay]
    if moved:
        raise UserError(f"strategy {strategy} moved {len(moved)} instance(s) that must stay "
                        f"(excluded by the scope or mid-change; first: {moved[0]})")
