"""``optimizer replay``: JSON and table output, and one-line errors with exit 2."""
from __future__ import annotations

import json

from click.testing import CliRunner

from optimizer.cli import cli

KEYS = {"energy_kwh", "migrations", "slatah_pct", "pdm_pct", "slav", "esv", "host_shutdowns",
        "wall_seconds", "metric_definitions", "paper_metrics", "timeline"}
TIMELINE = {"time_s", "active_hosts", "power_w", "overloaded_hosts", "migrations"}


def day(tmp_path, rows=8, samples=10):
    folder = tmp_path / "day"
    folder.mkdir()
    for i in range(rows):
        values = [(13 * i + 29 * k) % 100 for k in range(samples)]
        (folder / f"vm {i}").write_text("\n".join(map(str, values)) + "\n")
    return folder


def invoke(*args):
    return CliRunner().invoke(cli, ["replay", "--no-progress", *args])


def test_json_has_the_metrics_both_definitions_and_a_timeline(tmp_path):
    result = invoke("--traces", str(day(tmp_path)), "--policy", "thr-mmt-0.8", "--hosts", "6",
                    "--duration", "3000", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc) >= KEYS
    assert set(doc["metric_definitions"]) == {"cloudsim", "paper", "above_target", "rounds"}
    assert set(doc["timeline"]) >= TIMELINE
    assert len(doc["timeline"]["time_s"]) == 9
    assert sum(doc["timeline"]["migrations"]) == doc["migrations"]
    assert doc["policy"] == "thr-mmt-0.8" and doc["fidelity_switches"]["vm_removal"] == "two-zeros"


def test_switches_override_the_preset(tmp_path):
    result = invoke("--traces", str(day(tmp_path)), "--fidelity", "paper", "--hosts", "6",
                    "--duration", "3000", "--no-lr-weighted", "--empty-host", "idle",
                    "--format", "json")
    doc = json.loads(result.output)
    sw = doc["fidelity_switches"]
    assert (sw["vm_removal"], sw["lr_weighted"], sw["empty_host"]) == ("first-zero", False,
                                                                       "idle")


def test_table_output(tmp_path):
    result = invoke("--traces", str(day(tmp_path)), "--policy", "dvfs", "--hosts", "4",
                    "--duration", "3000")
    assert result.exit_code == 0, result.output
    assert "energy (kWh)" in result.output and "SLATAH (%)" in result.output


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    folder = day(tmp_path)
    (folder / "vm 3").write_text("1\n2\nlots\n")
    cases = [
        (["--traces", str(tmp_path / "none")], "does not exist"),
        (["--traces", str(folder), "--duration", "3000"], "vm 3: line 3: 'lots'"),
        (["--traces", str(folder), "--duration", "600", "--policy", "best"], "policy 'best'"),
        (["--traces", str(folder), "--duration", "600", "--fidelity", "x"], "fidelity 'x'"),
    ]
    for args, needle in cases:
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert needle in result.output
        assert result.output.startswith("optimizer: error: ")
        assert result.output.count("\n") == 1
    table = tmp_path / "p.csv"
    table.write_text("box,2,1000,9,8,7,6,5,4,3,2,1,0,0\n")
    result = invoke("--traces", str(folder), "--duration", "600", "--power-tables", str(table))
    assert result.exit_code == 2 and f"{table}: line 1: power at 10 % (8 W)" in result.output


def test_strategy_mode_runs_a_plugin_through_the_planner(tmp_path):
    result = invoke("--traces", str(day(tmp_path, rows=16)), "--strategy",
                    "power_aware_consolidation", "-p", "detector=thr", "-p", "safety=0.8",
                    "--hosts", "8", "--duration", "3000", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["policy"] == "strategy:power_aware_consolidation"
    assert doc["migrations"] > 0 and sum(doc["timeline"]["migrations"]) == doc["migrations"]
    bad = invoke("--traces", str(tmp_path / "day"), "--strategy", "nope", "--duration", "600")
    assert bad.exit_code == 2 and "unknown strategy 'nope'" in bad.output
    bad = invoke("--traces", str(tmp_path / "day"), "--strategy", "power_aware_consolidation",
                 "-p", "detector=xyz", "--duration", "600")
    assert bad.exit_code == 2 and "detector" in bad.output


def optimizer(*args):
    return CliRunner().invoke(cli, list(args))


def test_a_template_decides_the_rounds_with_its_rails_and_the_configurations(tmp_path):
    url = f"sqlite:///{tmp_path / 'o.db'}"
    assert optimizer("--database-url", url, "db", "upgrade").exit_code == 0
    made = optimizer("--database-url", url, "audittemplate", "create", "thr", "--goal",
                     "server_consolidation", "--strategy", "power_aware_consolidation",
                     "-p", "detector=thr", "-p", "safety=0.8", "--max-migrations", "1")
    assert made.exit_code == 0, made.output
    traces = str(day(tmp_path, rows=16))
    run = ["--database-url", url, "replay", "--no-progress", "--traces", traces, "--hosts", "8",
           "--duration", "3000", "--format", "json", "--template"]
    result = optimizer(*run, "thr")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["policy"] == "template:thr" and doc["rounds"]["template"] == "thr"
    loop = doc["rounds"]
    assert loop["plans_held"] > 0
    assert loop["held_by_rail"] == {"max_migrations_per_plan": loop["plans_held"]}
    # the configuration's rails apply too: with automatic execution off nothing starts
    conf = tmp_path / "optimizer.conf"
    conf.write_text("[guard_rails]\nautomatic_execution = false\n")
    off = json.loads(optimizer("--config-file", str(conf), *run, "thr").output)
    assert off["migrations"] == 0
    assert off["rounds"]["plans_held"] == off["rounds"]["audits"] > 0
    assert off["rounds"]["held_by_rail"]["automatic_execution"] == off["rounds"]["audits"]

    unknown = optimizer(*run, "nope")
    assert unknown.exit_code == 2
    assert unknown.output.startswith("optimizer: error: ") and unknown.output.count("\n") == 1
    assert "audit template 'nope' not found" in unknown.output
    both = optimizer(*run, "thr", "--strategy", "power_aware_consolidation")
    assert both.exit_code == 2 and "give one" in both.output


def test_compare_and_report(tmp_path):
    traces = str(day(tmp_path))
    runs = []
    for policy in ("thr-mmt-0.8", "dvfs"):
        result = invoke("--traces", traces, "--policy", policy, "--hosts", "6", "--duration",
                        "3000", "--format", "json")
        assert result.exit_code == 0, result.output
        runs.append(tmp_path / f"{policy}.json")
        runs[-1].write_text(result.output)
    compared = invoke("--compare", str(runs[0]), str(runs[1]), "--report",
                      str(tmp_path / "cmp"), "--format", "json")
    assert compared.exit_code == 0, compared.output
    doc = json.loads(compared.output)
    assert doc["runs"] == ["thr-mmt-0.8", "dvfs"]
    page = (tmp_path / "cmp" / "index.html").read_text()
    assert "thr-mmt-0.8" in page and "dvfs" in page

    one = invoke("--traces", traces, "--policy", "thr-mmt-0.8", "--hosts", "6", "--duration",
                 "3000", "--report", str(tmp_path / "one"))
    assert one.exit_code == 0, one.output
    assert (tmp_path / "one" / "index.html").is_file()

    for args, needle in [
        (["--compare", str(runs[0])], "--compare needs --report DIR"),
        (["--compare", "--report", str(tmp_path / "x")], "--compare needs the runs"),
        ([str(runs[0]), "--report", str(tmp_path / "x")], "are compared with --compare"),
        (["--compare", str(runs[0]), "--report", str(tmp_path / "x"), "--traces", traces],
         "--traces belong to a new replay"),
        (["--compare", str(runs[0]), "--report", str(tmp_path / "x"), "--hosts", "3"],
         "--hosts belong to a new replay"),
        ([], "give exactly one of --traces DIR"),
    ]:
        bad = invoke(*args)
        assert bad.exit_code == 2, (args, bad.output)
        assert needle in bad.output and bad.output.count("\n") == 1


def test_direct_rounds_start_the_whole_round_at_its_time(tmp_path):
    from optimizer.replay import direct
    from optimizer.replay.fidelity import fidelity_from
    from optimizer.replay.policies import parse_policy
    from optimizer.replay.simulation import Replay, Setup
    from optimizer.replay.traces import load_traces

    setup = Setup(hosts=6, duration_s=3000)
    traces = load_traces(day(tmp_path, rows=12), setup.samples)
    spec, fid = parse_policy("thr-mmt-0.8"), fidelity_from("cloudsim-3.0.3")
    rounds = direct.DirectRounds()
    replay = Replay(traces, spec, fid, setup, rounds=rounds)
    starts, proposed = [], []
    real_start, real_plan = replay.start_migration, direct.plan_round

    def start(v, h):
        starts.append(replay.now)
        return real_start(v, h)

    def plan(inp, policy):
        result = real_plan(inp, policy)
        proposed.append((replay.now, len(result.migrations)))
        return result

    replay.start_migration = start
    direct.plan_round = plan
    try:
        result = replay.run()
    finally:
        direct.plan_round = real_plan
    assert result.migrations == len(starts) == sum(n for _, n in proposed) > 0
    round_times = {t for t, n in proposed if n}
    assert set(starts) == round_times  # nothing waits for a parent or a free slot
    assert result.loop["execution"].startswith("direct")


def test_direct_rounds_refuse_what_only_the_applier_has(tmp_path):
    folder = str(day(tmp_path))
    for extra, needle in ((["--strategy", "dummy"], "--rounds direct runs a --policy"),
                          (["--journal", "sqlite"], "--journal: the applier's")):
        result = invoke("--traces", folder, "--hosts", "4", "--duration", "3000",
                        "--rounds", "direct", *extra)
        assert result.exit_code == 2, result.output
        assert needle in result.output and result.output.count("\n") == 1, result.output
