"""Crontab lines as APScheduler 3 triggers, read the way crontab reads them.

APScheduler 3's ``CronTrigger`` numbers weekdays from Monday (0 = Monday,
6 = Sunday) while crontab numbers them from Sunday (0 and 7 = Sunday), so a
line handed over as it is runs a day late: ``* * * * 1-5`` would fire
Tuesday to Saturday. Crontab also fires when *either* the day of the month
or the weekday matches if both are restricted (neither starts with ``*``);
APScheduler wants both. :func:`crontab_trigger` translates both rules, and
is what guard-rail windows and CONTINUOUS audits' schedules use.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

# crontab's numbering: index 0 (and 7) is Sunday
CRONTAB_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_ITEM = re.compile(r"^(?P<range>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>\d+))?$")


def crontab_trigger(expression: str, *, start: datetime | None = None,
                    end: datetime | None = None, timezone: tzinfo = UTC) -> BaseTrigger:
    """The trigger firing at the minutes a crontab line names; ``ValueError`` if it is not one."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"a crontab line has 5 fields (minute hour day month weekday), "
                         f"got {len(fields)}")
    minute, hour, day, month, weekday = fields
    common = dict(minute=minute, hour=hour, month=month, start_date=start, end_date=end,
                  timezone=timezone)
    weekdays = crontab_weekdays(weekday)
    if day.startswith("*") or weekday.startswith("*"):
        return CronTrigger(day=day, day_of_week=weekdays, **common)
    return OrTrigger([CronTrigger(day=day, **common),
                      CronTrigger(day_of_week=weekdays, **common)])


def crontab_weekdays(field: str) -> str:
    """A crontab weekday field as APScheduler's: ``*`` or a list of day names.

    Takes numbers 0-7 (0 and 7 are Sunday) and names sun-sat, as single
    days, ranges (``1-5``, ``mon-fri``, ``sat-sun``) and steps (``*/2``,
    ``1-5/2``), separated by commas.
    """
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.lower().split(","):
        days |= _weekday_item(item, field)
    return ",".join(CRONTAB_DAYS[d] for d in sorted(days))


def _weekday_item(item: str, field: str) -> set[int]:
    match = _ITEM.match(item)
    if match is None:
        raise ValueError(f"weekday {field!r}: {item!r} is not a day, a range or a step "
                         "(0-7 with 0 and 7 for Sunday, or sun-sat)")
    text, step = match["range"], int(match["step"] or 1)
    if step < 1:
        raise ValueError(f"weekday {field!r}: step {step} must be at least 1")
    if text == "*":
        first, last = 0, 7
    elif "-" in text:
        low, high = text.split("-")
        first, last = _day(low, field), _day(high, field, end=True)
    else:
        first = _day(text, field)
        last = 7 if match["step"] else first  # "a/n": from a to the end of the week
    if first > last:
        raise ValueError(f"weekday {field!r}: range {text!r} runs backwards")
    return {d % 7 for d in range(first, last + 1, step)}


def _day(token: str, field: str, end: bool = False) -> int:
    if token.isdigit():
        number = int(token)
        if number > 7:
            raise ValueError(f"weekday {field!r}: {token} is not a day (0-7, 0 and 7 Sunday)")
        return number
    if token not in CRONTAB_DAYS:
        raise ValueError(f"weekday {field!r}: {token!r} is not a day name (sun-sat)")
    number = CRONTAB_DAYS.index(token)
    return 7 if end and number == 0 else number  # "sat-sun" ends on Sunday
