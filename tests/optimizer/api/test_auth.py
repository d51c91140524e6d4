"""Token roles: admins write, readers read, everyone else is refused."""
from __future__ import annotations

from tests.optimizer.api.conftest import ADMIN, READER, fault

TEMPLATE = {"name": "t1", "goal": "dummy"}


def test_version_documents_need_no_token(secured):
    assert secured.get("/").status_code == 200
    assert secured.get("/v1").status_code == 200


def test_reads_need_a_known_token(secured):
    missing = secured.get("/v1/goals")
    assert missing.status_code == 401
    assert "token" in fault(missing)
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert secured.get("/v1/goals", headers={"X-Auth-Token": "guess"}).status_code == 401
    assert secured.get("/v1/goals", headers={"X-Auth-Token": READER}).status_code == 200
    bearer = {"Authorization": f"Bearer {READER}"}
    assert secured.get("/v1/goals", headers=bearer).status_code == 200


def test_readers_cannot_write(secured):
    response = secured.post("/v1/audit_templates", json=TEMPLATE,
                            headers={"X-Auth-Token": READER})
    assert response.status_code == 403
    assert "admin" in fault(response)
    assert secured.post("/v1/audit_templates", json=TEMPLATE).status_code == 401
    assert secured.get("/v1/audit_templates",
                       headers={"X-Auth-Token": ADMIN}).json()["audit_templates"] == []


def test_admins_write_with_either_header(secured):
    made = secured.post("/v1/audit_templates", json=TEMPLATE,
                        headers={"Authorization": f"Bearer {ADMIN}"})
    assert made.status_code == 201
    deleted = secured.delete(f"/v1/audit_templates/{made.json()['uuid']}",
                             headers={"X-Auth-Token": ADMIN})
    assert deleted.status_code == 204


def test_without_auth_everyone_is_admin(client):
    assert client.post("/v1/audit_templates", json=TEMPLATE).status_code == 201
