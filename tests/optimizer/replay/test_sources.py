"""Replays of a scenario file and of the configured (simulated) cloud, and their bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from optimizer.models.errors import UserError
from optimizer.models.scenario import load_scenario

from optimizer.cli import cli
from optimizer.config import load_config
from optimizer.replay.datacentre import DEFAULT_POWER, host_power_models
from optimizer.replay.fidelity import Fidelity
from optimizer.replay.policies import parse_policy
from optimizer.replay.power import PowerTable
from optimizer.replay.simulation import Replay, Setup
from optimizer.replay.sources import (
    cloud_datacentre,
    fill_history,
    parse_since,
    scenario_datacentre,
)

WATTS = ",".join(str(100 + 10 * k) for k in range(11))  # 100 W idle ... 200 W at 100 %


def host(name, vcpus=4, memory_mb=8192, **extra):
    return {"name": name, "vcpus": vcpus, "memory_mb": memory_mb, "disk_gb": 100,
            "cpu_allocation_ratio": 1.0, **extra}


def instance(uuid, on, series, vcpus=1, memory_mb=1024, **extra):
    entry = {"uuid": uuid, "name": f"vm-{uuid}", "host": on, "vcpus": vcpus,
             "memory_mb": memory_mb, "disk_gb": 10, **extra}
    if series is not None:
        entry["cpu_util_series"] = series
    return entry


def scenario(tmp_path, hosts, instances, groups=(), step=300, name="s.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"format": "cluster-scenario/1", "name": "t",
                                "metrics_step_s": step, "hosts": hosts,
                                "instances": instances, "server_groups": list(groups)}))
    return path


def invoke(*args, config=None):
    pre = ["--config-file", str(config)] if config else []
    return CliRunner().invoke(cli, [*pre, "replay", "--no-progress", *args])


def replay(path, policy="dvfs", duration=None, tables=None):
    dc, duration = scenario_datacentre(path, duration, tables)
    run = Replay(None, parse_policy(policy), Fidelity(vm_removal="never"),
                 Setup(hosts=dc.hosts, duration_s=duration), datacentre=dc)
    return run, run.run()


# ----- scenario files ---------------------------------------------------------------


def test_scenario_placement_is_the_start_and_energy_follows_the_series(tmp_path):
    # two 4-core hosts; one 2-vCPU instance at 50 % then 100 % on the second host
    path = scenario(tmp_path, [host("a"), host("b")],
                    [instance("x", "b", [0.5, 0.5, 1.0, 1.0], vcpus=2)])
    table = PowerTable("box", tuple(100.0 + 10 * k for k in range(11)))
    run, result = replay(path, tables=(PowerTable("default", table.watts),))
    assert run.host.tolist() == [1]          # no initial placement: it stays on b
    assert run.h_cap.tolist() == [4000, 4000]  # physical cores x 1000 MIPS
    # rounds at 300.1, 600.1, 900.1 (duration = 4 samples x 300 s); the series rises
    # linearly from 0.5 to 1.0 between 300 and 600 s; host a stays empty (off, 0 W)
    assert result.timeline["time_s"] == [300.1, 600.1, 900.1]
    assert result.timeline["active_hosts"] == [1, 1, 1]
    u = [(0.5 + 0.5 * 0.1 / 300) * 2 / 4, 0.5, 0.5]
    watts = [100 + 100 * x for x in u]
    expected = ((watts[0] + watts[1]) / 2 * 300 + (watts[1] + watts[2]) / 2 * 300) / 3.6e6
    assert result.energy_kwh == pytest.approx(expected, rel=1e-9)


def test_series_step_is_the_scenarios_metrics_step(tmp_path):
    path = scenario(tmp_path, [host("a")], [instance("x", "a", [0.2] * 6)], step=60)
    run, result = replay(path)
    assert result.timeline["time_s"][-1] == pytest.approx(300.1)  # 6 x 60 s = 360 s
    assert len(result.timeline["time_s"]) == 1


def test_migrations_keep_to_enabled_hosts_room_and_groups(tmp_path):
    # every host lightly used: the underload phase would empty hosts into others
    hosts = [host("h1"), host("h2"), host("h3", status="disabled"), host("h4", memory_mb=2048)]
    series = [0.2] * 24
    instances = [instance("a1", "h1", series, server_group="apart"),
                 instance("a2", "h2", series, server_group="apart"),
                 instance("b1", "h1", series), instance("c1", "h4", series),
                 instance("c2", "h4", series),
                 instance("s1", "h3", series), instance("off", "h2", None, state="shutoff")]
    path = scenario(tmp_path, hosts, instances,
                    groups=[{"name": "apart", "policy": "anti-affinity"}])
    run, result = replay(path, policy="thr-mmt-0.8")
    assert result.migrations > 0
    final = dict(zip(run.datacentre.vm_names, (run.datacentre.host_names[h] for h in run.host),
                     strict=True))
    def on(name):
        return {v for v, h in final.items() if h == name}

    assert on("h3") <= {"vm-s1"}                # disabled: s1 may leave, nothing arrives
    assert on("h4") <= {"vm-c1", "vm-c2"}       # its 2048 MB are full with their flavors
    assert final["vm-a1"] != final["vm-a2"]     # anti-affinity kept
    assert final["vm-off"] == "h2"              # a shut-off instance is not live-migrated
    # h2 keeps a shut-off instance, so it is not emptied but receives: b1 is the one
    # instance of h1 that may go there (a1 may not: anti-affinity with a2)
    assert final["vm-b1"] == "h2" and final["vm-a1"] == "h1"


def test_power_tables_by_aggregate_else_default_else_an_error(tmp_path):
    path = scenario(tmp_path, [host("a", aggregates=["gen2", "ssd"]), host("b"),
                               host("c", aggregates=["gen1"])],
                    [instance("x", "a", [0.1])])
    snapshot = load_scenario(path)
    gen1, gen2 = PowerTable("gen1", (1,) * 11), PowerTable("gen2", (2,) * 11)
    fallback = PowerTable("default", (3,) * 11)
    models, chosen = host_power_models(snapshot, (gen1, gen2, fallback), "t.csv")
    assert [models[k].name for k in chosen] == ["gen2", "default", "gen1"]
    models, chosen = host_power_models(snapshot, None, "t.csv")
    assert models == (DEFAULT_POWER,) and chosen.tolist() == [0, 0, 0]
    with pytest.raises(UserError) as err:
        host_power_models(snapshot, (gen1, gen2), "t.csv")
    assert str(err.value).startswith("t.csv: host 'b' (aggregates: none) has no power table")


def test_scenario_through_the_cli_reports_its_power_models(tmp_path):
    path = scenario(tmp_path, [host("a", aggregates=["gen2"]), host("b")],
                    [instance("x", "a", [0.3] * 12), instance("y", "b", [0.6] * 12)])
    tables = tmp_path / "p.csv"
    tables.write_text(f"gen2,2,1000,{WATTS}\ndefault,2,1000,{WATTS}\n")
    result = invoke("--scenario", str(path), "--power-tables", str(tables), "--policy",
                    "thr-mmt-0.8", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["source"], doc["hosts"], doc["vms"]) == ("scenario", 2, 2)
    assert doc["power_models"] == {"default": 1, "gen2": 1}
    assert doc["fidelity_switches"]["vm_removal"] == "never"
    assert len(doc["timeline"]["time_s"]) == 11
    table = invoke("--scenario", str(path), "--policy", "dvfs")
    assert table.exit_code == 0 and "power: HP ProLiant ML110 G5" in table.output


def test_simulate_then_replay(tmp_path):
    out = tmp_path / "c.json"
    made = CliRunner().invoke(cli, ["simulate", "--hosts", "6", "--series-length", "24",
                                    "-o", str(out)])
    assert made.exit_code == 0, made.output
    result = invoke("--scenario", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["hosts"] == 6 and doc["vms"] == len(load_scenario(out).inst_uuids)
    assert doc["energy_kwh"] > 0
    # an audit's strategy decides the rounds: it sees the scenario's host memory, so it moves
    audit = invoke("--scenario", str(out), "--strategy", "power_aware_consolidation",
                   "-p", "detector=thr", "-p", "safety=0.8", "--format", "json")
    assert audit.exit_code == 0, audit.output
    assert json.loads(audit.stdout)["migrations"] > 0


# ----- the configured cloud -----------------------------------------------------


def simulated_config(tmp_path, extra="", name="optimizer.conf"):
    conf = tmp_path / name
    conf.write_text(f"[simulated]\nhosts = 6\nstate_file = {tmp_path / 'cloud.db'}\n{extra}")
    return conf


def test_since_units():
    assert [parse_since(t) for t in ("7d", "12h", "30m", "90s", "2w", "1.5h")] == \
        [604800, 43200, 1800, 90, 1209600, 5400]
    for bad in ("", "7", "d", "7y", "-1h", "0s"):
        with pytest.raises(UserError, match="--since"):
            parse_since(bad)


def test_fill_history_interpolates_holes_and_holds_instances_without_any():
    nan = np.nan
    values = np.array([[0.2, nan, 0.4, nan], [nan, nan, nan, nan], [0.5, 0.5, 0.5, 0.5]])
    series, empty, holed = fill_history(values, np.array([0.1, 0.7, 0.3]))
    np.testing.assert_allclose(series, [[0.2, 0.3, 0.4, 0.4], [0.7] * 4, [0.5] * 4])
    assert empty.tolist() == [False, True, False] and holed.tolist() == [True, False, False]


def test_simulated_cloud_replays_with_a_seeded_history(tmp_path):
    settings = load_config(str(simulated_config(tmp_path)))
    clock = lambda: 1_800_000_000.0  # noqa: E731
    dc, about = cloud_datacentre(settings, 7200, 300, None, clock=clock)
    again, _ = cloud_datacentre(settings, 7200, 300, None, clock=clock)
    assert dc.series.shape == (dc.vms, 25)  # 2 h every 300 s, both ends
    np.testing.assert_array_equal(dc.series, again.series)
    assert about["missing_history"]["without_history"] == 0
    assert (about["collector"], about["datasource"]) == ("simulated", "simulated")
    assert np.ptp(dc.series, axis=1).max() > 0.01  # it moves
    assert settings.replay_datasource == "simulated"  # the default


def test_from_cloud_through_the_cli(tmp_path):
    conf = simulated_config(tmp_path)
    result = invoke("--from-cloud", "--since", "2h", "--format", "json", config=conf)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["source"] == "cloud" and doc["since_s"] == 7200 and doc["hosts"] == 6
    assert doc["missing_history"]["without_history"] == 0
    assert len(doc["timeline"]["time_s"]) == 23  # 7200 s, rounds at 300.1 ... 6900.1
    table = invoke("--from-cloud", "--since", "30m", config=conf)
    assert table.exit_code == 0, table.output
    assert "CPU history: all" in table.output


# ----- bad input: one line, exit 2 ------------------------------------------------


def test_bad_input_is_one_line_naming_what_is_wrong(tmp_path):
    good = scenario(tmp_path, [host("a")], [instance("x", "a", [0.2] * 4),
                                            instance("y", "a", [0.2] * 3)], name="ragged.json")
    bare = scenario(tmp_path, [host("a")], [instance("x", "a", [0.2] * 4),
                                            instance("y", "a", None)], name="bare.json")
    folder = tmp_path / "day"
    folder.mkdir()
    (folder / "vm").write_text("1\n" * 300)
    conf = simulated_config(tmp_path, "[replay]\ndatasource = nosuch\n", name="bad.conf")
    (tmp_path / "empty").mkdir()
    short = tmp_path / "short"
    short.mkdir()
    (short / "vm 1").write_text("5\n" * 9)
    cases = [
        (["--traces", str(tmp_path / "empty")], f"traces folder {tmp_path / 'empty'}: holds no"),
        (["--traces", str(short), "--duration", "3000"],
         f"{short / 'vm 1'}: line 10: missing; the series has 9 samples and the replay needs 10"),
        ([], "give exactly one of --traces DIR, --scenario FILE or --from-cloud (got none"),
        (["--traces", str(folder), "--scenario", str(good)],
         "(got --traces and --scenario)"),
        (["--scenario", str(good), "--from-cloud"], "(got --scenario and --from-cloud)"),
        (["--scenario", str(bare)], f"scenario {bare}: instance 'vm-y' has no cpu_util_series"),
        (["--scenario", str(good)], f"scenario {good}: instance 'vm-y': cpu_util_series has "
                                    "3 samples; a replay of 1200 s at 300 s steps needs 4"),
        (["--scenario", str(good), "--duration", "3600"], "instance 'vm-x'"),
        (["--scenario", str(tmp_path / "none.json")], "cannot read scenario"),
        (["--scenario", str(good), "--hosts", "5"], "--hosts applies to --traces only"),
        (["--scenario", str(good), "--since", "2h"], "--since applies to --from-cloud only"),
        (["--scenario", str(good), "--policy", "best"], "policy 'best'"),
        (["--scenario", str(good), "--duration", "600", "--vm-removal", "x"], "'x'"),
        (["--from-cloud", "--since", "soon"], "--since 'soon'"),
        (["--from-cloud", "--duration", "9000", "--since", "2h"], "longer than --since 2h"),
    ]
    for args, needle in cases:
        result = invoke(*args, config=simulated_config(tmp_path))
        assert result.exit_code == 2, (args, result.output)
        assert result.output.startswith("optimizer: error: "), (args, result.output)
        assert result.output.count("\n") == 1, (args, result.output)
        assert needle in result.output, (args, result.output)
    result = invoke("--from-cloud", config=conf)
    assert result.exit_code == 2 and "[replay] datasource 'nosuch' is not installed" in \
        result.output and result.output.count("\n") == 1
    down = simulated_config(tmp_path, "[replay]\ndatasource = prometheus\n[prometheus]\n"
                            "url = http://127.0.0.1:9\ntimeout_s = 2\n", name="down.conf")
    result = invoke("--from-cloud", "--since", "1h", config=down)
    lines = result.output.splitlines()
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert lines[0].startswith("optimizer: error: prometheus at http://127.0.0.1:9 unreachable")
