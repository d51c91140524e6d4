"""Lists cost a fixed number of queries, however many rows their page holds."""
from __future__ import annotations

from sqlalchemy import event

from optimizer.db import add_action_plan, create_audit
from optimizer.db.schema import ActionPlanRow, IndicatorRow


def stored_plan(ctx, count: int, name: str = "q") -> str:
    with ctx.database.session() as session:
        audit = create_audit(session, goal="dummy", name=name)
        return add_action_plan(session, {"audit_id": audit.id, "strategy": "dummy"}, [
            {"type": "nop", "parameters": {"message": str(i)}, "parents": [i - 1] if i else []}
            for i in range(count)]).uuid


def test_a_short_action_list_of_one_plan_takes_two_queries(client, ctx):
    plan = stored_plan(ctx, 30)
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(ctx.database.engine, "before_cursor_execute", listener)
    try:
        page = client.get(f"/v1/actions?action_plan_uuid={plan}&limit=50")
    finally:
        event.remove(ctx.database.engine, "before_cursor_execute", listener)
    assert page.status_code == 200, page.text
    actions = page.json()["actions"]
    assert len(actions) == 30 and {a["action_plan_uuid"] for a in actions} == {plan}
    assert len(statements) == 2, statements
    unknown = client.get("/v1/actions?action_plan_uuid=00000000-0000-0000-0000-000000000000")
    assert unknown.json() == {"actions": [], "next": None}


def test_a_plan_list_takes_two_queries_however_many_plans(client, ctx):
    plans = [stored_plan(ctx, 3, f"q{i}") for i in range(12)]
    with ctx.database.session() as session:
        first = session.query(ActionPlanRow).filter_by(uuid=plans[0]).one()
        session.add(IndicatorRow(action_plan_id=first.id, name="released_compute_nodes_count",
                                 value=2.0, unit="", description="hosts released"))
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(ctx.database.engine, "before_cursor_execute", listener)
    try:
        page = client.get("/v1/action_plans/detail?limit=20")
    finally:
        event.remove(ctx.database.engine, "before_cursor_execute", listener)
    assert page.status_code == 200, page.text
    listed = {p["uuid"]: p for p in page.json()["action_plans"]}
    assert set(plans) <= set(listed)
    assert [i["name"] for i in listed[plans[0]]["efficacy_indicators"]] == [
        "released_compute_nodes_count"]
    assert listed[plans[1]]["efficacy_indicators"] == []
    assert all(p["audit_uuid"] for p in listed.values())
    assert len(statements) == 2, statements  # the page, then every plan's indicators at once
