"""Replay rounds the production way: executor, guard rails in simulated time, journals."""
from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from optimizer.applier import executor as executor_module
from optimizer.guard_rails import GuardRails
from optimizer.replay.fidelity import Fidelity
from optimizer.replay.loop import (
    ProductionRounds,
    RoundSettings,
    policy_settings,
    simulated_epoch,
)
from optimizer.replay.metrics import MetricsRecorder
from optimizer.replay.policies import parse_policy
from optimizer.replay.simulation import Replay, Setup
from optimizer.replay.traces import Traces

POLICY = parse_policy("thr-mmt-0.8")


def busy_traces(folder: str = "20110303") -> Traces:
    """Random loads on 24 VMs: THR 0.8 migrates in most rounds."""
    rows = np.random.default_rng(3).integers(0, 100, size=(24, 40))
    return Traces(Path(folder), tuple(f"vm{i}" for i in range(len(rows))), rows.astype(float))


def replay(rails: GuardRails | None = None, interval_s: float = 300.0,
           duration_s: float = 6000.0, **changes) -> tuple[Replay, dict]:
    settings = policy_settings(POLICY, Fidelity(), 62.5)
    settings = dataclasses.replace(settings, config_rails=rails or GuardRails(), **changes)
    setup = Setup(hosts=12, duration_s=duration_s, interval_s=interval_s)
    sim = Replay(busy_traces(), POLICY, Fidelity(), setup, rounds=ProductionRounds(settings))
    result = sim.run()
    return sim, result


def test_every_plan_runs_through_the_executor(monkeypatch):
    runs = []
    real_run = executor_module.Executor.run

    def counting_run(self, plan_uuid):
        result = real_run(self, plan_uuid)
        runs.append(result)
        return result

    monkeypatch.setattr(executor_module.Executor, "run", counting_run)
    sim, result = replay()
    loop = result.loop
    assert result.migrations > 0
    assert len(runs) == loop["plans_started"] == loop["audits"] == 19
    assert loop["actions"]["succeeded"] == result.migrations
    assert sum(r.progress.succeeded for r in runs) == result.migrations
    assert all(r.state == "SUCCEEDED" for r in runs)
    assert loop["plans_held"] == 0 and loop["rounds_skipped"] == 0


def test_a_guard_rail_on_plan_size_holds_the_bigger_plans():
    free_sim, free = replay()
    _, held = replay(GuardRails(max_migrations_per_plan=1))
    loop = held.loop
    assert loop["plans_held"] > 0
    assert loop["held_by_rail"] == {"max_migrations_per_plan": loop["plans_held"]}
    assert loop["plans_started"] + loop["plans_held"] == loop["audits"]
    # a started plan had at most one migration; a held plan is replaced by the next round's
    assert held.migrations <= loop["plans_started"] < free.loop["plans_started"] + 1
    assert held.migrations < free.migrations
    assert 0 < loop["plans_superseded"] <= loop["plans_held"]


def test_a_window_closed_in_simulated_time_holds_everything():
    # the traces folder 20110303 puts simulated time on 3 March 2011, from midnight UTC
    _, closed = replay(GuardRails(allowed_windows=("* 5 * * *",)))
    assert closed.migrations == 0
    assert closed.loop["plans_held"] == closed.loop["audits"] > 0
    assert closed.loop["held_by_rail"] == {"allowed_windows": closed.loop["audits"]}
    _, weekday = replay(GuardRails(allowed_windows=("* * * * 4",)))  # a Thursday
    assert weekday.migrations > 0 and weekday.loop["plans_held"] == 0


def test_memory_moved_in_the_last_simulated_hour_counts():
    _, free = replay()
    _, capped = replay(GuardRails(max_moved_memory_gb_per_hour=10.0))
    assert capped.loop["held_by_rail"].get("max_moved_memory_gb_per_hour", 0) > 0
    assert 0 < capped.migrations < free.migrations


def test_the_sqlite_journal_gives_the_same_replay():
    _, memory = replay(GuardRails(max_migrations_per_plan=2))
    _, stored = replay(GuardRails(max_migrations_per_plan=2), journal="sqlite")
    assert stored.loop["journal"] == "sqlite"
    assert (stored.energy_kwh, stored.migrations, stored.slatah) == \
        (memory.energy_kwh, memory.migrations, memory.slatah)
    for key in ("plans_started", "plans_held", "plans_superseded", "actions"):
        assert stored.loop[key] == memory.loop[key], key


def test_a_plan_still_running_at_the_next_round_skips_its_audit(monkeypatch):
    in_flight = []
    real_start = Replay.start_migration

    def start(self, v, h):
        in_flight.append(len(self.flights))
        return real_start(self, v, h)

    monkeypatch.setattr(Replay, "start_migration", start)
    # a round a minute, one migration at a time: a plan of several outlasts its round
    _, unlimited = replay(interval_s=60)
    assert unlimited.loop["rounds_skipped"] == 0 and max(in_flight) > 0
    in_flight.clear()
    sim, one_at_a_time = replay(interval_s=60, max_parallel_migrations=1)
    loop = one_at_a_time.loop
    assert loop["rounds_skipped"] > 0
    assert loop["audits"] + loop["rounds_skipped"] == len(one_at_a_time.timeline["time_s"])
    assert one_at_a_time.migrations == loop["actions"]["succeeded"] == len(in_flight)
    assert set(in_flight) == {0}  # each started once the one before had ended
    assert sim.flights == []


def test_time_above_target_is_timed_in_spells():
    rec = MetricsRecorder(hosts=2, vms=1, target_load=0.5)
    no_vm = np.zeros(1)
    for t, load in [(0, [0.6, 0.1]), (100, [0.7, 0.9]), (250, [0.2, 0.9]), (400, [0.9, 0.1])]:
        rec.record(t, np.ones(2, bool), np.zeros(2, bool), no_vm, no_vm, no_vm.astype(bool),
                   load=np.array(load))
    rec.finish()
    # host 0: 0-250 and 400-400 (open at the end, nothing); host 1: 100-400
    assert rec.above_target() == {"target_cpu_load": 0.5, "spells": 2, "mean_s": 275.0,
                                  "p99_s": pytest.approx(299.5, abs=0.1)}


def test_the_target_is_the_strategys_target_cpu_load():
    from optimizer.plugins import find_strategy

    basic = find_strategy("basic_consolidation")
    settings = RoundSettings(goal=basic.goal, strategy=basic.name,
                             parameters={"target_cpu_load": 0.6},
                             strategies={basic.name: basic})
    assert settings.target_load == 0.6
    assert policy_settings(POLICY, Fidelity(), 62.5).target_load == 1.0


def test_simulated_time_starts_on_the_traces_date():
    assert simulated_epoch(Path("x/20110303")) == datetime(2011, 3, 3, tzinfo=UTC)
    assert simulated_epoch(Path("x/day")) == datetime(2000, 1, 1, tzinfo=UTC)


def test_a_plan_running_at_the_end_is_paused_and_nothing_starts_after_it():
    # one round at 300.1 s whose plan, one migration at a time, outlasts the 400 s replayed
    _, whole = replay(duration_s=1200, max_parallel_migrations=1)
    sim, cut = replay(duration_s=400, max_parallel_migrations=1)
    assert cut.loop["plan_states"] == {"PAUSED": 1}
    assert 0 < cut.migrations == cut.loop["actions"]["succeeded"]
    assert cut.migrations < whole.timeline["migrations"][0]
    assert sim.flights == [] and sim.now >= sim.end
