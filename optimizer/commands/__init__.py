"""Command groups for audits, templates, plans, actions, configuration and the database.

:func:`register` adds them to the root ``optimizer`` group; each group lives
in its own module and opens the context (settings, database, strategies)
once per command.
"""
from __future__ import annotations

import click

from optimizer.commands.actions import action
from optimizer.commands.admin import config, db
from optimizer.commands.audits import audit
from optimizer.commands.common import GlobalOptions
from optimizer.commands.plans import actionplan
from optimizer.commands.templates import audittemplate

GROUPS = (audittemplate, audit, actionplan, action, config, db)

__all__ = ["GROUPS", "GlobalOptions", "register"]


def register(root: click.Group) -> None:
    """Add every command group of this package to ``root``."""
    for group in GROUPS:
        root.add_command(group)
