"""The audit, action plan and action life cycles."""
import pytest
from optimizer.models.errors import UserError

from optimizer.states import (
    TRANSITIONS,
    ActionPlanState,
    AuditState,
    IllegalTransition,
    UnknownState,
    check_transition,
    is_final,
    states,
)


@pytest.mark.parametrize(("kind", "current", "requested"), [
    ("audit", "PENDING", "ONGOING"),
    ("audit", "ONGOING", "SUSPENDED"),
    ("audit", "SUSPENDED", "ONGOING"),
    ("audit", "PENDING", "CANCELLED"),
    ("audit", "SUCCEEDED", "DELETED"),
    ("action plan", "RECOMMENDED", "PENDING"),
    ("action plan", "RECOMMENDED", "CANCELLED"),
    ("action plan", "ONGOING", "CANCELLING"),
    ("action plan", "CANCELLING", "CANCELLED"),
    ("action plan", "PENDING", "SUPERSEDED"),
    ("action plan", "SUPERSEDED", "DELETED"),
    ("action", "PENDING", "SKIPPED"),
    ("action", "ONGOING", "FAILED"),
])
def test_allowed_transitions_pass(kind, current, requested):
    check_transition(kind, current, requested)


@pytest.mark.parametrize(("kind", "current", "requested"), [
    ("audit", "SUCCEEDED", "ONGOING"),
    ("audit", "PENDING", "SUCCEEDED"),
    ("audit", "DELETED", "PENDING"),
    ("action plan", "ONGOING", "CANCELLED"),
    ("action plan", "ONGOING", "DELETED"),
    ("action plan", "ONGOING", "SUPERSEDED"),
    ("action plan", "SUCCEEDED", "ONGOING"),
    ("action", "SUCCEEDED", "PENDING"),
    ("action", "PENDING", "SUCCEEDED"),
])
def test_refused_transition_names_kind_and_both_states(kind, current, requested):
    with pytest.raises(IllegalTransition) as info:
        check_transition(kind, current, requested)
    message = str(info.value)
    assert kind in message and current in message and requested in message
    assert isinstance(info.value, UserError)


def test_refusal_lists_what_is_allowed():
    with pytest.raises(IllegalTransition, match="allowed from ONGOING: CANCELLING, FAILED"):
        check_transition("action plan", "ONGOING", "CANCELLED")


def test_unknown_state_is_a_user_error_naming_the_states():
    with pytest.raises(UnknownState, match="'DONE' does not exist.*SUCCEEDED"):
        check_transition("audit", "ONGOING", "DONE")


def test_every_target_state_is_a_known_state():
    for kind in ("audit", "action plan", "action"):
        known = set(states(kind))
        for targets in TRANSITIONS[kind].values():
            assert targets <= known


def test_final_states():
    assert is_final("audit", AuditState.SUCCEEDED)
    assert not is_final("audit", AuditState.SUSPENDED)
    assert is_final("action plan", ActionPlanState.SUPERSEDED)
    assert is_final("action", "SKIPPED")
