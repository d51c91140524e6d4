"""Running an action plan from the command line: in this process, detached, or watched.

The applier (``optimizer.applier``) does the work; this module only starts
it and shows its progress: a rich progress bar of actions done, running and
failed and the memory moved so far, drawn on stderr so stdout keeps the
final result. A detached run is a new session running the command
``optimizer actionplan execute UUID``, logging to a file under the user's
data folder, so closing the terminal does not stop it.

Ctrl-C while a plan runs here pauses it and gives it up (see :func:`run_plan`);
``start`` then goes on with it, as with any started plan whose applier is gone.
``watch`` and ``cancel`` stop waiting when no applier runs the plan any more.
"""
from __future__ import annotations

import dataclasses
import importlib
import signal
import subprocess
import sys
import threading
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
from optimizer.db import get_action_plan
from optimizer.models.errors import UserError
from optimizer.states import ActionPlanState, is_final

POLL_SECONDS = 0.5
INTERRUPTED = 130  # the shell's status for a command stopped by Ctrl-C
RUNNING_STATES = (ActionPlanState.ONGOING, ActionPlanState.PAUSED, ActionPlanState.CANCELLING)
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
    """Start a RECOMMENDED plan and run it (or launch it detached); a started plan that
    no applier runs any more (after Ctrl-C or a crash) is gone on with the same way."""
    current = current_state(ctx, uuid)
    if current in RUNNING_STATES:
        return go_on(ctx, uuid, current, wait=wait, output_format=output_format)
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
        return detached_outcome(uuid, plan.state)
    return run_plan(ctx, applier, uuid, show_progress=output_format == "table")


def detached_outcome(uuid: str, state: str) -> RunOutcome:
    pid, log = launch_detached(uuid)
    return RunOutcome(0, {"uuid": uuid, "state": state, "pid": pid, "log": str(log)},
                      f"action plan {uuid} started in the background (process {pid}, "
                      f"log {log}); follow it with: optimizer actionplan watch {uuid}")


def current_state(ctx: Context, uuid: str) -> str:
    with ctx.database.session() as session:
        return get_action_plan(session, uuid).state


def go_on(ctx: Context, uuid: str, state: str, *, wait: bool,
          output_format: str) -> RunOutcome:
    """Continue a started plan: take it over when its applier is gone, else resume it there."""
    applier = require_applier()
    gone = applier.ownerless(ctx, uuid)
    if gone is None:
        if state != ActionPlanState.PAUSED:
            raise UserError(f"action plan {uuid} is {state} and its applier runs it: follow "
                            f"it with `optimizer actionplan watch {uuid}`")
        applier.resume_plan(ctx, uuid)  # its live applier goes on with it
        return watch_plan(ctx, uuid, output_format) if wait else RunOutcome(
            0, {"uuid": uuid, "state": ActionPlanState.ONGOING},
            f"action plan {uuid} resumed by its applier; follow it with: "
            f"optimizer actionplan watch {uuid}")
    if state == ActionPlanState.PAUSED:
        applier.resume_plan(ctx, uuid)
    click.echo(f"action plan {uuid} was {state} and {gone}: going on with it here",
               err=True)
    if not wait:
        return detached_outcome(uuid, state)
    return run_plan(ctx, applier, uuid, show_progress=output_format == "table")


def run_plan(ctx: Context, applier: ModuleType, uuid: str, *,
             show_progress: bool) -> RunOutcome:
    """Execute a plan here, optionally with a progress bar.

    The first Ctrl-C pauses the plan: nothing new starts, the running actions
    end and are stored, and the command says how to go on (exit 130). A
    second Ctrl-C stops at once; the actions then in flight are reconciled
    with the cloud by whoever goes on.
    """
    with ProgressView(uuid, enabled=show_progress) as view, \
            CtrlC(view, uuid) as ctrl_c:
        try:
            applier.execute_plan(ctx, uuid, on_progress=view.update,
                                 interrupt=ctrl_c.requested)
        except KeyboardInterrupt:
            ctrl_c.hard = True
    report = applier.plan_progress(ctx, uuid)
    if ctrl_c.hits:
        return interrupted_outcome(report, hard=ctrl_c.hard)
    return final_outcome(report)


class CtrlC:
    """SIGINT while a plan runs here: the first asks for a pause, the second stops at once."""

    def __init__(self, view: ProgressView, uuid: str):
        self.view, self.uuid = view, uuid
        self.hits, self.noticed, self.hard = 0, False, False
        self.previous: Any = None

    def __enter__(self) -> CtrlC:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._on_signal)
        return self

    def __exit__(self, *exc_info) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def _on_signal(self, signum, frame) -> None:
        self.hits += 1
        if self.hits > 1:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now, recovery reconciles

    def requested(self) -> bool:
        """The executor's ``interrupt``: True once Ctrl-C was pressed (said once, here)."""
        if self.hits and not self.noticed:
            self.noticed = True
            running = self.view.last.running if self.view.last is not None else 0
            self.view.progress.console.print(
                f"pausing action plan {self.uuid}: waiting for {running} running action(s) "
                "to end (Ctrl-C again to stop at once)", markup=False)
        return bool(self.hits)


def interrupted_outcome(report: Any, *, hard: bool) -> RunOutcome:
    """The one line after a Ctrl-C: where the plan stands and the command that goes on."""
    uuid = report.plan_uuid
    if is_final("action plan", report.state):
        return final_outcome(report)
    left = (f"; {report.running} action(s) were in flight and are checked against the "
            "cloud when it goes on") if hard and report.running else ""
    return RunOutcome(INTERRUPTED, {**progress_dict(report), "interrupted": True,
                                    "go_on": f"optimizer actionplan start {uuid}"},
                      f"action plan {uuid} {report.state} (interrupted): {counts_of(report)}"
                      f"{left}; go on with: optimizer actionplan start {uuid}")


def watch_plan(ctx: Context, uuid: str, output_format: str,
               poll_seconds: float = POLL_SECONDS) -> RunOutcome:
    """Follow a plan run elsewhere until it reaches a final state, or until it is clear
    that no applier runs it any more (then say how to take it over; status 1)."""
    applier = require_applier()
    report = applier.plan_progress(ctx, uuid)
    if report.state == ActionPlanState.RECOMMENDED:
        raise UserError(f"action plan {uuid} is RECOMMENDED, not started: "
                        f"run `optimizer actionplan start {uuid}`")
    waited, warned = 0.0, False
    with ProgressView(uuid, enabled=output_format == "table") as view:
        view.update(report)
        while not is_final("action plan", report.state):
            gone = applier.ownerless(ctx, uuid)
            if gone is not None:
                return orphan_outcome(applier.plan_progress(ctx, uuid), gone)
            time.sleep(poll_seconds)
            waited += poll_seconds
            report = applier.plan_progress(ctx, uuid)
            view.update(report)
            if report.state == ActionPlanState.PENDING and waited >= PENDING_NOTICE_S \
                    and not warned:
                # a plan nobody claims would be watched forever without a word
                view.progress.console.print(
                    f"action plan {uuid} is still PENDING after {waited:.0f} s: is an applier "
                    "running (`optimizer serve`)? Or run it here: "
                    f"optimizer actionplan execute {uuid}", markup=False)
                warned = True
    return final_outcome(report)


def orphan_outcome(report: Any, why: str) -> RunOutcome:
    """A running plan nobody runs: where it stands and the command that takes it over."""
    uuid = report.plan_uuid
    return RunOutcome(1, {**progress_dict(report), "ownerless": why,
                          "go_on": f"optimizer actionplan start {uuid}"},
                      f"action plan {uuid} is {report.state} but {why}: {counts_of(report)}; "
                      f"take it over with: optimizer actionplan start {uuid}")


def counts_of(report: Any) -> str:
    return (f"{report.succeeded} succeeded, {report.failed} failed, {report.skipped} "
            f"skipped, {report.cancelled} cancelled of {report.total}; moved "
            f"{report.moved_memory_mb / 1024:.1f} GB")


def final_outcome(report: Any) -> RunOutcome:
    """The plan's final figures; status 1 when it FAILED."""
    message = f" ({report.message})" if report.message else ""
    return RunOutcome(1 if report.state == ActionPlanState.FAILED else 0, progress_dict(report),
                      f"action plan {report.plan_uuid} {report.state}: {counts_of(report)}"
                      f"{message}")


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


def cancel_outcome(ctx: Context, uuid: str, view: dict[str, Any],
                   timeout_s: float) -> RunOutcome | None:
    """After a cancel of a running plan: its final counts once its applier is done (within
    ``timeout_s``), or where it stands and why; None when there is nothing to wait for."""
    applier = applier_module()
    if applier is None or view["state"] != ActionPlanState.CANCELLING or timeout_s <= 0:
        return None
    deadline = time.monotonic() + timeout_s
    while True:
        report = applier.plan_progress(ctx, uuid)
        if is_final("action plan", report.state):
            return final_outcome(report)
        gone = applier.ownerless(ctx, uuid)
        if gone is not None:
            return RunOutcome(0, {**progress_dict(report), "ownerless": gone},
                              f"action plan {uuid} CANCELLING but {gone}: "
                              f"`optimizer actionplan start {uuid}` finishes the cancel")
        if time.monotonic() >= deadline:
            return RunOutcome(0, progress_dict(report),
                              f"action plan {uuid} still CANCELLING after {timeout_s:g} s: "
                              f"{counts_of(report)}; its applier goes on "
                              f"(optimizer actionplan watch {uuid})")
        time.sleep(min(POLL_SECONDS / 5, max(deadline - time.monotonic(), 0)))
