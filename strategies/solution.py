"""What a strategy returns: ordered actions with reasons, and efficacy indicators."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class Action:
    """One step of a solution; subclasses name their ``type`` as the plan formats do."""

    type: ClassVar[str] = "action"
    reason: str = field(default="", kw_only=True)

    def parameters(self) -> dict:
        """The action's input parameters, without its reason."""
        # fields are plain values, so a shallow copy is enough (asdict deep-copies)
        out = dict(self.__dict__)
        out.pop("reason")
        return out

    def to_plan_entry(self) -> dict:
        """The action as an ``action-plan/1`` entry."""
        return {"type": self.type, **self.parameters(), "reason": self.reason}


@dataclass(frozen=True)
class Migrate(Action):
    """Move an instance: ``live`` for active instances, ``cold`` for the others."""

    type: ClassVar[str] = "migrate"
    instance: str
    source: str
    destination: str
    migration_type: str = "live"


@dataclass(frozen=True)
class Evacuate(Migrate):
    """Rebuild an instance of a failed (down) host on ``destination`` (Nova's evacuate).

    A move like a migration for the planner, the effects and the referee, but
    from a host that is down: ``storage`` says whether the disks survive
    (``shared``: shared storage or boot from volume) or the instance is
    rebuilt from its image and its local disk is lost (``local``).
    """

    type: ClassVar[str] = "evacuate"
    migration_type: str = "evacuate"
    storage: str = "shared"  # shared | local


@dataclass(frozen=True)
class ChangeServiceState(Action):
    """Enable or disable a host's compute service."""

    type: ClassVar[str] = "change_service_state"
    host: str
    state: str  # enabled | disabled


@dataclass(frozen=True)
class ChangePowerState(Action):
    """Power a host on or off (off only once it is empty)."""

    type: ClassVar[str] = "change_power_state"
    host: str
    state: str  # on | off


@dataclass(frozen=True)
class Nop(Action):
    """Does nothing but log its message; useful to test the machinery."""

    type: ClassVar[str] = "nop"
    message: str = ""


@dataclass(frozen=True)
class Sleep(Action):
    """Waits ``duration`` seconds; useful to test the machinery."""

    type: ClassVar[str] = "sleep"
    duration: float = 1.0


@dataclass(frozen=True)
class Indicator:
    """One efficacy indicator of a solution, e.g. how many hosts it releases."""

    name: str
    value: float
    unit: str
    description: str


@dataclass(frozen=True)
class Solution:
    """A strategy's answer: actions in a valid order and what they achieve."""

    strategy: str
    goal: str
    actions: tuple[Action, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    notes: tuple[str, ...] = ()

    def indicator(self, name: str) -> float | None:
        for ind in self.indicators:
            if ind.name == name:
                return ind.value
        return None

    @property
    def migrations(self) -> tuple[Migrate, ...]:
        return tuple(a for a in self.actions if isinstance(a, Migrate))
