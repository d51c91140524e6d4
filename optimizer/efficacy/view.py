"""How ``actionplan show`` prints a plan's measured efficacy: predicted beside measured."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

from optimizer.render import duration_text

# (key of an Indicators column, label, how a value is written)
ROWS = (
    ("active_hosts", "active hosts after", "{:d}"),
    ("hosts_emptied", "hosts emptied", "{:d}"),
    ("migrations", "migrations", "{:d}"),
    ("moved_memory_gb", "moved memory", "{:.2f} GB"),
    ("duration_s", "duration", None),
    ("cpu_load_mean", "mean host CPU load after", "{:.1%}"),
    ("cpu_load_max", "max host CPU load after", "{:.1%}"),
)


def _text(value: Any, pattern: str | None) -> str:
    if value is None:
        return "—"
    return duration_text(value) if pattern is None else pattern.format(value)


def print_measured(out: Console, measured: Mapping[str, Any] | None) -> None:
    """The predicted and measured columns, the migrations that did not happen, durations."""
    if not measured:
        return
    table = Table(title=f"Predicted vs measured ({measured['plan_state']}, "
                        f"{measured['active_hosts_before']} active hosts before)",
                  title_justify="left")
    for column in ("indicator", "predicted", "measured"):
        table.add_column(column, overflow="fold")
    for key, label, pattern in ROWS:
        table.add_row(label, _text(measured["predicted"][key], pattern),
                      _text(measured["measured"][key], pattern))
    out.print(table)
    out.print(f"migrations failed {measured['migrations_failed']}, skipped "
              f"{measured['migrations_skipped']}, cancelled {measured['migrations_cancelled']}, "
              f"not found on their destination {measured['migrations_misplaced']}",
              markup=False)
    for kind, summary in measured.get("action_durations", {}).items():
        out.print(f"{kind}: {summary['count']} timed, mean {duration_text(summary['mean_s'])}, "
                  f"max {duration_text(summary['max_s'])}", markup=False)
    for note in measured.get("notes", ()):
        out.print(f"note: {note}", markup=False)
