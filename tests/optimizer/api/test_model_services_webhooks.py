"""The data model, the services list and the webhook of EVENT audits."""
from __future__ import annotations

from tests.optimizer.api.conftest import fault


def test_data_model_lists_instances_with_their_hosts(client):
    rows = client.get("/v1/data_model?data_model_type=compute").json()["context"]
    servers = [r for r in rows if "server_uuid" in r]
    assert servers
    assert {"server_name", "server_vcpus", "server_memory", "server_disk", "server_state",
            "node_uuid", "node_hostname", "node_vcpus", "node_vcpu_ratio", "node_memory",
            "node_memory_ratio", "node_disk", "node_disk_ratio", "node_state"} <= set(servers[0])
    assert len({r["node_hostname"] for r in rows}) == 8


def test_data_model_follows_an_audits_scope(client):
    host = client.get("/v1/data_model").json()["context"][0]["node_hostname"]
    audit = client.post("/v1/audits", json={
        "goal": "dummy", "audit_type": "EVENT",
        "scope": [{"compute": [{"host_aggregates": []}, {"availability_zones": []}]}]})
    assert audit.status_code == 201, audit.text
    scoped = client.get(f"/v1/data_model?audit_uuid={audit.json()['uuid']}").json()["context"]
    assert host in {r["node_hostname"] for r in scoped}
    unknown = client.get("/v1/data_model?data_model_type=storage")
    assert unknown.status_code == 400 and "storage" in fault(unknown)
    assert client.get("/v1/data_model?audit_uuid=nothing").status_code == 404


def test_services(client):
    services = client.get("/v1/services").json()["services"]
    assert [s["name"] for s in services] == ["optimizer-api", "optimizer-decision-engine",
                                             "optimizer-applier"]
    assert {s["status"] for s in services} == {"ACTIVE"}
    assert client.get("/v1/services/2").json()["name"] == "optimizer-decision-engine"
    assert "last_seen_up" in client.get("/v1/services/optimizer-applier").json()
    assert client.get("/v1/services/9").status_code == 404


def test_webhook_runs_an_event_audit(client, dispatcher):
    event = client.post("/v1/audits", json={"goal": "dummy", "audit_type": "EVENT"}).json()
    assert dispatcher.triggered == []
    assert client.post(f"/v1/webhooks/{event['uuid']}").status_code == 202
    assert dispatcher.triggered == [event["uuid"]]
    dispatcher.wait()
    assert client.get(f"/v1/audits/{event['uuid']}").json()["state"] == "ONGOING"
    assert client.post(f"/v1/webhooks/{event['uuid']}").status_code == 202
    dispatcher.wait()
    plans = client.get(f"/v1/action_plans?audit_uuid={event['uuid']}&state=RECOMMENDED")
    assert len(plans.json()["action_plans"]) == 1  # the newer plan superseded the older


def test_webhook_refuses_other_audits(client, dispatcher):
    oneshot = client.post("/v1/audits", json={"goal": "dummy"}).json()
    refused = client.post(f"/v1/webhooks/{oneshot['uuid']}")
    assert refused.status_code == 400 and "EVENT" in fault(refused)
    assert client.post("/v1/webhooks/nothing").status_code == 404
    old = client.post(f"/v1/webhooks/{oneshot['uuid']}",
                      headers={"OpenStack-API-Version": "infra-optim 1.3"})
    assert old.status_code == 406
    dispatcher.wait()
