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
from optimizer.db.action_plans import (
    add_action_plan,
    delete_action_plan,
    get_action,
    get_action_plan,
    list_action_plans,
    list_actions,
    set_action_plan_state,
    set_action_state,
    supersede_other_plans,
    update_action_plan,
)
from optimizer.db.audits import (
    create_audit,
    create_audit_from_template,
    delete_audit,
    get_audit,
    list_audits,
    set_audit_state,
    update_audit,
)
from optimizer.db.catalog import list_goals, list_strategies, sync_goals, sync_strategies
from optimizer.db.engine import Database, make_engine, open_database
from optimizer.db.migrate import (
    RevisionState,
    RevisionStatus,
    check_revision,
    current_revision,
    head_revision,
    revision_status,
    upgrade,
)
from optimizer.db.query import Page
from optimizer.db.templates import (
    create_audit_template,
    delete_audit_template,
    get_audit_template,
    list_audit_templates,
    update_audit_template,
)

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
