"""``optimizer readiness``: could the cluster, as it is now, survive K host failures?

The model comes from ``--scenario FILE`` or, by default, the configured
collector (the embedded simulated cluster unless the configuration says
otherwise). Exit status 0 when ready, 1 when some failure set strands
instances or needs powered-off hosts woken. The module imports only click
and rich; the check and numpy load when the command runs.
"""
from __future__ import annotations

import json

import click

from optimizer import render
from optimizer.commands.options import format_option

NOT_READY_EXIT = 1
_SHOWN = 20  # uuids and host names listed in the table view


@click.command(short_help="Could every instance be rebuilt if K hosts (or a zone) failed?")
@click.option("-k", "--failures", default=1, show_default=True, type=int, metavar="K",
              help="Hosts failing at once (with --by host).")
@click.option("--by", "by", type=click.Choice(["host", "zone", "aggregate"]), default="host",
              show_default=True, help="Fail K hosts, or each zone, or each aggregate.")
@click.option("-s", "--scenario", metavar="FILE",
              help="A cluster-scenario/1 file (default: the configured collector).")
@format_option
def readiness(failures: int, by: str, scenario: str | None, output_format: str) -> None:
    """Check that every instance could be rebuilt elsewhere if hosts failed."""
    from optimizer.readiness.check import check_readiness

    snapshot = _load_model(scenario)
    result = check_readiness(snapshot, failures, by)
    if output_format == "json":
        click.echo(json.dumps({"cluster": snapshot.name, **result.to_dict()}, indent=1))
    else:
        _show(result, snapshot.name)
    if not result.ok:
        raise click.exceptions.Exit(NOT_READY_EXIT)


def _load_model(scenario: str | None):
    if scenario is not None:
        from optimizer.models.scenario import load_scenario

        return load_scenario(scenario)
    from optimizer.collectors import open_collector
    from optimizer.commands.common import current_settings

    return open_collector(current_settings()).collect()


def _show(result, cluster: str) -> None:
    out = render.console()
    verdict = "READY" if result.ok else "NOT READY"
    out.print(f"{cluster}: {verdict} for {result.failures} {result.by} failure(s) "
              f"({result.search}); {result.failing_sets} of {result.sets_tried} sets fail",
              markup=False)
    worst = result.worst
    if worst is None:
        return
    out.print(f"worst case: {worst.label}", markup=False)
    for title, items in (("stranded instances", worst.stranded),
                         ("hosts to wake", worst.hosts_to_wake),
                         ("empty hosts to keep on", worst.hosts_to_keep)):
        more = f" (+{len(items) - _SHOWN} more)" if len(items) > _SHOWN else ""
        listed = ", ".join(items[:_SHOWN]) or "none"
        out.print(f"  {title}: {len(items)}: {listed}{more}", markup=False)
