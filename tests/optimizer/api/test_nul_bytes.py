"""NUL characters anywhere in a request are a 400 naming where, on every backend.

PostgreSQL refuses NUL in text (and in JSON as ``\\u0000``), which reached
the client as a 500; SQLite stores them. The API refuses them at its edge,
the same way on both.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from optimizer.api import create_app
from optimizer.config import load_config
from optimizer.context import open_context
from tests.optimizer.api.conftest import RecordingDispatcher, fault
from tests.optimizer.db.conftest import SchemaFactory, _require_postgres

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('nul') / 'optimizer.db'}"
        return
    _require_postgres()
    schemas = SchemaFactory("test_nul_bytes")
    yield schemas.url()
    schemas.drop_all()


@pytest.fixture(scope="module")
def client(database_url, tmp_path_factory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("nul-cloud")
    config = folder / "optimizer.conf"
    config.write_text(f"[database]\nconnection = {database_url}\n"
                      f"[simulated]\nhosts = 4\nseed = 3\nstate_file = {folder / 'cloud.db'}\n")
    ctx = open_context(load_config(str(config)))
    dispatcher = RecordingDispatcher(ctx)
    try:
        with TestClient(create_app(ctx, dispatcher), raise_server_exceptions=False,
                        headers={"OpenStack-API-Version": "infra-optim 1.7"}) as test_client:
            test_client.post("/v1/audit_templates", json={"name": "t", "goal": "dummy"})
            yield test_client
    finally:
        dispatcher.close()
        ctx.close()


@pytest.mark.parametrize(("method", "url", "where"), [
    ("GET", "/v1/audit_templates/t%00x", "path"),
    ("GET", "/v1/audits/%00", "path"),
    ("DELETE", "/v1/audit_templates/t%00", "path"),
    ("GET", "/v1/goals/dummy%00", "path"),
    ("GET", "/v1/audits?goal=dum%00my", "goal"),
    ("GET", "/v1/audit_templates?name=t%00", "name"),
    ("GET", "/v1/actions?sort_key=%00", "sort_key"),
    ("GET", "/v1/audits?x%00y=1", "query"),
])
def test_nul_in_path_or_query_is_400(client, method, url, where):
    response = client.request(method, url)
    assert response.status_code == 400, response.text
    message = fault(response)
    assert "NUL" in message and where in message, message


@pytest.mark.parametrize(("method", "url", "body", "where"), [
    ("POST", "/v1/audit_templates", '{"name": "a\\u0000b", "goal": "dummy"}', "name"),
    ("POST", "/v1/audit_templates", '{"name": "n1", "goal": "dummy", "description": "\\u0000"}',
     "description"),
    ("POST", "/v1/audits", '{"goal": "dummy", "parameters": {"k": ["ok", "\\u0000"]}}',
     "parameters.k.1"),
    ("POST", "/v1/audits", '{"goal": "dummy", "name": "x\\u0000"}', "name"),
    ("POST", "/v1/audits", '{"goal": "dummy", "parameters": {"k\\u0000": 1}}', "parameters"),
    ("PATCH", "/v1/audit_templates/t",
     '[{"op": "replace", "path": "/description", "value": "a\\u0000"}]', "0.value"),
])
def test_nul_in_a_json_string_is_400_naming_the_field(client, method, url, body, where):
    response = client.request(method, url, content=body, headers=JSON)
    assert response.status_code == 400, response.text
    message = fault(response)
    assert "NUL" in message and where in message, message


def test_escaped_backslashes_and_clean_requests_pass(client):
    made = client.post("/v1/audit_templates", content='{"name": "bs", "goal": "dummy", '
                       '"description": "a\\\\u0000 is not a NUL"}', headers=JSON)
    assert made.status_code == 201, made.text
    assert made.json()["description"] == "a\\u0000 is not a NUL"
    assert client.get("/v1/audit_templates/bs").status_code == 200
    assert client.get("/v1/audits?goal=dummy").status_code == 200
