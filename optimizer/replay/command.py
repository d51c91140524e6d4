"""``optimizer replay``: replay CPU traces under a consolidation policy.

The traces come from a PlanetLab folder, a scenario file or the configured cloud
(:mod:`optimizer.replay.sources`).

Only click is imported at module level; the simulation loads when the command runs.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from optimizer.commands.options import format_option, param_option


def _switch(name: str, help_text: str, **kwargs):
    return click.option(name, default=None, show_default=False, help=help_text, **kwargs)


@click.command("replay")
@click.option("--traces", "traces_dir", type=click.Path(path_type=Path),
              help="Folder of per-VM CPU traces (one % a line, 5-minute steps; PlanetLab "
                   "format).")
@click.option("--scenario", "scenario_file", type=click.Path(path_type=Path),
              help="A cluster-scenario/1 file whose active instances carry cpu_util_series "
                   "(its hosts, flavors, placement and server groups are replayed).")
@click.option("--from-cloud", is_flag=True,
              help="Replay the configured cloud ([collector]) with each instance's CPU "
                   "history from [replay] datasource.")
@click.option("--since", default="1d", show_default=True,
              help="With --from-cloud: how much history to replay, e.g. 7d, 12h, 30m.")
@click.option("--policy", default="lr-mmt-1.2", show_default=True,
              help="npa, dvfs, recommended (the README's policy for automatic mode: "
                   "power_aware_consolidation with charge_switch_on, underload_below 0.4, "
                   "underload_safety 1.6) or DETECTOR-SELECTION-PARAM: thr-mmt-0.8, "
                   "iqr-mmt-1.5, mad-mmt-2.5, lr-mmt-1.2, lrr-mmt-1.2 (detectors thr iqr mad "
                   "lr lrr, selections mmt mc rs).")
@click.option("--strategy", "strategy_name",
              help="Decide each round with this strategy plugin and the planner instead of "
                   "--policy (as production audits do); parameters with -p.")
@param_option
@click.option("--template", "template_name", metavar="NAME|UUID",
              help="Decide each round as an audit of this audit template (in the configured "
                   "database) would: its goal, strategy, parameters (-p overrides) and guard "
                   "rails, with the configuration's [guard_rails].")
@click.option("--max-parallel-migrations", type=click.IntRange(min=0), default=0,
              show_default=True,
              help="Migrations the applier runs at once (0: no limit; CloudSim starts all of "
                   "a round's at once).")
@click.option("--max-migrations-per-host", type=click.IntRange(min=0), default=0,
              show_default=True,
              help="Migrations in flight per host as source or destination (0: no limit).")
@click.option("--rounds", "execution", type=click.Choice(["applier", "direct"]),
              default="applier", show_default=True,
              help="applier: each round is an audit whose plan the guard rails and the "
                   "applier carry out (production's path); direct: a --policy's round "
                   "migrations all start at once, as CloudSim starts them (exact "
                   "reproduction of CloudSim 3.0.3; no planner, guard rails or applier).")
@click.option("--journal", type=click.Choice(["memory", "sqlite"]), default="memory",
              show_default=True,
              help="Where the applier records the plans: in memory, or the production "
                   "journal on a SQLite database in memory (the same results, slower).")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              metavar="DIR", help="Also write the HTML report (index.html and plots) here.")
@click.option("--compare", is_flag=True,
              help="Instead of replaying, write the --report of the runs RUN.json... (saved "
                   "from --format json).")
@click.argument("compare_runs", nargs=-1, metavar="[RUN.json...]",
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--fidelity", default="cloudsim-3.0.3", show_default=True,
              help="Modelling preset: cloudsim-3.0.3 or paper (the switches below override it).")
@_switch("--vm-removal", "A VM leaves at its first two consecutive 0 % samples (two-zeros), "
         "its first 0 % sample (first-zero), or never (the default for --scenario and "
         "--from-cloud).",
         type=click.Choice(["two-zeros", "first-zero", "never"]))
@_switch("--count-round-placements/--no-count-round-placements",
         "Placement sees the VMs it placed earlier in the same round (3.0.3: yes).")
@_switch("--lr-weighted/--no-lr-weighted",
         "LR fits with tricube weights and LRR adds a bisquare pass (paper: yes; 3.0.3: no).")
@_switch("--empty-host", "An empty host draws nothing (off) or its idle power (idle).",
         type=click.Choice(["off", "idle"]))
@click.option("--interval", type=click.FloatRange(min=1), default=300.0, show_default=True,
              help="Seconds between consolidation rounds.")
@click.option("--duration", type=click.FloatRange(min=1),
              help="Simulated seconds (each series must cover them) [default: a day for "
                   "--traces, the series for --scenario, --since for --from-cloud].")
@click.option("--hosts", type=click.IntRange(min=1),
              help="With --traces: hosts in the simulated data centre (models alternate) "
                   "[default: 800].")
@click.option("--power-tables", type=click.Path(path_type=Path),
              help="Host models, one a line: name,cores,core_mips,W at 0,10,...,100 % "
                   "(default: HP ProLiant ML110 G4 and G5). For --scenario and --from-cloud "
                   "a host takes the table named by one of its aggregates, else 'default'.")
@click.option("--repeat", type=click.IntRange(min=1),
              help="With --traces: use every trace this many times (to scale a day up) "
                   "[default: 1].")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="A progress bar of simulated time on stderr.")
@format_option
def replay_command(traces_dir, scenario_file, from_cloud, since, policy, strategy_name, params,
                   template_name, max_parallel_migrations, max_migrations_per_host, execution,
                   journal,
                   report_dir, compare, compare_runs, fidelity, vm_removal,
                   count_round_placements, lr_weighted, empty_host, interval, duration, hosts,
                   power_tables, repeat, progress, output_format):
    """Replay CPU traces through a consolidation policy in simulated time.

    The traces are a PlanetLab folder (--traces), a scenario file's instance
    series (--scenario) or the configured cloud's recent CPU history
    (--from-cloud --since 7d). Every --interval seconds the simulated cloud
    is snapshotted, an audit runs the strategy (--policy, --strategy or
    --template), the planner orders its plan, the guard rails may hold it,
    and the applier runs it on the simulated cloud. Prints energy, SLA
    (SLATAH, PDM, SLAV, ESV, in CloudSim's and the paper's definitions),
    migrations, host shutdowns, time above the target CPU load and what the
    rounds did; with --format json one object that also holds a per-round
    timeline.
    """
    import time

    from optimizer.models.errors import UserError
    from optimizer.replay.fidelity import fidelity_from
    from optimizer.replay.policies import parse_policy
    from optimizer.replay.simulation import Replay

    if compare:
        _check_compare(click.get_current_context(), report_dir, compare_runs)
        _compare(compare_runs, report_dir, output_format)
        return
    if compare_runs:
        raise UserError(f"{compare_runs[0]}: RUN.json files are compared with --compare; "
                        "a replay takes no arguments")
    if strategy_name and template_name:
        raise UserError("--strategy and --template both say how to decide: give one")
    started = time.perf_counter()
    source = _one_source(traces_dir, scenario_file, from_cloud, hosts, repeat,
                         click.get_current_context())
    if source != "traces" and vm_removal is None:
        vm_removal = "never"  # an idle instance of a real cloud stays; PlanetLab's VMs left
    rounds_settings = _round_settings(policy, strategy_name, template_name, list(params))
    if rounds_settings is not None:
        policy = "dvfs"  # first-fit start, then the strategy decides every round
    spec = parse_policy(policy)
    fid = fidelity_from(fidelity, {"vm_removal": vm_removal,
                                   "count_round_placements": count_round_placements,
                                   "lr_weighted": lr_weighted, "empty_host": empty_host})
    if source == "traces":
        traces, setup, about = _traces_input(traces_dir, power_tables, hosts, repeat, interval,
                                             duration)
        datacentre = None
    else:
        datacentre, setup, about = _datacentre_input(source, scenario_file, since, power_tables,
                                                     interval, duration)
        traces = None
    if execution == "direct":
        rounds = _direct_rounds(click.get_current_context(), rounds_settings, spec)
    else:
        rounds = _rounds(rounds_settings, spec, fid, setup, max_parallel_migrations,
                         max_migrations_per_host, journal)
    replay = Replay(traces, spec, fid, setup, rounds=rounds, datacentre=datacentre)
    result = _run_with_progress(replay, progress)
    if template_name:
        name = f"template:{template_name}"
    elif strategy_name:
        name = f"strategy:{strategy_name}"
    else:
        name = spec.name
    doc = result.to_json(policy=name, fidelity=fidelity,
                         fidelity_switches=_switches(fid), source=source, **about)
    doc["wall_seconds"] = round(time.perf_counter() - started, 3)
    if report_dir is not None:
        from optimizer.replay.report import write_report

        doc["report"] = str(write_report([doc], report_dir))
    if output_format == "json":
        click.echo(json.dumps(doc))
    else:
        _print_table(doc)


def _check_compare(ctx: click.Context, report_dir, runs) -> None:
    """--compare reads saved runs: options of a replay make no sense with it."""
    from optimizer.models.errors import UserError

    if not runs:
        raise UserError("--compare needs the runs to compare: RUN.json... (each saved from "
                        "optimizer replay --format json)")
    if report_dir is None:
        raise UserError("--compare needs --report DIR: the comparison is an HTML report")
    keep = ("compare", "compare_runs", "report_dir", "output_format", "progress")
    given = [param.opts[0] for param in ctx.command.params
             if param.name not in keep and ctx.params.get(param.name) not in (None, ())
             and ctx.get_parameter_source(param.name) is not click.core.ParameterSource.DEFAULT]
    if given:
        raise UserError(f"--compare compares saved runs; {', '.join(given)} belong to a new "
                        "replay (run it first with --format json, then compare)")


def _compare(paths, report_dir, output_format) -> None:
    from optimizer.replay.compare_command import compare_command

    result = compare_command(list(paths), report_dir)
    if output_format == "json":
        click.echo(json.dumps({"report": str(result.page), "runs": result.labels}))
    else:
        click.echo(f"Report of {len(result.runs)} run(s): {result.page}")


def _round_settings(policy, strategy_name, template_name, params):
    """How rounds decide for --strategy or --template (None: the --policy)."""
    from optimizer.models.errors import UserError
    from optimizer.strategies.parameters import parse_assignments

    assignments = parse_assignments(params)
    if template_name:
        return _template_settings(template_name, assignments)
    if strategy_name:
        from optimizer.plugins import find_strategy
        from optimizer.replay.loop import RoundSettings

        strategy = find_strategy(strategy_name)
        strategy.validate(assignments)  # bad parameters fail before the replay
        return RoundSettings(goal=strategy.goal, strategy=strategy.name, parameters=assignments,
                             strategies={strategy.name: strategy})
    if assignments:
        raise UserError("-p sets parameters of --strategy or --template; a --policy names "
                        "its own (e.g. lr-mmt-1.2)")
    return None


def _template_settings(name: str, assignments: dict):
    """The audit template ``name`` from the configured database, as ``audit create`` reads it."""
    from optimizer.commands.common import opened_context
    from optimizer.db import get_audit_template
    from optimizer.db.errors import NotFound
    from optimizer.guard_rails import GuardRails
    from optimizer.models.errors import UserError
    from optimizer.operations import check_audit_request
    from optimizer.replay.loop import RoundSettings

    with opened_context() as ctx:
        with ctx.database.session() as session:
            try:
                row = get_audit_template(session, name)
            except NotFound:
                raise UserError(f"audit template {name!r} not found in the configured "
                                "database (see `optimizer audittemplate list`)") from None
            goal, strategy, rails = row.goal, row.strategy, row.guard_rails
            merged = {**(row.parameters or {}), **assignments}
            template = row.name
        parameters, _ = check_audit_request(ctx, goal, strategy, merged, None)
        strategies = dict(ctx.strategies.loaded)
    return RoundSettings(goal=goal, strategy=strategy, parameters=parameters,
                         strategies=strategies, template=template,
                         template_rails=GuardRails.from_mapping(
                             rails, where=f"audit template {template}"))


def _direct_rounds(ctx: click.Context, settings, spec):
    """CloudSim's execution of a --policy's rounds (None for npa and dvfs: no rounds)."""
    from optimizer.models.errors import UserError
    from optimizer.replay.direct import DirectRounds

    if settings is not None:
        raise UserError("--rounds direct runs a --policy's round as CloudSim does; --strategy "
                        "and --template plans go through the planner and the applier")
    applier_only = [f"--{name.replace('_', '-')}" for name in
                    ("max_parallel_migrations", "max_migrations_per_host", "journal")
                    if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT]
    if applier_only:
        raise UserError(f"{', '.join(applier_only)}: the applier's, and --rounds direct has "
                        "none")
    if not spec.migrates:
        return None
    return DirectRounds()


def _rounds(settings, spec, fid, setup, max_parallel, max_per_host, journal):
    """The production rounds of this replay (None for npa and dvfs: no rounds)."""
    import dataclasses

    from optimizer.replay.loop import ProductionRounds, policy_settings

    if settings is None:
        if not spec.migrates:
            return None
        settings = policy_settings(spec, fid, setup.host_bw_mbit / 8 * fid.migration_share_of_bw)
    settings = dataclasses.replace(settings, config_rails=_config_rails(),
                                   max_parallel_migrations=max_parallel,
                                   max_migrations_per_host=max_per_host, journal=journal)
    return ProductionRounds(settings)


def _config_rails():
    """The configuration's [guard_rails] (config file and environment, as production reads)."""
    from optimizer.commands.common import current_settings
    from optimizer.guard_rails import GuardRails

    return GuardRails(**current_settings().guard_rails.__dict__)


def _one_source(traces_dir, scenario_file, from_cloud, hosts, repeat, ctx) -> str:
    """Which input the run replays; exactly one may be given, and its own options only."""
    from optimizer.models.errors import UserError

    given = [name for name, value in (("--traces", traces_dir), ("--scenario", scenario_file),
                                      ("--from-cloud", from_cloud)) if value]
    if len(given) != 1:
        got = " and ".join(given) if given else "none; --compare RUN.json... --report DIR " \
            "compares saved runs"
        raise UserError("replay: give exactly one of --traces DIR, --scenario FILE or "
                        f"--from-cloud (got {got})")
    source = {"--traces": "traces", "--scenario": "scenario", "--from-cloud": "cloud"}[given[0]]
    if source != "traces":
        for option, value in (("--hosts", hosts), ("--repeat", repeat)):
            if value is not None:
                raise UserError(f"replay: {option} applies to --traces only; {given[0]} "
                                "brings its own hosts and instances")
    if source != "cloud" and ctx.get_parameter_source("since").name != "DEFAULT":
        raise UserError("replay: --since applies to --from-cloud only")
    return source


def _traces_input(traces_dir, power_tables, hosts, repeat, interval, duration):
    """CloudSim's set-up of a PlanetLab trace folder."""
    from optimizer.replay.power import BUILTIN, load_power_tables
    from optimizer.replay.simulation import Setup
    from optimizer.replay.traces import load_traces

    models = load_power_tables(power_tables) if power_tables else BUILTIN
    setup = Setup(hosts=hosts or 800, models=models, interval_s=interval,
                  duration_s=duration or 86400.0)
    traces = load_traces(traces_dir, setup.samples, repeat=repeat or 1)
    return traces, setup, {"traces": str(traces_dir)}


def _datacentre_input(source, scenario_file, since, power_tables, interval, duration):
    """A scenario's or the configured cloud's data centre, the set-up and what to report."""
    from optimizer.replay.power import load_power_tables
    from optimizer.replay.simulation import Setup
    from optimizer.replay.sources import cloud_datacentre, parse_since, scenario_datacentre

    tables = load_power_tables(power_tables) if power_tables else None
    where = str(power_tables) if power_tables else "--power-tables"
    if source == "scenario":
        dc, duration = scenario_datacentre(scenario_file, duration, tables, where)
        about = {"traces": f"scenario {scenario_file}"}
    else:
        from optimizer.commands.common import current_settings

        since_s = parse_since(since)
        dc, about = cloud_datacentre(current_settings(), since_s, int(interval), tables, where)
        if duration is None:
            duration = float(since_s)
        elif duration > since_s:
            from optimizer.models.errors import UserError

            raise UserError(f"replay: --duration {duration:g} s is longer than --since {since} "
                            f"({since_s} s of history)")
        about = {"traces": f"cloud ({about['collector']} collector, {about['datasource']} "
                           f"history, last {since})", "since_s": since_s, **about}
    about.update(power_models=dc.notes["power_models"], power_tables=dc.notes["power_tables"])
    setup = Setup(hosts=dc.hosts, interval_s=interval, duration_s=duration)
    return dc, setup, about


def _switches(fid) -> dict:
    import dataclasses
    return dataclasses.asdict(fid)


def _run_with_progress(replay, enabled: bool):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from optimizer import render

    if not enabled:
        return replay.run()
    bar = Progress(TextColumn("[bold]replay[/]"), BarColumn(),
                   TextColumn("{task.fields[clock]}"), TimeElapsedColumn(),
                   console=render.console(err=True), transient=True)
    task = bar.add_task("replay", total=replay.setup.duration_s, clock="")

    def report(t: float, end: float) -> None:
        hours, rest = divmod(int(t), 3600)
        bar.update(task, completed=t, clock=f"{hours:02d}:{rest // 60:02d} simulated")

    replay.progress = report
    with bar:
        return replay.run()


def _print_table(doc: dict) -> None:
    from rich.table import Table

    from optimizer import render

    paper = doc["paper_metrics"]
    table = Table(title=f"replay of {doc['traces']}: {doc['policy']} ({doc['fidelity']}), "
                        f"{doc['hosts']} hosts, {doc['vms']} VMs", title_justify="left")
    table.add_column("metric")
    table.add_column("CloudSim definition", justify="right")
    table.add_column("paper definition", justify="right")
    rows = [
        ("energy (kWh)", f"{doc['energy_kwh']:.2f}", ""),
        ("migrations", str(doc["migrations"]), ""),
        ("SLATAH (%)", f"{doc['slatah_pct']:.2f}", f"{paper['slatah_pct']:.2f}"),
        ("PDM (%)", f"{doc['pdm_pct']:.4f}", f"{paper['pdm_pct']:.4f}"),
        ("SLAV", f"{doc['slav']:.3e}", f"{paper['slav']:.3e}"),
        ("ESV", f"{doc['esv']:.3e}", f"{paper['esv']:.3e}"),
        ("host shutdowns", str(doc["host_shutdowns"]), ""),
        ("overall SLA violation (%)", f"{doc['overall_sla_violation_pct']:.2f}", ""),
        ("host-hours short of CPU", f"{doc['overloaded_host_hours']:.1f}", ""),
    ]
    above = doc["above_target"]
    rows.append((f"time above {100 * above['target_cpu_load']:g} % CPU: mean / p99 (s)",
                 f"{above['mean_s']:.0f} / {above['p99_s']:.0f}", ""))
    loop = doc.get("rounds") or {}
    if "plans_started" in loop:
        held = ", ".join(f"{k} {v}" for k, v in loop["held_by_rail"].items())
        rows += [
            ("plans started / held", f"{loop['plans_started']} / {loop['plans_held']}", ""),
            ("plans held, by guard rail", held or "-", ""),
            ("plans superseded", str(loop["plans_superseded"]), ""),
            ("rounds skipped (plan running)", str(loop["rounds_skipped"]), ""),
        ]
    rows.append(("wall time (s)", f"{doc['wall_seconds']:.1f}", ""))
    if doc.get("report"):
        rows.append(("report", doc["report"], ""))
    for row in rows:
        table.add_row(*row)
    console = render.console()
    console.print(table)
    if "power_models" in doc:
        models = ", ".join(f"{name} x {count}" for name, count in doc["power_models"].items())
        console.print(f"power: {models} ({doc['power_tables']})", highlight=False)
    if "history_summary" in doc:
        console.print(f"CPU history: {doc['history_summary']}", highlight=False)
