"""``replay --from-cloud`` against a real Prometheus holding three hours of CPU history.

The history is written into Prometheus's storage with ``promtool tsdb
create-blocks-from openmetrics`` before it starts, so every sample, and every
hole, is known: instance A is flat, B rises linearly with a 50-minute gap, C
has no series at all. The cloud is a scenario file read by the scenario
collector. Without the prometheus and promtool binaries the tests are
skipped locally and fail under CI.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from optimizer.cli import cli
from optimizer.config import load_config
from optimizer.datasources.prometheus import PrometheusDatasource
from optimizer.replay.sources import cloud_datacentre
from tests.ci import missing

HARNESS = Path(__file__).resolve().parents[2] / "integration" / "openstack"
sys.path.insert(0, str(HARNESS))

from prometheus_server import HarnessError, PrometheusServer  # noqa: E402

A, B, C = (f"33333333-0000-0000-0000-00000000000{k}" for k in (1, 2, 3))
SPAN = 3 * 3600
HOLE = (100 * 60, 50 * 60)  # B has no sample from 100 to 50 minutes ago


def b_value(age_s: float) -> float:
    return 0.2 + 0.6 * (SPAN - age_s) / SPAN


def openmetrics(now: int) -> str:
    lines = ["# HELP replay_test_cpu CPU use of an instance.", "# TYPE replay_test_cpu gauge"]
    for t in range(now - SPAN, now - 29, 60):
        lines.append(f'replay_test_cpu{{uuid="{A}"}} 0.3 {t}')
    for t in range(now - SPAN, now - 29, 60):
        if not HOLE[1] < now - t <= HOLE[0]:
            lines.append(f'replay_test_cpu{{uuid="{B}"}} {b_value(now - t):.6f} {t}')
    return "\n".join([*lines, "# EOF"]) + "\n"


def scenario(path: Path) -> Path:
    hosts = [{"name": n, "vcpus": 4, "memory_mb": 8192, "disk_gb": 100} for n in ("h1", "h2")]
    instances = [{"uuid": u, "name": name, "host": h, "vcpus": 1, "memory_mb": 1024,
                  "disk_gb": 10, "cpu_util": util}
                 for u, name, h, util in ((A, "vm-a", "h1", 0.3), (B, "vm-b", "h2", 0.5),
                                          (C, "vm-c", "h2", 0.45))]
    path.write_text(json.dumps({"format": "cluster-scenario/1", "hosts": hosts,
                                "instances": instances}))
    return path


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    """(config file, scenario folder) with Prometheus serving the history."""
    promtool = shutil.which("promtool")
    if not promtool:
        missing("promtool not found on PATH (Debian's prometheus package has it)")
    work = tmp_path_factory.mktemp("replay-prometheus")
    (work / "history.om").write_text(openmetrics(int(time.time())))
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics",
                    str(work / "history.om"), str(work / "server" / "data")],
                   check=True, capture_output=True, timeout=60)
    try:
        server = PrometheusServer(work / "server", [])
    except HarnessError as exc:
        missing(str(exc))
    try:
        server.wait_ready()
        server.wait_for_series("replay_test_cpu", 2)
        conf = work / "optimizer.conf"
        conf.write_text(
            f"[collector]\nname = scenario\nscenario_file = {scenario(work / 'cloud.json')}\n"
            "[replay]\ndatasource = prometheus\n"
            f"[prometheus]\nurl = {server.url}\ninstance_cpu_util_query = replay_test_cpu\n"
            "instance_cpu_util_label = uuid\ntimeout_s = 20\n")
        yield conf, work
    finally:
        server.stop()


def test_history_from_one_range_query_holes_filled_and_no_history_held(cloud, monkeypatch):
    conf, _ = cloud
    sent = []
    request = PrometheusDatasource._request

    def counted(self, endpoint, params, result_type, promql):
        sent.append(endpoint)
        return request(self, endpoint, params, result_type, promql)

    monkeypatch.setattr(PrometheusDatasource, "_request", counted)
    now = time.time()
    dc, about = cloud_datacentre(load_config(str(conf)), 7200, 300, None, clock=lambda: now)
    assert sent == ["query_range"]
    assert about["datasource"] == "prometheus" and dc.series.shape == (3, 25)
    np.testing.assert_allclose(dc.series[0], 0.3)
    ages = about["history_end"] - np.arange(about["history_start"], about["history_end"] + 1,
                                            300) + (now - about["history_end"])
    # Prometheus answers the latest sample (60 s old at most, 5 min at the hole's start,
    # 0.017 of B's slope); interpolation spans the rest of the hole
    np.testing.assert_allclose(dc.series[1], [b_value(a) for a in ages], atol=0.02)
    np.testing.assert_allclose(dc.series[2], 0.45)  # held at its measured cpu_util
    report = about["missing_history"]
    assert (report["without_history"], report["without_history_first"]) == (1, ["vm-c"])
    assert (report["with_holes"], report["with_holes_first"]) == (1, ["vm-b"])
    assert 8 <= report["missing_samples"] <= 11  # 50 min less the 5 min look-back


def test_the_run_says_who_lacks_history_and_how_it_was_treated(cloud):
    conf, _ = cloud
    result = CliRunner().invoke(cli, ["--config-file", str(conf), "replay", "--no-progress",
                                      "--from-cloud", "--since", "2h", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["source"] == "cloud" and doc["vms"] == 3 and doc["hosts"] == 2
    assert doc["missing_history"]["without_history_first"] == ["vm-c"]
    assert "held at" in doc["missing_history"]["without_history_treatment"]
    table = CliRunner().invoke(cli, ["--config-file", str(conf), "replay", "--no-progress",
                                     "--from-cloud", "--since", "2h"])
    assert table.exit_code == 0, table.output
    assert "1 of 3 instances have no CPU history (vm-c): held at their measured cpu_util" \
        in table.output
    assert "1 have holes" in table.output and "filled by interpolation" in table.output


def test_a_failed_range_query_is_one_line_and_exit_2(cloud):
    conf, work = cloud
    broken = work / "broken.conf"
    broken.write_text(conf.read_text().replace("instance_cpu_util_query = replay_test_cpu",
                                               "instance_cpu_util_query = rate(replay_test_cpu"))
    result = CliRunner().invoke(cli, ["--config-file", str(broken), "replay", "--no-progress",
                                      "--from-cloud", "--since", "1h"])
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("optimizer: error: prometheus at ")
    assert "bad_data" in lines[0] and "rate(replay_test_cpu" in lines[0]
