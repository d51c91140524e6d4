"""Audit templates: named, reusable audit definitions."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from optimizer.db import query
from optimizer.db.errors import AlreadyExists, NotFound
from optimizer.db.query import Page, Table
from optimizer.db.schema import AuditTemplateRow

TEMPLATES = Table(
    AuditTemplateRow, "audit template", filters=("goal", "strategy", "name"),
    sort_keys=("id", "name", "created_at", "updated_at", "goal"),
    editable=("name", "description", "goal", "strategy", "parameters", "scope", "auto_trigger",
              "guard_rails"),
    by_name=True,
)


def create_audit_template(session: Session, *, name: str, goal: str, strategy: str | None = None,
                          parameters: Mapping[str, Any] | None = None,
                          scope: list | None = None, description: str = "",
                          auto_trigger: bool = False,
                          guard_rails: Mapping[str, Any] | None = None) -> AuditTemplateRow:
    """A new template; its name must not be taken by another live template."""
    _check_name_free(session, name)
    row = AuditTemplateRow(name=name, goal=goal, strategy=strategy,
                           parameters=dict(parameters or {}), scope=list(scope or []),
                           description=description, auto_trigger=auto_trigger,
                           guard_rails=dict(guard_rails or {}))
    session.add(row)
    session.flush()
    return row


def get_audit_template(session: Session, ident: str) -> AuditTemplateRow:
    """The live template with this uuid or name."""
    return query.find(session, TEMPLATES, ident)


def list_audit_templates(session: Session, filters: Mapping[str, Any] | None = None,
                         page: Page | None = None) -> list[AuditTemplateRow]:
    """One page of live templates."""
    return query.list_rows(session, TEMPLATES, filters, page)


def update_audit_template(session: Session, ident: str, **changes: Any) -> AuditTemplateRow:
    """Change a template's fields; a new name must be free."""
    row = get_audit_template(session, ident)
    if "name" in changes and changes["name"] != row.name:
        _check_name_free(session, changes["name"])
    return query.change(session, TEMPLATES, row, changes)


def delete_audit_template(session: Session, ident: str) -> AuditTemplateRow:
    """Soft-delete a template; audits made from it keep their own copy of its fields."""
    return query.soft_delete(session, TEMPLATES, get_audit_template(session, ident))


def _check_name_free(session: Session, name: str) -> None:
    try:
        get_audit_template(session, name)
    except NotFound:
        return
    raise AlreadyExists(f"audit template {name!r} already exists")
