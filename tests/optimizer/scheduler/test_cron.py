"""Crontab lines read as crontab reads them: Sunday is 0 and 7, weekday OR day of month."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from optimizer.models.errors import UserError

from optimizer.guard_rails import GuardRailError, GuardRails, window_open
from optimizer.scheduler.continuous import audit_trigger
from optimizer.scheduler.cron import crontab_weekdays

MONDAY = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a Monday
WEEK = [MONDAY + timedelta(days=k) for k in range(7)]  # Monday .. Sunday
NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def open_days(expression: str) -> set[str]:
    return {NAMES[k] for k, day in enumerate(WEEK) if window_open(expression, day)}


def fire_days(expression: str) -> list[str]:
    """The weekdays of a week on which a continuous audit's cron line fires."""
    trigger = audit_trigger(expression)
    fire, days = MONDAY - timedelta(seconds=1), []
    while True:
        fire = trigger.get_next_fire_time(None, fire + timedelta(seconds=1))
        if fire >= MONDAY + timedelta(days=7):
            return days
        days.append(NAMES[fire.weekday()])


WEEKDAYS = {"mon", "tue", "wed", "thu", "fri"}


@pytest.mark.parametrize("field, days", [
    ("1-5", WEEKDAYS),
    ("mon-fri", WEEKDAYS),
    ("MON-Fri", WEEKDAYS),
    ("0", {"sun"}),
    ("7", {"sun"}),
    ("sun", {"sun"}),
    ("1", {"mon"}),
    ("6", {"sat"}),
    ("0,6", {"sat", "sun"}),
    ("sat,sun", {"sat", "sun"}),
    ("sat-sun", {"sat", "sun"}),
    ("5-7", {"fri", "sat", "sun"}),
    ("0-6", set(NAMES)),
    ("*", set(NAMES)),
    ("*/2", {"sun", "tue", "thu", "sat"}),
    ("1-5/2", {"mon", "wed", "fri"}),
    ("3/2", {"wed", "fri", "sun"}),
    ("mon,3-4,sat", {"mon", "wed", "thu", "sat"}),
])
def test_guard_rail_windows_open_on_the_crontab_weekdays(field, days):
    assert open_days(f"* * * * {field}") == days


def test_each_weekday_by_number_is_that_day():
    for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")):
        assert open_days(f"* 12 * * {number}") == {name}, number


def test_continuous_audits_fire_on_the_crontab_weekdays():
    assert fire_days("0 12 * * 1-5") == ["mon", "tue", "wed", "thu", "fri"]
    assert fire_days("0 12 * * 0") == ["sun"]
    assert fire_days("0 12 * * 7") == ["sun"]
    assert fire_days("0 12 * * sat,sun") == ["sat", "sun"]
    assert fire_days("0 12 * * *") == list(NAMES)


def test_day_of_month_or_weekday_when_both_are_given():
    # crontab: the 1st of the month, and every Friday (4 Dec 2026 is one)
    assert fire_days("0 12 1 * 5") == ["tue", "fri"]  # 1 Dec 2026 is a Tuesday
    assert window_open("0 12 1 * 5", datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    assert window_open("0 12 1 * 5", datetime(2026, 12, 4, 12, 0, tzinfo=UTC))
    assert not window_open("0 12 1 * 5", datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    # a day field starting with * keeps both conditions
    assert fire_days("0 12 */2 * 1") == []  # Monday 30 Nov is an even day


@pytest.mark.parametrize("field", ["8", "mon-", "fri-mon", "monday", "1-5/0", "x", ""])
def test_bad_weekdays_are_named(field):
    with pytest.raises(ValueError, match="weekday"):
        crontab_weekdays(field)


def test_bad_weekdays_are_named_by_the_rails_and_the_audits():
    with pytest.raises(GuardRailError, match=r"allowed window '\* \* \* \* 8'.*weekday '8'"):
        GuardRails.from_mapping({"allowed_windows": ["* * * * 8"]}, where="template t")
    with pytest.raises(UserError, match=r"audit interval '0 \* \* \* fri-mon'.*backwards"):
        audit_trigger("0 * * * fri-mon")


def test_jobs_stored_with_the_old_weekday_rules_are_remade():
    """A cron job pickled before the fix (named without the rules) no longer matches."""
    from types import SimpleNamespace

    from optimizer.scheduler.continuous import _job_name

    cron = SimpleNamespace(uuid="u", interval="0 12 * * 1-5", start_time=None, end_time=None)
    old_name = "audit u every 0 12 * * 1-5 from None to None"
    assert _job_name(cron) != old_name
    every = SimpleNamespace(uuid="u", interval="600", start_time=None, end_time=None)
    assert _job_name(every) == "audit u every 600 from None to None"  # interval jobs stay
