"""The ``optimizer`` command line: demo, plan, strategies, strategy show, simulate.

Errors the user can fix (a :class:`~optimizer.models.errors.UserError`: a bad file, an
unknown strategy, a bad parameter) and click's usage errors (a missing or
unknown option, a bad value) print one line ``optimizer: error: ...`` and
exit 2. Anything else is a bug: one line
``optimizer: internal error: ...`` and exit 1, with the traceback under
``--debug``.
"""
from __future__ import annotations

import dataclasses
import errno
import json
import logging
import shlex
import shutil
import sys
import time
import traceback
from pathlib import Path

import click

from optimizer import render
from optimizer.commands import GlobalOptions
from optimizer.commands import register as register_commands
from optimizer.commands.options import format_option, param_option
from optimizer.models.errors import UserError
from optimizer.replay.command import replay_command
from optimizer.serve import serve_command
from optimizer.strategies.parameters import parse_assignments

# Each command imports what it runs (numpy, the strategies, the database) when
# it runs: `optimizer --help` or `optimizer audit list` must not load them all.

EXIT_INTERNAL = 1
EXIT_USER = 2
EXIT_DATABASE_UNREACHABLE = 3

DEFAULT_STRATEGY = "vm_workload_consolidation"  # of the demo

LOG = logging.getLogger(__name__)


class OneLineError(click.ClickException):
    """An error click shows as one ``optimizer: <label>: <message>`` line on stderr."""

    def __init__(self, message: str, *, label: str, exit_code: int) -> None:
        super().__init__(" ".join(message.split("\n")))
        self.label = label
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"optimizer: {self.label}: {self.message}", err=True)


_WORDS = "optimizer.command_words"


class OptimizerGroup(click.Group):
    """The root group: turns exceptions from any command into one line and a status."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:  # an unknown or malformed root option
            raise _usage_line(exc) from None

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        # click consumes these before a subcommand parses its own options
        ctx.meta[_WORDS] = [*getattr(ctx, "_protected_args", []), *ctx.args]
        return rest

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # any subcommand's bad command line
            if exc.ctx is None or exc.ctx is ctx:  # raised while parsing: find the command
                exc.ctx = None
                raise _usage_line(exc, self._command_path(ctx)) from None
            raise _usage_line(exc) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # click handles a closed pipe itself
                raise
            raise self._internal(ctx, exc) from None
        except UserError as exc:
            from optimizer.db.errors import unreachable_cause

            if unreachable_cause(exc) is not None:
                raise self._unreachable(ctx, exc) from None
            if ctx.params.get("debug"):
                click.echo(traceback.format_exc(), err=True, nl=False)
            raise OneLineError(str(exc), label="error", exit_code=EXIT_USER) from None
        except Exception as exc:
            from optimizer.db.errors import unreachable_cause

            if unreachable_cause(exc) is not None:
                raise self._unreachable(ctx, exc) from None
            raise self._internal(ctx, exc) from None

    def _command_path(self, ctx: click.Context) -> str:
        """The subcommand named on the command line, as ``optimizer audit create``."""
        words = ctx.meta.get(_WORDS, [])
        path, command = [ctx.command_path], self
        for word in words:
            found = (command.get_command(ctx, word)
                     if isinstance(command, click.Group) else None)
            if found is None:
                break
            path.append(word)
            command = found
        return " ".join(path)

    @staticmethod
    def _unreachable(ctx: click.Context, exc: Exception) -> OneLineError:
        # An outage, not a bug nor bad input: its own status, so scripts can retry.
        from optimizer.db.errors import describe_unreachable, unreachable_cause

        if ctx.params.get("debug"):
            click.echo(traceback.format_exc(), err=True, nl=False)
        return OneLineError(describe_unreachable(unreachable_cause(exc) or exc), label="error",
                            exit_code=EXIT_DATABASE_UNREACHABLE)

    @staticmethod
    def _internal(ctx: click.Context, exc: Exception) -> OneLineError:
        if ctx.params.get("debug"):
            click.echo(traceback.format_exc(), err=True, nl=False)
            hint = ""
        else:
            hint = " (run with --debug for the traceback)"
        return OneLineError(f"{type(exc).__name__}: {exc}{hint}", label="internal error",
                            exit_code=EXIT_INTERNAL)


def _usage_line(exc: click.UsageError, where: str | None = None) -> click.ClickException:
    """Click's usage error as one ``optimizer: error:`` line naming the help to read."""
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        return exc  # a group without its command: its help is the answer
    message = exc.format_message().rstrip(".")
    if where is None:
        where = exc.ctx.command_path if exc.ctx is not None else "optimizer"
    return OneLineError(f"{where}: {message} (see '{where} --help')", label="error",
                        exit_code=EXIT_USER)


class _StderrHandler(logging.Handler):
    """Log records to whatever stderr is now (click's test runner swaps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


def _configure_logging(verbose: int) -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("optimizer: %(levelname)s: %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    # A broken plugin is reported by `optimizer strategies` and whenever it is
    # asked for by name; other commands need not repeat it on every run.
    logging.getLogger("optimizer.plugins").setLevel(
        logging.NOTSET if verbose else logging.ERROR)




@click.group(cls=OptimizerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
@click.option("-v", "--verbose", count=True, help="Log progress (-vv for debug detail).")
@click.option("--config-file", metavar="PATH",
              help="Configuration file (default: $OPTIMIZER_CONFIG_FILE, else optimizer.conf "
                   "in the user's configuration folder).")
@click.option("--database-url", metavar="URL",
              help="Database of audits and plans (overrides the file and "
                   "$OPTIMIZER_DATABASE_URL).")
@click.version_option(package_name="optimizer", prog_name="optimizer")
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: int, config_file: str | None,
        database_url: str | None) -> None:
    """Cloud resource optimization: cluster model → strategy → action plan."""
    _configure_logging(verbose)
    ctx.obj = GlobalOptions(config_file, database_url)


# ----- demo -----------------------------------------------------------------------


@cli.command(short_help="Run a strategy on a simulated cluster, show before/after.")
@click.option("--hosts", default=40, show_default=True, help="Hosts in the simulated cluster.")
@click.option("--seed", default=1, show_default=True, help="Seed of the simulation.")
@click.option("--strategy", "strategy_name", default=DEFAULT_STRATEGY, show_default=True,
              help="Strategy to run.")
@param_option
@click.option("--execute/--no-execute", default=True, show_default=True,
              help="Also run the plan on a throwaway simulated cloud and show it after.")
@format_option
def demo(hosts: int, seed: int, strategy_name: str, params: tuple[str, ...], execute: bool,
         output_format: str) -> None:
    """Simulate a cluster, run a strategy on it and show what the plan changes."""
    from optimizer.demo import run_demo
    from optimizer.plugins import find_strategy

    strategy = find_strategy(strategy_name)
    values = parse_assignments(list(params))
    result = run_demo(strategy, values, hosts=hosts, seed=seed)
    execution = None
    if execute:
        from optimizer.commands.execution import ProgressView
        from optimizer.demo_execution import execute_on_simulated_cloud

        with ProgressView("demo", enabled=output_format == "table") as view:
            execution = execute_on_simulated_cloud(result.snapshot, strategy, values,
                                                   on_progress=view.update)
    program = invoked_as()
    next_step = (f"{program} simulate --hosts {hosts} --seed {seed} -o cluster.json && "
                 f"{program} plan --scenario cluster.json --strategy {strategy.name} "
                 + "".join(f"-p {shlex.quote(p)} " for p in params) + "-o plan.json")
    if output_format == "json":
        document = {**result.to_dict(), "next": next_step}
        if execution is not None:
            document["execution"] = dataclasses.asdict(execution)
        click.echo(json.dumps(document, indent=1))
        return
    out = render.console()
    render.render_demo(result, out, execution=execution)
    out.print(f"Next, plan on this cluster from a file: {next_step}", markup=False)


def invoked_as() -> str:
    """How to run this program again from here: ``optimizer`` if the PATH finds this one,
    else the path it was run by (``.venv/bin/optimizer`` after the Quick start)."""
    argv0 = sys.argv[0] if sys.argv else ""
    if Path(argv0).name != "optimizer":
        return "optimizer"  # python -m, or a test runner
    found = shutil.which("optimizer")
    try:
        if found and Path(found).resolve() == Path(argv0).resolve():
            return "optimizer"
    except OSError:
        pass
    return shlex.quote(argv0)


# ----- plan -------------------------------------------------------------------------


@cli.command(short_help="Plan on a cluster-scenario/1 file, write an action plan.")
@click.option("-s", "--scenario", required=True, metavar="FILE",
              help="A cluster-scenario/1 JSON file.")
@click.option("--strategy", "strategy_name", required=True, help="Strategy to run.")
@param_option
@click.option("-o", "--output", metavar="PLAN.json",
              help="Write the action-plan/1 document here (default: print it).")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default=None,
              help="Summary as a table or JSON [default: table with -o; without -o the "
                   "plan itself is printed as JSON].")
def plan(scenario: str, strategy_name: str, params: tuple[str, ...], output: str | None,
         output_format: str | None) -> None:
    """Plan actions for the cluster in a scenario file and write an action plan."""
    from optimizer.models.scenario import load_scenario
    from optimizer.plan_file import plan_to_dict, write_plan
    from optimizer.plugins import find_strategy
    from optimizer.strategies.solution import Migrate

    strategy = find_strategy(strategy_name)
    values = strategy.validate(parse_assignments(list(params)))
    snapshot = load_scenario(scenario)
    LOG.info("loaded %s: %d hosts, %d instances", snapshot.name, snapshot.host_count,
             snapshot.instance_count)
    started = time.perf_counter()  # model in memory → solution, as FORMAT.md defines it
    solution = strategy.execute(snapshot, values)
    planning_seconds = time.perf_counter() - started
    LOG.info("strategy %s planned %d actions in %.3f s", strategy.name,
             len(solution.actions), planning_seconds)
    document = plan_to_dict(solution, snapshot.name, planning_seconds)
    if output is None and output_format is None:
        click.echo(json.dumps(document, indent=1))
        return
    if output is not None:
        try:
            write_plan(document, output)
        except OSError as exc:
            raise UserError(f"cannot write plan {output}: {exc.strerror or exc}") from None
    summary = {
        "path": output, "scenario": snapshot.name, "strategy": strategy.name,
        "actions": len(solution.actions),
        "migrations": sum(isinstance(a, Migrate) for a in solution.actions),
        "planning_seconds": document["planning_seconds"],
        "indicators": document["efficacy_indicators"],
    }
    if output_format == "json":
        click.echo(json.dumps(summary, indent=1))
        return
    out = render.console()
    render.render_plan_summary(summary, out)
    if output is None:
        names = {u: n or u for u, n in zip(snapshot.inst_uuids, snapshot.inst_names,
                                           strict=True)}
        render.render_actions(solution.actions, out, names=names)


# ----- strategies ---------------------------------------------------------------------


@cli.command()
@format_option
@click.pass_context
def strategies(ctx: click.Context, output_format: str) -> None:
    """List installed strategies, and plugins that failed to load."""
    from optimizer.plugins import load_strategies

    plugins = load_strategies()
    if output_format == "json":
        click.echo(json.dumps({
            "strategies": [
                {"name": s.name, "goal": s.goal, "display_name": s.display_name or s.name,
                 "summary": s.summary} for s in plugins.loaded.values()],
            "failures": [
                {"name": f.name, "target": f.target, "error": f.error}
                for f in plugins.failures],
        }, indent=1))
    else:
        render.render_strategy_list(plugins.loaded.values(), render.console())
        if plugins.failures:
            render.render_failures(plugins.failures, render.console(err=True))
    if not plugins.loaded:
        ctx.exit(EXIT_INTERNAL)


@cli.group()
def strategy() -> None:
    """Inspect one strategy."""


@strategy.command("show")
@click.argument("name")
@format_option
def strategy_show(name: str, output_format: str) -> None:
    """Show a strategy's documentation and parameters."""
    from optimizer.plugins import find_strategy

    found = find_strategy(name)
    if output_format == "json":
        sections = found.sections()
        click.echo(json.dumps({
            "name": found.name, "goal": found.goal,
            "display_name": found.display_name or found.name,
            "summary": sections.pop("summary"), "sections": sections,
            "parameters": [_spec_dict(s) for s in found.describe_parameters()],
            "schema": found.schema(),
        }, indent=1))
        return
    render.render_strategy(found, render.console())


def _spec_dict(spec) -> dict:
    return {"name": spec.name, "type": spec.type, "default": spec.default,
            "required": spec.required, "minimum": spec.minimum, "maximum": spec.maximum,
            "choices": list(spec.choices) if spec.choices is not None else None,
            "help": spec.help}


# ----- simulate -------------------------------------------------------------------------


@cli.command(short_help="Write a simulated cluster as a scenario file.")
@click.option("--hosts", default=40, show_default=True, help="Number of hosts.")
@click.option("--seed", default=1, show_default=True, help="Seed; the same seed, the same cluster.")
@click.option("--fill", default=0.4, show_default=True,
              help="Share of allocatable memory the instances take, in (0, 1].")
@click.option("--cpu-util", default=0.3, show_default=True,
              help="Mean CPU use of an instance, as a share of its vcpus.")
@click.option("--host-models", default="medium", show_default=True,
              help="Comma-separated host models: small, medium, large.")
@click.option("--zones", default=3, show_default=True, help="Availability zones.")
@click.option("--disabled-hosts", default=0, show_default=True, help="Hosts to disable.")
@click.option("--stopped-instances", default=0, show_default=True,
              help="Instances to shut off (they can only be cold-migrated).")
@click.option("--server-groups", default=0, show_default=True,
              help="Server groups to form (every fourth is an affinity group).")
@click.option("--series-length", default=0, show_default=True,
              help="CPU samples per instance (0: none).")
@click.option("-o", "--output", required=True, metavar="FILE",
              help="Where to write the cluster-scenario/1 file.")
@format_option
def simulate(hosts: int, seed: int, fill: float, cpu_util: float, host_models: str,
             zones: int, disabled_hosts: int, stopped_instances: int, server_groups: int,
             series_length: int, output: str, output_format: str) -> None:
    """Write a simulated cluster as a cluster-scenario/1 file, to feed `optimizer plan`."""
    from optimizer.models.scenario import save_scenario
    from optimizer.models.simulated import SimulationSpec, simulate_cluster

    spec = SimulationSpec(
        hosts=hosts, seed=seed, fill=fill, cpu_util=cpu_util,
        host_models=tuple(m.strip() for m in host_models.split(",") if m.strip()),
        zones=zones, disabled_hosts=disabled_hosts, stopped_instances=stopped_instances,
        server_groups=server_groups, series_length=series_length,
    )
    snapshot = simulate_cluster(spec)
    try:
        save_scenario(snapshot, output)
    except OSError as exc:
        raise UserError(f"cannot write scenario {output}: {exc.strerror or exc}") from None
    if output_format == "json":
        click.echo(json.dumps({"path": output, "scenario": snapshot.name,
                               "hosts": snapshot.host_count,
                               "instances": snapshot.instance_count}, indent=1))
        return
    click.echo(f"wrote {output}: {snapshot.host_count} hosts, {snapshot.instance_count} "
               f"instances ({snapshot.name})")


register_commands(cli)  # audittemplate, audit, actionplan, action, config, db
cli.add_command(serve_command)  # optimizer serve --role ...
cli.add_command(replay_command)  # optimizer replay --traces DIR --policy P


def main() -> None:
    """Entry point of the ``optimizer`` console script."""
    cli.main(prog_name="optimizer")


if __name__ == "__main__":
    main()
