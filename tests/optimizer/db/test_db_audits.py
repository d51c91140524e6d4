"""Audit templates and audits: create, find, list a page, change state, delete."""
from datetime import UTC, datetime, timedelta, timezone

import pytest
from optimizer.models.errors import UserError

from optimizer.db import (
    Page,
    create_audit,
    create_audit_from_template,
    create_audit_template,
    delete_audit,
    delete_audit_template,
    get_audit,
    get_audit_template,
    list_audit_templates,
    list_audits,
    set_audit_state,
    update_audit,
    update_audit_template,
)
from optimizer.db.errors import AlreadyExists, InvalidQuery, InvalidValue, NotFound
from optimizer.states import IllegalTransition


def test_template_round_trip(session):
    made = create_audit_template(session, name="nightly", goal="server_consolidation",
                                 strategy="vm_workload_consolidation",
                                 parameters={"period": 3600}, scope=[{"zone": "az1"}])
    assert len(made.uuid) == 36
    for ident in (made.uuid, "nightly"):
        found = get_audit_template(session, ident)
        assert (found.goal, found.parameters, found.scope) == (
            "server_consolidation", {"period": 3600}, [{"zone": "az1"}])


def test_template_names_are_unique_until_deleted(session):
    create_audit_template(session, name="t", goal="dummy")
    with pytest.raises(AlreadyExists, match="audit template 't' already exists"):
        create_audit_template(session, name="t", goal="dummy")
    delete_audit_template(session, "t")
    with pytest.raises(NotFound, match="audit template 't' not found"):
        get_audit_template(session, "t")
    assert create_audit_template(session, name="t", goal="dummy").name == "t"


def test_template_update_checks_field_names(session):
    create_audit_template(session, name="t", goal="dummy")
    assert update_audit_template(session, "t", strategy="dummy").strategy == "dummy"
    with pytest.raises(InvalidQuery, match="audit template fields uuid cannot be changed"):
        update_audit_template(session, "t", uuid="x")


def test_audit_from_template_copies_its_fields(session):
    template = create_audit_template(session, name="t", goal="dummy", strategy="dummy",
                                     parameters={"a": 1}, auto_trigger=True)
    audit = create_audit_from_template(session, template, name="from-t")
    assert (audit.goal, audit.strategy, audit.parameters, audit.auto_trigger) == (
        "dummy", "dummy", {"a": 1}, True)
    assert audit.template_id == template.id and audit.template.name == "t"
    assert audit.state == "PENDING" and audit.audit_type == "ONESHOT"


def test_audit_without_name_is_named_after_goal(session):
    audit = create_audit(session, goal="workload_balancing")
    assert audit.name.startswith("workload_balancing-")
    assert get_audit(session, audit.name).uuid == audit.uuid


def test_continuous_audit_needs_an_interval(session):
    with pytest.raises(InvalidValue, match="CONTINUOUS audit needs an interval"):
        create_audit(session, goal="dummy", audit_type="CONTINUOUS")
    assert create_audit(session, goal="dummy", audit_type="CONTINUOUS",
                        interval=600).interval == "600"
    assert create_audit(session, goal="dummy", audit_type="CONTINUOUS",
                        interval="0 * * * *").interval == "0 * * * *"


def test_unknown_audit_type_names_the_choices(session):
    with pytest.raises(InvalidValue, match="'DAILY' does not exist.*ONESHOT, CONTINUOUS, EVENT"):
        create_audit(session, goal="dummy", audit_type="DAILY")


def test_audit_life_cycle_and_refusals(session):
    audit = create_audit(session, goal="dummy", name="a")
    set_audit_state(session, "a", "ONGOING")
    set_audit_state(session, "a", "SUSPENDED")
    set_audit_state(session, "a", "ONGOING")
    done = set_audit_state(session, "a", "SUCCEEDED", "3 hosts released")
    assert (done.state, done.status_message) == ("SUCCEEDED", "3 hosts released")
    assert done.updated_at >= audit.created_at
    with pytest.raises(IllegalTransition) as info:
        set_audit_state(session, "a", "ONGOING")
    assert str(info.value).startswith("audit cannot go from SUCCEEDED to ONGOING")
    assert get_audit(session, "a").state == "SUCCEEDED", "a refused change writes nothing"


def test_soft_deleted_audit_is_hidden_but_kept(session):
    audit = create_audit(session, goal="dummy", name="gone")
    deleted = delete_audit(session, "gone")
    assert deleted.state == "DELETED" and deleted.deleted_at is not None
    with pytest.raises(NotFound, match="audit 'gone' not found"):
        get_audit(session, "gone")
    assert get_audit(session, audit.uuid, include_deleted=True).state == "DELETED"
    assert list_audits(session) == []
    assert [a.uuid for a in list_audits(session, include_deleted=True)] == [audit.uuid]
    assert create_audit(session, goal="dummy", name="gone").uuid != audit.uuid


def test_update_audit_renames_only_to_a_free_name(session):
    create_audit(session, goal="dummy", name="a")
    create_audit(session, goal="dummy", name="b")
    with pytest.raises(AlreadyExists, match="audit 'b' already exists"):
        update_audit(session, "a", name="b")
    assert update_audit(session, "a", name="c").name == "c"


@pytest.fixture
def ten_audits(session):
    """Ten audits a0..a9; even ones on goal dummy, odd ones ONGOING on goal other."""
    audits = []
    for number in range(10):
        audit = create_audit(session, goal="dummy" if number % 2 == 0 else "other",
                             name=f"a{number}")
        if number % 2:
            set_audit_state(session, audit.uuid, "ONGOING")
        audits.append(audit)
    return audits


def test_pages_walk_every_audit_once(session, ten_audits):
    seen, marker = [], None
    while True:
        page = list_audits(session, page=Page(limit=3, marker=marker))
        if not page:
            break
        seen += [a.name for a in page]
        marker = page[-1].uuid
    assert seen == [f"a{n}" for n in range(10)]


def test_pages_in_descending_name_order(session, ten_audits):
    first = list_audits(session, page=Page(limit=4, sort_key="name", sort_dir="desc"))
    assert [a.name for a in first] == ["a9", "a8", "a7", "a6"]
    second = list_audits(session, page=Page(limit=4, marker=first[-1].uuid,
                                            sort_key="name", sort_dir="desc"))
    assert [a.name for a in second] == ["a5", "a4", "a3", "a2"]


def test_pages_sorted_on_a_shared_key_break_ties_by_id(session, ten_audits):
    seen, marker = [], None
    for _ in range(5):
        page = list_audits(session, page=Page(limit=3, marker=marker, sort_key="state"))
        seen += [a.name for a in page]
        marker = page[-1].uuid if page else marker
    assert sorted(seen) == sorted(f"a{n}" for n in range(10)) and len(seen) == 10
    assert [a.state for a in list_audits(session, page=Page(sort_key="state"))] == (
        ["ONGOING"] * 5 + ["PENDING"] * 5)


def test_filters(session, ten_audits):
    assert [a.name for a in list_audits(session, {"goal": "dummy"})] == ["a0", "a2", "a4",
                                                                        "a6", "a8"]
    ongoing_or_named = list_audits(session, {"state": "ONGOING", "name": ["a1", "a2", "a3"]})
    assert [a.name for a in ongoing_or_named] == ["a1", "a3"]
    assert list_audits(session, {"goal": "dummy", "state": "ONGOING"}) == []


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"filters": {"colour": "red"}}, "cannot filter audits by 'colour' \\(filters: "),
    ({"page": Page(sort_key="parameters")}, "cannot sort audits by 'parameters'"),
    ({"page": Page(sort_dir="up")}, "sort direction must be asc or desc, got 'up'"),
    ({"page": Page(limit=0)}, "limit must be at least 1, got 0"),
    ({"page": Page(marker="00000000-0000-0000-0000-000000000000")},
     "marker '00000000-0000-0000-0000-000000000000' is not the uuid of any audit"),
])
def test_bad_list_requests_are_user_errors(session, ten_audits, kwargs, message):
    with pytest.raises(InvalidQuery, match=message) as info:
        list_audits(session, **kwargs)
    assert isinstance(info.value, UserError)


def test_template_list_filters_by_goal(session):
    for name, goal in (("x", "dummy"), ("y", "other"), ("z", "dummy")):
        create_audit_template(session, name=name, goal=goal)
    assert [t.name for t in list_audit_templates(session, {"goal": "dummy"})] == ["x", "z"]
    assert [t.name for t in list_audit_templates(session, page=Page(limit=1, sort_key="name",
                                                                    sort_dir="desc"))] == ["z"]


def test_times_need_a_zone_and_come_back_in_utc(session):
    naive = datetime(2025, 1, 31, 22, 0)
    with pytest.raises(InvalidValue, match="start_time 2025-01-31T22:00:00 needs a time zone"):
        create_audit(session, goal="dummy", start_time=naive)
    paris = timezone(timedelta(hours=1))
    audit = create_audit(session, goal="dummy", name="timed",
                         start_time=naive.replace(tzinfo=paris))
    session.expire_all()
    assert get_audit(session, "timed").start_time == datetime(2025, 1, 31, 21, 0, tzinfo=UTC)
    assert audit.start_time.utcoffset() == timedelta(0)
