"""A plain clone has no ../shared: tests and benchmarks say where they looked, and CI fails."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def _shared_dir_globals(request) -> dict:
    (definition,) = request._fixturemanager.getfixturedefs("shared_dir", request.node)
    return definition.func.__globals__


def test_shared_dir_fails_under_ci_naming_the_path(request, monkeypatch, tmp_path):
    monkeypatch.setitem(_shared_dir_globals(request), "SHARED", tmp_path / "shared")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(BaseException) as stopped:  # a skip too, so that it fails here
        request.getfixturevalue("shared_dir")
    assert isinstance(stopped.value, pytest.fail.Exception), repr(stopped.value)
    assert f"{tmp_path}/shared/scenarios/generate.py not found" in str(stopped.value)


def test_shared_dir_skips_locally_naming_the_path(request, monkeypatch, tmp_path):
    monkeypatch.setitem(_shared_dir_globals(request), "SHARED", tmp_path / "shared")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=rf"{tmp_path}/shared/scenarios/generate.py"):
        request.getfixturevalue("shared_dir")


def _benchmark_harness(monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_harness", REPO / "benchmarks" /
                                                  "harness.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_harness", module)  # its dataclasses look it up
    spec.loader.exec_module(module)
    return module


def test_benchmarks_without_shared_skip_locally_and_fail_in_ci(monkeypatch, tmp_path, capsys):
    harness = _benchmark_harness(monkeypatch)
    absent = tmp_path / "shared" / "scenarios" / "generate.py"
    monkeypatch.setenv("CI", "true")
    with pytest.raises(SystemExit, match=rf"benchmark: error: {absent} not found"):
        harness.require_shared(absent)
    monkeypatch.setenv("CI", "")
    with pytest.raises(SystemExit) as stopped:
        harness.require_shared(absent)
    assert stopped.value.code == 0
    assert f"benchmark: skipped: {absent} not found" in capsys.readouterr().err
    harness.require_shared(Path(__file__))  # present: nothing happens
