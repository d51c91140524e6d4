"""Every command the README's Usage section shows runs as printed, for a new user.

The commands run in a fresh home (default configuration and database) and
folder, in the README's order; only the placeholders PLAN_UUID and
ACTION_UUID are replaced by what the earlier commands made, and ``serve``,
which runs until stopped, is left out. ``../shared`` beside the folder is the
shared material beside the checkout, as the README's replay examples expect.
"""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from optimizer.cli import cli
from tests.ci import missing

REPO = Path(__file__).resolve().parents[3]
README = (REPO / "README.md").read_text()


def _usage_commands() -> list[str]:
    usage = re.search(r"^## Usage\n(.*?)(?=^## )", README, re.S | re.M).group(1)
    blocks = re.findall(r"^```sh\n(.*?)^```", usage, re.S | re.M)
    lines = "\n".join(blocks).replace("\\\n", " ").splitlines()
    commands = []
    for line in lines:
        commands += [part.strip() for part in line.split("&&") if part.strip()]
    return commands


class _User:
    """Runs README commands in order, remembering the plan and action they name."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.plan: str | None = None

    def run(self, command: str) -> None:
        words = shlex.split(command, comments=True)
        if words[0] == "echo":  # echo '...' > FILE
            (self.folder / words[3]).write_text(words[1] + "\n")
            return
        assert words[0] == "optimizer", command
        if words[1:3] == ["actionplan", "start"] and not self._startable():
            self.plan = self._new_plan()  # a plan runs once; the README says so
        words = [self._fill(w) for w in words[1:]]
        result = CliRunner().invoke(cli, words)
        assert result.exit_code == 0, (command, result.output, result.exception)
        if words[:2] == ["audit", "create"] and "--type" not in words:
            self.plan = self._latest_plan()

    def _fill(self, word: str) -> str:
        if word == "PLAN_UUID":
            return self.plan or self._new_plan()
        if word == "ACTION_UUID":
            return self._json("action", "list", "--plan", self.plan)[-1]["uuid"]
        return word

    def _json(self, *args: str):
        result = CliRunner().invoke(cli, [*args, "--format", "json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def _latest_plan(self) -> str:
        plans = self._json("actionplan", "list", "--sort", "created_at:desc", "--limit", "1")
        return plans[0]["uuid"]

    def _new_plan(self) -> str:
        created = self._json("audit", "create", "--goal", "server_consolidation",
                             "--strategy", "vm_workload_consolidation")
        return created["action_plan_uuid"]

    def _startable(self) -> bool:
        return self.plan is not None and self._json(
            "actionplan", "show", self.plan)["state"] == "RECOMMENDED"


def test_every_usage_command_runs_as_printed(private_home, monkeypatch):
    folder = private_home / "work"
    folder.mkdir()
    shared = REPO.parent / "shared"
    if not (shared / "data" / "planetlab").is_dir():
        missing(f"no {shared / 'data' / 'planetlab'} beside the repository")
    (private_home / "shared").symlink_to(shared)
    monkeypatch.chdir(folder)
    commands = [c for c in _usage_commands() if not c.startswith("optimizer serve")]
    assert len(commands) > 15 and any("nightly-auto" in c for c in commands)
    user = _User(folder)
    for command in commands:
        user.run(command)
    assert (folder / "plan.json").is_file() and (folder / "cluster.json").is_file()
