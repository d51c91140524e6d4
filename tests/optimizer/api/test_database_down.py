"""The database unreachable: a 503 with Retry-After from the API, never a 500.

The outage is simulated: the app's sessions are bound to an engine on a
port nothing listens on, so every query raises the OperationalError a
stopped or restarting PostgreSQL gives. The shared server is never touched.
"""
from __future__ import annotations

import socket

import pytest
from sqlalchemy.orm import sessionmaker

from optimizer.db.engine import make_engine
from tests.optimizer.api.conftest import fault


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def down_url() -> str:
    return f"postgresql+psycopg://postgres:s3cret@127.0.0.1:{closed_port()}/test"


@pytest.fixture
def outage(ctx):
    """Every session of ``ctx`` fails to connect until the test ends."""
    engine = make_engine(down_url())
    healthy = ctx.database.sessions
    ctx.database.sessions = sessionmaker(engine, expire_on_commit=False)
    yield
    ctx.database.sessions = healthy
    engine.dispose()


@pytest.mark.parametrize(("method", "url", "body"), [
    ("GET", "/v1/audits", None),
    ("GET", "/v1/action_plans", None),
    ("GET", "/v1/actions?limit=5", None),
    ("GET", "/v1/goals/dummy", None),
    ("GET", "/v1/audit_templates/nightly", None),
    ("POST", "/v1/audit_templates", {"name": "t", "goal": "dummy"}),
    ("POST", "/v1/audits", {"goal": "dummy"}),
])
def test_an_unreachable_database_is_503_with_retry_after(client, outage, caplog,
                                                         method, url, body):
    response = client.request(method, url, json=body)
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "5"
    assert "database is unreachable" in fault(response)
    assert "s3cret" not in response.text
    assert "a bug" not in response.text
    # logged as an outage, one line naming the masked URL, not as a bug with a traceback
    records = [r for r in caplog.records if r.name == "optimizer.api.errors"]
    assert records and all(r.exc_info is None for r in records)
    assert "postgres:***@" in records[-1].getMessage()


def test_the_api_answers_again_once_the_database_is_back(client, ctx):
    engine = make_engine(down_url())
    healthy = ctx.database.sessions
    ctx.database.sessions = sessionmaker(engine, expire_on_commit=False)
    try:
        assert client.get("/v1/audits").status_code == 503
    finally:
        ctx.database.sessions = healthy
        engine.dispose()
    assert client.get("/v1/audits").status_code == 200
