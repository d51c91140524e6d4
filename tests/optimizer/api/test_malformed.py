"""Malformed requests get one clear 4xx line in Watcher's envelope, never a 500."""
from __future__ import annotations

import pytest

from tests.optimizer.api.conftest import fault

UUID = "00000000-0000-0000-0000-000000000000"
JSON = {"Content-Type": "application/json"}

BAD_BODIES = [
    ("post", "/v1/audits", "{not json", "JSON"),
    ("post", "/v1/audits", "[1, 2]", "request body"),
    ("post", "/v1/audits", '"text"', "request body"),
    ("post", "/v1/audits", '{"goal": "dummy", "colour": "red"}', "colour"),
    ("post", "/v1/audits", '{"goal": 5}', "goal"),
    ("post", "/v1/audits", '{"goal": "dummy", "parameters": []}', "parameters"),
    ("post", "/v1/audits", '{"goal": "dummy", "auto_trigger": "often"}', "auto_trigger"),
    ("post", "/v1/audits", '{"goal": "dummy", "audit_type": "CONTINUOUS", "interval": "1",'
                           ' "start_time": "yesterday"}', "start_time"),
    ("post", "/v1/audits", '{"goal": "dummy", "scope": "everything"}', "scope"),
    ("post", "/v1/audit_templates", "{}", "name"),
    ("post", "/v1/audit_templates", '{"name": "", "goal": "dummy"}', "name"),
    ("post", "/v1/audit_templates", '{"name": "t", "goal": "dummy", "x": 1}', "x"),
    ("patch", "/v1/audit_templates/t", '{"op": "replace"}', "request body"),
    ("patch", "/v1/audit_templates/t", '[{"op": "replace", "path": "/goal", "value": 3}]',
     "goal"),
    ("patch", "/v1/audit_templates/t", '[{"op": "replace", "path": "/uuid", "value": "x"}]',
     "uuid"),
    ("patch", "/v1/audit_templates/t", '[{"op": "remove", "path": "/name/deeper"}]', "name"),
    ("patch", "/v1/audit_templates/t", '[{"op": "replace", "path": "/scope", "value": 7}]',
     "scope"),
    ("patch", "/v1/audit_templates/t", '[{"op": "replace", "path": "/description", "value": 7}]',
     "description"),
]


@pytest.mark.parametrize(("method", "path", "body", "word"), BAD_BODIES)
def test_bad_bodies_are_400(client, method, path, body, word):
    client.post("/v1/audit_templates", json={"name": "t", "goal": "dummy"})
    response = client.request(method.upper(), path, content=body, headers=JSON)
    assert response.status_code == 400, response.text
    assert word in fault(response)


BAD_QUERIES = [
    ("/v1/audits?limit=ten", "limit"),
    ("/v1/audits?limit=0", "limit"),
    ("/v1/audits?limit=-5", "limit"),
    ("/v1/audits?limit=1.5", "limit"),
    ("/v1/audits?marker=abc", "marker"),
    (f"/v1/audits?marker={UUID}", "marker"),
    ("/v1/audits?sort_key=password", "password"),
    ("/v1/audits?sort_dir=sideways", "sort_dir"),
    ("/v1/audits?colour=red", "colour"),
    ("/v1/actions?action_plan_uuid=abc", "UUID"),
    ("/v1/actions?sort_key=parents", "parents"),
    ("/v1/action_plans?sort_key=audit_uuid", "audit_uuid"),
    ("/v1/goals?marker=" + UUID, "marker"),
    ("/v1/goals?sort_key=efficacy", "efficacy"),
    ("/v1/strategies?colour=red", "colour"),
    ("/v1/data_model?colour=red", "colour"),
]


@pytest.mark.parametrize(("url", "word"), BAD_QUERIES)
def test_bad_queries_are_400(client, url, word):
    response = client.get(url)
    assert response.status_code == 400, response.text
    assert word in fault(response)


@pytest.mark.parametrize("url", [
    "/v1/action_plans/not-a-uuid", "/v1/actions/not-a-uuid",
])
def test_ids_that_are_not_uuids_are_400(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "not-a-uuid" in fault(response)


@pytest.mark.parametrize("url", [
    f"/v1/action_plans/{UUID}", f"/v1/actions/{UUID}", f"/v1/audits/{UUID}",
    "/v1/audits/nobody", "/v1/audit_templates/nothing", "/v1/goals/x", "/v1/strategies/y",
    "/v1/nothing", "/v2/audits",
])
def test_unknown_ids_and_routes_are_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    fault(response)


def test_wrong_methods_are_405(client):
    response = client.put("/v1/audits")
    assert response.status_code == 405
    assert "PUT" in fault(response)


def test_writes_on_unknown_items(client):
    for method, url in [("DELETE", f"/v1/audits/{UUID}"), ("DELETE", f"/v1/action_plans/{UUID}"),
                        ("POST", f"/v1/action_plans/{UUID}/start"),
                        ("PATCH", f"/v1/actions/{UUID}"), ("POST", f"/v1/webhooks/{UUID}")]:
        body = [{"op": "replace", "path": "/state", "value": "SKIPPED"}]
        response = client.request(method, url, json=body if method == "PATCH" else None)
        assert response.status_code == 404, (method, url, response.text)


def test_huge_and_odd_values_do_not_break_anything(client):
    checks = [
        client.get("/v1/audits?limit=99999999999999999999999"),
        client.get("/v1/audits/" + "x" * 5000),
        client.post("/v1/audits", json={"goal": "dummy", "name": "n" * 300}),
        client.post("/v1/audits", json={"goal": "dummy", "audit_type": "CONTINUOUS",
                                        "interval": True}),
        client.get("/v1/audits", headers={"OpenStack-API-Version": "infra-optim " + "9" * 50}),
        client.get("/v1/goals", headers={"X-Auth-Token": "\u00e9".encode("latin-1")}),
    ]
    assert all(r.status_code < 500 for r in checks), [r.text for r in checks]


def test_a_bug_is_a_500_in_the_envelope_without_details(client, monkeypatch):
    from optimizer.api import goals

    def broken(_session):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(goals, "list_goals", broken)
    response = client.get("/v1/goals")
    assert response.status_code == 500
    assert "secret" not in fault(response)
