"""The harness itself: it ends with its folder, stays quiet, installs nothing, locks its venv."""
from __future__ import annotations

import fcntl
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from exporter import Exporter, Load
from nova_venv import VenvError, build, lock_file, locked, require, wanted_stamp
from prometheus_server import HarnessError, find_prometheus

from tests.ci import missing

HERE = Path(__file__).resolve().parent


def _this_conftest(request):
    (module,) = [plugin for plugin in request.config.pluginmanager.get_plugins()
                 if getattr(plugin, "__file__", None) == str(HERE / "conftest.py")]
    return module


def test_the_harness_stops_after_the_folders_last_test(request, monkeypatch):
    # Not at the session's end: Prometheus would scrape the exporter (and the
    # cloud run) under every later test.
    conftest = _this_conftest(request)
    mine = [item for item in request.session.items if HERE in item.path.parents]
    assert [mine[-1].nodeid] == conftest.LAST
    closed = []
    monkeypatch.setattr(conftest, "CLOSERS", [])  # not the running cloud's
    conftest.CLOSERS.extend([lambda: closed.append("first"), lambda: closed.append("second")])
    conftest.close_all()
    conftest.close_all()
    assert closed == ["second", "first"]


def _handler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if "process_request" in t.name]


def test_a_scraper_hanging_up_leaves_no_traceback_on_stderr(capsys):
    exporter = Exporter()
    for n in range(20000):  # a few MB of metrics: the write outlasts the client
        exporter.set_instance(f"00000000-0000-0000-0000-{n:012d}", Load(cpu=0.1, memory=0.1))
    try:
        client = socket.create_connection(("127.0.0.1", exporter.port))
        client.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        client.recv(1)  # the server has started to answer
        # hang up with a reset, as a scraper giving up does
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()
        deadline = time.monotonic() + 10
        while _handler_threads() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        exporter.close()
    assert capsys.readouterr().err == ""
    assert exporter.server.errors == []
    assert _handler_threads() == []


def test_a_missing_prometheus_is_reported_never_installed(tmp_path, monkeypatch):
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "apt-get").symlink_to("/bin/false")  # as on a Debian box without prometheus
    monkeypatch.setenv("PATH", str(tools))
    monkeypatch.delenv("OPTIMIZER_TEST_PROMETHEUS", raising=False)

    def no_install(*args, **kwargs):
        raise AssertionError(f"a test ran {args[0]}: installing is .ci/run's job")

    monkeypatch.setattr(subprocess, "run", no_install)
    with pytest.raises(HarnessError, match=r"prometheus binary not found .*\.ci/run installs"):
        find_prometheus()


def test_missing_prerequisites_skip_locally_and_fail_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no thing .CI is set"):
        missing("no thing")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="no thing"):
        missing("no thing")


def fake_venv(path: Path, pins: str) -> Path:
    """A venv stand-in whose ``pip freeze`` prints ``pins`` and whose python is ours."""
    (path / "bin").mkdir(parents=True)
    python = path / "bin" / "python"
    python.write_text(f'#!/bin/sh\nif [ "$1 $2 $3" = "-m pip freeze" ]; then printf "{pins}"; '
                      f'exit 0; fi\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    return path


def test_a_missing_or_stale_venv_is_refused_with_how_to_build_it(tmp_path, monkeypatch):
    venv = tmp_path / "nova-venv"
    monkeypatch.setenv("OPTIMIZER_NOVA_VENV", str(venv))
    with pytest.raises(VenvError, match=r"no Nova venv at .*nova-venv: build it with "
                                        r"'python3 tests/integration/openstack/nova_venv.py'"):
        require()
    fake_venv(venv, "")
    (venv / ".optimizer-ready").write_text("ok\n")  # made before the constraints existed
    with pytest.raises(VenvError, match="not built from constraints.txt as it is now"):
        require()
    (venv / ".optimizer-ready").write_text(wanted_stamp(python=str(venv / "bin" / "python")))
    assert require() == venv / "bin" / "python"


def test_the_stamp_follows_the_constraints(tmp_path):
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("nova==34.0.0\n")
    before = wanted_stamp(constraints)
    constraints.write_text("nova==35.0.0\n")
    assert wanted_stamp(constraints) != before


def test_a_venv_holding_exactly_the_pins_is_stamped_not_rebuilt(tmp_path):
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("# pins\nNova==34.0.0\noslo.db==18.1.1\n")
    venv = fake_venv(tmp_path / "venv", "nova==34.0.0\\noslo_db==18.1.1\\n")
    (venv / "kept").write_text("still here")
    build(venv, constraints, log=lambda message: None)
    assert (venv / "kept").exists()
    assert (venv / ".optimizer-ready").read_text() == wanted_stamp(constraints)


def test_a_build_waits_while_a_harness_uses_the_venv(tmp_path):
    venv = tmp_path / "venv"

    def can_build_now() -> bool:
        with open(lock_file(venv), "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(handle, fcntl.LOCK_UN)
            return True

    with locked(venv, exclusive=False):
        assert not can_build_now()
        with locked(venv, exclusive=False):  # two harnesses share it
            pass
    assert can_build_now()
    assert os.path.exists(lock_file(venv))
