"""Action plans: bulk storage of actions, life cycles, superseding, listing actions."""
import pytest

from optimizer.db import (
    Page,
    add_action_plan,
    create_audit,
    delete_action_plan,
    delete_audit,
    get_action,
    get_action_plan,
    get_audit,
    list_action_plans,
    list_actions,
    set_action_plan_state,
    set_action_state,
    supersede_other_plans,
    update_action_plan,
)
from optimizer.db.errors import ConcurrentUpdate, InvalidPlan, NotFound, StillRunning
from optimizer.states import IllegalTransition

BULK_ACTIONS = 3_000  # over the drivers' batch sizes; the 10,000 timing is in benchmarks/


def migrate(index: int) -> dict:
    return {"type": "migrate", "reason": f"empty node-{index % 7}",
            "parameters": {"instance": f"vm-{index:05d}", "source": f"node-{index % 7}",
                           "destination": "node-9", "migration_type": "live"},
            "parents": [index - 1] if index else []}


@pytest.fixture
def audit(db):
    """A stored (committed) audit the plans belong to."""
    with db.session() as session:
        return create_audit(session, goal="server_consolidation", name="consolidate")


def plan_of(session, audit, count=3, **fields):
    return add_action_plan(session, {"audit_id": audit.id, "strategy": "dummy", **fields},
                           [migrate(i) for i in range(count)])


def test_plan_with_everything_round_trips(db, audit):
    with db.session() as session:
        plan = add_action_plan(
            session,
            {"audit_id": audit.id, "strategy": "vm_workload_consolidation",
             "global_efficacy": [{"name": "released_hosts", "value": 2, "unit": "hosts"}],
             "estimated_duration_s": 42.5,
             "host_changes": {"node-1": {"instances_before": 3, "instances_after": 0}}},
            [migrate(0), {"type": "change_service_state",
                          "parameters": {"host": "node-0", "state": "disabled"}}],
            [{"name": "released_hosts", "value": 2, "unit": "hosts",
              "description": "hosts left empty"}])
        uuid = plan.uuid
    with db.session() as session:
        stored = get_action_plan(session, uuid)
        assert stored.state == "RECOMMENDED" and stored.audit.name == "consolidate"
        assert stored.estimated_duration_s == 42.5
        assert stored.host_changes == {"node-1": {"instances_before": 3, "instances_after": 0}}
        assert stored.global_efficacy[0]["value"] == 2
        assert [(i.name, i.value, i.unit) for i in stored.indicators] == [
            ("released_hosts", 2.0, "hosts")]
        actions = list_actions(session, stored)
        assert [(a.index, a.type, a.state) for a in actions] == [
            (0, "migrate", "PENDING"), (1, "change_service_state", "PENDING")]
        assert actions[0].parameters["instance"] == "vm-00000"
        assert actions[0].reason == "empty node-0" and actions[1].parents == []


def test_bulk_plan_keeps_every_action_in_order(db, audit):
    with db.session() as session:
        uuid = add_action_plan(session, {"audit_id": audit.id, "strategy": "dummy"},
                               [migrate(i) for i in range(BULK_ACTIONS)]).uuid
    with db.session() as session:
        actions = list_actions(session, get_action_plan(session, uuid))
        assert len(actions) == BULK_ACTIONS
        assert [a.index for a in actions] == list(range(BULK_ACTIONS))
        assert actions[-1].parents == [BULK_ACTIONS - 2]
        assert actions[-1].parameters["instance"] == f"vm-{BULK_ACTIONS - 1:05d}"
        assert len({a.uuid for a in actions}) == BULK_ACTIONS


def test_bulk_actions_keep_their_values_as_the_orm_reads_them(db, audit, caplog):
    """Text COPY and executemany get tabs, newlines, backslashes, NaN and int keys right."""
    odd = "tab\there\nnew line \\ backslash \r é"
    with db.session() as session:
        plan = add_action_plan(session, {"audit_id": audit.id, "strategy": "dummy"}, [
            {"type": "nop", "reason": odd, "status_message": odd,
             "parameters": {"message": odd, "load": float("nan"), "nested": [1.5, None]}},
            {"type": "nop", "parameters": {1: "int key"}, "parents": [0], "reason": ""},
        ])
        uuid, created = plan.uuid, plan.created_at
    assert "NaN or infinite" in caplog.text
    with db.session() as session:
        first, second = list_actions(session, get_action_plan(session, uuid))
    assert first.reason == odd and first.status_message == odd
    assert first.parameters == {"message": odd, "load": None, "nested": [1.5, None]}
    assert second.parameters == {"1": "int key"} and second.parents == [0]
    assert second.reason == "" and second.status_message is None and second.attempts == 0
    assert first.created_at.tzinfo is not None
    assert abs((first.created_at - created).total_seconds()) < 5


@pytest.mark.parametrize(("actions", "message"), [
    ([{"type": "nop", "parents": [0]}], "action 0: parent 0 is not the index of an earlier"),
    ([{"type": "nop"}, {"type": "nop", "parents": [5]}], "action 1: parent 5"),
    ([{"type": "nop"}, {"parameters": {}}], "action 1: missing field\\(s\\) type"),
    ([{"type": "nop", "colour": "red"}], "action 0: unknown field\\(s\\) colour"),
])
def test_inconsistent_actions_are_refused_and_nothing_is_stored(db, audit, actions, message):
    with pytest.raises(InvalidPlan, match=message), db.session() as session:
        add_action_plan(session, {"audit_id": audit.id, "strategy": "dummy"}, actions)
    with db.session() as session:
        assert list_action_plans(session) == []


def test_plan_fields_are_checked(session, audit):
    with pytest.raises(InvalidPlan, match="action plan: missing field\\(s\\) strategy"):
        add_action_plan(session, {"audit_id": audit.id}, [])


def test_plan_life_cycle_and_refusal(session, audit):
    plan = plan_of(session, audit)
    for state in ("PENDING", "ONGOING"):
        set_action_plan_state(session, plan.uuid, state)
    with pytest.raises(IllegalTransition,
                       match="action plan cannot go from ONGOING to CANCELLED"):
        set_action_plan_state(session, plan.uuid, "CANCELLED")
    with pytest.raises(IllegalTransition, match="from ONGOING to DELETED"):
        delete_action_plan(session, plan.uuid)
    set_action_plan_state(session, plan.uuid, "CANCELLING")
    set_action_plan_state(session, plan.uuid, "CANCELLED", "stopped by operator")
    assert delete_action_plan(session, plan.uuid).deleted_at is not None
    with pytest.raises(NotFound, match=f"action plan '{plan.uuid}' not found"):
        get_action_plan(session, plan.uuid)


def test_action_life_cycle_and_refusal(session, audit):
    first = list_actions(session, plan_of(session, audit))[0]
    set_action_state(session, first.uuid, "ONGOING")
    done = set_action_state(session, first.uuid, "FAILED", "destination refused")
    assert (done.state, done.status_message) == ("FAILED", "destination refused")
    with pytest.raises(IllegalTransition, match="action cannot go from FAILED to ONGOING"):
        set_action_state(session, first.uuid, "ONGOING")
    assert get_action(session, first.uuid).state == "FAILED"


def test_starting_one_plan_supersedes_the_other_recommendations(session, audit):
    plans = [plan_of(session, audit) for _ in range(3)]
    set_action_plan_state(session, plans[0].uuid, "PENDING")
    assert supersede_other_plans(session, plans[0]) == 2
    states = {p.uuid: p.state for p in list_action_plans(session)}
    assert states == {plans[0].uuid: "PENDING", plans[1].uuid: "SUPERSEDED",
                      plans[2].uuid: "SUPERSEDED"}
    with pytest.raises(IllegalTransition, match="from SUPERSEDED to PENDING"):
        set_action_plan_state(session, plans[1].uuid, "PENDING")


def test_list_plans_by_audit_and_state_with_pages(session, audit):
    other = create_audit(session, goal="dummy", name="other")
    mine = [plan_of(session, audit, count=1) for _ in range(5)]
    plan_of(session, other, count=1)
    set_action_plan_state(session, mine[4].uuid, "PENDING")
    assert [p.uuid for p in list_action_plans(session, {"audit_id": audit.id})] == [
        p.uuid for p in mine]
    assert [p.uuid for p in list_action_plans(
        session, {"audit_id": audit.id, "state": "RECOMMENDED"},
        Page(limit=2, marker=mine[1].uuid))] == [mine[2].uuid, mine[3].uuid]


def test_list_actions_filters_and_pages(session, audit):
    plan = plan_of(session, audit, count=10)
    set_action_state(session, list_actions(session, plan)[3].uuid, "SKIPPED")
    assert [a.index for a in list_actions(session, plan, {"state": "SKIPPED"})] == [3]
    page = list_actions(session, plan, page=Page(limit=4, sort_key="index", sort_dir="desc"))
    assert [a.index for a in page] == [9, 8, 7, 6]
    after = list_actions(session, plan, page=Page(limit=2, marker=page[-1].uuid,
                                                  sort_key="index", sort_dir="desc"))
    assert [a.index for a in after] == [5, 4]


def test_deleting_an_audit_cancels_recommendations_and_deletes_its_plans(session, audit):
    recommended, finished = plan_of(session, audit), plan_of(session, audit)
    set_action_plan_state(session, finished.uuid, "CANCELLED")
    delete_audit(session, audit.uuid)
    for plan in (recommended, finished):
        assert get_action_plan(session, plan.uuid, include_deleted=True).state == "DELETED"


def test_deleting_an_audit_with_a_running_plan_is_refused(session, audit):
    plan = plan_of(session, audit)
    set_action_plan_state(session, plan.uuid, "PENDING")
    with pytest.raises(StillRunning, match=f"action plan {plan.uuid} is PENDING; cancel it"):
        delete_audit(session, audit.uuid)
    assert get_audit(session, audit.uuid).state == "PENDING"


def test_two_processes_cannot_both_start_a_plan(db, audit):
    with db.session() as session:
        uuid = plan_of(session, audit).uuid
        set_action_plan_state(session, uuid, "PENDING")
    with db.sessions() as slow:
        stale = get_action_plan(slow, uuid)  # read while still PENDING
        with db.session() as fast:
            set_action_plan_state(fast, uuid, "ONGOING")
        with pytest.raises(ConcurrentUpdate, match=f"action plan {uuid} changed meanwhile "
                                                   r"\(now ONGOING\)"):
            update_action_plan(slow, stale.uuid, state="ONGOING")
        slow.rollback()
