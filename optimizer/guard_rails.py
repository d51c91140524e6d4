"""Guard rails for active mode: when may a recommended plan start by itself?

An audit with ``auto_trigger`` starts its plan as soon as it is recommended,
unless a guard rail says no; the plan then stays RECOMMENDED with the reason,
for a person to review. Rails come from the configuration (``[guard_rails]``,
for the whole service) and from the audit's template; both must agree.

- ``automatic_execution``: the global switch (configuration only).
- ``max_migrations_per_plan``: a bigger plan waits for a person.
- ``max_moved_memory_gb_per_hour``: memory the plan moves, plus what
  migrations moved in the last hour, must stay under it.
- ``allowed_windows``: cron expressions (UTC) of the minutes in which plans
  may start by themselves, e.g. ``* 0-5 * * *`` for the small hours; read
  as crontab reads them (weekday 0 or 7 is Sunday, ``1-5`` Monday to Friday).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from optimizer.models.errors import UserError


class GuardRailError(UserError):
    """Guard rails that cannot be understood."""


@dataclass(frozen=True)
class GuardRails:
    """Limits on automatic execution; zero or empty means no limit."""

    automatic_execution: bool = True
    max_migrations_per_plan: int = 0
    max_moved_memory_gb_per_hour: float = 0.0
    allowed_windows: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None, *, where: str) -> GuardRails:
        """Rails from stored or user-given values, checking every one."""
        raw = dict(raw or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise GuardRailError(f"{where}: unknown guard rail(s) {', '.join(unknown)} "
                                 f"(known: {', '.join(sorted(known))})")
        rails = cls(
            automatic_execution=bool(raw.get("automatic_execution", True)),
            max_migrations_per_plan=_number(raw, "max_migrations_per_plan", int, where),
            max_moved_memory_gb_per_hour=_number(raw, "max_moved_memory_gb_per_hour", float,
                                                 where),
            allowed_windows=tuple(raw.get("allowed_windows") or ()),
        )
        for expression in rails.allowed_windows:
            _trigger(expression, where)
        return rails

    def as_dict(self) -> dict:
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
                for f in fields(self)}


@dataclass(frozen=True)
class PlanLoad:
    """What a plan would add, and what already moved recently."""

    migrations: int
    memory_gb: float
    moved_last_hour_gb: float


class Breach(str):
    """Why a rail keeps a plan from starting: the reason, and the rail's name in ``rail``."""

    rail: str

    def __new__(cls, rail: str, reason: str) -> Breach:
        breach = super().__new__(cls, reason)
        breach.rail = rail
        return breach


def breaches(rails: GuardRails, load: PlanLoad, now: datetime, source: str) -> list[Breach]:
    """Why ``rails`` (named ``source`` in the reasons) keep the plan from starting."""
    reasons = []
    if not rails.automatic_execution:
        reasons.append(Breach("automatic_execution",
                              f"automatic execution is switched off ({source})"))
    if rails.max_migrations_per_plan and load.migrations > rails.max_migrations_per_plan:
        reasons.append(Breach("max_migrations_per_plan",
                              f"{load.migrations} migrations exceed the limit of "
                              f"{rails.max_migrations_per_plan} per plan ({source})"))
    limit = rails.max_moved_memory_gb_per_hour
    # a plan that moves nothing adds nothing to the hour's budget, however spent it is
    moves_memory = load.migrations > 0 and load.memory_gb > 0
    if limit and moves_memory and load.memory_gb + load.moved_last_hour_gb > limit:
        reasons.append(Breach("max_moved_memory_gb_per_hour",
                              f"moving {load.memory_gb:.1f} GB after "
                              f"{load.moved_last_hour_gb:.1f} GB in the last hour exceeds "
                              f"{limit:g} GB per hour ({source})"))
    if rails.allowed_windows and not any(window_open(e, now, source)
                                         for e in rails.allowed_windows):
        reasons.append(Breach("allowed_windows",
                              f"{now:%Y-%m-%d %H:%M} UTC is outside the allowed windows "
                              f"{', '.join(rails.allowed_windows)} ({source})"))
    return reasons


def window_open(expression: str, now: datetime, where: str = "guard rails") -> bool:
    """Whether the minute of ``now`` (UTC) matches the cron ``expression``."""
    minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    trigger = _trigger(expression, where)
    fire = trigger.get_next_fire_time(None, minute - timedelta(microseconds=1))
    return fire is not None and fire == minute


def _trigger(expression: str, where: str):
    from optimizer.scheduler.cron import crontab_trigger

    try:
        return crontab_trigger(expression, timezone=UTC)
    except ValueError as exc:
        raise GuardRailError(f"{where}: allowed window {expression!r} is not a cron expression "
                             f"(minute hour day month weekday): {exc}") from None


def _number(raw: Mapping[str, Any], key: str, kind: type, where: str):
    value = raw.get(key, 0)
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise GuardRailError(f"{where}: {key} must be a number, got {value!r}") from None
    if isinstance(value, bool) or number < 0:
        raise GuardRailError(f"{where}: {key} must be zero or more, got {value!r}")
    return number
