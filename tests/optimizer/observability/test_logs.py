"""State changes are logged once committed, as JSON lines when asked."""
from __future__ import annotations

import io
import json
import logging

import pytest

from optimizer.observability.logs import JsonFormatter, TextFormatter
from optimizer.operations import new_audit, run_audit


@pytest.fixture
def lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("optimizer.state")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_an_audit_logs_each_state_change_with_ids(ctx, lines):
    audit = new_audit(ctx, goal="server_consolidation")
    outcome = run_audit(ctx, audit.uuid)
    records = lines()
    audits = [(r["old_state"], r["new_state"]) for r in records if r["kind"] == "audit"]
    assert audits == [(None, "PENDING"), ("PENDING", "ONGOING"), ("ONGOING", "SUCCEEDED")]
    plan = [r for r in records if r["kind"] == "action_plan"]
    assert plan[0]["action_plan"] == outcome.action_plan_uuid
    assert plan[0]["audit"] == audit.uuid and plan[0]["new_state"] == "RECOMMENDED"
    assert all(r["event"] == "state_change" and r["logger"] == "optimizer.state"
               for r in records)


def test_a_rolled_back_change_is_not_logged(ctx, lines):
    audit = new_audit(ctx, goal="server_consolidation")
    from optimizer.db import set_audit_state

    with pytest.raises(RuntimeError), ctx.database.session() as session:
        set_audit_state(session, audit.uuid, "CANCELLED")
        raise RuntimeError("rolled back")
    assert [r["new_state"] for r in lines()] == ["PENDING"]


def test_text_lines_name_the_ids_in_brackets():
    record = logging.LogRecord("optimizer.state", logging.INFO, __file__, 1, "action a: x", (),
                               None)
    record.fields = {"action_plan": "p1", "action": "a1"}
    line = TextFormatter().format(record)
    assert "INFO optimizer.state [action_plan=p1 action=a1] action a: x" in line
