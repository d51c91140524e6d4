"""Persistent storage of goals, strategies, audit templates, audits and action plans.

Open a database with :func:`open_database` (an empty one gets its tables;
one at an unknown revision is refused), then work in a session::

    db = open_database(settings.database_url)
    with db.session() as session:           # one transaction, committed at the end
        audit = create_audit(session, goal="server_consolidation")
        plan = add_action_plan(session, {"audit_id": audit.id, "strategy": "dummy"},
                               [{"type": "nop", "parameters": {"message": "hi"}}])

Every function takes the session first; none commits. Errors a user can act
on are :class:`optimizer.models.errors.UserError` subclasses from ``optimizer.db.errors``.
"""
from optimizer.lazy import lazy_exports

# name -> the module of this package that defines it, imported when the name is used
_EXPORTS = {
    "add_action_plan": "action_plans", "delete_action_plan": "action_plans",
    "get_action": "action_plans", "get_action_plan": "action_plans",
    "list_action_plans": "action_plans", "list_actions": "action_plans",
    "set_action_plan_state": "action_plans", "set_action_state": "action_plans",
    "supersede_other_plans": "action_plans", "update_action_plan": "action_plans",
    "create_audit": "audits", "create_audit_from_template": "audits", "delete_audit": "audits",
    "get_audit": "audits", "list_audits": "audits", "set_audit_state": "audits",
    "update_audit": "audits", "list_goals": "catalog", "list_strategies": "catalog",
    "sync_goals": "catalog", "sync_strategies": "catalog", "Database": "engine",
    "make_engine": "engine", "open_database": "engine", "RevisionState": "migrate",
    "RevisionStatus": "migrate", "check_revision": "migrate", "current_revision": "migrate",
    "head_revision": "migrate", "revision_status": "migrate", "upgrade": "migrate",
    "Page": "query", "create_audit_template": "templates", "delete_audit_template": "templates",
    "get_audit_template": "templates", "list_audit_templates": "templates",
    "update_audit_template": "templates",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "Database", "Page", "RevisionState", "RevisionStatus", "add_action_plan", "check_revision",
    "create_audit", "create_audit_from_template", "create_audit_template", "current_revision",
    "delete_action_plan", "delete_audit", "delete_audit_template", "get_action",
    "get_action_plan", "get_audit", "get_audit_template", "head_revision", "list_action_plans",
    "list_actions", "list_audit_templates", "list_audits", "list_goals", "list_strategies",
    "make_engine", "open_database", "revision_status", "set_action_plan_state",
    "set_action_state", "set_audit_state", "supersede_other_plans", "sync_goals",
    "sync_strategies", "update_action_plan", "update_audit", "update_audit_template",
    "upgrade",
]
