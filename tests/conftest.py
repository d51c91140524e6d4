"""Shared test fixtures: the repository on the import path, data files, shared tools.

At the end of the session the run fails if a test left a non-daemon thread
or a child process running (see :mod:`tests.leaks`).
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
#: the scenario tools and traces, beside the checkout (not in a plain clone)
SHARED = REPO.parent / "shared"
# tests import their helpers as ``tests.builders`` and ``tests.referee``
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.ci import missing  # noqa: E402
from tests.leaks import leftovers  # noqa: E402


@pytest.fixture
def data_dir() -> Path:
    """tests/data: small named scenario files."""
    return DATA


@pytest.fixture
def shared_dir() -> Path:
    """The read-only ``shared/`` folder beside the repository (skips, or fails in CI, without)."""
    for needed in (SHARED / "scenarios" / "generate.py", SHARED / "scenarios" / "evaluate.py"):
        if not needed.is_file():
            missing(f"{needed} not found: the scenario tools live in ../shared beside the "
                    f"checkout (see README, 'Tests')")
    return SHARED


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if anything is still running once every fixture is torn down."""
    if exitstatus == pytest.ExitCode.INTERRUPTED or session.config.option.collectonly:
        return
    found = leftovers()
    if not found:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = ["tests left these running after the session (stop them in the test or "
             "fixture that starts them):", *(f"  {item}" for item in found)]
    if reporter is not None:
        reporter.section("leftovers", sep="=", red=True, bold=True)
        for line in lines:
            reporter.write_line(line)
    else:
        print("\n".join(lines), file=sys.stderr)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
