"""Version documents and microversion negotiation."""
from __future__ import annotations

import pytest

from tests.optimizer.api.conftest import fault


def test_root_and_v1_documents_give_the_version_range(client):
    root = client.get("/").json()
    assert root["default_version"]["id"] == "v1"
    assert root["versions"][0]["min_version"] == "1.0"
    assert root["versions"][0]["max_version"] == "1.7"
    v1 = client.get("/v1").json()
    assert v1["id"] == "v1"
    assert v1["audits"][0]["href"].endswith("/v1/audits/")


@pytest.mark.parametrize("minor", range(8))
def test_every_version_from_1_0_to_1_7_is_served_and_echoed(client, minor):
    response = client.get("/v1/goals", headers={"OpenStack-API-Version": f"infra-optim 1.{minor}"})
    assert response.status_code == 200
    assert response.headers["OpenStack-API-Version"] == f"infra-optim 1.{minor}"
    assert response.headers["OpenStack-API-Minimum-Version"] == "1.0"
    assert response.headers["OpenStack-API-Maximum-Version"] == "1.7"


def test_no_header_is_the_minimum_and_latest_the_maximum(client):
    response = client.get("/v1/goals", headers={"OpenStack-API-Version": ""})
    assert response.headers["OpenStack-API-Version"] == "infra-optim 1.0"
    response = client.get("/v1/goals", headers={"OpenStack-API-Version": "infra-optim latest"})
    assert response.headers["OpenStack-API-Version"] == "infra-optim 1.7"
    other = client.get("/v1/goals", headers={"OpenStack-API-Version": "compute 2.90"})
    assert other.headers["OpenStack-API-Version"] == "infra-optim 1.0"


@pytest.mark.parametrize("version", ["1.8", "2.0", "0.9", "1.99"])
def test_unsupported_versions_are_406_with_the_range(client, version):
    response = client.get("/v1/audits",
                          headers={"OpenStack-API-Version": f"infra-optim {version}"})
    assert response.status_code == 406
    assert "[1.0, 1.7]" in fault(response)
    assert response.headers["OpenStack-API-Maximum-Version"] == "1.7"


@pytest.mark.parametrize("header", ["infra-optim one.two", "infra-optim 1", "infra-optim 1.2.3"])
def test_a_header_that_is_no_version_is_400(client, header):
    response = client.get("/v1/audits", headers={"OpenStack-API-Version": header})
    assert response.status_code == 400
    assert "OpenStack-API-Version" in fault(response)


def test_fields_follow_the_version(client):
    audit = client.post("/v1/audits", json={"goal": "dummy", "audit_type": "EVENT"},
                        headers={"OpenStack-API-Version": "infra-optim 1.0"}).json()
    assert "start_time" not in audit and "force" not in audit and "status_message" not in audit
    newer = client.get(f"/v1/audits/{audit['uuid']}",
                       headers={"OpenStack-API-Version": "infra-optim 1.5"}).json()
    assert {"start_time", "force", "status_message"} <= set(newer)


def test_features_of_newer_versions_are_refused_at_older_ones(client):
    old = {"OpenStack-API-Version": "infra-optim 1.2"}
    assert client.get("/v1/data_model", headers=old).status_code == 406
    response = client.post("/v1/audits", headers={"OpenStack-API-Version": "infra-optim 1.0"},
                           json={"goal": "dummy", "audit_type": "CONTINUOUS", "interval": "60",
                                 "start_time": "2030-01-01T00:00:00Z"})
    assert response.status_code == 400
    assert "1.1" in fault(response)


def test_openapi_document_is_served(client):
    document = client.get("/openapi.json").json()
    assert "/v1/audits" in document["paths"]
    assert "/v1/action_plans/{plan}/start" in document["paths"]
