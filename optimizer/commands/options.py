"""Options shared by the commands, and the root group's ones they pass on (imports only click)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click


@dataclass(frozen=True)
class GlobalOptions:
    """``--config-file`` and ``--database-url`` as given to ``optimizer``."""

    config_file: str | None = None
    database_url: str | None = None

    def as_arguments(self) -> list[str]:
        """The same options as command-line arguments, for a child process."""
        args = []
        if self.config_file is not None:
            args += ["--config-file", str(Path(self.config_file).expanduser().resolve())]
        if self.database_url is not None:
            args += ["--database-url", self.database_url]
        return args


def global_options() -> GlobalOptions:
    """The global options of the command being run (defaults outside the root group)."""
    obj = click.get_current_context().find_object(GlobalOptions)
    return obj or GlobalOptions()


format_option = click.option(
    "--format", "output_format", type=click.Choice(["table", "json"]), default="table",
    show_default=True, help="Human-readable tables or one JSON document.")

param_option = click.option(
    "-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
    help="A strategy parameter; repeat for several (see `optimizer strategy show NAME`).")
