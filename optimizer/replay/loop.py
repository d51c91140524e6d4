"""Each replay round the production way: audit, guard rails, applier.

At every tick (``--interval``) the replay runs:

1. the decision engine's audit of one CONTINUOUS, auto-triggered audit: the
   snapshot of the simulated data centre (:mod:`optimizer.replay.production`),
   the strategy plugin with the audit's parameters (a ``--policy`` is the
   ``power_aware_consolidation`` plugin with the policy's; a goal-only
   template compares the goal's strategies with
   :func:`optimizer.decision.selection.choose`), the engine's check of pinned
   instances, and the planner. With ``journal="sqlite"`` this is
   :meth:`DecisionEngine.run_audit` itself on a SQLite database in memory (the
   plan stored RECOMMENDED; a newer plan supersedes a held one); with the
   default ``"memory"`` the same pieces run without storing the plan
   (:mod:`optimizer.replay.journal` says why);
2. the guard rails (:func:`optimizer.guard_rails.breaches`, configuration and
   template alike) with simulated time as *now* and the memory migrations
   moved in the last simulated hour; a plan they hold stays RECOMMENDED;
3. otherwise the applier's :class:`~optimizer.applier.executor.Executor` with
   the production journal runs the plan against
   :class:`~optimizer.replay.actuator.ReplayActuator`; its clock and sleep are
   simulated time, so migrations start when the executor starts them and end
   when the simulation says.

A plan still running at the next tick keeps it: that round's audit is
skipped (counted in ``rounds_skipped``), as a continuous audit's run waits
while its applier works. The simulated data centre goes on meanwhile. A plan
still running when the replay ends is interrupted (the executor's
``interrupt``): it pauses, and what runs completes without being accounted.
"""
from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from optimizer.applier.actions import load_actions
from optimizer.applier.executor import Executor
from optimizer.applier.journal import PlanJournal
from optimizer.applier.policy import ExecutionPolicy
from optimizer.db import create_audit, get_action_plan, set_action_plan_state, update_action_plan
from optimizer.db.engine import open_database
from optimizer.db.schema import ActionPlanRow, ActionRow
from optimizer.decision.engine import DecisionEngine, _check_pinned
from optimizer.decision.selection import choose
from optimizer.guard_rails import GuardRails, PlanLoad, breaches
from optimizer.models.errors import UserError
from optimizer.planning import PlannerConfig, plan
from optimizer.replay.actuator import ReplayActuator, SimulatedTime
from optimizer.replay.journal import JOURNALS, MemoryJournal
from optimizer.replay.production import SnapshotMaker
from optimizer.states import ActionPlanState, AuditState, AuditType
from optimizer.strategies.base import Strategy

#: stands for "no limit" in the applier's and the planner's concurrency settings
UNLIMITED = 10**9
POLICY_STRATEGY = "power_aware_consolidation"
HELD_PREFIX = "not started automatically: "


@dataclass(frozen=True)
class RoundSettings:
    """What decides the rounds: the audit, the guard rails and the applier's limits.

    ``strategies`` are the plugins the audit may use (one when it names its
    strategy; a goal-only audit compares them all). ``template_rails`` come
    from the audit template named ``template`` and must agree with
    ``config_rails`` (``[guard_rails]``). A concurrency limit of 0 means none:
    CloudSim starts every migration of a round at once.
    """

    goal: str
    strategy: str | None
    parameters: Mapping[str, Any]
    strategies: Mapping[str, Strategy]
    config_rails: GuardRails = field(default_factory=GuardRails)
    template: str | None = None
    template_rails: GuardRails | None = None
    max_parallel_migrations: int = 0
    max_migrations_per_host: int = 0
    journal: str = "memory"

    def __post_init__(self):
        if self.journal not in JOURNALS:
            raise UserError(f"journal {self.journal!r}: choose one of {', '.join(JOURNALS)}")

    @property
    def target_load(self) -> float:
        """The strategy's ``target_cpu_load`` parameter, else 1.0 (a host short of CPU)."""
        if self.strategy is None:
            return 1.0
        typed = self.strategies[self.strategy].validate(dict(self.parameters))
        return float(getattr(typed, "target_cpu_load", 1.0))


def policy_parameters(policy, fidelity, migration_mb_per_s: float) -> dict:
    """The power-aware consolidation plugin's parameters for a literature policy under
    ``fidelity`` (the round's own choices: detector, selection, the fidelity's switches)."""
    return {"detector": policy.detector, "safety": policy.safety, "selection": policy.selection,
            "count_round_placements": fidelity.count_round_placements,
            "lr_weighted": fidelity.lr_weighted, "migration_mb_per_s": migration_mb_per_s,
            **dict(policy.options)}


def policy_settings(policy, fidelity, migration_mb_per_s: float) -> RoundSettings:
    """A literature policy (``lr-mmt-1.2``) as an audit of the power-aware consolidation plugin."""
    from optimizer.plugins import find_strategy

    parameters = policy_parameters(policy, fidelity, migration_mb_per_s)
    strategy = find_strategy(POLICY_STRATEGY)
    return RoundSettings(goal=strategy.goal, strategy=POLICY_STRATEGY, parameters=parameters,
                         strategies={POLICY_STRATEGY: strategy})


def simulated_epoch(folder) -> datetime:
    """When simulated time 0 is: the traces folder's date (``20110303``), else 2000-01-01 UTC."""
    match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", getattr(folder, "name", "") or "")
    if match:
        try:
            return datetime(*map(int, match.groups()), tzinfo=UTC)
        except ValueError:
            pass
    return datetime(2000, 1, 1, tzinfo=UTC)


class ProductionRounds:
    """Runs every round of a replay through the production decision and execution code."""

    def __init__(self, settings: RoundSettings):
        self.settings = settings
        self.target_load = settings.target_load
        self.counts: Counter[str] = Counter()
        self.held_by_rail: Counter[str] = Counter()
        self.actions: Counter[str] = Counter()
        self.plan_states: Counter[str] = Counter()

    @classmethod
    def for_policy(cls, policy, fidelity, migration_mb_per_s: float = 62.5) -> ProductionRounds:
        return cls(policy_settings(policy, fidelity, migration_mb_per_s))

    # ----- setting up ------------------------------------------------------------

    def start(self, replay) -> None:
        """Wire snapshot, planner, executor policy, actuator and clock (and the database)."""
        s = self.settings
        self.replay = replay
        self.epoch = simulated_epoch(getattr(replay.traces, "folder", None))
        self.maker = SnapshotMaker(replay)
        self.snapshot = None
        limit_host = s.max_migrations_per_host or UNLIMITED
        limit_all = s.max_parallel_migrations or UNLIMITED
        self.planner = PlannerConfig(max_migrations_per_host=limit_host,
                                     max_parallel_migrations=limit_all)
        self.policy = ExecutionPolicy(max_migrations_per_host=limit_host,
                                      max_parallel_migrations=limit_all)
        self.plugins = load_actions()
        self.actuator = ReplayActuator(replay, self.maker.index_of_vm, self.maker.host_index,
                                       self.maker.host_names)
        self.time = SimulatedTime(replay, self.policy.poll_interval_s)
        self.held_last = False
        self.database = None
        if s.journal == "sqlite":
            self.database = open_database("sqlite://")
            self.engine = DecisionEngine(self.database, self._collect, s.strategies,
                                         self.planner)
            with self.database.session() as session:
                audit = create_audit(session, goal=s.goal, strategy=s.strategy,
                                     parameters=dict(s.parameters), name="replay",
                                     audit_type=AuditType.CONTINUOUS,
                                     interval=int(replay.setup.interval_s), auto_trigger=True)
                self.audit_uuid = audit.uuid

    def _collect(self):
        self.snapshot = self.maker()
        return self.snapshot

    # ----- one round -------------------------------------------------------------

    def __call__(self, replay, t: float) -> int:
        """Audit, guard rails, applier at simulated time ``t``; the hosts seen overloaded."""
        if self.held_last:  # the new plan of the audit replaces the one held back
            self.counts["plans_superseded"] += 1
            self.held_last = False
        decide = self._audit_stored if self.database is not None else self._audit
        uuid, journal, migrations, memory_mb, overloaded = decide(t)
        self.counts["audits"] += 1
        now = self.epoch + timedelta(seconds=t)
        load = PlanLoad(migrations, memory_mb / 1024, replay.moved_mb_since(t - 3600.0) / 1024)
        reasons = self._breaches(load, now)
        if reasons:
            self._hold(uuid, reasons, load, now)
        else:
            self._execute(uuid, journal)
        return overloaded

    def _audit(self, t: float):
        """The decision engine's pieces, the plan kept in memory."""
        s = self.settings
        snapshot = self._collect()
        try:
            if s.strategy:
                strategy = s.strategies[s.strategy]
                solution = strategy.run(snapshot, dict(s.parameters))
            else:
                strategy, solution, _ = choose(snapshot, s.goal, dict(s.strategies),
                                               self.planner)
            _check_pinned(snapshot, solution, strategy.name)
            graph = plan(snapshot, solution, self.planner)
        except UserError as exc:
            raise UserError(f"replay round at {t:.1f} s: the audit failed: {exc}") from None
        records = graph.execution_records()
        uuid = f"replay-plan-{self.counts['audits'] + 1}"
        indicators = {i.name: i.value for i in solution.indicators}
        memory_mb = self._memory_mb([m.instance for m in solution.migrations], indicators)
        return (uuid, MemoryJournal(uuid, records), len(solution.migrations), memory_mb,
                self._overloaded(indicators))

    def _audit_stored(self, t: float):
        """:meth:`DecisionEngine.run_audit` itself: the plan stored in the database."""
        outcome = self.engine.run_audit(self.audit_uuid)
        if outcome.state == AuditState.FAILED:
            raise UserError(f"replay round at {t:.1f} s: the audit failed: {outcome.message}")
        uuid = outcome.action_plan_uuid
        with self.database.session() as session:
            stored = get_action_plan(session, uuid)
            indicators = {i.name: i.value for i in stored.indicators}
            moved = session.scalars(select(ActionRow.parameters).where(
                ActionRow.action_plan_id == stored.id, ActionRow.type == "migrate")).all()
        memory_mb = self._memory_mb([p.get("instance") for p in moved], indicators)
        return uuid, None, len(moved), memory_mb, self._overloaded(indicators)

    def _memory_mb(self, instances: list[str], indicators: Mapping[str, Any]) -> float:
        """Memory the plan moves: its ``migrated_memory_gb`` indicator, else the instances'
        sizes (as ``operations.guard_rail_breaches`` reads it)."""
        if indicators.get("migrated_memory_gb") is not None:
            return float(indicators["migrated_memory_gb"]) * 1024
        snapshot = self.snapshot
        ids = snapshot.instance_ids
        return sum(float(snapshot.inst_size[ids[u], 1]) for u in instances if u in ids)

    def _overloaded(self, indicators: Mapping[str, Any]) -> int:
        overloaded = indicators.get("overloaded_hosts")
        if overloaded is None:
            overloaded = int((self.snapshot.host_load() > 1.0).sum())
        return int(overloaded)

    def _breaches(self, load: PlanLoad, now: datetime) -> list[str]:
        s = self.settings
        reasons = breaches(s.config_rails, load, now, "configuration")
        if s.template_rails is not None:
            reasons += breaches(s.template_rails, load, now, f"audit template {s.template}")
        return reasons

    def _hold(self, uuid: str, reasons: list[str], load: PlanLoad, now: datetime) -> None:
        """Leave the plan RECOMMENDED with the reasons, as ``operations.hold_back`` does."""
        if self.database is not None:
            with self.database.session() as session:
                update_action_plan(session, uuid,
                                   status_message=HELD_PREFIX + "; ".join(reasons))
        self.counts["plans_held"] += 1
        self.held_last = True
        s = self.settings
        for rails in (s.config_rails, s.template_rails):
            for name in broken_rails(rails, load, now):
                self.held_by_rail[name] += 1

    def _execute(self, uuid: str, journal: MemoryJournal | None) -> None:
        """Start the plan and run it to its end with the production executor."""
        if journal is None:
            with self.database.session() as session:
                set_action_plan_state(session, uuid, ActionPlanState.PENDING,
                                      expect=ActionPlanState.RECOMMENDED)
            journal = PlanJournal(self.database, uuid)
        claimed = journal.claim(self.policy.heartbeat_timeout_s)
        policy = self.policy.for_plan(claimed.failure_policy, claimed.revert_on_failure)
        executor = Executor(journal, self.actuator, self.plugins, policy,
                            clock=self.time.clock, sleep=self.time.sleep)
        executor.plan_state = claimed.state
        # at the replay's end the plan is interrupted as an applier that stops: it pauses,
        # starts nothing more and returns once what runs has ended
        executor.interrupt = lambda: self.replay.now >= self.replay.end
        executor.load(journal.load_actions())
        result = executor.run(claimed.uuid)
        self.counts["plans_started"] += 1
        self.plan_states[result.state] += 1
        p = result.progress
        self.actions.update({"succeeded": p.succeeded, "failed": p.failed,
                             "skipped": p.skipped, "cancelled": p.cancelled})

    # ----- the figures -----------------------------------------------------------

    def figures(self) -> dict:
        """What the rounds did, for the result's ``rounds`` object."""
        superseded = self.counts["plans_superseded"]
        if self.database is not None:
            with self.database.session() as session:
                superseded = int(session.scalar(
                    select(func.count()).select_from(ActionPlanRow)
                    .where(ActionPlanRow.state == ActionPlanState.SUPERSEDED)) or 0)
            self.database.close()
        return {
            "audits": self.counts["audits"],
            "plans_started": self.counts["plans_started"],
            "plans_held": self.counts["plans_held"],
            "held_by_rail": dict(sorted(self.held_by_rail.items())),
            "plans_superseded": superseded,
            "rounds_skipped": self.replay.rounds_skipped,
            "when_a_plan_runs": "the round's audit is skipped",
            "plan_states": dict(sorted(self.plan_states.items())),
            "actions": {k: self.actions[k] for k in ("succeeded", "failed", "skipped",
                                                     "cancelled")},
            "strategy": self.settings.strategy,
            "template": self.settings.template,
            "journal": self.settings.journal,
            "executor_sleeps": self.time.sleeps,
        }


def broken_rails(rails: GuardRails | None, load: PlanLoad, now: datetime) -> list[str]:
    """Names of the rails of ``rails`` that ``load`` breaks at ``now``, one by one."""
    if rails is None:
        return []
    names = []
    for f in dataclasses.fields(GuardRails):
        value = getattr(rails, f.name)
        if value == f.default:
            continue
        if breaches(dataclasses.replace(GuardRails(), **{f.name: value}), load, now, ""):
            names.append(f.name)
    return names
