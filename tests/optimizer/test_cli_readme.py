"""The README stays true: its Quick start is what CI runs, its plugin example loads."""
from __future__ import annotations

import re
from pathlib import Path

from optimizer.models.simulated import SimulationSpec, simulate_cluster
from optimizer.strategies.base import Strategy

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def _code_blocks(text: str, language: str) -> list[str]:
    return [b.strip() for b in re.findall(rf"^```{language}\n(.*?)^```", text, re.S | re.M)]


def test_quick_start_is_two_commands_that_ci_runs():
    commands = _code_blocks(_section("Quick start"), "sh")
    assert len(commands) == 2 and all("\n" not in c for c in commands)
    install, test = commands
    assert install.endswith("optimizer demo")
    ci_script = (ROOT / ".ci" / "run").read_text()
    assert install in ci_script
    assert test in ci_script


def test_plugin_example_is_a_valid_strategy():
    (example,) = _code_blocks(_section("Writing a strategy plugin"), "python")
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    strategy = namespace["strategy"]
    assert isinstance(strategy, Strategy)
    assert set(strategy.sections()) >= {"Optimizes", "Metrics", "Parameters", "Limits"}
    solution = strategy.run(simulate_cluster(SimulationSpec(hosts=3)), {"max_load": "0.5"})
    assert solution.strategy == "spread_out"
