"""The goals and strategies table, kept in step with the installed plugins."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from optimizer.db.schema import GoalRow, StrategyRow
from optimizer.strategies.base import GOALS, Goal, Strategy, StrategyDocError


@dataclass
class SyncReport:
    """Names of the strategies added, changed and removed by a sync."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def sync_goals(session: Session, goals: Iterable[Goal] = GOALS.values()) -> None:
    """Insert or refresh every known goal; goals are never removed (audits name them)."""
    stored = {row.name: row for row in session.scalars(select(GoalRow))}
    for goal in goals:
        row = stored.get(goal.name) or GoalRow(name=goal.name)
        row.display_name, row.description = goal.display_name, goal.description
        session.add(row)
    session.flush()


def sync_strategies(session: Session, strategies: Iterable[Strategy]) -> SyncReport:
    """Make the strategies table list exactly ``strategies``, with their schemas.

    Rows of strategies no longer installed are removed; audits keep the
    strategy's name, so their history stays readable.
    """
    sync_goals(session)
    report = SyncReport()
    stored = {row.name: row for row in session.scalars(select(StrategyRow))}
    seen = set()
    for strategy in strategies:
        seen.add(strategy.name)
        values = {"goal": strategy.goal,
                  "display_name": strategy.display_name or strategy.name,
                  "description": _summary(strategy),
                  "parameters_schema": strategy.schema()}
        row = stored.get(strategy.name)
        if row is None:
            session.add(StrategyRow(name=strategy.name, **values))
            report.added.append(strategy.name)
        elif any(getattr(row, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            report.updated.append(strategy.name)
    report.removed = sorted(set(stored) - seen)
    if report.removed:
        session.execute(delete(StrategyRow).where(StrategyRow.name.in_(report.removed)))
    session.flush()
    return report


def _summary(strategy: Strategy) -> str:
    try:
        return strategy.summary
    except StrategyDocError:
        return ""


def list_goals(session: Session) -> list[GoalRow]:
    """Every stored goal, by name."""
    return list(session.scalars(select(GoalRow).order_by(GoalRow.name)))


def list_strategies(session: Session, goal: str | None = None) -> list[StrategyRow]:
    """Stored strategies, by name, of one goal if given."""
    query = select(StrategyRow).order_by(StrategyRow.name)
    if goal is not None:
        query = query.where(StrategyRow.goal == goal)
    return list(session.scalars(query))
