"""Everything a command or a service needs, opened once from the settings.

Names become objects here (the collector plugin, the strategy plugins); the
rest of the engine receives objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from optimizer.db import Database, open_database, sync_strategies
from optimizer.planning.config import PlannerConfig
from optimizer.plugins import STRATEGY_GROUP, Plugins, load_strategies

if TYPE_CHECKING:  # the collectors and the engine bring numpy and the planner: used, imported
    from optimizer.collectors import Collector
    from optimizer.config import Settings
    from optimizer.decision.engine import DecisionEngine


@dataclass
class Context:
    """Settings, the database, the installed strategies and the configured collector."""

    settings: Settings
    database: Database
    strategies: Plugins
    planner: PlannerConfig = field(default_factory=PlannerConfig)
    _collector: Collector | None = field(default=None, repr=False)

    @property
    def collector(self) -> Collector:
        # opened on first use: listing audits must not need the cloud
        if self._collector is None:
            from optimizer.collectors import open_collector

            self._collector = open_collector(self.settings)
        return self._collector

    def decision_engine(self) -> DecisionEngine:
        from optimizer.decision.engine import DecisionEngine

        return DecisionEngine(self.database, lambda: self.collector.collect(),
                              self.strategies.loaded, self.planner,
                              calibrate=self.calibrated_planner)

    def calibrated_planner(self, planner: PlannerConfig) -> PlannerConfig:
        """``planner`` with the migration bandwidths learnt from measured plans."""
        from optimizer.efficacy.store import calibrated_planner

        with self.database.session() as session:
            return calibrated_planner(session, planner)

    def close(self) -> None:
        self.database.close()


def open_context(settings: Settings, *, create_database: bool = True,
                 with_strategies: bool = True) -> Context:
    """Open the database (upgrading an empty one) and sync the installed strategies into it.

    With ``create_database`` off, a missing or empty database is refused instead.
    Without ``with_strategies`` no strategy is loaded or synced (``strategies``
    is empty): for commands that only read what is stored, which then start
    without importing every strategy and numpy.
    """
    database = open_database(settings.database_url, create=create_database)
    strategies = load_strategies() if with_strategies else Plugins(STRATEGY_GROUP)
    if with_strategies:
        with database.session() as session:
            sync_strategies(session, strategies.loaded.values())
    p = settings.planner
    planner = PlannerConfig(
        disable_before_evacuation=p.disable_before_evacuation,
        max_migrations_per_host=p.max_migrations_per_host,
        max_parallel_migrations=p.max_parallel_migrations,
        migration_bandwidth_mb_s=p.migration_bandwidth_mb_s,
    )
    return Context(settings, database, strategies, planner)
