"""``optimizer audittemplate``: named, reusable audit definitions."""
from __future__ import annotations

import click

from optimizer.commands.common import (
    console,
    format_option,
    make_page,
    opened_context,
    page_options,
    param_option,
    print_fields,
    print_json,
    print_rows,
    read_json_file,
)
from optimizer.commands.views import TEMPLATE_COLUMNS, template_view
from optimizer.db import (
    create_audit_template,
    delete_audit_template,
    get_audit_template,
    list_audit_templates,
)
from optimizer.operations import check_audit_request
from strategies.parameters import parse_assignments


@click.group("audittemplate")
def audittemplate() -> None:
    """Create, list, show and delete audit templates."""


@audittemplate.command("create")
@click.argument("name")
@click.option("--goal", required=True, help="Goal of audits made from the template.")
@click.option("--strategy", help="Strategy to use (default: the best one for the goal).")
@param_option
@click.option("--scope", "scope_file", metavar="FILE", help="A JSON scope document.")
@click.option("--auto-trigger", is_flag=True, help="Start the audits' plans automatically.")
@click.option("--description", default="", help="What the template is for.")
@format_option
def create(name: str, goal: str, strategy: str | None, params: tuple[str, ...],
           scope_file: str | None, auto_trigger: bool, description: str,
           output_format: str) -> None:
    """Store a template after checking its goal, strategy, parameters and scope."""
    scope = read_json_file(scope_file, "scope") if scope_file else None
    with opened_context() as ctx:
        parameters, checked_scope = check_audit_request(
            ctx, goal, strategy, parse_assignments(list(params)), scope)
        with ctx.database.session() as session:
            row = create_audit_template(
                session, name=name, goal=goal, strategy=strategy, parameters=parameters,
                scope=checked_scope, description=description, auto_trigger=auto_trigger)
            view = template_view(row)
    _print_template(view, output_format, f"created audit template {name}")


@audittemplate.command("list")
@click.option("--goal", help="Only templates for this goal.")
@page_options("name")
@format_option
def list_(goal: str | None, limit: int | None, marker: str | None, sort: str,
          output_format: str) -> None:
    """List audit templates."""
    filters = {"goal": goal} if goal else {}
    with opened_context() as ctx, ctx.database.session() as session:
        views = [template_view(r) for r in
                 list_audit_templates(session, filters, make_page(limit, marker, sort))]
    if output_format == "json":
        print_json(views)
    else:
        print_rows(console(), "Audit templates", TEMPLATE_COLUMNS, views)


@audittemplate.command("show")
@click.argument("ident", metavar="NAME|UUID")
@format_option
def show(ident: str, output_format: str) -> None:
    """Show one audit template."""
    with opened_context() as ctx, ctx.database.session() as session:
        view = template_view(get_audit_template(session, ident))
    _print_template(view, output_format)


@audittemplate.command("delete")
@click.argument("ident", metavar="NAME|UUID")
@format_option
def delete(ident: str, output_format: str) -> None:
    """Delete an audit template; audits made from it keep their own copy."""
    with opened_context() as ctx, ctx.database.session() as session:
        row = delete_audit_template(session, ident)
        view = template_view(row)
    if output_format == "json":
        print_json({"deleted": view})
    else:
        click.echo(f"deleted audit template {view['name']} ({view['uuid']})")


def _print_template(view: dict, output_format: str, headline: str | None = None) -> None:
    if output_format == "json":
        print_json(view)
        return
    if headline:
        click.echo(headline)
    print_fields(console(), f"Audit template {view['name']}", view)
