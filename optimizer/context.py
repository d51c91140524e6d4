"""Everything a command or a service needs, opened once from the settings.

Names become objects here (the collector plugin, the strategy plugins); the
rest of the engine receives objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from optimizer.collectors import Collector, open_collector
from optimizer.config import Settings
from optimizer.db import Database, open_database, sync_strategies
from optimizer.decision.engine import DecisionEngine
from optimizer.planning import PlannerConfig
from optimizer.plugins import Plugins, load_strategies


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
            self._collector = open_collector(self.settings)
        return self._collector

    def decision_engine(self) -> DecisionEngine:
        return DecisionEngine(self.database, lambda: self.collector.collect(),
                              self.strategies.loaded, self.planner)

    def close(self) -> None:
        self.database.close()


def open_context(settings: Settings, *, create_database: bool = True) -> Context:
    """Open the database (upgrading an empty one) and sync the installed strategies into it.

    With ``create_database`` off, a missing or empty database is refused instead.
    """
    database = open_database(settings.database_url, create=create_database)
    strategies = load_strategies()
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
