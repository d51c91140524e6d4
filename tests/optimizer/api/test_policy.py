"""Policy rules: Watcher's names, defaults, a policy file, and 403s naming the rule."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from optimizer.api import create_app
from optimizer.api.app import PROTECTED
from optimizer.api.policy import ROUTE_RULES, Credentials, Policy, rule_for
from optimizer.config import ApiSettings, ConfigError
from tests.optimizer.api.conftest import ADMIN, READER, fault

TEMPLATE = {"name": "t1", "goal": "dummy"}


def test_every_protected_route_has_a_rule():
    routes = {(method, route.path) for module in PROTECTED for route in module.router.routes
              for method in route.methods}
    assert routes == set(ROUTE_RULES)
    assert rule_for("POST", "/v1/action_plans/{plan}/start") == "action_plan:start"
    assert rule_for("HEAD", "/v1/goals") == "goal:get_all"


@pytest.mark.parametrize("roles, reads, writes", [
    (("admin",), True, True), (("reader",), True, False), (("member",), True, False),
    (("other",), False, False)])
def test_defaults(roles, reads, writes):
    policy, who = Policy(), Credentials(roles, "p1")
    assert policy.allowed("audit:get_all", who) is reads
    assert policy.allowed("audit:create", who) is writes


def test_a_system_scoped_token_is_out_of_scope():
    assert not Policy().allowed("goal:get", Credentials(("admin",), extra={"system": "all"}))


def test_a_reader_write_is_a_403_naming_the_rule(secured):
    response = secured.post("/v1/audit_templates", json=TEMPLATE,
                            headers={"X-Auth-Token": READER})
    assert response.status_code == 403
    assert "audit_template:create" in fault(response)
    assert "rule:admin_api" in fault(response)


def test_a_policy_file_changes_the_rules(ctx, dispatcher, tmp_path):
    rules = tmp_path / "policy.yaml"
    rules.write_text('"audit_template:create": "rule:reader_api"\n'
                     '"goal:get_all": "!"\n')
    api = ApiSettings(auth="token", admin_tokens=(ADMIN,), reader_tokens=(READER,),
                      policy_file=str(rules))
    with TestClient(create_app(ctx, dispatcher, api), raise_server_exceptions=False) as client:
        reader = {"X-Auth-Token": READER}
        assert client.post("/v1/audit_templates", json=TEMPLATE, headers=reader
                           ).status_code == 201
        refused = client.get("/v1/goals", headers={"X-Auth-Token": ADMIN})
        assert refused.status_code == 403
        assert "goal:get_all" in fault(refused)


@pytest.mark.parametrize("text, message", [(None, "no such file"), ('"a": [\n', "policy.yaml")])
def test_a_missing_or_broken_policy_file_fails_at_start(tmp_path, text, message):
    path = tmp_path / "policy.yaml"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        Policy(str(path))


def test_the_sample_generator_knows_the_namespace():
    tool = Path(sys.executable).with_name("oslopolicy-sample-generator")
    out = subprocess.run([str(tool), "--namespace", "optimizer"], capture_output=True,
                         text=True, check=True).stdout
    assert '#"action_plan:start": "rule:admin_api"' in out
    assert '#"goal:get_all": "rule:reader_api"' in out
