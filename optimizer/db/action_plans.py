"""Action plans, their actions and efficacy indicators.

A plan is stored with all of its actions in one call, as bulk inserts:
plans of tens of thousands of actions are written in a few executemany
round trips, never one ORM object at a time.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from optimizer import states
from optimizer.db import query, state_log
from optimizer.db.bulk import insert_columns
from optimizer.db.errors import InvalidPlan
from optimizer.db.query import Page, Table
from optimizer.db.schema import ActionPlanRow, ActionRow, IndicatorRow
from optimizer.db.types import new_uuids, utcnow
from optimizer.states import ActionPlanState, ActionState

PLANS = Table(
    ActionPlanRow, "action plan", filters=("state", "audit_id", "strategy"),
    sort_keys=("id", "created_at", "updated_at", "state", "estimated_duration_s"),
    editable=("state", "status_message", "global_efficacy", "estimated_duration_s",
              "host_changes", "failure_policy", "revert_on_failure", "owner", "heartbeat_at"),
)
ACTIONS = Table(
    ActionRow, "action", filters=("state", "type", "action_plan_id"),
    sort_keys=("index", "id", "created_at", "updated_at", "state", "type"),
    editable=("state", "status_message", "operation", "attempts", "moved_memory_mb"),
    soft_deleted=False,
)

PLAN_FIELDS = frozenset({"audit_id", "strategy", "state", "global_efficacy",
                         "estimated_duration_s", "host_changes", "status_message", "uuid",
                         "failure_policy", "revert_on_failure"})
ACTION_FIELDS = frozenset({"type", "parameters", "parents", "reason", "state", "uuid",
                           "status_message"})
INDICATOR_FIELDS = frozenset({"name", "value", "unit", "description"})


def add_action_plan(session: Session, plan_fields: Mapping[str, Any],
                    actions: Sequence[Mapping[str, Any]],
                    indicators: Sequence[Mapping[str, Any]] = ()) -> ActionPlanRow:
    """Store a plan with its actions and indicators; the plan is RECOMMENDED unless told.

    ``plan_fields`` needs ``audit_id`` and ``strategy``. Each action needs
    ``type`` and may have ``parameters``, ``parents`` (indices of earlier
    actions) and ``reason``; its ``index`` is its position in ``actions``.
    """
    _check_keys("action plan", plan_fields, PLAN_FIELDS, required=("audit_id", "strategy"))
    fields = {"state": states.INITIAL_STATE["action plan"], **plan_fields}
    if fields["state"] not in states.ACTION_PLAN_TRANSITIONS:
        raise InvalidPlan(f"action plan state {fields['state']!r} does not exist")
    plan = ActionPlanRow(**fields)
    session.add(plan)
    session.flush()  # the plan's id is needed by its actions
    if actions:
        now = utcnow()
        insert_columns(session, ActionRow.__table__, _action_columns(actions),
                       shared={"action_plan_id": plan.id, "created_at": now, "updated_at": now})
    if indicators:
        rows = []
        for number, indicator in enumerate(indicators):
            _check_keys(f"indicator {number}", indicator, INDICATOR_FIELDS, required=("name",))
            rows.append({"action_plan_id": plan.id, "unit": "", "description": "",
                         "value": None, **indicator})
        session.execute(insert(IndicatorRow.__table__), rows)
    session.refresh(plan)
    state_log.note_row(session, "action plan", plan, None)
    return plan


def _action_columns(actions: Sequence[Mapping[str, Any]]) -> dict[str, list]:
    """The actions as columns of the actions table, checked (plan and times are added apart)."""
    count = len(actions)
    uuids = new_uuids(count)
    kinds, parameters, parents_of, states_of, messages, reasons = [], [], [], [], [], []
    pending, known_states = ActionState.PENDING, states.ACTION_TRANSITIONS
    for index, action in enumerate(actions):
        get = action.get
        if not (action.keys() <= ACTION_FIELDS and get("type") is not None):
            _check_keys(f"action {index}", action, ACTION_FIELDS, required=("type",))
        parents = list(get("parents") or ())
        for parent in parents:
            # Plans are applied in list order, so a parent must come earlier.
            if not isinstance(parent, int) or isinstance(parent, bool) or not 0 <= parent < index:
                raise InvalidPlan(f"action {index}: parent {parent!r} is not the index of an "
                                  "earlier action")
        state = get("state", pending)
        if state not in known_states:
            raise InvalidPlan(f"action {index}: state {state!r} does not exist")
        given = get("parameters") or {}
        # serialised at once, so only a mapping that is not a dict is copied
        parameters.append(given if type(given) is dict else dict(given))
        if "uuid" in action and action["uuid"]:
            uuids[index] = action["uuid"]
        kinds.append(action["type"])
        parents_of.append(parents)
        states_of.append(state)
        messages.append(get("status_message"))
        reasons.append(get("reason") or "")
    return {"uuid": uuids, "index": list(range(count)), "type": kinds,
            "parameters": parameters, "parents": parents_of, "state": states_of,
            "status_message": messages, "reason": reasons, "attempts": [0] * count}


def _check_keys(what: str, given: Mapping[str, Any], allowed: frozenset[str],
                required: Sequence[str]) -> None:
    unknown = set(given) - allowed
    if unknown:
        raise InvalidPlan(f"{what}: unknown field(s) {', '.join(sorted(unknown))} "
                          f"(fields: {', '.join(sorted(allowed))})")
    missing = [name for name in required if given.get(name) is None]
    if missing:
        raise InvalidPlan(f"{what}: missing field(s) {', '.join(missing)}")


def get_action_plan(session: Session, uuid: str, include_deleted: bool = False) -> ActionPlanRow:
    """The action plan with this uuid."""
    return query.find(session, PLANS, uuid, include_deleted)


def list_action_plans(session: Session, filters: Mapping[str, Any] | None = None,
                      page: Page | None = None,
                      include_deleted: bool = False) -> list[ActionPlanRow]:
    """One page of plans; filter ``audit_id`` with an audit's id to get its plans."""
    return query.list_rows(session, PLANS, filters, page, include_deleted)


def update_action_plan(session: Session, uuid: str, expect_state: str | None = None,
                       **changes: Any) -> ActionPlanRow:
    """Change a plan; a state change must follow the action plan life cycle.

    With ``expect_state`` the change happens only if the plan is still in it.
    """
    return query.change(session, PLANS, get_action_plan(session, uuid), changes, expect_state)


def set_action_plan_state(session: Session, uuid: str, state: str,
                          message: str | None = None,
                          expect: str | None = None) -> ActionPlanRow:
    """Move a plan to ``state``, recording why; only from ``expect`` when given."""
    return update_action_plan(session, uuid, expect_state=expect, state=state,
                              status_message=message)


def delete_action_plan(session: Session, uuid: str) -> ActionPlanRow:
    """Soft-delete a finished plan (SUCCEEDED, FAILED, CANCELLED or SUPERSEDED)."""
    return set_action_plan_state(session, uuid, ActionPlanState.DELETED)


def supersede_other_plans(session: Session, keep: ActionPlanRow) -> int:
    """Mark every other RECOMMENDED plan SUPERSEDED; return how many.

    Once one plan runs, the others were computed on a cluster that no
    longer exists and must not be started.
    """
    superseded = session.scalars(
        update(ActionPlanRow)
        .where(ActionPlanRow.state == ActionPlanState.RECOMMENDED, ActionPlanRow.id != keep.id)
        .values(state=ActionPlanState.SUPERSEDED, updated_at=utcnow(),
                status_message=f"superseded by action plan {keep.uuid}")
        .returning(ActionPlanRow.uuid)
        .execution_options(synchronize_session="fetch")).all()
    state_log.note_many(session, "action_plan", superseded, ActionPlanState.RECOMMENDED,
                        ActionPlanState.SUPERSEDED)
    return len(superseded)


def list_actions(session: Session, plan: ActionPlanRow | None = None,
                 filters: Mapping[str, Any] | None = None,
                 page: Page | None = None) -> list[ActionRow]:
    """One page of actions, of ``plan`` if given, by default in plan order."""
    page = page or Page(sort_key="index")
    base = select(ActionRow)
    if plan is not None:
        base = base.where(ActionRow.action_plan_id == plan.id)
    return query.list_rows(session, ACTIONS, filters, page, query=base)


def get_action(session: Session, uuid: str) -> ActionRow:
    """The action with this uuid."""
    return query.find(session, ACTIONS, uuid)


def set_action_state(session: Session, uuid: str, state: str,
                     message: str | None = None, expect: str | None = None) -> ActionRow:
    """Move an action to ``state``, recording why; only from ``expect`` when given."""
    return query.change(session, ACTIONS, get_action(session, uuid),
                        {"state": state, "status_message": message}, expect)
