"""What every audit, plan and admin command shares: the context, options and output.

The root group stores the global ``--config-file`` and ``--database-url`` in
a :class:`GlobalOptions` on click's context; :func:`opened_context` turns them
into an open :class:`~optimizer.context.Context` once per command and closes
it afterwards. Tables go through rich; ``--format json`` prints one plain
JSON document so it stays machine-readable.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from optimizer import render
from optimizer.commands.options import format_option, global_options, param_option  # noqa: F401 (re-exported)
from optimizer.config import Settings, load_config
from optimizer.models.errors import UserError

if TYPE_CHECKING:  # the database layer: imported by the commands that open it
    from optimizer.context import Context
    from optimizer.db.query import Page


def current_settings() -> Settings:
    """Settings from the configuration file and the global options."""
    options = global_options()
    return load_config(options.config_file, options.database_url)


@contextmanager
def opened_context(*, creates: bool = False, reads_only: bool = False) -> Iterator[Context]:
    """The command's context: settings read, database opened, strategies synced.

    A command that only reads never creates a database: a mistyped URL must
    not leave folders and files behind. One that ``creates`` items (an audit,
    a template) makes the database only at the default location, which no
    one had to type; elsewhere ``optimizer db upgrade`` makes it. One that
    ``reads_only`` (lists and shows) loads no strategy plugin.
    """
    from optimizer.context import open_context

    settings = current_settings()
    ctx = open_context(settings, create_database=creates and _default_database(settings),
                       with_strategies=not reads_only)
    try:
        yield ctx
    finally:
        ctx.close()


def _default_database(settings: Settings) -> bool:
    return any((row.group, row.option, row.source) == ("database", "connection", "default")
               for row in settings.rows)


def exit_with(status: int) -> None:
    """End the command with ``status`` after its output (e.g. 1 when a plan FAILED)."""
    click.get_current_context().exit(status)


# ----- options ----------------------------------------------------------------------



def page_options(default_sort: str) -> Callable:
    """``--limit``, ``--marker`` and ``--sort KEY[:asc|desc]`` for list commands."""
    def decorate(command: Callable) -> Callable:
        command = click.option("--sort", default=default_sort, show_default=True,
                               metavar="KEY[:asc|desc]", help="Sort key and direction.")(command)
        command = click.option("--marker", metavar="UUID",
                               help="List what comes after this item (the last of the "
                                    "previous page).")(command)
        return click.option("--limit", type=int, metavar="N",
                            help="At most N items.")(command)
    return decorate


def make_page(limit: int | None, marker: str | None, sort: str) -> Page:
    """A storage page from the list options; a bad direction is a user error."""
    from optimizer.db.query import Page

    key, _, direction = sort.partition(":")
    direction = direction or "asc"
    if direction not in ("asc", "desc"):
        raise UserError(f"--sort {sort!r}: direction must be asc or desc")
    return Page(limit=limit, marker=marker, sort_key=key.strip(), sort_dir=direction)


def one_of(value: str, choices: Sequence[str], option: str) -> str:
    """``value`` as one of ``choices`` (any case), else a one-line user error."""
    for choice in choices:
        if value.upper() == choice.upper():
            return choice
    raise UserError(f"{option} {value!r} is not one of {', '.join(choices)}")


def parse_time(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 time from the command line (``Z`` or an offset gives its zone)."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option} {value!r} is not an ISO 8601 time "
                        "(e.g. 2025-01-31T22:00:00+00:00)") from None


def read_json_file(path: str, what: str) -> Any:
    """The JSON document in ``path``; unreadable or invalid files are user errors."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{what} file {path}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{what} file {path}: not UTF-8 text (offset {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{what} file {path}: not valid JSON: line {exc.lineno} column "
                        f"{exc.colno}: {exc.msg}") from None


# ----- output -----------------------------------------------------------------------


def print_json(document: Any) -> None:
    """One JSON document on stdout; times become ISO strings."""
    click.echo(json.dumps(document, indent=1, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def console() -> Console:
    """The console commands print their tables on."""
    return render.console()


def show_text(value: Any) -> str:
    """A field value as one short line of a table."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict | list):
        return json.dumps(value) if value else ""
    return str(value)


def _cell(column: str, value: Any) -> str:
    # columns named *_s hold seconds: shown like every other duration
    if column.endswith("_s") and isinstance(value, int | float):
        return render.duration_text(value)
    return show_text(value)


def print_fields(out: Console, title: str, fields: dict[str, Any]) -> None:
    """One item as a two-column table of field and value."""
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in fields.items():
        table.add_row(name, _cell(name, value))
    out.print(table)


def emit_list(views: Sequence[dict[str, Any]], output_format: str, title: str,
              columns: Sequence[str]) -> None:
    """A listing: one JSON document, or a table of ``columns``."""
    if output_format == "json":
        print_json(list(views))
    else:
        print_rows(console(), title, columns, views)


def print_rows(out: Console, title: str, columns: Sequence[str],
               rows: Sequence[dict[str, Any]]) -> None:
    """Items as a table with one column per field in ``columns``."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        # a uuid is copied and pasted whole, so it never wraps
        whole = column.endswith("uuid")
        table.add_column(column.removesuffix("_s").replace("_", " "), overflow="fold",
                         no_wrap=whole, min_width=36 if whole else None)
    for row in rows:
        table.add_row(*(_cell(c, row.get(c)) for c in columns))
    if not rows:
        table.add_row("(none)", *[""] * (len(columns) - 1))
    out.print(table)


duration_text = render.duration_text  # one format for every duration
