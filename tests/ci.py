"""Is this CI? Then a missing prerequisite fails the test; locally it skips it."""
from __future__ import annotations

import os

import pytest


def running_in_ci() -> bool:
    """True when ``CI`` is set to anything but empty, 0, false or no (as CI services do)."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def missing(reason: str) -> None:
    """Skip the test for ``reason`` locally; under CI, where it must run, fail it."""
    if running_in_ci():
        pytest.fail(f"{reason} (CI is set, so this is a failure)", pytrace=False)
    pytest.skip(reason)
