"""The console over HTTP: login, pages, data, the API proxy and its refusals."""
from __future__ import annotations

import pytest

from optimizer.ui.session import COOKIE
from tests.optimizer.api.conftest import ADMIN, READER, recommended_plan


def login(client, token: str):
    return client.post("/ui/login", data={"token": token, "next": "/ui/plans"},
                       follow_redirects=False)


@pytest.fixture
def admin(secured):
    assert login(secured, ADMIN).status_code == 303
    return secured


def as_admin(client):
    """The same client, sending the admin token to the API itself."""
    client.headers["X-Auth-Token"] = ADMIN
    return client


def csrf_of(client, page: str = "/ui/cluster") -> str:
    html = client.get(page).text
    return html.split('name="console-csrf" content="')[1].split('"')[0]


def test_pages_without_a_session_go_to_the_login_form(secured):
    answer = secured.get("/ui/plans", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/login?next=/ui/plans"
    assert secured.get("/ui/data/cluster").status_code == 401


def test_a_bad_token_is_refused_and_sets_no_cookie(secured):
    answer = login(secured, "wrong")
    assert answer.status_code == 401
    assert "not valid" in answer.text
    assert COOKIE not in answer.cookies


def test_login_sets_an_httponly_cookie_and_goes_where_asked(secured):
    answer = login(secured, ADMIN)
    assert answer.headers["location"] == "/ui/plans"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()


def test_login_never_redirects_off_the_console(secured):
    answer = secured.post("/ui/login", data={"token": ADMIN, "next": "//evil.example/"},
                          follow_redirects=False)
    assert answer.headers["location"] == "/ui/cluster"


def test_a_forged_cookie_is_back_to_login(secured):
    secured.cookies.set(COOKIE, "eyJ0IjoiYWRtaW4tc2VjcmV0IiwiZSI6OTk5OTk5OTk5OX0=.00", path="/ui")
    assert secured.get("/ui/cluster", follow_redirects=False).status_code == 303


def test_cluster_data_is_columns_one_entry_a_host(admin, ctx):
    body = admin.get("/ui/data/cluster").json()
    hosts = ctx.collector.collect().host_count
    assert len(body["hosts"]) == len(body["cpu"]) == len(body["memory"]) == hosts
    assert all(0 <= m <= 1.5 for m in body["memory"])


def test_plan_page_data_match_the_api(admin, dispatcher):
    plan = recommended_plan(as_admin(admin), dispatcher)
    page = admin.get(f"/ui/plans/{plan['uuid']}")
    assert page.status_code == 200 and plan["uuid"] in page.text
    summary = admin.get(f"/ui/data/plans/{plan['uuid']}").json()
    actions = admin.get("/ui/api/actions", params={"action_plan_uuid": plan["uuid"],
                                                   "limit": 1000}).json()["actions"]
    assert summary["total"] == len(actions) == sum(summary["stages"])
    assert summary["states"] == {"PENDING": len(actions)}
    hosts = admin.get(f"/ui/data/plans/{plan['uuid']}/hosts").json()
    assert sum(hosts["changed"]) == summary["hosts_changed"] > 0
    page = admin.get(f"/ui/data/plans/{plan['uuid']}/actions",
                     params={"offset": 1, "limit": 2}).json()
    assert [a["index"] for a in page["actions"]] == [1, 2]
    assert page["total"] == len(actions)


def test_a_missing_plan_is_a_clear_page_and_a_gone_answer(admin):
    uuid = "00000000-0000-0000-0000-000000000000"
    page = admin.get(f"/ui/plans/{uuid}")
    assert page.status_code == 404 and "does not exist" in page.text
    assert admin.get("/ui/plans/not-a-uuid").status_code == 404
    assert admin.get(f"/ui/data/plans/{uuid}").json()["gone"] is True


def test_writes_need_the_pages_csrf_value(admin):
    body = {"goal": "server_consolidation", "audit_type": "CONTINUOUS", "interval": "3600"}
    assert admin.post("/ui/api/audits", json=body).status_code == 403
    answer = admin.post("/ui/api/audits", json=body, headers={"X-Console-CSRF": csrf_of(admin)})
    assert answer.status_code == 201, answer.text


def test_a_readers_write_is_refused_by_the_api(secured):
    login(secured, READER)
    page = secured.get("/ui/audits").text
    assert "Create an audit" not in page
    answer = secured.post("/ui/api/audits", json={"goal": "server_consolidation"},
                          headers={"X-Console-CSRF": csrf_of(secured)})
    assert answer.status_code == 403
    assert "refused by policy rule audit:create" in answer.text
