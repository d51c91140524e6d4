"""Token roles: admins write, readers read, everyone else is refused."""
from __future__ import annotations

from optimizer.api.auth import TokenAuth
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


def test_a_non_ascii_token_is_refused_not_a_crash(secured):
    # Header bytes reach the app as latin-1 text; compare_digest refuses non-ASCII str
    for raw in ("tökén".encode(), "ключ".encode(), b"\xff\xfe", ADMIN.encode() + b"\xe9"):
        for name in ("X-Auth-Token", "Authorization"):
            value = raw if name == "X-Auth-Token" else b"Bearer " + raw
            response = secured.get("/v1/goals", headers={name: value})
            assert response.status_code == 401, (name, raw, response.text)
            assert "not valid" in fault(response)
            assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_non_ascii_configured_token_still_matches(ctx, dispatcher):
    from fastapi.testclient import TestClient

    from optimizer.api import create_app
    from optimizer.config import ApiSettings

    api = ApiSettings(auth="token", admin_tokens=("sésame",))
    with TestClient(create_app(ctx, dispatcher, api), raise_server_exceptions=False) as client:
        assert client.get("/v1/goals", headers={"X-Auth-Token": "sésame".encode()}
                          ).status_code == 200
    auth = TokenAuth(True, admin_tokens=("sésame",))
    assert auth.role_of("sésame".encode().decode("latin-1")) == "admin"  # as a header arrives
    assert auth.role_of("s\xe9same") is None  # the latin-1 spelling is another token
    assert auth.role_of("sésame\u20ac") is None
