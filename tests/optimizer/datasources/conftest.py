"""A real Prometheus scraping the test exporter, shared by the datasource tests.

Without the prometheus binary the tests are skipped locally and fail under
CI (``CI`` set), where they must run.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "integration" / "openstack"
sys.path.insert(0, str(HARNESS))

from exporter import Exporter, Load  # noqa: E402
from prometheus_server import HarnessError, PrometheusServer  # noqa: E402


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


INSTANCES = {
    "11111111-0000-0000-0000-000000000001": Load(cpu=0.25, memory=0.5, vcpus=2),
    "11111111-0000-0000-0000-000000000002": Load(cpu=0.5, memory=0.25, vcpus=1),
    "11111111-0000-0000-0000-000000000003": Load(cpu=0.8, memory=0.9, vcpus=4),
}
HOSTS = {"compute-a": Load(cpu=0.3, memory=0.6, vcpus=2, memory_mb=4096),
         "compute-b": Load(cpu=0.7, memory=0.2, vcpus=2, memory_mb=4096)}


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    """(url, exporter) once both instances and hosts have a rate to read.

    Module scope: this folder is no package, so "package" would keep
    Prometheus scraping the exporter to the end of the session.
    """
    exporter = Exporter()
    for uuid, load in INSTANCES.items():
        exporter.set_instance(uuid, load)
    for name, load in HOSTS.items():
        exporter.set_host(name, load)
    try:
        server = PrometheusServer(tmp_path_factory.mktemp("prometheus"),
                                  [f"127.0.0.1:{exporter.port}"])
    except HarnessError as exc:
        exporter.close()
        if running_in_ci():
            pytest.fail(f"{exc} (CI is set, so this is a failure)", pytrace=False)
        pytest.skip(str(exc))
    try:
        server.wait_ready()
        # rate() over 5 s needs 5 s of samples under every step of a 5 s window.
        server.wait_for_series("count_over_time(libvirt_domain_info_virtual_cpus[12s]) >= 11",
                               len(INSTANCES))
        yield server.url, exporter
    finally:
        server.stop()
        exporter.close()
