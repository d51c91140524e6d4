"""``GET /v1/readiness``: the failure check over the collector's cluster."""
from __future__ import annotations

import pytest

from tests.optimizer.api.conftest import fault


def test_single_host_failures_of_the_simulated_cloud(client):
    response = client.get("/v1/readiness")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["search"] == "exact: all 8 single-host failures"
    assert body["failures"] == 1 and body["by"] == "host"
    assert isinstance(body["ok"], bool)
    assert body["worst"]["failed_hosts"] == [body["worst"]["label"]]


def test_by_zone_and_bounded_failures(client):
    by_zone = client.get("/v1/readiness?by=zone").json()
    assert by_zone["search"].startswith("exact: all ") and by_zone["by"] == "zone"
    pair = client.get("/v1/readiness?failures=2").json()
    assert pair["search"].startswith("bounded: ")
    assert len(pair["worst"]["failed_hosts"]) == 2


@pytest.mark.parametrize(("query", "message"), [
    ("failures=two", "failures must be a whole number, got 'two'"),
    ("failures=0", "failures must be a whole number from 1 to 1000, got 0"),
    ("failures=9", "exceeds the 8 hosts"),
    ("by=rack", "by must be one of host, zone, aggregate, got 'rack'"),
    ("k=1", "unknown query parameter(s) k"),
])
def test_bad_parameters_are_400(client, query, message):
    response = client.get(f"/v1/readiness?{query}")
    assert response.status_code == 400
    assert message in fault(response)


def test_needs_a_token_when_auth_is_on(secured):
    from tests.optimizer.api.conftest import READER

    assert secured.get("/v1/readiness").status_code == 401
    assert secured.get("/v1/readiness", headers={"X-Auth-Token": READER}).status_code == 200
