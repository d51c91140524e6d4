"""``optimizer config show`` and ``optimizer db upgrade``: settings and schema."""
from __future__ import annotations

import dataclasses

import click

from optimizer.commands.common import (
    console,
    current_settings,
    format_option,
    print_json,
    print_rows,
)
from optimizer.config import mask_password


@click.group("config")
def config() -> None:
    """Inspect the configuration."""


@config.command("show")
@format_option
def show(output_format: str) -> None:
    """Every setting's effective value and where it came from."""
    settings = current_settings()
    rows = [dataclasses.asdict(r) for r in settings.rows]
    if output_format == "json":
        print_json({"config_file": settings.config_file, "settings": rows})
        return
    click.echo(f"config file: {settings.config_file or '(none)'}")
    print_rows(console(), "Settings", ("group", "option", "value", "source"), rows)


@click.group("db")
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@format_option
def db_upgrade(output_format: str) -> None:
    """Bring the database to this version's schema (a newer, unknown one is refused)."""
    from optimizer.db import RevisionState, revision_status, upgrade

    url = current_settings().database_url
    before = revision_status(url)
    after = upgrade(url)
    document = {"database": mask_password(url), "from": before.current, "to": after.current,
                "head": after.head}
    if output_format == "json":
        print_json(document)
    elif before.state is RevisionState.CURRENT:
        click.echo(f"database {document['database']} already at revision {after.current}")
    else:
        click.echo(f"database {document['database']} upgraded from revision "
                   f"{before.current or '(empty)'} to {after.current}")
