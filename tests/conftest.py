"""Shared test fixtures: the repository on the import path, data files, shared tools."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
# tests import their helpers as ``tests.builders`` and ``tests.referee``
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@pytest.fixture
def data_dir() -> Path:
    """tests/data: small named scenario files."""
    return DATA


@pytest.fixture
def shared_dir() -> Path:
    """The read-only ``shared/`` folder that sits beside the repository."""
    shared = REPO.parent / "shared"
    if not (shared / "scenarios").is_dir():
        pytest.skip(f"no shared/scenarios beside the repository at {REPO.parent}")
    return shared
