"""``--policy recommended``: the strategy and parameters it names, and a day it wins."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from optimizer.strategies.parameters import parse_assignments
from optimizer.strategies.power_aware_consolidation import (
    ConsolidationPolicy,
    consolidation_policy,
    strategy,
)

from optimizer.cli import cli
from optimizer.replay.policies import (
    RECOMMENDED,
    RECOMMENDED_STRATEGY,
    parse_policy,
    recommended_arguments,
)

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()


def test_recommended_is_the_strategy_and_parameters_the_readme_names():
    spec = parse_policy("Recommended")
    assert spec.name == "recommended" and spec.migrates
    # what the replay builds from the spec is what the plugin builds from its parameters
    replayed = ConsolidationPolicy(detector=spec.detector, safety=spec.safety,
                                   selection=spec.selection, **dict(spec.options))
    assert replayed == consolidation_policy(strategy.validate(RECOMMENDED))
    assert replayed.charge_switch_on and replayed.underload_below < 1
    # the README's audit command carries the same parameters
    assert strategy.name == RECOMMENDED_STRATEGY
    readme = " ".join(README.replace("\\\n", " ").split())
    assert f"--strategy {RECOMMENDED_STRATEGY} {recommended_arguments()}" in readme
    pairs = recommended_arguments().replace("-p ", "").split()
    assert strategy.validate(parse_assignments(pairs)) == strategy.validate(RECOMMENDED)


def _replay(folder, policy):
    result = CliRunner().invoke(cli, ["replay", "--no-progress", "--traces", str(folder),
                                      "--policy", policy, "--hosts", "3", "--duration", "7200",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_recommended_beats_lr_mmt_when_a_packed_vm_grows(tmp_path):
    """Four VMs (2500, 2000, 1000, 500 MIPS) on a G4, a G5 and a G4; vm 0 goes from 30 % to
    70 % at the 13th sample. LR-MMT-1.2 packs all four on the small G4 (its rise above idle is
    the cheapest), so the jump overloads it: two VMs leave, waking both other hosts, and one
    comes back. Charged the idle power of a host it wakes, the recommended policy packs them
    on the G5, which takes the jump: fewer migrations, one host on instead of two."""
    folder = tmp_path / "day"
    folder.mkdir()
    levels = ([30] * 12 + [70] * 13, [70] * 25, [30] * 25, [10] * 25)
    for i, samples in enumerate(levels):
        (folder / f"vm {i}").write_text("\n".join(map(str, samples)) + "\n")
    lr, rec = _replay(folder, "lr-mmt-1.2"), _replay(folder, "recommended")
    assert rec["policy"] == "recommended"
    assert rec["migrations"] < lr["migrations"]
    assert rec["energy_kwh"] < lr["energy_kwh"]
    assert rec["esv"] <= 0.5 * lr["esv"]
    assert max(rec["timeline"]["active_hosts"][12:]) == 1 < max(lr["timeline"]["active_hosts"][12:])
