"""Fixtures for the real-OpenStack tests: Nova + Placement, Prometheus, the exporter.

These tests are marked ``openstack``. When the harness cannot start (no
PostgreSQL, RabbitMQ, prometheus, or no Nova venv: ``.ci/run`` installs
prometheus and builds the venv) they are skipped locally and FAIL under CI
(``CI`` set), where they must run.

The cloud, Prometheus and the exporter are stopped right after this
folder's last test. (This folder is no package, so pytest would keep
``scope="package"`` fixtures to the end of the session, with Prometheus
scraping the exporter under every later test; an ``__init__.py`` is no way
out: the folder would import as a package named ``openstack`` and hide
openstacksdk.)
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from exporter import Exporter  # noqa: E402
from prometheus_server import HarnessError, PrometheusServer  # noqa: E402

from tests.ci import missing  # noqa: E402


def harness_failed(reason: str):
    """Skip locally, fail under CI (see :func:`tests.ci.missing`)."""
    missing(reason)


HERE = Path(__file__).resolve().parent
#: stop() / close() of what the session fixtures started, run once after LAST
CLOSERS: list = []
#: node id of this folder's last test in the run's order
LAST: list[str] = []


def pytest_collection_modifyitems(items):
    mine = [item for item in items if HERE in Path(str(item.fspath)).resolve().parents]
    for item in mine:
        item.add_marker(pytest.mark.openstack)
    LAST[:] = [mine[-1].nodeid] if mine else []


def close_all() -> None:
    """Run every registered closer, newest first, once."""
    while CLOSERS:
        CLOSERS.pop()()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    if LAST and item.nodeid == LAST[0]:
        close_all()
    return result


@pytest.fixture(scope="session")
def nova(tmp_path_factory):
    """A running Nova + Placement with three fake computes."""
    try:
        import openstack  # noqa: F401
    except ImportError:
        harness_failed("openstacksdk is not installed (pip install -e '.[openstack]')")
    from nova_cloud import NovaCloud

    cloud = NovaCloud(tmp_path_factory.mktemp("nova"), computes=3)
    try:
        cloud.start()
    except Exception as exc:  # any start failure: report it in one line
        cloud.stop()
        harness_failed(f"Nova harness did not start: {exc}".splitlines()[0])
    CLOSERS.append(cloud.stop)
    yield cloud
    close_all()


@pytest.fixture(autouse=True)
def enabled_computes(request):
    """Every test starts with all compute services enabled (plans disable emptied hosts)."""
    if "nova" in request.fixturenames:
        request.getfixturevalue("nova").enable_all()


@pytest.fixture(scope="session")
def metrics(tmp_path_factory):
    """(Prometheus URL, exporter): Prometheus scrapes the exporter every second."""
    exporter = Exporter()
    server = None
    try:
        server = PrometheusServer(tmp_path_factory.mktemp("prometheus"),
                                  [f"127.0.0.1:{exporter.port}"])
        server.wait_ready()
    except HarnessError as exc:
        if server is not None:
            server.stop()
        exporter.close()
        harness_failed(str(exc))
    CLOSERS.extend([exporter.close, server.stop])
    yield server, exporter
    close_all()


def pytest_configure(config):
    config.addinivalue_line("markers", "openstack: needs a real Nova + Placement + Prometheus "
                                       "(started by tests/integration/openstack)")
