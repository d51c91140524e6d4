"""Traces, power tables, policy names and fidelity switches: parsing and bad input."""
from __future__ import annotations

import numpy as np
import pytest
from optimizer.models.errors import UserError

from optimizer.replay.fidelity import PRESETS, Fidelity, fidelity_from
from optimizer.replay.policies import parse_policy
from optimizer.replay.power import HP_ML110_G4, HP_ML110_G5, check_monotone, load_power_tables
from optimizer.replay.traces import list_trace_files, load_traces


def write(folder, files: dict[str, str]):
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_traces_are_read_in_byte_order_of_names(tmp_path):
    folder = write(tmp_path / "day", {"b": "2\n2\n", "a b": "3\n3\n", "B": "4\n4\n",
                                      "a_b": "5\n5\n", ".hidden": "x\n"})
    assert list_trace_files(folder) == ["B", "a b", "a_b", "b"]
    traces = load_traces(folder, 2)
    assert traces.names == ("B", "a b", "a_b", "b")
    assert traces.percent[:, 0].tolist() == [4, 3, 5, 2]


def test_repeat_copies_every_trace(tmp_path):
    folder = write(tmp_path / "day", {"a": "1\n2\n", "b": "3\n4\n"})
    traces = load_traces(folder, 2, repeat=3)
    assert traces.percent.shape == (6, 2)
    assert traces.names[2] == "a#1"


@pytest.mark.parametrize("files, needle", [
    ({"vm1": "10\n12\nabc\n"}, "vm1: line 3: 'abc' is not a CPU percentage"),
    ({"vm1": "10\n\n"}, "vm1: line 2: '' is not a CPU percentage"),
    ({"vm1": "10\n-4\n9\n"}, "vm1: line 2: -4 is outside 0..100 %"),
    ({"vm1": "10\n11\n12\n", "vm2": "10\n11\n"}, "vm2: line 3: missing; the series has 2"),
])
def test_bad_traces_name_file_line_and_value(tmp_path, files, needle):
    folder = write(tmp_path / "day", files)
    with pytest.raises(UserError) as err:
        load_traces(folder, 3)
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_or_empty_traces_folder(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_traces(tmp_path / "nowhere", 3)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="holds no trace files"):
        load_traces(tmp_path / "empty", 3)


def test_builtin_tables_interpolate_linearly():
    assert HP_ML110_G4.power(0.0) == pytest.approx(86.0)
    assert HP_ML110_G4.power(0.05) == pytest.approx(87.7)
    assert HP_ML110_G5.power(1.0) == pytest.approx(135.0)
    assert HP_ML110_G5.power(0.55) == pytest.approx(118.5)
    assert HP_ML110_G4.capacity == 3720 and HP_ML110_G5.capacity == 5320
    assert np.all(np.diff(HP_ML110_G5.power(np.linspace(0, 1, 101))) >= 0)


def test_power_table_file_and_its_errors(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("# model,cores,mips,watts\nbox,4,1000," + ",".join(map(str, range(100, 111)))
                    + "\n")
    (table,) = load_power_tables(good)
    assert table.capacity == 4000 and table.power(0.25) == pytest.approx(102.5)
    bad = tmp_path / "bad.csv"
    bad.write_text("\nbox,2,1000,1,2,3,4,5,4.5,6,7,8,9,10\n")
    with pytest.raises(UserError) as err:
        load_power_tables(bad)
    assert str(err.value).startswith(f"{bad}: line 2: power at 50 % (4.5 W) is below")
    word = tmp_path / "word.csv"
    word.write_text("box,2,1000,1,2,3,x,5,6,7,8,9,10,11\n")
    with pytest.raises(UserError, match=r"line 1: 'x' is not a number"):
        load_power_tables(word)
    with pytest.raises(UserError, match="11 values"):
        check_monotone((1.0, 2.0), "t")


def test_policy_names():
    assert parse_policy("lr-mmt-1.2").detector == "lr"
    spec = parse_policy("THR-MMT-0.8")
    assert (spec.detector, spec.selection, spec.safety, spec.name) == ("thr", "mmt", 0.8,
                                                                       "thr-mmt-0.8")
    assert parse_policy("mad-rs").safety == 2.5
    assert not parse_policy("npa").migrates and parse_policy("dvfs").power_mode == "dvfs"
    for bad in ("lr", "foo-mmt-1", "lr-xyz-1.2", "lr-mmt-abc"):
        with pytest.raises(UserError, match="policy"):
            parse_policy(bad)


def test_fidelity_presets_and_switches():
    assert PRESETS["cloudsim-3.0.3"] == Fidelity()
    paper = fidelity_from("paper")
    changed = {k for k, v in vars(paper).items() if v != getattr(Fidelity(), k)}
    assert changed == {"vm_removal", "count_round_placements", "lr_weighted"}
    assert fidelity_from("paper", {"lr_weighted": False, "empty_host": None}).lr_weighted is False
    with pytest.raises(UserError, match="fidelity switch 'colour': unknown"):
        fidelity_from("cloudsim-3.0.3", {"colour": 1})
    with pytest.raises(UserError, match="fidelity 'cloudsim-4'"):
        fidelity_from("cloudsim-4")
    with pytest.raises(UserError, match="vm_removal"):
        fidelity_from("paper", {"vm_removal": "sometimes"})
