"""``optimizer actionplan``: list, show, start, watch, pause, resume, cancel, delete."""
from __future__ import annotations

import click
import orjson
from sqlalchemy import Text, cast, func, select

from optimizer import operations
from optimizer.commands.common import (
    console,
    emit_list,
    exit_with,
    format_option,
    make_page,
    opened_context,
    page_options,
    print_json,
)
from optimizer.commands.execution import (
    applier_module,
    cancel_outcome,
    require_applier,
    run_plan,
    start_plan,
    watch_plan,
)
from optimizer.commands.plan_view import print_plan, stage_counts, whole_plan_stage_counts
from optimizer.commands.views import PLAN_COLUMNS, action_view, plan_view
from optimizer.db import (
    Page,
    delete_action_plan,
    get_action_plan,
    get_audit,
    list_action_plans,
    list_actions,
)
from optimizer.db.schema import ActionRow
from optimizer.models.errors import UserError
from optimizer.plan_file import stored_plan_to_dict, write_plan
from optimizer.tracing import traced_command

DEFAULT_SHOWN = 50


@click.group("actionplan")
def actionplan() -> None:
    """Inspect, start, follow and stop action plans."""


@actionplan.command("list")
@click.option("--audit", "audit_ident", metavar="NAME|UUID", help="Only this audit's plans.")
@click.option("--state", help="Only plans in this state (e.g. RECOMMENDED).")
@click.option("--strategy", help="Only plans made by this strategy.")
@page_options("created_at")
@format_option
def list_(audit_ident: str | None, state: str | None, strategy: str | None, limit: int | None,
          marker: str | None, sort: str, output_format: str) -> None:
    """List action plans."""
    with opened_context(reads_only=True) as ctx, ctx.database.session() as session:
        filters: dict = {"state": state.upper()} if state else {}
        if strategy:
            filters["strategy"] = strategy
        if audit_ident:
            filters["audit_id"] = get_audit(session, audit_ident).id
        views = [plan_view(p) for p in
                 list_action_plans(session, filters, make_page(limit, marker, sort))]
    emit_list(views, output_format, "Action plans", PLAN_COLUMNS)


@actionplan.command("show")
@click.argument("uuid")
@click.option("--limit", default=DEFAULT_SHOWN, show_default=True, metavar="N",
              help="Show the first N actions and hosts.")
@format_option
def show(uuid: str, limit: int, output_format: str) -> None:
    """Show a plan: efficacy, actions in execution order with parents, per-host changes."""
    if limit < 1:
        raise UserError(f"--limit must be at least 1, got {limit}")
    with opened_context(reads_only=True) as ctx, ctx.database.session() as session:
        row = get_action_plan(session, uuid)
        plan = {**plan_view(row), "host_changes": row.host_changes,
                "measured_efficacy": row.measured_efficacy}
        total = session.scalar(select(func.count()).select_from(ActionRow)
                               .where(ActionRow.action_plan_id == row.id))
        actions = [action_view(a) for a in
                   list_actions(session, row, page=Page(limit=limit, sort_key="index"))]
        # a stage's count is over the whole plan, not only the actions shown
        counts = None if output_format == "json" else (
            stage_counts(actions) if total <= len(actions)
            else whole_plan_stage_counts(_parents_by_index(session, row.id)))
    if output_format == "json":
        print_json({**plan, "actions_total": total, "actions": actions})
        return
    print_plan(console(), plan, actions, total, limit, counts)


def _parents_by_index(session, plan_id: int) -> list[list[int]]:
    """Every action's parents, by index (indices run 0..n-1), for the stage counts.

    The parents come as JSON text and are parsed in one orjson call: decoding
    them row by row was most of the time to show a 56,000-action plan.
    """
    table = ActionRow.__table__  # Core rows: the ORM's loading cost more than the query
    texts = session.connection().execute(
        select(cast(table.c.parents, Text))
        .where(table.c.action_plan_id == plan_id).order_by(table.c.index)).scalars().all()
    return orjson.loads("[" + ",".join(text or "[]" for text in texts) + "]")


@actionplan.command("export")
@click.argument("uuid")
@click.option("-o", "--output", metavar="PLAN.json",
              help="Write the action-plan/1 document here (default: print it).")
def export(uuid: str, output: str | None) -> None:
    """Write a stored plan as an action-plan/1 document, for the referee and other tools."""
    with opened_context(reads_only=True) as ctx, ctx.database.session() as session:
        row = get_action_plan(session, uuid)
        plan = {**plan_view(row), "goal": row.audit.goal}
        actions = [{"type": a.type, "parameters": a.parameters, "reason": a.reason,
                    "index": a.index, "parents": a.parents}
                   for a in list_actions(session, row, page=Page(sort_key="index"))]
    document = stored_plan_to_dict(plan, actions)
    if output is None:
        print_json(document)
        return
    try:
        write_plan(document, output)
    except OSError as exc:
        raise UserError(f"cannot write plan {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {output}: action plan {uuid}, {len(actions)} actions")


@actionplan.command("start")
@click.argument("uuid")
@click.option("--no-wait", is_flag=True,
              help="Run the plan in a background process and return at once.")
@format_option
def start(uuid: str, no_wait: bool, output_format: str) -> None:
    """Approve a RECOMMENDED plan and run it, with a progress bar.

    Ctrl-C pauses the plan (running actions end first; Ctrl-C again stops at
    once) and prints how to go on. Given a started plan that no applier runs
    any more (after Ctrl-C or a crash), start goes on with it here; a PAUSED
    plan held by a live applier is resumed there and followed.
    """
    with opened_context() as ctx, traced_command(ctx.settings, "optimizer actionplan start"):
        outcome = start_plan(ctx, uuid, wait=not no_wait, output_format=output_format)
    outcome.emit(output_format)
    exit_with(outcome.status)


@actionplan.command("execute")
@click.argument("uuid")
@format_option
def execute(uuid: str, output_format: str) -> None:
    """Run a started plan here, or take over one whose applier is gone.

    Approves nothing: runs a PENDING plan, or takes over a running one (ONGOING, PAUSED or
    CANCELLING) whose applier is gone or silent; a PAUSED one then waits for
    `resume`. This is what `start --no-wait` launches in the background.
    """
    with opened_context() as ctx, traced_command(ctx.settings, "optimizer actionplan execute"):
        outcome = run_plan(ctx, require_applier(), uuid, show_progress=False)
    outcome.emit(output_format)
    exit_with(outcome.status)


@actionplan.command("watch")
@click.argument("uuid")
@format_option
def watch(uuid: str, output_format: str) -> None:
    """Follow a running plan's progress until it ends.

    Stops with status 1 and the command that takes the plan over when no
    applier runs it any more (its process is gone or silent).
    """
    with opened_context() as ctx:
        outcome = watch_plan(ctx, uuid, output_format)
    outcome.emit(output_format)
    exit_with(outcome.status)


@actionplan.command("pause")
@click.argument("uuid")
def pause(uuid: str) -> None:
    """Let running actions finish but start no new ones."""
    applier = require_applier()
    with opened_context() as ctx:
        applier.pause_plan(ctx, uuid)
    click.echo(f"action plan {uuid}: pause requested")


@actionplan.command("resume")
@click.argument("uuid")
def resume(uuid: str) -> None:
    """Go on with a paused plan."""
    applier = require_applier()
    with opened_context() as ctx:
        applier.resume_plan(ctx, uuid)
    click.echo(f"action plan {uuid}: resumed")


@actionplan.command("cancel")
@click.argument("uuid")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0), default=60.0,
              show_default=True, metavar="SECONDS",
              help="How long to wait for the applier to finish a running plan's cancel "
                   "(0: do not wait).")
@format_option
def cancel(uuid: str, timeout_s: float, output_format: str) -> None:
    """Cancel a plan, aborting its running actions where possible.

    A plan not yet running is cancelled at once. For a running one, its
    applier aborts the in-flight actions that can be aborted and cancels the
    rest; the command waits for that (--timeout) and prints the counts.
    """
    with opened_context() as ctx:
        view = plan_view(operations.cancel_action_plan(ctx, uuid))
        outcome = cancel_outcome(ctx, uuid, view, timeout_s)
    if outcome is not None:
        outcome.emit(output_format)
        exit_with(outcome.status)
    elif output_format == "json":
        print_json(view)
    elif applier_module() is None and view["state"] == "CANCELLING":
        click.echo(f"action plan {uuid} CANCELLING (the applier is not installed to finish it)")
    else:
        click.echo(f"action plan {uuid} {view['state']}")


@actionplan.command("delete")
@click.argument("uuid")
@format_option
def delete(uuid: str, output_format: str) -> None:
    """Delete a finished plan (SUCCEEDED, FAILED, CANCELLED or SUPERSEDED)."""
    with opened_context() as ctx, ctx.database.session() as session:
        view = plan_view(delete_action_plan(session, uuid))
    if output_format == "json":
        print_json({"deleted": view})
    else:
        click.echo(f"deleted action plan {uuid}")
