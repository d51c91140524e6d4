"""What each role may do through the API: oslo.policy rules named like Watcher's.

Every protected route has one rule (``goal:get_all``, ``audit:create``,
``action_plan:start``...), found from the route's method and path. The
defaults: ``admin`` (or ``administrator``) may do everything; ``reader`` and
``member`` may read, with project-scoped tokens. An operator changes them in
a policy file (``[api] policy_file``, YAML or JSON, read again when it
changes); ``oslopolicy-sample-generator --namespace optimizer`` writes one
with every rule and its default. Whatever the auth mode, the caller's roles
reach the same checks: static tokens as ``admin`` or ``reader``, Keystone
tokens with the roles Keystone gave them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from oslo_config import cfg
from oslo_policy import policy

from optimizer.api.errors import Forbidden
from optimizer.config import ConfigError

ADMIN_API = "rule:admin_api"
READER_API = "rule:reader_api"
PROJECT = ["project"]
_NO_FILE = "optimizer-no-policy-file.yaml"

BASE_RULES = [
    policy.RuleDefault("admin_api", "role:admin or role:administrator",
                       description="Who may change audits, plans and the cloud."),
    policy.RuleDefault("reader_api", "rule:admin_api or role:reader or role:member",
                       description="Who may read goals, strategies, audits and plans."),
    policy.RuleDefault("admin_or_service_api", "rule:admin_api or role:service",
                       description="Who may trigger audits through webhooks."),
]

#: (rule, check, description, method, path): one a protected route
_ROUTES = [
    ("goal:get_all", READER_API, "List goals.", "GET", "/v1/goals"),
    ("goal:detail", READER_API, "List goals with details.", "GET", "/v1/goals/detail"),
    ("goal:get", READER_API, "Show a goal.", "GET", "/v1/goals/{goal}"),
    ("strategy:get_all", READER_API, "List strategies.", "GET", "/v1/strategies"),
    ("strategy:detail", READER_API, "List strategies with details.", "GET",
     "/v1/strategies/detail"),
    ("strategy:get", READER_API, "Show a strategy.", "GET", "/v1/strategies/{strategy}"),
    ("strategy:state", READER_API, "Show whether a strategy can run.", "GET",
     "/v1/strategies/{strategy}/state"),
    ("audit_template:get_all", READER_API, "List audit templates.", "GET",
     "/v1/audit_templates"),
    ("audit_template:detail", READER_API, "List audit templates with details.", "GET",
     "/v1/audit_templates/detail"),
    ("audit_template:get", READER_API, "Show an audit template.", "GET",
     "/v1/audit_templates/{template}"),
    ("audit_template:create", ADMIN_API, "Create an audit template.", "POST",
     "/v1/audit_templates"),
    ("audit_template:update", ADMIN_API, "Update an audit template.", "PATCH",
     "/v1/audit_templates/{template}"),
    ("audit_template:delete", ADMIN_API, "Delete an audit template.", "DELETE",
     "/v1/audit_templates/{template}"),
    ("audit:get_all", READER_API, "List audits.", "GET", "/v1/audits"),
    ("audit:detail", READER_API, "List audits with details.", "GET", "/v1/audits/detail"),
    ("audit:get", READER_API, "Show an audit.", "GET", "/v1/audits/{audit}"),
    ("audit:create", ADMIN_API, "Create an audit.", "POST", "/v1/audits"),
    ("audit:update", ADMIN_API, "Update an audit.", "PATCH", "/v1/audits/{audit}"),
    ("audit:delete", ADMIN_API, "Delete an audit.", "DELETE", "/v1/audits/{audit}"),
    ("action_plan:get_all", READER_API, "List action plans.", "GET", "/v1/action_plans"),
    ("action_plan:detail", READER_API, "List action plans with details.", "GET",
     "/v1/action_plans/detail"),
    ("action_plan:get", READER_API, "Show an action plan.", "GET", "/v1/action_plans/{plan}"),
    ("action_plan:start", ADMIN_API, "Start an action plan.", "POST",
     "/v1/action_plans/{plan}/start"),
    ("action_plan:update", ADMIN_API, "Update an action plan.", "PATCH",
     "/v1/action_plans/{plan}"),
    ("action_plan:delete", ADMIN_API, "Delete an action plan.", "DELETE",
     "/v1/action_plans/{plan}"),
    ("action:get_all", READER_API, "List actions.", "GET", "/v1/actions"),
    ("action:detail", READER_API, "List actions with details.", "GET", "/v1/actions/detail"),
    ("action:get", READER_API, "Show an action.", "GET", "/v1/actions/{action}"),
    ("action:update", ADMIN_API, "Update an action (skip it).", "PATCH",
     "/v1/actions/{action}"),
    ("data_model:get_all", READER_API, "Show the cluster data model.", "GET",
     "/v1/data_model"),
    ("readiness:get", READER_API, "Check failover readiness.", "GET", "/v1/readiness"),
    ("scoring_engine:get_all", READER_API, "List scoring engines.", "GET",
     "/v1/scoring_engines"),
    ("scoring_engine:detail", READER_API, "List scoring engines with details.", "GET",
     "/v1/scoring_engines/detail"),
    ("scoring_engine:get", READER_API, "Show a scoring engine.", "GET",
     "/v1/scoring_engines/{engine}"),
    ("service:get_all", READER_API, "List services.", "GET", "/v1/services"),
    ("service:detail", READER_API, "List services with details.", "GET",
     "/v1/services/detail"),
    ("service:get", READER_API, "Show a service.", "GET", "/v1/services/{service}"),
    ("webhook:trigger", "rule:admin_or_service_api", "Trigger an event audit.", "POST",
     "/v1/webhooks/{audit}"),
]

#: (method, route path) -> rule name
ROUTE_RULES = {(method, path): name for name, _, _, method, path in _ROUTES}


def list_rules() -> list[policy.RuleDefault]:
    """Every rule with its default: the ``oslo.policy.policies`` entry point ``optimizer``."""
    return BASE_RULES + [
        policy.DocumentedRuleDefault(name, check, description,
                                     [{"path": path, "method": method}], scope_types=PROJECT)
        for name, check, description, method, path in _ROUTES]


def rule_for(method: str, path: str) -> str | None:
    """The rule guarding a route (``HEAD`` as ``GET``); None for an unknown route."""
    return ROUTE_RULES.get(("GET" if method == "HEAD" else method, path))


@dataclass(frozen=True)
class Credentials:
    """Who calls: the roles and project of a token, as policy checks see them."""

    roles: tuple[str, ...]
    project_id: str | None = None
    user_id: str | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict:
        return {"roles": list(self.roles), "project_id": self.project_id,
                "user_id": self.user_id, **self.extra}


class Policy:
    """The enforcer over our rules, with an optional policy file."""

    def __init__(self, policy_file: str | None = None):
        conf = cfg.ConfigOpts()
        conf([], project="optimizer", default_config_files=[], default_config_dirs=[])
        # no file given: oslo.policy would look for policy.json under the config
        # dirs and log a warning for each request; the defaults then stand alone
        if policy_file and not os.path.isfile(policy_file):
            raise ConfigError(f"[api] policy_file {policy_file}: no such file")
        # No file given: a name found nowhere, so the defaults stand alone.
        self._enforcer = policy.Enforcer(conf, policy_file=policy_file or _NO_FILE)
        # no policy.d folders: each check would look for them on disk
        conf.set_override("policy_dirs", [], group="oslo_policy")
        self._enforcer.register_defaults(list_rules())
        try:
            self._enforcer.load_rules()  # a broken file fails at start, not per request
        except ValueError as exc:
            raise ConfigError(f"[api] policy_file {policy_file}: {exc}") from None

    def allowed(self, rule: str, who: Credentials) -> bool:
        """Whether ``who`` passes ``rule`` (a wrong scope fails too)."""
        creds = who.as_dict()
        try:
            return bool(self._enforcer.enforce(rule, {"project_id": who.project_id}, creds))
        except policy.InvalidScope:
            return False

    def check(self, rule: str, who: Credentials, method: str, path: str) -> None:
        """Raise :class:`Forbidden` naming ``rule`` when ``who`` may not do it."""
        if not self.allowed(rule, who):
            roles = ", ".join(who.roles) or "none"
            raise Forbidden(f"{method} {path} is refused by policy rule {rule} "
                            f"({self._enforcer.rules.get(rule)}) for roles: {roles}")
