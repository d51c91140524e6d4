"""Guard rails: windows, limits and the global switch."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from optimizer.guard_rails import GuardRailError, GuardRails, PlanLoad, breaches, window_open

NIGHT = datetime(2026, 11, 26, 3, 15, tzinfo=UTC)
LOAD = PlanLoad(migrations=20, memory_gb=100.0, moved_last_hour_gb=50.0)


def test_windows_match_the_minute():
    assert window_open("* 0-5 * * *", NIGHT)
    assert not window_open("* 6-23 * * *", NIGHT)
    assert window_open("15 3 * * thu", NIGHT)
    assert not window_open("15 3 * * fri", NIGHT)


def test_no_rails_no_breach():
    assert breaches(GuardRails(), LOAD, NIGHT, "x") == []


@pytest.mark.parametrize("rails, fragment", [
    (GuardRails(automatic_execution=False), "switched off"),
    (GuardRails(max_migrations_per_plan=10), "20 migrations exceed the limit of 10"),
    (GuardRails(max_moved_memory_gb_per_hour=120), "moving 100.0 GB after 50.0 GB"),
    (GuardRails(allowed_windows=("* 8-17 * * mon-fri",)), "outside the allowed windows"),
])
def test_each_rail_names_itself(rails, fragment):
    reasons = breaches(rails, LOAD, NIGHT, "template t")
    assert len(reasons) == 1 and fragment in reasons[0] and "(template t)" in reasons[0]


def test_limits_that_hold_pass():
    rails = GuardRails(max_migrations_per_plan=20, max_moved_memory_gb_per_hour=150,
                       allowed_windows=("* 8-17 * * *", "* 0-4 * * *"))
    assert breaches(rails, LOAD, NIGHT, "x") == []


@pytest.mark.parametrize("raw, message", [
    ({"max_migrations_per_plan": -1}, "must be zero or more"),
    ({"max_moved_memory_gb_per_hour": "lots"}, "must be a number"),
    ({"allowed_windows": ["every night"]}, "is not a cron expression"),
    ({"speed": 3}, "unknown guard rail"),
])
def test_bad_rails_are_named(raw, message):
    with pytest.raises(GuardRailError, match=message):
        GuardRails.from_mapping(raw, where="audit template t")


def test_a_bad_window_in_the_configuration_fails_at_load(tmp_path, monkeypatch):
    from optimizer.config import load_config

    monkeypatch.delenv("OPTIMIZER_DATABASE_URL", raising=False)
    config = tmp_path / "optimizer.conf"
    config.write_text("[guard_rails]\nallowed_windows = nightly\n")
    with pytest.raises(GuardRailError, match=r"\[guard_rails\] allowed_windows: allowed window "
                                             "'nightly' is not a cron expression"):
        load_config(str(config))
    config.write_text("[guard_rails]\nallowed_windows = * 0-5 * * *\nautomatic_execution = false\n")
    settings = load_config(str(config))
    assert settings.guard_rails.allowed_windows == ("* 0-5 * * *",)
    assert settings.guard_rails.automatic_execution is False


def test_a_plan_that_moves_nothing_passes_a_spent_memory_budget():
    """Regression: 0 migrations were held back as 'moving 0.0 GB ... exceeds'."""
    spent = PlanLoad(migrations=0, memory_gb=0.0, moved_last_hour_gb=2000.0)
    rails = GuardRails(max_moved_memory_gb_per_hour=1024, max_migrations_per_plan=1)
    assert breaches(rails, spent, NIGHT, "x") == []
    # the rails that do not count what moves still apply to an empty plan
    assert breaches(GuardRails(automatic_execution=False), spent, NIGHT, "x")
    assert breaches(GuardRails(allowed_windows=("* 8-17 * * *",)), spent, NIGHT, "x")
    # one more gigabyte on a spent hour is still held back
    one = PlanLoad(migrations=1, memory_gb=1.0, moved_last_hour_gb=2000.0)
    assert breaches(rails, one, NIGHT, "x")
