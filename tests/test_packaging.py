"""The installed distribution puts everything under the ``optimizer`` namespace."""
from __future__ import annotations

import importlib.metadata
import subprocess
import sys


def test_only_optimizer_is_a_top_level_package(tmp_path):
    # run from an empty folder so the repository itself is not on sys.path
    probe = ("import importlib.util as u; "
             "print(u.find_spec('models'), u.find_spec('strategies'), "
             "u.find_spec('optimizer.models') is not None, "
             "u.find_spec('optimizer.strategies') is not None)")
    out = subprocess.run([sys.executable, "-I", "-c", probe], cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["None", "None", "True", "True"]


def test_every_plugin_entry_point_lives_under_optimizer():
    groups = ("optimizer.strategies", "optimizer.collectors", "optimizer.datasources",
              "optimizer.actions", "optimizer.actuators")
    ours = [ep for group in groups for ep in importlib.metadata.entry_points(group=group)
            if ep.dist is not None and ep.dist.name == "optimizer"]
    assert ours, "no entry points found: is the package installed?"
    assert [ep.value for ep in ours if not ep.value.startswith("optimizer.")] == []
