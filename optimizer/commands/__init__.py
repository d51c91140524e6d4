"""Command groups for audits, templates, plans, actions, configuration and the database.

:func:`register` adds them to the root ``optimizer`` group. Each group lives
in its own module, imported only when the group is used: they need the
database, oslo.config and the planner, which other commands (``demo``,
``plan``) should not pay for at start-up.
"""
from __future__ import annotations

import importlib

import click

from optimizer.commands.options import GlobalOptions

# (command name, module, attribute, one-line help)
GROUPS = (
    ("audittemplate", "optimizer.commands.templates", "audittemplate",
     "Create, list, show and delete audit templates."),
    ("audit", "optimizer.commands.audits", "audit",
     "Create, run, list, show, update and delete audits."),
    ("actionplan", "optimizer.commands.plans", "actionplan",
     "Inspect, start, follow and stop action plans."),
    ("action", "optimizer.commands.actions", "action",
     "List, show and skip the actions of action plans."),
    ("config", "optimizer.commands.admin", "config", "Inspect the configuration."),
    ("db", "optimizer.commands.admin", "db", "Manage the database schema."),
)

# (module, attribute) of single commands; their modules import only click and rich
COMMANDS = (
    ("optimizer.replay.compare_command", "replay_report"),
    ("optimizer.readiness.command", "readiness"),
)

__all__ = ["COMMANDS", "GROUPS", "GlobalOptions", "LazyGroup", "register"]


class LazyGroup(click.Group):
    """A group whose subcommands are defined in a module imported on first use."""

    def __init__(self, name: str, module: str, attribute: str, help_line: str):
        super().__init__(name, help=help_line, short_help=help_line)
        self.target = (module, attribute)
        self._group: click.Group | None = None

    def real(self) -> click.Group:
        """The group as its module defines it."""
        if self._group is None:
            module, attribute = self.target
            self._group = getattr(importlib.import_module(module), attribute)
        return self._group

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self.real().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self.real().get_command(ctx, name)


def register(root: click.Group) -> None:
    """Add every command group of this package to ``root``."""
    for name, module, attribute, help_line in GROUPS:
        root.add_command(LazyGroup(name, module, attribute, help_line))
    for module, attribute in COMMANDS:
        root.add_command(getattr(importlib.import_module(module), attribute))
