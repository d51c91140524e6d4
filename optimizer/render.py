"""Tables and text for the command line, drawn with rich.

Every function takes the console to draw on, so commands decide what goes to
stdout and what to stderr, and tests can capture either. JSON output does not
come through here: it is printed plainly so it stays machine-readable.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # the strategies bring numpy: imported where a strategy is drawn
    from optimizer.demo import DemoResult
    from optimizer.plugins import PluginFailure
    from optimizer.strategies.base import Strategy
    from optimizer.strategies.parameters import ParameterSpec
    from optimizer.strategies.solution import Action

# Piped or redirected, tables take the width their cells need, so no uuid or
# name is folded over several lines for the next program (or a reader's
# pager) to put together; stderr (progress, warnings) stays readable.
_PIPE_WIDTH = 100_000
_PIPE_WIDTH_ERR = 120


def console(stream: TextIO | None = None, *, err: bool = False) -> Console:
    """A console on ``stream`` (default: the current stdout or stderr)."""
    stream = stream or (sys.stderr if err else sys.stdout)
    width = None if stream.isatty() else _PIPE_WIDTH_ERR if err else _PIPE_WIDTH
    return Console(file=stream, width=width, highlight=False, soft_wrap=True)


def percent(fraction: float) -> str:
    """A load or a share as every table shows it: ``58.5%``."""
    return f"{100 * fraction:.1f}%"


def duration_text(seconds: float | None) -> str:
    """A duration as every table and message shows it.

    ``0.004 s`` under a second, ``12.5 s`` under a minute, then ``3 min 20 s``
    and ``1 h 02 min``.
    """
    if seconds is None:
        return "unknown"
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    if seconds >= 60:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{seconds:.3f} s" if seconds < 1 else f"{seconds:.1f} s"


def indicator_text(value: object, unit: str) -> tuple[str, str]:
    """An efficacy indicator's value and unit as tables show them.

    Ratios (loads, gaps) become percentages and seconds durations, as
    everywhere else; JSON keeps the plain numbers.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ("" if value is None else str(value)), unit
    if unit == "ratio":
        return percent(value), "%"
    if unit == "s":
        return duration_text(value), ""
    return f"{value:g}", unit


# ----- demo ---------------------------------------------------------------------


def render_demo(result: DemoResult, out: Console, max_actions: int = 10,
                execution=None) -> None:
    """Before/after figures (and after execution), the first actions, what to run next."""
    snap, before, after = result.snapshot, result.before, result.after
    out.print(f"[bold]{snap.name}[/]: {snap.host_count} hosts, {snap.instance_count} instances; "
              f"strategy [bold]{result.solution.strategy}[/]")
    table = Table(title="Before and after the plan", title_justify="left")
    table.add_column("measure")
    table.add_column("before", justify="right")
    table.add_column("after (planned)", justify="right")
    rows = [
        ("active hosts", str(before.active_hosts), str(after.active_hosts)),
        ("migrations", "", str(result.replay.migrations)),
        ("moved memory (GB)", "", f"{result.replay.moved_memory_gb:.1f}"),
        ("host CPU load, mean", percent(before.cpu_load_mean), percent(after.cpu_load_mean)),
        ("host CPU load, max", percent(before.cpu_load_max), percent(after.cpu_load_max)),
        ("host CPU load, std dev", percent(before.cpu_load_stdev),
         percent(after.cpu_load_stdev)),
        ("memory allocated, mean", percent(before.memory_allocated_mean),
         percent(after.memory_allocated_mean)),
        ("planning time", "", duration_text(result.planning_seconds)),
    ]
    if execution is not None:
        table.add_column("after (executed)", justify="right")
        done = execution.after
        executed = [str(done.active_hosts), str(execution.migrations),
                    f"{execution.moved_memory_gb:.1f}",
                    percent(done.cpu_load_mean), percent(done.cpu_load_max),
                    percent(done.cpu_load_stdev), percent(done.memory_allocated_mean), ""]
        rows = [(*row, value) for row, value in zip(rows, executed, strict=True)]
        rows.append(("run time", "", "", duration_text(execution.seconds)))
    for row in rows:
        table.add_row(*row)
    out.print(table)
    if execution is not None:
        out.print(f"The plan ran on a simulated cloud: {execution.state}, "
                  f"{execution.succeeded} actions succeeded, {execution.failed} failed, "
                  f"{execution.skipped} skipped.")
    out.print("CPU load and memory are averaged over active hosts (hosts with instances).")
    if result.replay.unfit_moves:
        out.print(f"[red]warning[/]: {len(result.replay.unfit_moves)} move(s) exceed a limit "
                  f"when replayed, first: {result.replay.unfit_moves[0]}")
    render_actions(result.solution.actions, out, names=_instance_names(result),
                   limit=max_actions)


def _instance_names(result: DemoResult) -> dict[str, str]:
    snap = result.snapshot
    return {u: n or u for u, n in zip(snap.inst_uuids, snap.inst_names, strict=True)}


def render_actions(actions: Sequence[Action], out: Console, *,
                   names: dict[str, str] | None = None, limit: int = 10) -> None:
    """The first ``limit`` actions: type, subject, change, migration type, reason."""
    names = names or {}
    shown = actions[:limit]
    title = (f"First {len(shown)} of {len(actions)} actions" if len(actions) > limit
             else f"{len(actions)} actions")
    table = Table(title=title, title_justify="left")
    for column in ("#", "type", "subject", "change", "mode", "reason"):
        table.add_column(column, overflow="fold")
    for k, action in enumerate(shown, 1):
        table.add_row(str(k), action.type, *_describe_action(action, names), action.reason)
    out.print(table)


def _describe_action(action: Action, names: dict[str, str]) -> tuple[str, str, str]:
    from optimizer.strategies.solution import ChangePowerState, ChangeServiceState, Migrate

    if isinstance(action, Migrate):
        return (names.get(action.instance, action.instance),
                f"{action.source} → {action.destination}", action.migration_type)
    if isinstance(action, ChangeServiceState | ChangePowerState):
        return action.host, action.state, ""
    params = action.parameters()
    return "", ", ".join(f"{k}={v}" for k, v in params.items()), ""


# ----- strategies -----------------------------------------------------------------


def render_strategy_list(strategies: Iterable[Strategy], out: Console) -> None:
    table = Table(title="Installed strategies", title_justify="left")
    for column in ("name", "goal", "display name", "summary"):
        table.add_column(column, overflow="fold")
    for s in strategies:
        table.add_row(s.name, s.goal, s.display_name or s.name, s.summary)
    out.print(table)


def render_failures(failures: Sequence[PluginFailure], err: Console) -> None:
    """Plugins that failed to load, by name, with their error."""
    err.print(f"[yellow]warning[/]: {len(failures)} plugin(s) failed to load:")
    for f in failures:
        err.print(f"  {f.name} ({f.target}): {f.error}", markup=False)


def render_strategy(strategy: Strategy, out: Console) -> None:
    """Summary, goal, the docstring's sections and the parameter table."""
    from optimizer.strategies.base import DOC_SECTIONS, GOALS

    sections = strategy.sections()
    goal = GOALS.get(strategy.goal)
    out.print(f"[bold]{strategy.name}[/] — {strategy.display_name or strategy.name}")
    out.print(sections["summary"], markup=False)
    out.print(f"\n[bold]Goal[/]: {strategy.goal}"
              + (f" ({goal.description})" if goal else ""))
    for name in DOC_SECTIONS:
        out.print(f"\n[bold]{name}[/]")
        out.print(_indent(sections[name]), markup=False)
    out.print()
    render_parameters(strategy.describe_parameters(), out)


def _indent(text: str) -> str:
    return "\n".join("  " + line.strip() if line.strip() else "" for line in text.splitlines())


def render_parameters(specs: Sequence[ParameterSpec], out: Console) -> None:
    table = Table(title="Parameters", title_justify="left")
    for column in ("name", "type", "default", "range / choices", "required", "help"):
        table.add_column(column, overflow="fold")
    for spec in specs:
        table.add_row(spec.name, spec.type, "" if spec.required else show_value(spec.default),
                      limits(spec), "yes" if spec.required else "no", spec.help)
    if not specs:
        table.add_row("(none)", "", "", "", "", "")
    out.print(table)


def show_value(value: object) -> str:
    """A default as it would be typed after ``-p name=``: true, 0.8, mean, a,b."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    return "none" if value is None else str(value)


def limits(spec: ParameterSpec) -> str:
    """"0 .. 1", "≥ 0", "a, b" or "" for a parameter's allowed values."""
    if spec.choices is not None:
        return ", ".join(map(str, spec.choices))
    if spec.minimum is not None and spec.maximum is not None:
        return f"{spec.minimum:g} .. {spec.maximum:g}"
    if spec.minimum is not None:
        return f"≥ {spec.minimum:g}"
    if spec.maximum is not None:
        return f"≤ {spec.maximum:g}"
    return ""


# ----- plans ------------------------------------------------------------------------


def render_plan_summary(summary: dict, out: Console) -> None:
    """Counts of a written plan and its efficacy indicators."""
    done = f"wrote {summary['path']}" if summary.get("path") else "planned"
    out.print(f"{done}: {summary['actions']} actions "
              f"({summary['migrations']} migrations) from strategy {summary['strategy']} "
              f"in {duration_text(summary['planning_seconds'])}", markup=False)
    if summary["indicators"]:
        table = Table(title="Efficacy indicators", title_justify="left")
        for column in ("indicator", "value", "unit"):
            table.add_column(column)
        for ind in summary["indicators"]:
            table.add_row(ind["name"], *indicator_text(ind["value"], ind["unit"]))
        out.print(table)
