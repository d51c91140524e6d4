"""``optimizer action``: the steps of a plan — list, show, skip."""
from __future__ import annotations

import click

from optimizer import operations
from optimizer.commands.common import (
    console,
    emit_list,
    format_option,
    make_page,
    opened_context,
    page_options,
    print_fields,
    print_json,
)
from optimizer.commands.views import ACTION_COLUMNS, action_view
from optimizer.db import get_action, get_action_plan, list_actions


@click.group("action")
def action() -> None:
    """List, show and skip the actions of action plans."""


@action.command("list")
@click.option("--plan", "plan_uuid", required=True, metavar="UUID", help="The action plan.")
@click.option("--state", help="Only actions in this state (e.g. FAILED).")
@click.option("--type", "action_type", help="Only actions of this type (e.g. migrate).")
@page_options("index")
@format_option
def list_(plan_uuid: str, state: str | None, action_type: str | None, limit: int | None,
          marker: str | None, sort: str, output_format: str) -> None:
    """List a plan's actions, by default in execution order."""
    filters = {k: v for k, v in (("state", state and state.upper()), ("type", action_type))
               if v}
    with opened_context(reads_only=True) as ctx, ctx.database.session() as session:
        plan = get_action_plan(session, plan_uuid)
        views = [action_view(a) for a in
                 list_actions(session, plan, filters, make_page(limit, marker, sort))]
    emit_list(views, output_format, f"Actions of plan {plan_uuid}", ACTION_COLUMNS)


@action.command("show")
@click.argument("uuid")
@format_option
def show(uuid: str, output_format: str) -> None:
    """Show one action: its parameters, parents, state and reason."""
    with opened_context(reads_only=True) as ctx, ctx.database.session() as session:
        row = get_action(session, uuid)
        view = {**action_view(row), "action_plan": _plan_uuid(session, row)}
    if output_format == "json":
        print_json(view)
    else:
        print_fields(console(), f"Action #{view['index']} ({view['type']})", view)


@action.command("skip")
@click.argument("uuid")
@click.option("--reason", default="skipped by request", show_default=True,
              help="Why, recorded on the action.")
@format_option
def skip(uuid: str, reason: str, output_format: str) -> None:
    """Skip a PENDING action: the actions after it may run without it."""
    with opened_context() as ctx:
        view = action_view(operations.skip_action(ctx, uuid, reason))
    if output_format == "json":
        print_json(view)
    else:
        click.echo(f"action {uuid} (#{view['index']} {view['type']}) SKIPPED: {reason}")


def _plan_uuid(session, row) -> str:
    from optimizer.db.schema import ActionPlanRow

    return session.get(ActionPlanRow, row.action_plan_id).uuid
