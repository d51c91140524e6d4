"""Running an action plan from the command line: in this process, detached, or watched.

The applier (``optimizer.applier``) does the work; this module only starts
it and shows its progress: a rich progress bar of actions done, running and
failed and the memory moved so far, drawn on stderr so stdout keeps the
final result. A detached run is a new session running the hidden command
``optimizer actionplan execute UUID``, logging to a file under the user's
data folder, so closing the terminal does not stop it.
"""
from __future__ import annotations

import dataclasses
import importlib
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from optimizer import operations, render
from optimizer.commands.common import print_json
from optimizer.commands.options import global_options
from optimizer.config import default_data_dir
from optimizer.context import Context
from optimizer.models.errors import UserError
from optimizer.states import ActionPlanState, is_final

POLL_SECONDS = 0.5
PENDING_NOTICE_S = 10.0
NOT_INSTALLED = "the applier is not installed"


def applier_module() -> ModuleType | None:
    """``optimizer.applier``, or None while it is not installed."""
    try:
        applier = importlib.import_module("optimizer.applier")
    except ModuleNotFoundError as exc:
        if exc.name == "optimizer.applier":
            return None
        raise
    # the package may be half-landed: only its public API counts
    return applier if hasattr(applier, "execute_plan") else None


def require_applier() -> ModuleType:
    applier = applier_module()
    if applier is None:
        raise UserError(f"{NOT_INSTALLED}: action plans cannot run, pause or resume")
    return applier


class ProgressView:
    """A live progress bar fed with the applier's ``PlanProgress`` reports."""

    def __init__(self, plan_uuid: str, enabled: bool = True):
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("[bold]{task.fields[state]}[/]"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"), TimeElapsedColumn(),
            console=render.console(err=True), transient=False)
        self.task = self.progress.add_task(plan_uuid, total=None, state="PENDING", detail="")
        self.last: Any = None

    def __enter__(self) -> ProgressView:
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self.enabled:
            self.progress.stop()

    def update(self, report: Any) -> None:
        """Show one progress report (the applier's ``on_progress`` callback)."""
        self.last = report
        self.progress.update(self.task, total=report.total or None,
                             completed=finished_count(report), state=report.state,
                             detail=progress_detail(report))


def finished_count(report: Any) -> int:
    return report.succeeded + report.failed + report.skipped + report.cancelled


def progress_detail(report: Any) -> str:
    parts = [f"running {report.running}", f"failed {report.failed}"]
    if report.skipped:
        parts.append(f"skipped {report.skipped}")
    parts.append(f"moved {report.moved_memory_mb / 1024:.1f} GB")
    return "  ".join(parts)


def progress_dict(report: Any) -> dict[str, Any]:
    document = dataclasses.asdict(report) if dataclasses.is_dataclass(report) else dict(
        vars(report))
    # memory in GB (1024 MB) everywhere a user reads it, as in the referee's figures
    if "moved_memory_mb" in document:
        document["moved_memory_gb"] = round(document.pop("moved_memory_mb") / 1024, 3)
    return document


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    """What starting, running or watching a plan ended with: a status, a document, a line."""

    status: int
    document: dict[str, Any]
    line: str

    def emit(self, output_format: str) -> None:
        if output_format == "json":
            print_json(self.document)
        else:
            click.echo(self.line)


def start_plan(ctx: Context, uuid: str, *, wait: bool, output_format: str) -> RunOutcome:
    """Start a RECOMMENDED plan and run it (or launch it detached)."""
    plan = operations.start_action_plan(ctx, uuid)
    if plan.state == ActionPlanState.SUPERSEDED:
        return RunOutcome(1, {"uuid": uuid, "state": plan.state, "reason": plan.status_message},
                          f"action plan {uuid} was not started: SUPERSEDED: "
                          f"{plan.status_message}")
    applier = applier_module()
    if applier is None:
        return RunOutcome(0, {"uuid": uuid, "state": plan.state, "reason": NOT_INSTALLED},
                          f"action plan {uuid} is PENDING, but {NOT_INSTALLED}: "
                          "nothing will run it yet")
    if not wait:
        pid, log = launch_detached(uuid)
        return RunOutcome(0, {"uuid": uuid, "state": plan.state, "pid": pid, "log": str(log)},
                          f"action plan {uuid} started in the background (process {pid}, "
                          f"log {log}); follow it with: optimizer actionplan watch {uuid}")
    return run_plan(ctx, applier, uuid, show_progress=output_format == "table")


def run_plan(ctx: Context, applier: ModuleType, uuid: str, *,
             show_progress: bool) -> RunOutcome:
    """Execute a PENDING plan here, optionally with a progress bar."""
    with ProgressView(uuid, enabled=show_progress) as view:
        applier.execute_plan(ctx, uuid, on_progress=view.update)
    return final_outcome(applier.plan_progress(ctx, uuid))


def watch_plan(ctx: Context, uuid: str, output_format: str,
               poll_seconds: float = POLL_SECONDS) -> RunOutcome:
    """Follow a plan run elsewhere until it reaches a final state."""
    applier = require_applier()
    report = applier.plan_progress(ctx, uuid)
    if report.state == ActionPlanState.RECOMMENDED:
        raise UserError(f"action plan {uuid} is RECOMMENDED, not started: "
                        f"run `optimizer actionplan start {uuid}`")
    waited, warned = 0.0, False
    with ProgressView(uuid, enabled=output_format == "table") as view:
        view.update(report)
        while not is_final("action plan", report.state):
            time.sleep(poll_seconds)
            waited += poll_seconds
            report = applier.plan_progress(ctx, uuid)
            view.update(report)
            if report.state == ActionPlanState.PENDING and waited >= PENDING_NOTICE_S \
                    and not warned:
                # a plan nobody claims would be watched forever without a word
                view.progress.console.print(
                    f"action plan {uuid} is still PENDING after {waited:.0f} s: is an applier "
                    "running (`optimizer serve`, or `actionplan start` in another shell)?",
                    markup=False)
                warned = True
    return final_outcome(report)


def final_outcome(report: Any) -> RunOutcome:
    """The plan's final figures; status 1 when it FAILED."""
    counts = (f"{report.succeeded} succeeded, {report.failed} failed, {report.skipped} "
              f"skipped, {report.cancelled} cancelled of {report.total}; moved "
              f"{report.moved_memory_mb / 1024:.1f} GB")
    message = f" ({report.message})" if report.message else ""
    return RunOutcome(1 if report.state == ActionPlanState.FAILED else 0, progress_dict(report),
                      f"action plan {report.plan_uuid} {report.state}: {counts}{message}")


def launch_detached(uuid: str) -> tuple[int, Path]:
    """Run ``optimizer actionplan execute UUID`` in a new session; (pid, log file)."""
    logs = default_data_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"actionplan-{uuid}.log"
    args = [sys.executable, "-m", "optimizer.cli", "-v", *global_options().as_arguments(),
            "actionplan", "execute", uuid]
    with open(log, "ab") as stream:
        child = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=stream,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    return child.pid, log
