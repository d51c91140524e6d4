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
              help="Folder of per-VM CPU traces (one % a line, 5-minute steps; PlanetLab format).")
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
                   fidelity, vm_removal, count_round_placements, lr_weighted, empty_host,
                   interval, duration, hosts, power_tables, repeat, progress, output_format):
    """Replay CPU traces through a consolidation policy in simulated time.

    The traces are a PlanetLab folder (--traces), a scenario file's instance
    series (--scenario) or the configured cloud's recent CPU history
    (--from-cloud --since 7d). Prints energy, SLA (SLATAH, PDM, SLAV, ESV, in
    CloudSim's and the paper's definitions), migrations and host shutdowns;
    with --format json one object that also holds a per-round timeline.
    """
    import time

    from optimizer.replay.fidelity import fidelity_from
    from optimizer.replay.policies import parse_policy
    from optimizer.replay.simulation import Replay

    started = time.perf_counter()
    source = _one_source(traces_dir, scenario_file, from_cloud, hosts, repeat,
                         click.get_current_context())
    if source != "traces" and vm_removal is None:
        vm_removal = "never"  # an idle instance of a real cloud stays; PlanetLab's VMs left
    decider = None
    if strategy_name:
        from optimizer.plugins import find_strategy
        from optimizer.replay.production import StrategyDecider
        from optimizer.strategies.parameters import parse_assignments

        decider = StrategyDecider(find_strategy(strategy_name), parse_assignments(list(params)))
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
    replay = Replay(traces, spec, fid, setup, decider=decider, datacentre=datacentre)
    result = _run_with_progress(replay, progress)
    name = f"strategy:{strategy_name}" if strategy_name else spec.name
    doc = result.to_json(policy=name, fidelity=fidelity,
                         fidelity_switches=_switches(fid), source=source, **about)
    doc["wall_seconds"] = round(time.perf_counter() - started, 3)
    if output_format == "json":
        click.echo(json.dumps(doc))
    else:
        _print_table(doc)


def _one_source(traces_dir, scenario_file, from_cloud, hosts, repeat, ctx) -> str:
    """Which input the run replays; exactly one may be given, and its own options only."""
    from optimizer.models.errors import UserError

    given = [name for name, value in (("--traces", traces_dir), ("--scenario", scenario_file),
                                      ("--from-cloud", from_cloud)) if value]
    if len(given) != 1:
        raise UserError("replay: give exactly one of --traces DIR, --scenario FILE or "
                        f"--from-cloud (got {' and '.join(given) if given else 'none'})")
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
        ("wall time (s)", f"{doc['wall_seconds']:.1f}", ""),
    ]
    for row in rows:
        table.add_row(*row)
    console = render.console()
    console.print(table)
    if "power_models" in doc:
        models = ", ".join(f"{name} x {count}" for name, count in doc["power_models"].items())
        console.print(f"power: {models} ({doc['power_tables']})", highlight=False)
    if "history_summary" in doc:
        console.print(f"CPU history: {doc['history_summary']}", highlight=False)
