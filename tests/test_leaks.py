"""The session-end check: a thread or child process left running fails the run."""
from __future__ import annotations

import os
import signal
import subprocess
import threading

from tests.leaks import child_processes, leftovers

pytest_plugins = ["pytester"]


def test_names_a_running_non_daemon_thread_and_child_then_nothing_once_stopped():
    release = threading.Event()
    thread = threading.Thread(target=release.wait, name="left-behind")
    thread.start()
    process = subprocess.Popen(["sleep", "30"])
    try:
        found = [str(item) for item in leftovers(grace_s=0.2)]
        assert any("'left-behind'" in item and "Event.wait" in item for item in found), found
        assert f"process {process.pid}: sleep 30" in found
    finally:
        release.set()
        thread.join()
        process.kill()
        process.wait()
    assert leftovers(grace_s=0.2) == []


def test_daemon_threads_and_reaped_children_are_not_leftovers():
    release = threading.Event()
    daemon = threading.Thread(target=release.wait, daemon=True)
    daemon.start()
    subprocess.run(["true"], check=True)
    try:
        assert leftovers(grace_s=0.2) == []
        assert child_processes() == []
    finally:
        release.set()
        daemon.join()


RELEASE = threading.Event()

INNER_CONFTEST = """
from tests.conftest import pytest_sessionfinish  # noqa: F401 (the hook under test)
"""

INNER_TESTS = """
import subprocess
import threading
import sys
from pathlib import Path

def test_leaves_a_thread_and_a_child():
    release = sys.modules[{module!r}].RELEASE
    threading.Thread(target=release.wait, name="inner-leak").start()
    child = subprocess.Popen(["sleep", "30"])
    Path({pid_file!r}).write_text(str(child.pid))
"""


def test_a_session_that_leaves_them_running_fails_and_names_them(pytester):
    pid_file = pytester.path / "child.pid"
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(INNER_TESTS.format(module=__name__, pid_file=str(pid_file)))
    RELEASE.clear()
    try:
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
    finally:
        RELEASE.set()
        if pid_file.exists():
            pid = int(pid_file.read_text())
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*leftovers*", "*thread 'inner-leak'*", "*process *sleep 30*"])
    result.assert_outcomes(passed=1)


SESSION_FIXTURE = """
import threading
import pytest

@pytest.fixture(scope="session")
def server():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="stopped-at-teardown")
    thread.start()
    yield
    stop.set()
    thread.join()

def test_uses_a_session_fixture(server):
    assert True
"""


def test_a_session_whose_fixtures_stop_what_they_start_passes(pytester):
    # the check runs after session fixtures are torn down, not before
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(SESSION_FIXTURE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
    assert result.ret == 0
    assert "leftovers" not in result.stdout.str()
