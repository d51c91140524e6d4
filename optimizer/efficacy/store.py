"""Where measured efficacy and learnt bandwidths are kept in the database."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from optimizer.db.schema import ActionPlanRow, ActionRow, MigrationBandwidthRow
from optimizer.db.types import utcnow
from optimizer.efficacy.calibration import Learnt, Table, calibrated
from optimizer.efficacy.measure import ActionRecord
from optimizer.planning.config import PlannerConfig


def plan_actions(session: Session, plan_id: int) -> list[ActionRecord]:
    """The plan's actions in plan order, as measuring reads them."""
    rows = session.execute(
        select(ActionRow.type, ActionRow.state, ActionRow.parameters, ActionRow.duration_s)
        .where(ActionRow.action_plan_id == plan_id).order_by(ActionRow.index))
    return [ActionRecord(kind, state, parameters or {}, duration)
            for kind, state, parameters, duration in rows]


def store_measured(session: Session, plan_id: int, document: dict[str, Any]) -> None:
    """Keep ``document`` as the plan's measured efficacy (a later measure replaces it)."""
    session.execute(update(ActionPlanRow).where(ActionPlanRow.id == plan_id)
                    .values(measured_efficacy=document)
                    .execution_options(synchronize_session=False))


def load_bandwidth(session: Session) -> dict[tuple[str, str], Learnt]:
    """Every learnt bandwidth, by (source, destination)."""
    rows = session.execute(select(MigrationBandwidthRow.source, MigrationBandwidthRow.destination,
                                  MigrationBandwidthRow.mb_s, MigrationBandwidthRow.samples))
    return {(source, destination): Learnt(mb_s, samples)
            for source, destination, mb_s, samples in rows}


def save_bandwidth(session: Session, table: Table, pairs: Iterable[tuple[str, str]]) -> None:
    """Write the learnt bandwidth of ``pairs`` (from ``table``), adding pairs not stored yet."""
    pairs = set(pairs)
    if not pairs:
        return
    stored = {(row.source, row.destination): row for row in session.scalars(
        select(MigrationBandwidthRow).where(
            MigrationBandwidthRow.source.in_({s for s, _ in pairs})))}
    now = utcnow()
    for pair in sorted(pairs):
        learnt = table[pair]
        row = stored.get(pair)
        if row is None:
            session.add(MigrationBandwidthRow(source=pair[0], destination=pair[1],
                                              mb_s=learnt.mb_s, samples=learnt.samples,
                                              updated_at=now))
        else:
            row.mb_s, row.samples, row.updated_at = learnt.mb_s, learnt.samples, now


def calibrated_planner(session: Session, planner: PlannerConfig) -> PlannerConfig:
    """``planner`` estimating migrations with the stored learnt bandwidths."""
    return calibrated(planner, load_bandwidth(session))
