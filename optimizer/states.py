"""The life cycles of audits, action plans and actions, as transition tables.

The states and their names are the ones Watcher users know. Each table maps
a state to the states it may move to; :func:`check_transition` is the one
place that decides, so storage, the API and the applier agree.
"""
from __future__ import annotations

from collections.abc import Mapping

from optimizer.models.errors import UserError


class AuditState:
    """States of an audit."""

    PENDING = "PENDING"
    ONGOING = "ONGOING"
    SUSPENDED = "SUSPENDED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    DELETED = "DELETED"


class AuditType:
    """How an audit is triggered: once, on a schedule, or by an event."""

    ONESHOT = "ONESHOT"
    CONTINUOUS = "CONTINUOUS"
    EVENT = "EVENT"


AUDIT_TYPES = (AuditType.ONESHOT, AuditType.CONTINUOUS, AuditType.EVENT)


class ActionPlanState:
    """States of an action plan."""

    RECOMMENDED = "RECOMMENDED"
    PENDING = "PENDING"
    ONGOING = "ONGOING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    PAUSED = "PAUSED"
    SUPERSEDED = "SUPERSEDED"
    DELETED = "DELETED"


class ActionState:
    """States of one action of a plan."""

    PENDING = "PENDING"
    ONGOING = "ONGOING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    SKIPPED = "SKIPPED"


_A, _P, _X = AuditState, ActionPlanState, ActionState

# Soft deletion is allowed from every audit state except DELETED itself.
AUDIT_TRANSITIONS: Mapping[str, frozenset[str]] = {
    # a CONTINUOUS or EVENT audit may be suspended before its first run
    _A.PENDING: frozenset({_A.ONGOING, _A.SUSPENDED, _A.CANCELLED, _A.DELETED}),
    _A.ONGOING: frozenset({_A.SUCCEEDED, _A.FAILED, _A.CANCELLED, _A.SUSPENDED, _A.DELETED}),
    _A.SUSPENDED: frozenset({_A.ONGOING, _A.CANCELLED, _A.DELETED}),
    _A.SUCCEEDED: frozenset({_A.DELETED}),
    _A.FAILED: frozenset({_A.DELETED}),
    _A.CANCELLED: frozenset({_A.DELETED}),
    _A.DELETED: frozenset(),
}

# A running plan is never dropped outright: it goes through CANCELLING so the
# applier can stop between actions; only terminal plans may be deleted.
ACTION_PLAN_TRANSITIONS: Mapping[str, frozenset[str]] = {
    _P.RECOMMENDED: frozenset({_P.PENDING, _P.CANCELLING, _P.CANCELLED, _P.SUPERSEDED}),
    _P.PENDING: frozenset({_P.ONGOING, _P.CANCELLING, _P.CANCELLED, _P.SUPERSEDED}),
    _P.ONGOING: frozenset({_P.SUCCEEDED, _P.FAILED, _P.CANCELLING, _P.PAUSED}),
    # Paused by request: the applier starts nothing new until resumed.
    _P.PAUSED: frozenset({_P.ONGOING, _P.CANCELLING}),
    _P.CANCELLING: frozenset({_P.CANCELLED}),
    _P.SUCCEEDED: frozenset({_P.DELETED}),
    _P.FAILED: frozenset({_P.DELETED}),
    _P.CANCELLED: frozenset({_P.DELETED}),
    _P.SUPERSEDED: frozenset({_P.DELETED}),
    _P.DELETED: frozenset(),
}

ACTION_TRANSITIONS: Mapping[str, frozenset[str]] = {
    _X.PENDING: frozenset({_X.ONGOING, _X.SKIPPED, _X.CANCELLED}),
    _X.ONGOING: frozenset({_X.SUCCEEDED, _X.FAILED, _X.CANCELLED}),
    _X.SUCCEEDED: frozenset(),
    _X.FAILED: frozenset(),
    _X.CANCELLED: frozenset(),
    _X.SKIPPED: frozenset(),
}

TRANSITIONS: Mapping[str, Mapping[str, frozenset[str]]] = {
    "audit": AUDIT_TRANSITIONS,
    "action plan": ACTION_PLAN_TRANSITIONS,
    "action": ACTION_TRANSITIONS,
}

INITIAL_STATE = {"audit": _A.PENDING, "action plan": _P.RECOMMENDED, "action": _X.PENDING}


class IllegalTransition(UserError):
    """A state change the life cycle does not allow."""

    def __init__(self, kind: str, current: str, requested: str, allowed: frozenset[str]):
        self.kind, self.current, self.requested = kind, current, requested
        choices = ", ".join(sorted(allowed)) or "none, it is final"
        super().__init__(f"{kind} cannot go from {current} to {requested} "
                         f"(allowed from {current}: {choices})")


class UnknownState(UserError):
    """A state name that the life cycle does not have."""


def states(kind: str) -> tuple[str, ...]:
    """Every state of ``kind`` ("audit", "action plan" or "action")."""
    return tuple(_table(kind))


def is_final(kind: str, state: str) -> bool:
    """True when ``state`` has no way out but deletion."""
    return not (_allowed(kind, state) - {"DELETED"})


def check_transition(kind: str, current: str, requested: str) -> None:
    """Raise :class:`IllegalTransition` unless ``kind`` may go ``current`` → ``requested``."""
    allowed = _allowed(kind, current)
    if requested not in _table(kind):
        raise UnknownState(f"{kind} state {requested!r} does not exist "
                           f"(states: {', '.join(_table(kind))})")
    if requested not in allowed:
        raise IllegalTransition(kind, current, requested, allowed)


def _table(kind: str) -> Mapping[str, frozenset[str]]:
    try:
        return TRANSITIONS[kind]
    except KeyError:
        raise ValueError(f"no life cycle for {kind!r} (known: {', '.join(TRANSITIONS)})") from None


def _allowed(kind: str, state: str) -> frozenset[str]:
    table = _table(kind)
    if state not in table:
        raise UnknownState(f"{kind} state {state!r} does not exist (states: {', '.join(table)})")
    return table[state]
