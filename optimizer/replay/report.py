"""The HTML report of replay runs: what happened over time, and the policies side by side.

A run is the JSON object ``optimizer replay --format json`` prints: the
policy, fidelity and traces, the cluster size, the metrics (energy, SLATAH,
PDM, SLAV, ESV, migrations, host shutdowns, wall time) and a ``timeline`` of
equal-length lists, one entry a round (time, active hosts, power, overloaded
hosts, migrations). :func:`write_report` turns runs into ``index.html`` with
PNG plots beside it, linked relatively, so the folder can be moved, archived
or served as it is. Every plot has an alt text giving its numbers, and the
same numbers are in real tables, so the page reads without its images.
"""
from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from optimizer.models.errors import UserError

TEXT_KEYS = ("policy", "fidelity", "traces")
NUMBER_KEYS = ("hosts", "vms", "energy_kwh", "migrations", "slatah_pct", "pdm_pct", "slav",
               "esv", "host_shutdowns", "wall_seconds")
RUN_KEYS = TEXT_KEYS + NUMBER_KEYS + ("timeline",)
TIMELINE_KEYS = ("time_s", "active_hosts", "power_w", "overloaded_hosts", "migrations")

# Okabe & Ito's eight colours stay distinct under the common colour-vision
# deficiencies; line styles change too, for grey print and more than 8 runs.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000")
LINE_STYLES = ("-", "--", "-.", ":")
FIGURE_SIZE = (7.5, 3.4)  # inches at 100 dpi: 750 x 340 px
DPI = 100


class ReportError(UserError):
    """Runs that cannot be read or reported: the message names the file and key."""


@dataclass(frozen=True)
class Column:
    """A metric of the comparison table."""

    key: str
    heading: str
    digits: int  # decimals shown; -1 for three significant digits
    lower_is_better: bool = True


COLUMNS = (
    Column("energy_kwh", "Energy (kWh)", 2),
    Column("migrations", "Migrations", 0),
    Column("slatah_pct", "SLATAH (%)", 2),
    Column("pdm_pct", "PDM (%)", 3),
    Column("slav", "SLAV", -1),
    Column("esv", "ESV", -1),
    Column("host_shutdowns", "Host shutdowns", 0, lower_is_better=False),
    Column("wall_seconds", "Wall time (s)", 1, lower_is_better=False),
)
BAR_KEYS = ("energy_kwh", "migrations", "slatah_pct", "esv")


@dataclass(frozen=True)
class Timeline:
    """A plot of one timeline list against time."""

    key: str
    title: str
    unit: str
    scale: float = 1.0         # the plotted value is the list's value times this
    cumulative: bool = False   # plot the running total
    smooth: bool = False       # plot means over windows of rounds: it jumps every round


TIMELINES = (
    Timeline("active_hosts", "Active hosts", "hosts"),
    Timeline("power_w", "Power", "kW", scale=1e-3),
    Timeline("overloaded_hosts", "Overloaded hosts", "hosts", smooth=True),
    Timeline("migrations", "Migrations so far", "migrations", cumulative=True),
)


# -- reading and checking runs ----------------------------------------------------------
def load_runs(paths: Iterable[str | Path]) -> list[dict]:
    """The runs in the JSON files ``paths`` (each one run, or a list of runs), checked."""
    runs: list[dict] = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ReportError(f"{path}: cannot read: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise ReportError(f"{path}: not JSON: not UTF-8 text") from None
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReportError(f"{path}: not JSON: {exc.msg} at line {exc.lineno} "
                              f"column {exc.colno}") from None
        if isinstance(document, list):
            if not document:
                raise ReportError(f"{path}: an empty list, no run")
            runs += [validate_run(run, f"{path}[{i}]") for i, run in enumerate(document)]
        else:
            runs.append(validate_run(document, str(path)))
    return runs


def validate_run(run: object, source: str) -> dict:
    """``run`` as a plain dict if it has every key a report reads; else :class:`ReportError`."""
    if not isinstance(run, Mapping):
        raise ReportError(f"{source}: a run is a JSON object, not {_json_type(run)}")
    for key in RUN_KEYS:
        if key not in run:
            raise ReportError(f"{source}: missing key {key!r}")
    if not isinstance(run["policy"], str) or not run["policy"]:
        raise ReportError(f"{source}: key 'policy' must be a name, not {run['policy']!r}")
    for key in TEXT_KEYS[1:]:
        if run[key] is not None and not isinstance(run[key], str):
            raise ReportError(f"{source}: key {key!r} must be text, not {run[key]!r}")
    for key in NUMBER_KEYS:
        if run[key] is not None and not _is_number(run[key]):  # null: not defined for the run
            raise ReportError(f"{source}: key {key!r} must be a number, not {run[key]!r}")
    return {**run, "timeline": _validate_timeline(run["timeline"], source)}


def _validate_timeline(timeline: object, source: str) -> dict[str, list[float]]:
    if not isinstance(timeline, Mapping):
        raise ReportError(f"{source}: key 'timeline' must be an object, "
                          f"not {_json_type(timeline)}")
    for key in TIMELINE_KEYS:
        if key not in timeline:
            raise ReportError(f"{source}: missing key 'timeline.{key}'")
        values = timeline[key]
        if not isinstance(values, list):
            raise ReportError(f"{source}: key 'timeline.{key}' must be a list, "
                              f"not {_json_type(values)}")
        for i, value in enumerate(values):
            if not _is_number(value):
                raise ReportError(f"{source}: key 'timeline.{key}[{i}]' must be a number, "
                                  f"not {value!r}")
    rounds = len(timeline["time_s"])
    if rounds == 0:
        raise ReportError(f"{source}: key 'timeline.time_s' is empty: no round to show")
    for key in TIMELINE_KEYS[1:]:
        if len(timeline[key]) != rounds:
            raise ReportError(f"{source}: key 'timeline.{key}' has {len(timeline[key])} values, "
                              f"'timeline.time_s' has {rounds}")
    return {key: [float(v) for v in timeline[key]] for key in TIMELINE_KEYS}


def _is_number(value: object) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "a boolean",
             type(None): "null", int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)


# -- the report ---------------------------------------------------------------------------
def write_report(runs: Sequence[Mapping], folder: Path) -> Path:
    """Write ``folder/index.html`` and its PNG plots for ``runs``; the page's path."""
    checked = [validate_run(run, f"run {i + 1}") for i, run in enumerate(runs)]
    if not checked:
        raise ReportError("no run to report")
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"{folder}: cannot create the report folder: "
                          f"{exc.strerror or exc}") from None
    labels = run_labels(checked)
    figures = [_timeline_figure(folder, plot, checked, labels) for plot in TIMELINES]
    bars = []
    if len(checked) > 1:
        bars = [_bar_figure(folder, _column(key), checked, labels) for key in BAR_KEYS]
    page = folder / "index.html"
    try:
        page.write_text(_page(checked, labels, figures, bars), encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"{page}: cannot write: {exc.strerror or exc}") from None
    return page


def run_labels(runs: Sequence[Mapping]) -> list[str]:
    """A distinct name for each run: its policy, with what else tells equal policies apart."""
    labels = [str(run["policy"]) for run in runs]
    for extra in ("traces", "fidelity"):
        values: dict[str, set[str]] = {}
        for label, run in zip(labels, runs, strict=True):
            values.setdefault(label, set()).add(Path(str(run[extra])).name)
        labels = [f"{label} · {Path(str(run[extra])).name}" if len(values[label]) > 1 else label
                  for label, run in zip(labels, runs, strict=True)]
    return [f"{label} #{i + 1}" if labels.count(label) > 1 else label
            for i, label in enumerate(labels)]


@dataclass(frozen=True)
class Figure:
    """A written plot: its file (relative to the page), its title and its alt text."""

    file: str
    title: str
    alt: str


def _timeline_figure(folder: Path, plot: Timeline, runs: list[dict],
                     labels: list[str]) -> Figure:
    fig, ax = _new_figure()
    span = max(run["timeline"]["time_s"][-1] for run in runs)
    in_hours = span >= 2 * 3600
    summaries = []
    window_s = 0.0
    for i, (run, label) in enumerate(zip(runs, labels, strict=True)):
        times, values = _series(run["timeline"], plot)
        summaries.append(_describe_series(label, values, plot))
        if plot.smooth:
            times, values, window_s = _window_means(times, values)
        x = [t / 3600 if in_hours else t / 60 for t in times]
        ax.plot(x, values, label=label, color=PALETTE[i % len(PALETTE)],
                linestyle=LINE_STYLES[(i // len(PALETTE) + i) % len(LINE_STYLES)],
                linewidth=1.6, drawstyle="default" if window_s else "steps-post")
    title = plot.title
    if window_s:
        title += f" (mean over {_duration(window_s)})"
    ax.set_title(title)
    ax.set_xlabel("simulated time (h)" if in_hours else "simulated time (min)")
    ax.set_ylabel(plot.unit)
    ax.set_ylim(bottom=0)
    _legend(ax, len(runs))
    file = f"{plot.key}.png"
    _save(fig, folder / file)
    duration = f"{span / 3600:.1f} h" if in_hours else f"{span / 60:.0f} min"
    what = title[0].lower() + title[1:]
    if plot.unit not in what:
        what += f" in {plot.unit}"
    alt = (f"Line chart of {what} over {duration} of simulated time, one line a run. "
           + "; ".join(summaries) + ".")
    return Figure(file, title, alt)


#: A smoothed plot shows about this many points, whatever the rounds.
SMOOTH_POINTS = 48


def _window_means(times: list[float], values: list[float]) -> tuple[list[float], list[float],
                                                                     float]:
    """Means over consecutive windows of rounds, at each window's middle; the window (s)."""
    size = math.ceil(len(values) / SMOOTH_POINTS)
    if size < 2:
        return times, values, 0.0
    step = (times[-1] - times[0]) / (len(times) - 1)
    means, middles = [], []
    for start in range(0, len(values), size):
        chunk = values[start:start + size]
        means.append(sum(chunk) / len(chunk))
        middles.append((times[start] + times[start + len(chunk) - 1]) / 2)
    return middles, means, size * step


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = int(seconds // 3600)
        return "an hour" if hours == 1 else f"{hours} hours"
    if seconds >= 60:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:.0f} s"


def _series(timeline: Mapping[str, list[float]], plot: Timeline) -> tuple[list[float],
                                                                          list[float]]:
    values = [v * plot.scale for v in timeline[plot.key]]
    if plot.cumulative:
        total, running = 0.0, []
        for v in values:
            total += v
            running.append(total)
        values = running
    return timeline["time_s"], values


def _describe_series(label: str, values: list[float], plot: Timeline) -> str:
    if plot.cumulative:
        return f"{label} reaches {_plain(values[-1], 0)}"
    low, high, mean = min(values), max(values), sum(values) / len(values)
    if low == high:
        return f"{label} stays at {_plain(low, 1)}"
    if plot.smooth:
        return f"{label} mean {_fmt(mean, 2)}, peak {_plain(high, 1)} in one round"
    return (f"{label} from {_plain(values[0], 1)} to {_plain(values[-1], 1)}, mean "
            f"{_fmt(mean, 1)}, peak {_plain(high, 1)}")


def _bar_figure(folder: Path, column: Column, runs: list[dict], labels: list[str]) -> Figure:
    fig, ax = _new_figure()
    values = [run[column.key] for run in runs]
    shown = [0.0 if v is None else v for v in values]
    positions = range(len(runs))
    ax.bar(positions, shown, color=[PALETTE[i % len(PALETTE)] for i in positions],
           edgecolor="black", linewidth=0.6)
    for position, value in zip(positions, values, strict=True):
        ax.annotate(_fmt(value, column.digits), (position, 0 if value is None else value),
                    ha="center", va="bottom", fontsize=8, xytext=(0, 2),
                    textcoords="offset points")
    ax.set_xticks(list(positions), labels, rotation=20 if len(runs) > 4 else 0,
                  ha="right" if len(runs) > 4 else "center", fontsize=8)
    ax.grid(False, axis="x")
    ax.set_title(f"{column.heading} per run")
    ax.set_ylabel(column.heading)
    ax.margins(y=0.15)
    file = f"compare_{column.key}.png"
    _save(fig, folder / file)
    listed = ", ".join(f"{label} {_fmt(v, column.digits)}"
                       for label, v in zip(labels, values, strict=True))
    alt = f"Bar chart of {column.heading} per run: {listed}."
    best = _best(values, column)
    if best is not None:
        alt += f" Lowest: {', '.join(labels[i] for i in best)}."
    return Figure(file, f"{column.heading} per run", alt)


def _new_figure():
    # The object API with the Agg canvas: no pyplot, no display, no global backend switch.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=FIGURE_SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def _legend(ax, runs: int) -> None:
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0),
              ncols=1 if runs <= 10 else 2)


def _save(fig, path: Path) -> None:
    try:
        fig.savefig(path, format="png", metadata={"Software": None})
    except OSError as exc:
        raise ReportError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _column(key: str) -> Column:
    return next(c for c in COLUMNS if c.key == key)


def _best(values: Sequence[float | None], column: Column) -> list[int] | None:
    """Indexes of the lowest value when lower is better and runs differ; else None."""
    known = [v for v in values if v is not None]
    if not column.lower_is_better or len(known) < 2 or min(known) == max(known):
        return None
    return [i for i, v in enumerate(values) if v == min(known)]


def _plain(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals, none when it is a whole number."""
    return _fmt(value, 0 if float(value).is_integer() else digits)


def _fmt(value: float | None, digits: int) -> str:
    if value is None:
        return "–"
    if digits < 0:
        return f"{value:.3g}" if value else "0"
    if digits == 0:
        return f"{round(value):,}"
    return f"{value:,.{digits}f}"


# -- the page -----------------------------------------------------------------------------
STYLE = """
body{font:16px/1.45 system-ui,sans-serif;color:#1a1a1a;background:#fff;margin:0 auto;
max-width:60rem;padding:1rem 1.25rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}
table{border-collapse:collapse;margin:.75rem 0;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid #8a8a8a;padding:.3rem .55rem}
thead th{background:#eef2f7}td{text-align:right}th[scope=row]{text-align:left}
figure{margin:1rem 0}img{max-width:100%;height:auto;border:1px solid #ccc}
figcaption{font-size:.9rem;color:#333}
.scroll{overflow-x:auto}
"""


def _page(runs: list[dict], labels: list[str], figures: list[Figure], bars: list[Figure]) -> str:
    several = len(runs) > 1
    title = ("Replay: " + ", ".join(labels)) if len(labels) <= 4 else \
        f"Replay: {len(labels)} runs compared"
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
        "<main>", f"<h1>{_e(title)}</h1>",
        f"<p>{_e(_intro(runs))}</p>",
        '<section aria-labelledby="results">',
        f'<h2 id="results">{"Policies compared" if several else "Results"}</h2>',
        _results_table(runs, labels),
        "</section>",
        '<section aria-labelledby="time">',
        '<h2 id="time">Over time</h2>',
        _timeline_table(runs, labels),
        *(_figure(f) for f in figures),
        "</section>",
    ]
    if bars:
        parts += ['<section aria-labelledby="bars">', '<h2 id="bars">Side by side</h2>',
                  *(_figure(f) for f in bars), "</section>"]
    parts += ["<p><small>SLATAH: share of active host time spent at 100 % CPU. PDM: "
              "performance degradation due to migrations. SLAV = SLATAH × PDM; "
              "ESV = energy × SLAV.</small></p>", "</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def _intro(runs: list[dict]) -> str:
    first = runs[0]
    sizes = {(r["hosts"], r["vms"]) for r in runs}
    traces = {r["traces"] for r in runs}
    size = (f"{_fmt(first['hosts'], 0)} hosts and {_fmt(first['vms'], 0)} VMs"
            if len(sizes) == 1 else "clusters of different sizes")
    source = (f"traces {first['traces']}" if len(traces) == 1 and first["traces"]
              else "several trace sets" if len(traces) > 1 else "the traces given")
    count = "one run" if len(runs) == 1 else f"{len(runs)} runs"
    return f"{count.capitalize()} on {size}, replaying {source}."


def _results_table(runs: list[dict], labels: list[str]) -> str:
    best = {c.key: _best([r[c.key] for r in runs], c) or [] for c in COLUMNS}
    head = ("<tr><th scope=\"col\">Run</th><th scope=\"col\">Fidelity</th>"
            "<th scope=\"col\">Hosts</th><th scope=\"col\">VMs</th>"
            + "".join(f'<th scope="col">{_e(c.heading)}</th>' for c in COLUMNS) + "</tr>")
    rows = []
    for i, (run, label) in enumerate(zip(runs, labels, strict=True)):
        cells = [f'<th scope="row">{_e(label)}</th>', f"<td>{_e(run['fidelity'] or '–')}</td>",
                 f"<td>{_fmt(run['hosts'], 0)}</td>", f"<td>{_fmt(run['vms'], 0)}</td>"]
        for column in COLUMNS:
            text = _e(_fmt(run[column.key], column.digits))
            cells.append(f"<td><strong>{text}</strong></td>" if i in best[column.key]
                         else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    caption = "Metrics of each run"
    if len(runs) > 1:
        caption += " (bold: the lowest, where lower is better)"
    return (f'<div class="scroll"><table><caption>{caption}</caption>'
            f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></div>")


def _timeline_table(runs: list[dict], labels: list[str]) -> str:
    headings = ("Run", "Rounds", "Active hosts, mean", "Active hosts, peak", "Power, mean (kW)",
                "Power, peak (kW)", "Overloaded hosts, mean", "Overloaded hosts, peak",
                "Migrations in one round, peak")
    head = "<tr>" + "".join(f'<th scope="col">{_e(h)}</th>' for h in headings) + "</tr>"
    rows = []
    for run, label in zip(runs, labels, strict=True):
        line = run["timeline"]
        power = [w / 1000 for w in line["power_w"]]
        cells = [len(line["time_s"]),
                 _fmt(_mean(line["active_hosts"]), 1), _fmt(max(line["active_hosts"]), 0),
                 _fmt(_mean(power), 1), _fmt(max(power), 1),
                 _fmt(_mean(line["overloaded_hosts"]), 2),
                 _fmt(max(line["overloaded_hosts"]), 0), _fmt(max(line["migrations"]), 0)]
        rows.append(f'<tr><th scope="row">{_e(label)}</th>'
                    + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return ('<div class="scroll"><table><caption>Each run over its rounds</caption>'
            f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></div>")


def _figure(figure: Figure) -> str:
    width, height = (int(FIGURE_SIZE[0] * DPI), int(FIGURE_SIZE[1] * DPI))
    return (f'<figure><img src="{_e(figure.file)}" alt="{_e(figure.alt)}" width="{width}" '
            f'height="{height}"><figcaption>{_e(figure.title)}</figcaption></figure>')


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)
