"""An API app over a fresh SQLite database and a small simulated cloud.

Audits run for real on an :class:`~optimizer.dispatch.InProcessDispatcher`
(tests call ``wait()``); launched plans are only recorded, since executing
them is the applier's business and tested there.
"""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from optimizer.api import create_app
from optimizer.config import ApiSettings, load_config
from optimizer.context import Context, open_context
from optimizer.dispatch import InProcessDispatcher

ADMIN, READER = "admin-secret", "reader-secret"


class RecordingDispatcher(InProcessDispatcher):
    """Runs audits on worker threads; remembers launched plans instead of applying them."""

    def __init__(self, ctx: Context):
        super().__init__(ctx, workers=1)
        self.launched: list[str] = []
        self.triggered: list[str] = []

    def trigger_audit(self, audit_uuid: str) -> None:
        self.triggered.append(audit_uuid)
        super().trigger_audit(audit_uuid)

    def launch_plan(self, plan_uuid: str) -> None:
        self.launched.append(plan_uuid)


@pytest.fixture
def ctx(tmp_path) -> Iterator[Context]:
    config = tmp_path / "optimizer.conf"
    config.write_text(f"[database]\nconnection = sqlite:///{tmp_path / 'optimizer.db'}\n"
                      f"[simulated]\nhosts = 8\nseed = 3\nstate_file = {tmp_path / 'cloud.db'}\n")
    context = open_context(load_config(str(config)))
    yield context
    context.close()


@pytest.fixture
def dispatcher(ctx) -> Iterator[RecordingDispatcher]:
    recording = RecordingDispatcher(ctx)
    yield recording
    recording.close()


@pytest.fixture
def client(ctx, dispatcher) -> Iterator[TestClient]:
    """A client of an app without authentication, asking for API 1.7."""
    app = create_app(ctx, dispatcher)
    with TestClient(app, raise_server_exceptions=False,
                    headers={"OpenStack-API-Version": "infra-optim 1.7"}) as test_client:
        yield test_client


@pytest.fixture
def secured(ctx, dispatcher) -> Iterator[TestClient]:
    """A client of an app that checks tokens (no token sent unless a test adds one)."""
    api = ApiSettings(auth="token", admin_tokens=(ADMIN,), reader_tokens=(READER,))
    with TestClient(create_app(ctx, dispatcher, api), raise_server_exceptions=False,
                    headers={"OpenStack-API-Version": "infra-optim 1.7"}) as test_client:
        yield test_client


def fault(response) -> str:
    """The faultstring of a Watcher error envelope (asserting the envelope's shape)."""
    body = response.json()
    assert set(body) == {"error_message"}, body
    inner = json.loads(body["error_message"])
    assert set(inner) == {"faultcode", "faultstring", "debuginfo"}
    return inner["faultstring"]


def new_audit(client, **fields) -> dict:
    body = {"goal": "server_consolidation", "strategy": "vm_workload_consolidation",
            "audit_type": "ONESHOT", **fields}
    response = client.post("/v1/audits", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def recommended_plan(client, dispatcher) -> dict:
    """Run a consolidation audit to its end and return its RECOMMENDED plan."""
    audit = new_audit(client)
    dispatcher.wait()
    plans = client.get("/v1/action_plans", params={"audit_uuid": audit["uuid"]}).json()
    assert len(plans["action_plans"]) == 1, plans
    plan = plans["action_plans"][0]
    assert plan["state"] == "RECOMMENDED"
    return plan
