"""``optimizer audittemplate``: named, reusable audit definitions."""
from __future__ import annotations

import click

from optimizer.commands.common import (
    console,
    emit_list,
    format_option,
    make_page,
    opened_context,
    page_options,
    param_option,
    print_fields,
    print_json,
    read_json_file,
)
from optimizer.commands.views import TEMPLATE_COLUMNS, template_view
from optimizer.db import (
    create_audit_template,
    delete_audit_template,
    get_audit_template,
    list_audit_templates,
)
from optimizer.guard_rails import GuardRails
from optimizer.operations import check_audit_request
from optimizer.strategies.base import our_names
from optimizer.strategies.parameters import parse_assignments


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
@click.option("--max-migrations", type=int, default=0,
              help="Guard rail: a plan with more migrations waits for a person (0: any).")
@click.option("--max-moved-memory-gb-per-hour", type=float, default=0.0,
              help="Guard rail: memory automatic plans may move per hour (0: no limit).")
@click.option("--window", "windows", multiple=True, metavar="CRON",
              help="Guard rail: a cron expression (UTC) of minutes in which plans may start "
                   "by themselves; repeat for several.")
@click.option("--description", default="", help="What the template is for.")
@format_option
def create(name: str, goal: str, strategy: str | None, params: tuple[str, ...],
           scope_file: str | None, auto_trigger: bool, max_migrations: int,
           max_moved_memory_gb_per_hour: float, windows: tuple[str, ...], description: str,
           output_format: str) -> None:
    """Store a template after checking its goal, strategy, parameters and scope."""
    scope = read_json_file(scope_file, "scope") if scope_file else None
    rails = GuardRails.from_mapping(
        {"max_migrations_per_plan": max_migrations,
         "max_moved_memory_gb_per_hour": max_moved_memory_gb_per_hour,
         "allowed_windows": list(windows)}, where=f"audit template {name}")
    goal, strategy = our_names(goal, strategy)
    with opened_context(creates=True) as ctx:
        parameters, checked_scope = check_audit_request(
            ctx, goal, strategy, parse_assignments(list(params)), scope)
        with ctx.database.session() as session:
            row = create_audit_template(
                session, name=name, goal=goal, strategy=strategy, parameters=parameters,
                scope=checked_scope, description=description, auto_trigger=auto_trigger,
                guard_rails=rails.as_dict())
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
    with opened_context(reads_only=True) as ctx, ctx.database.session() as session:
        views = [template_view(r) for r in
                 list_audit_templates(session, filters, make_page(limit, marker, sort))]
    emit_list(views, output_format, "Audit templates", TEMPLATE_COLUMNS)


@audittemplate.command("show")
@click.argument("ident", metavar="NAME|UUID")
@format_option
def show(ident: str, output_format: str) -> None:
    """Show one audit template."""
    with opened_context(reads_only=True) as ctx, ctx.database.session() as session:
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
