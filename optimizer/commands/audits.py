"""``optimizer audit``: create (and run a one-shot audit now), list, show, update, delete."""
from __future__ import annotations

import click

from optimizer import operations
from optimizer.commands.common import (
    console,
    duration_text,
    emit_list,
    exit_with,
    format_option,
    make_page,
    one_of,
    opened_context,
    page_options,
    param_option,
    parse_time,
    print_fields,
    print_json,
    print_rows,
    read_json_file,
)
from optimizer.commands.execution import start_plan
from optimizer.commands.plan_view import print_indicators
from optimizer.commands.views import AUDIT_COLUMNS, PLAN_COLUMNS, audit_view, plan_view
from optimizer.context import Context
from optimizer.db import delete_audit, get_action_plan, get_audit, list_action_plans, list_audits
from optimizer.db import update_audit as store_audit_changes
from optimizer.models.errors import UserError
from optimizer.scheduler.next_runs import next_run_times
from optimizer.states import AUDIT_TYPES, ActionPlanState, AuditState, AuditType
from optimizer.strategies.base import GOALS
from optimizer.strategies.parameters import parse_assignments
from optimizer.tracing import traced_command
from optimizer.tracing.report import trace_dicts, trace_lines
from optimizer.tracing.store import spans_of_audit


@click.group("audit")
def audit() -> None:
    """Create, run, list, show, update and delete audits."""


@audit.command("create")
@click.option("--goal", help=f"What to optimise for: {', '.join(GOALS)}.")
@click.option("--template", metavar="NAME|UUID",
              help="Take goal, strategy, parameters and scope from this audit template.")
@click.option("--strategy", help="Strategy to use (default: the best one for the goal).")
@param_option
@click.option("--scope", "scope_file", metavar="FILE", help="A JSON scope document.")
@click.option("--name", help="Name of the audit (default: <goal>-<UTC time>).")
@click.option("--type", "audit_type", default=AuditType.ONESHOT, show_default=True,
              help=f"How the audit is triggered: {', '.join(AUDIT_TYPES)}.")
@click.option("--interval", metavar="SECONDS|CRON",
              help="Time between runs of a CONTINUOUS audit: seconds or '0 * * * *'.")
@click.option("--start-time", metavar="ISO", help="First time a continuous audit may run.")
@click.option("--end-time", metavar="ISO", help="Last time a continuous audit may run.")
@click.option("--auto-trigger", is_flag=True, default=None,
              help="Start the recommended action plan at once.")
@click.option("--force", is_flag=True,
              help="Run even while an action plan is being carried out (Watcher's force).")
@format_option
def create(goal: str | None, template: str | None, strategy: str | None,
           params: tuple[str, ...], scope_file: str | None, name: str | None, audit_type: str,
           interval: str | None, start_time: str | None, end_time: str | None,
           auto_trigger: bool | None, force: bool, output_format: str) -> None:
    """Store an audit; a ONESHOT audit runs now and prints its action plan."""
    audit_type = one_of(audit_type, AUDIT_TYPES, "--type")
    if interval is not None and audit_type == AuditType.ONESHOT:
        raise UserError("--interval is for CONTINUOUS audits (add --type CONTINUOUS)")
    scope = read_json_file(scope_file, "scope") if scope_file else None
    with opened_context(creates=True) as ctx:
        row = operations.new_audit(
            ctx, goal=goal, strategy=strategy, parameters=parse_assignments(list(params)),
            scope=scope, name=name, audit_type=audit_type, interval=check_interval(interval),
            start_time=parse_time(start_time, "--start-time"),
            end_time=parse_time(end_time, "--end-time"), auto_trigger=auto_trigger,
            template=template, force=force)
        with ctx.database.session() as session:  # read back with its template joined
            view = audit_view(get_audit(session, row.uuid))
        if row.audit_type != AuditType.ONESHOT:
            _say_scheduled(view, output_format)
            return
        with traced_command(ctx.settings, "optimizer audit create"):
            status = _run_now(ctx, view, bool(row.auto_trigger), output_format)
    exit_with(status)


def _say_scheduled(view: dict, output_format: str) -> None:
    if output_format == "json":
        print_json({"audit": view})
        return
    interval = view["interval"]
    every = duration_text(int(interval)) if interval and interval.isdigit() else interval
    when = f"every {every}" if interval else "on events"
    click.echo(f"stored {view['audit_type']} audit {view['name']} ({view['uuid']}), to run "
               f"{when}: the optimizer service schedules it")


def _run_now(ctx: Context, view: dict, auto_trigger: bool, output_format: str) -> int:
    """Run a one-shot audit, print its plan, start the plan if asked; the exit status."""
    outcome = operations.run_audit(ctx, view["uuid"])
    document: dict = {"audit": {**view, "state": outcome.state},
                      "seconds": outcome.seconds}
    if outcome.state == AuditState.FAILED or outcome.action_plan_uuid is None:
        if output_format == "json":
            print_json({**document, "error": outcome.message})
        else:
            click.echo(f"audit {view['name']} ({view['uuid']}) FAILED: {outcome.message}")
        return 1
    with ctx.database.session() as session:
        plan = plan_view(get_action_plan(session, outcome.action_plan_uuid))
    document["action_plan_uuid"] = plan["uuid"]
    document["action_plan"] = plan
    if output_format == "table":
        out = console()
        out.print(f"audit {view['name']} ({view['uuid']}) {outcome.state}: action plan "
                  f"[bold]{plan['uuid']}[/] by {plan['strategy']}, estimated duration "
                  f"{duration_text(plan['estimated_duration_s'])}")
        print_indicators(out, plan)
    status = 0
    held = operations.guard_rail_breaches(ctx, plan["uuid"]) if auto_trigger else []
    if held:
        operations.hold_back(ctx, plan["uuid"], held)
        document["held_back"] = held
        if output_format == "table":
            click.echo("not started automatically: " + "; ".join(held))
    elif auto_trigger and plan["state"] == ActionPlanState.RECOMMENDED:
        run = start_plan(ctx, plan["uuid"], wait=True, output_format=output_format)
        document["execution"] = run.document
        if output_format == "table":
            run.emit(output_format)
        status = run.status
    elif output_format == "table":
        click.echo(f"start it with: optimizer actionplan start {plan['uuid']}")
    if output_format == "json":
        print_json(document)
    return status


def check_interval(interval: str | None) -> str | None:
    """A number of seconds (> 0) or a five-field cron expression, else a user error."""
    if interval is None:
        return None
    text = interval.strip()
    if text.isdigit():
        if int(text) < 1:
            raise UserError(f"--interval {interval!r}: seconds must be at least 1")
        return text
    from apscheduler.triggers.cron import CronTrigger  # only for the cron expressions

    try:
        CronTrigger.from_crontab(text)
    except ValueError as exc:
        raise UserError(f"--interval {interval!r} is neither seconds nor a cron expression "
                        f"such as '0 * * * *': {exc}") from None
    return text


@audit.command("list")
@click.option("--state", help="Only audits in this state (e.g. ONGOING).")
@click.option("--goal", help="Only audits for this goal.")
@click.option("--type", "audit_type", help="Only audits of this type.")
@page_options("created_at")
@format_option
def list_(state: str | None, goal: str | None, audit_type: str | None, limit: int | None,
          marker: str | None, sort: str, output_format: str) -> None:
    """List audits."""
    filters = {k: v.upper() if k != "goal" else v for k, v in
               (("state", state), ("goal", goal), ("audit_type", audit_type)) if v}
    with opened_context(reads_only=True) as ctx, ctx.database.session() as session:
        views = [audit_view(r) for r in list_audits(session, filters,
                                                    make_page(limit, marker, sort))]
    emit_list(views, output_format, "Audits", AUDIT_COLUMNS)


@audit.command("show")
@click.argument("ident", metavar="NAME|UUID")
@click.option("--trace", "with_trace", is_flag=True,
              help="Also print where the time went: the audit's newest trace, span by span "
                   "(recorded with [tracing] enabled = true).")
@format_option
def show(ident: str, with_trace: bool, output_format: str) -> None:
    """Show an audit's fields and its action plans."""
    with opened_context(reads_only=True) as ctx, ctx.database.session() as session:
        row = get_audit(session, ident)
        view = audit_view(row)
        if row.audit_type == AuditType.CONTINUOUS:
            view["next_run_time"] = next_run_times(session, [row.uuid]).get(row.uuid)
        plans = [plan_view(p) for p in list_action_plans(session, {"audit_id": row.id})]
        trace = spans_of_audit(session, row.uuid) if with_trace else []
    if output_format == "json":
        extra = {"trace": trace_dicts(trace)} if with_trace else {}
        print_json({**view, "action_plans": plans, **extra})
        return
    out = console()
    print_fields(out, f"Audit {view['name']}", view)
    print_rows(out, "Action plans", [c for c in PLAN_COLUMNS if c != "audit"], plans)
    if with_trace:
        _print_trace(trace)


def _print_trace(trace: list) -> None:
    if not trace:
        click.echo("no trace is stored for this audit: audits are traced while [tracing] "
                   "enabled = true (with store = true)")
        return
    click.echo("\n".join(trace_lines(trace)))


@audit.command("update")
@click.argument("ident", metavar="NAME|UUID")
@click.option("--name", help="A new name.")
@click.option("--state", help="SUSPENDED pauses a continuous audit, ONGOING resumes it.")
@click.option("--interval", metavar="SECONDS|CRON", help="New time between runs.")
@click.option("--start-time", metavar="ISO", help="New first time the audit may run.")
@click.option("--end-time", metavar="ISO", help="New last time the audit may run.")
@click.option("--auto-trigger/--no-auto-trigger", default=None,
              help="Start recommended plans automatically, or not.")
@format_option
def update(ident: str, name: str | None, state: str | None, interval: str | None,
           start_time: str | None, end_time: str | None, auto_trigger: bool | None,
           output_format: str) -> None:
    """Rename, suspend or resume an audit, or change its schedule."""
    if state is not None:
        state = one_of(state, (AuditState.SUSPENDED, AuditState.ONGOING), "--state")
    changes = {"name": name, "state": state, "interval": check_interval(interval),
               "start_time": parse_time(start_time, "--start-time"),
               "end_time": parse_time(end_time, "--end-time"), "auto_trigger": auto_trigger}
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        raise UserError("nothing to update: give --name, --state, --interval, --start-time, "
                        "--end-time or --auto-trigger/--no-auto-trigger")
    with opened_context() as ctx, ctx.database.session() as session:
        row = get_audit(session, ident)
        _check_update(row, changes)
        view = audit_view(store_audit_changes(session, row.uuid, **changes))
    if output_format == "json":
        print_json(view)
        return
    click.echo(f"updated audit {view['name']} ({view['uuid']}): "
               + ", ".join(sorted(changes)))
    print_fields(console(), f"Audit {view['name']}", view)


def _check_update(row, changes: dict) -> None:
    if row.audit_type == AuditType.ONESHOT:
        scheduled = sorted(set(changes) & {"state", "interval", "start_time", "end_time"})
        if scheduled:
            raise UserError(f"audit {row.name} is ONESHOT: --{scheduled[0].replace('_', '-')} "
                            "applies to CONTINUOUS and EVENT audits only")
    for field in ("start_time", "end_time"):
        value = changes.get(field)
        if value is not None and value.tzinfo is None:
            raise UserError(f"--{field.replace('_', '-')} {value.isoformat()} needs a time "
                            "zone (e.g. 2025-01-31T22:00:00+00:00)")


@audit.command("delete")
@click.argument("ident", metavar="NAME|UUID")
@format_option
def delete(ident: str, output_format: str) -> None:
    """Delete an audit and its finished or recommended plans."""
    with opened_context() as ctx, ctx.database.session() as session:
        view = audit_view(delete_audit(session, ident))
    if output_format == "json":
        print_json({"deleted": view})
    else:
        click.echo(f"deleted audit {view['name']} ({view['uuid']}) and its action plans")
