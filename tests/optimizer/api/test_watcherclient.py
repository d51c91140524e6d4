"""The real python-watcherclient against the API served by uvicorn.

No Keystone: the client is given the endpoint and a token, and negotiates
its microversion against the API as it would against Watcher.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from watcherclient import client as watcherclient
from watcherclient import exceptions as client_errors
from watcherclient.common.apiclient import exceptions
from watcherclient.v1 import client as client_v1

from optimizer.api import create_app
from optimizer.config import ApiSettings
from tests.optimizer.api.conftest import ADMIN, READER


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def endpoint(ctx, dispatcher) -> Iterator[str]:
    api = ApiSettings(auth="token", admin_tokens=(ADMIN,), reader_tokens=(READER,))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx, dispatcher, api), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def client_for(endpoint: str, token: str, version: str | None = None):
    """A client negotiating its version (the default), or pinned to ``version``."""
    if version is None:
        return client_v1.Client(endpoint=endpoint, token=token, max_retries=0)
    return watcherclient.get_client(version, watcher_url=endpoint, os_auth_token=token,
                                    max_retries=0)


def test_watcherclient_end_to_end(endpoint, dispatcher):
    watcher = client_for(endpoint, ADMIN)
    goals = {g.name: g for g in watcher.goal.list()}
    assert "server_consolidation" in goals
    assert watcher.goal.get(goals["server_consolidation"].uuid).name == "server_consolidation"
    strategies = watcher.strategy.list(goal="server_consolidation")
    assert "vm_workload_consolidation" in {s.name for s in strategies}
    state = watcher.strategy.state("vm_workload_consolidation")
    assert "Datasource" in {row.type for row in state}

    template = watcher.audit_template.create(name="nightly", goal="server_consolidation",
                                             strategy="vm_workload_consolidation")
    assert template.goal_name == "server_consolidation"
    assert [t.uuid for t in watcher.audit_template.list()] == [template.uuid]

    audit = watcher.audit.create(audit_template_uuid=template.uuid, audit_type="ONESHOT",
                                 parameters={"target_cpu_load": 0.7})
    assert audit.state == "PENDING"
    dispatcher.wait()
    assert watcher.audit.get(audit.uuid).state == "SUCCEEDED"
    assert [a.uuid for a in watcher.audit.list(audit_template=template.uuid)] == [audit.uuid]

    plans = watcher.action_plan.list(audit=audit.uuid)
    assert [p.state for p in plans] == ["RECOMMENDED"]
    plan = watcher.action_plan.start(plans[0].uuid)
    assert plan.state == "PENDING"
    assert dispatcher.launched == [plan.uuid]

    actions = watcher.action.list(action_plan=plan.uuid, detail=True)
    assert actions and {a.action_plan_uuid for a in actions} == {plan.uuid}
    paged = watcher.action.list(action_plan=plan.uuid, limit=0)  # follows every next link
    assert [a.uuid for a in paged] == [a.uuid for a in actions]
    first = watcher.action.list(action_plan=plan.uuid, limit=2)
    assert [a.uuid for a in first] == [a.uuid for a in actions[:2]]

    assert watcher.http_client.os_infra_optim_api_version == "1.latest"  # sent as 1.5
    model = watcher.data_model.list()
    assert model.context and "node_hostname" in model.context[0]
    assert {s.name for s in watcher.service.list()} >= {"optimizer-api"}


def test_watcherclient_sees_roles_and_errors(endpoint):
    reader = client_for(endpoint, READER)
    assert reader.goal.list()
    with pytest.raises(exceptions.Forbidden):
        reader.audit_template.create(name="t", goal="dummy")
    with pytest.raises(exceptions.Unauthorized):
        client_for(endpoint, "wrong").goal.list()
    admin = client_for(endpoint, ADMIN)
    with pytest.raises(exceptions.NotFound, match="nothing"):
        admin.audit.get("nothing")
    with pytest.raises(exceptions.BadRequest, match="tidy"):
        admin.audit.create(goal="tidy", audit_type="ONESHOT")


@pytest.mark.parametrize("version", ["1.0", "1.4", "1.7"])
def test_watcherclient_with_an_explicit_version(endpoint, version):
    watcher = client_for(endpoint, ADMIN, version)
    assert watcher.goal.list()
    assert watcher.http_client.os_infra_optim_api_version == version
    if version < "1.3":  # as with Watcher, an explicit old version lacks newer features
        with pytest.raises(client_errors.UnsupportedVersion):
            watcher.data_model.list()
    else:
        assert watcher.data_model.list().context
