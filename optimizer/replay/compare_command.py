"""``optimizer replay-report RUN.json ... --report DIR``: the report of runs already made.

Each file holds what ``optimizer replay --format json`` printed (one run, or
a list of runs). :func:`compare_command` is the whole job, so ``optimizer
replay --compare RUN.json ... --report DIR`` can call it as it is. matplotlib
is imported only when a report is written, not when the CLI starts.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click
from rich.table import Table

from optimizer import render
from optimizer.commands.options import format_option


@dataclass(frozen=True)
class ComparedRuns:
    """What :func:`compare_command` wrote: the page and the runs it shows."""

    page: Path
    runs: list[dict]
    labels: list[str]


def compare_command(paths: Sequence[str | Path], report_dir: str | Path) -> ComparedRuns:
    """Read the runs in ``paths`` and write their report to ``report_dir``.

    A file that is not JSON or a run without a key the report needs raises
    :class:`~optimizer.replay.report.ReportError` (a ``UserError``) naming the
    file and key, before anything is written.
    """
    from optimizer.replay.report import load_runs, run_labels, write_report

    runs = load_runs(paths)
    page = write_report(runs, Path(report_dir))
    return ComparedRuns(page, runs, run_labels(runs))


@click.command("replay-report", short_help="Write the HTML report of replay runs.")
@click.argument("runs", nargs=-1, required=True, metavar="RUN.json...",
                type=click.Path(dir_okay=False))
@click.option("--report", "report_dir", required=True, metavar="DIR",
              type=click.Path(file_okay=False),
              help="Folder for index.html and its plots (created if missing).")
@format_option
def replay_report(runs: tuple[str, ...], report_dir: str, output_format: str) -> None:
    """Compare replay runs: an HTML page with plots over time and a table per policy.

    Each RUN.json is what `optimizer replay --format json` printed.
    """
    result = compare_command(runs, report_dir)
    if output_format == "json":
        click.echo(json.dumps({"report": str(result.page), "runs": result.labels}, indent=1))
        return
    out = render.console()
    table = Table(title=f"{len(result.runs)} replay run{'s' if len(result.runs) > 1 else ''}")
    table.add_column("run")
    for heading in ("energy (kWh)", "migrations", "SLATAH (%)", "PDM (%)", "ESV"):
        table.add_column(heading, justify="right")
    for label, run in zip(result.labels, result.runs, strict=True):
        table.add_row(label, *(_cell(run[key], digits) for key, digits in (
            ("energy_kwh", ".2f"), ("migrations", ",d"), ("slatah_pct", ".2f"),
            ("pdm_pct", ".3f"), ("esv", ".3g"))))
    out.print(table)
    out.print(f"Report: {result.page}", markup=False, highlight=False)


def _cell(value: float | None, spec: str) -> str:
    if value is None:
        return "–"
    return format(int(value) if spec.endswith("d") else value, spec)
