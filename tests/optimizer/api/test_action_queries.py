"""Listing a plan's actions costs two queries: the plan's key and the page."""
from __future__ import annotations

from sqlalchemy import event

from optimizer.db import add_action_plan, create_audit


def stored_plan(ctx, count: int) -> str:
    with ctx.database.session() as session:
        audit = create_audit(session, goal="dummy", name="q")
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
