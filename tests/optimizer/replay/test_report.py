"""The replay report: files written, plots readable, table values, one-line errors."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import matplotlib.image
import pytest
from optimizer.models.errors import UserError

from optimizer.replay.report import ReportError, load_runs, run_labels, write_report

TIMELINE_PLOTS = ("active_hosts.png", "power_w.png", "overloaded_hosts.png", "migrations.png")
BAR_PLOTS = ("compare_energy_kwh.png", "compare_migrations.png", "compare_slatah_pct.png",
             "compare_esv.png")


def make_run(policy="lr-mmt-1.2", rounds=6, hosts=10, energy=163.48, migrations=None,
             **overrides) -> dict:
    """A run as `optimizer replay --format json` prints it, over ``rounds`` rounds of 5 min."""
    per_round = [k % 3 for k in range(rounds)]
    active = [hosts - min(k, hosts - 2) for k in range(rounds)]
    run = {
        "policy": policy, "fidelity": "cloudsim-3.0.3", "traces": "planetlab/20110303",
        "hosts": hosts, "vms": 3 * hosts, "energy_kwh": energy,
        "migrations": sum(per_round) if migrations is None else migrations,
        "slatah_pct": 5.86, "pdm_pct": 0.081, "slav": 0.00474, "esv": 0.775,
        "host_shutdowns": 6, "wall_seconds": 3.2,
        "timeline": {"time_s": [300.0 * k for k in range(rounds)],
                     "active_hosts": active,
                     "power_w": [150.0 * a for a in active],
                     "overloaded_hosts": [k % 2 for k in range(rounds)],
                     "migrations": per_round},
    }
    run.update(overrides)
    return run


class Page(HTMLParser):
    """The page's images (src, alt), table cells (by table) and links."""

    def __init__(self, text: str):
        super().__init__()
        self.images: list[dict] = []
        self.tables: list[list[list[str]]] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        elif tag in ("link", "script", "a") and (attrs.get("href") or attrs.get("src")):
            self.links.append(attrs.get("href") or attrs.get("src"))
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def read_page(folder):
    return Page((folder / "index.html").read_text(encoding="utf-8"))


def column(table: list[list[str]], heading: str) -> list[str]:
    index = table[0].index(heading)
    return [row[index] for row in table[1:]]


def test_one_run_writes_the_page_and_the_four_timeline_plots(tmp_path):
    page = write_report([make_run()], tmp_path / "report")
    assert page == tmp_path / "report" / "index.html"
    assert sorted(p.name for p in page.parent.iterdir()) == sorted(
        ("index.html", *TIMELINE_PLOTS))
    parsed = read_page(page.parent)
    assert [img["src"] for img in parsed.images] == list(TIMELINE_PLOTS)  # relative, beside it
    assert parsed.links == []  # no stylesheet, script or link outside the page
    for name in TIMELINE_PLOTS:
        pixels = matplotlib.image.imread(page.parent / name)
        assert pixels.shape[:2] == (340, 750)
        assert pixels.std() > 0.01  # not a blank image


def test_alt_texts_give_each_plots_numbers(tmp_path):
    runs = [make_run("npa", energy=2410.8, migrations=0), make_run("lr-mmt-1.2")]
    runs[0]["timeline"]["active_hosts"] = [10] * 6
    runs[0]["timeline"]["migrations"] = [0] * 6
    parsed = read_page(write_report(runs, tmp_path).parent)
    alts = {img["src"]: img["alt"] for img in parsed.images}
    assert alts["active_hosts.png"] == (
        "Line chart of active hosts over 25 min of simulated time, one line a run. "
        "npa stays at 10; lr-mmt-1.2 from 10 to 5, mean 7.5, peak 10.")
    assert alts["migrations.png"].endswith("npa reaches 0; lr-mmt-1.2 reaches 6.")  # 0+1+2+0+1+2
    assert alts["power_w.png"].startswith("Line chart of power in kW over 25 min")
    assert alts["compare_energy_kwh.png"] == (
        "Bar chart of Energy (kWh) per run: npa 2,410.80, lr-mmt-1.2 163.48. "
        "Lowest: lr-mmt-1.2.")
    assert all(len(alt) > 40 for alt in alts.values())


def test_several_runs_get_the_comparison_table_and_bar_charts(tmp_path):
    runs = [make_run("npa", energy=2410.8, migrations=0, slatah_pct=0.0, esv=0.0),
            make_run("thr-mmt-0.8", energy=192.62, migrations=26711, slatah_pct=4.91),
            make_run("lr-mmt-1.2", energy=163.48, migrations=27859, slatah_pct=5.86)]
    folder = write_report(runs, tmp_path).parent
    for name in BAR_PLOTS:
        assert matplotlib.image.imread(folder / name).shape[:2] == (340, 750)
    results = read_page(folder).tables[0]
    assert results[0][:4] == ["Run", "Fidelity", "Hosts", "VMs"]
    assert column(results, "Run") == ["npa", "thr-mmt-0.8", "lr-mmt-1.2"]
    assert column(results, "Energy (kWh)") == ["2,410.80", "192.62", "163.48"]
    assert column(results, "Migrations") == ["0", "26,711", "27,859"]
    assert column(results, "SLATAH (%)") == ["0.00", "4.91", "5.86"]
    assert column(results, "ESV") == ["0", "0.775", "0.775"]
    html = (folder / "index.html").read_text()
    assert "<td><strong>163.48</strong></td>" in html  # the lowest energy is marked
    assert "<td><strong>0</strong></td>" in html
    assert html.count("<strong>") == 4  # energy, migrations, SLATAH, ESV: npa or lr lowest


def test_timeline_table_makes_the_page_readable_without_images(tmp_path):
    folder = write_report([make_run()], tmp_path).parent
    over_time = read_page(folder).tables[1]
    assert over_time[0][0] == "Run" and over_time[1][0] == "lr-mmt-1.2"
    row = dict(zip(over_time[0], over_time[1], strict=True))
    assert row["Rounds"] == "6"
    assert row["Active hosts, mean"] == "7.5"   # 10, 9, 8, 7, 6, 5
    assert row["Power, peak (kW)"] == "1.5"     # 150 W a host, 10 hosts
    assert row["Migrations in one round, peak"] == "2"


def test_page_escapes_names_and_is_small(tmp_path):
    folder = write_report([make_run("<b>odd</b>"), make_run("lr")], tmp_path).parent
    html = (folder / "index.html").read_text()
    assert "<b>odd</b>" not in html and "&lt;b&gt;odd&lt;/b&gt;" in html
    total = sum(p.stat().st_size for p in folder.iterdir())
    assert total < 400_000


def test_equal_policies_are_told_apart_by_their_traces():
    runs = [make_run(traces="planetlab/20110303"), make_run(traces="planetlab/20110306"),
            make_run("npa")]
    assert run_labels(runs) == ["lr-mmt-1.2 · 20110303", "lr-mmt-1.2 · 20110306", "npa"]
    assert run_labels([make_run(), make_run()]) == ["lr-mmt-1.2 #1", "lr-mmt-1.2 #2"]


def test_load_runs_reads_files_of_one_run_or_a_list(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(make_run("npa")))
    (tmp_path / "b.json").write_text(json.dumps([make_run("thr"), make_run("lr")]))
    runs = load_runs([tmp_path / "a.json", tmp_path / "b.json"])
    assert [r["policy"] for r in runs] == ["npa", "thr", "lr"]


def broken(**changes):
    run = make_run()
    for key, value in changes.items():
        if key.startswith("timeline_"):
            run["timeline"][key.removeprefix("timeline_")] = value
        elif value is ...:
            del run[key]
        else:
            run[key] = value
    return run


@pytest.mark.parametrize(("document", "message"), [
    (broken(esv=...), "missing key 'esv'"),
    (broken(energy_kwh="a lot"), "key 'energy_kwh' must be a number, not 'a lot'"),
    (broken(migrations=True), "key 'migrations' must be a number, not True"),
    (broken(policy=""), "key 'policy' must be a name, not ''"),
    (broken(timeline=[]), "key 'timeline' must be an object, not a list"),
    (broken(timeline_power_w=[1.0] * 5), "key 'timeline.power_w' has 5 values, "
                                         "'timeline.time_s' has 6"),
    (broken(timeline_active_hosts=[1, 2, "x", 4, 5, 6]),
     "key 'timeline.active_hosts[2]' must be a number, not 'x'"),
    (broken(timeline_migrations=None), "key 'timeline.migrations' must be a list, not null"),
    ({k: v for k, v in make_run().items() if k != "timeline"}, "missing key 'timeline'"),
    (42, "a run is a JSON object, not a number"),
    ([], "an empty list, no run"),
])
def test_bad_runs_are_one_line_naming_the_file_and_key(tmp_path, document, message):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ReportError) as caught:
        load_runs([path])
    assert str(caught.value).endswith(message)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, UserError)


def test_missing_timeline_key_names_it(tmp_path):
    run = make_run()
    del run["timeline"]["overloaded_hosts"]
    path = tmp_path / "run.json"
    path.write_text(json.dumps(run))
    with pytest.raises(ReportError, match=r"run.json: missing key 'timeline.overloaded_hosts'$"):
        load_runs([path])


def test_a_file_that_is_not_json_or_absent_is_one_line(tmp_path):
    path = tmp_path / "run.json"
    path.write_text('{"policy": "npa",\n  oops}')
    with pytest.raises(ReportError, match=re.escape(f"{path}: not JSON: Expecting property "
                                                    "name enclosed in double quotes at line 2 "
                                                    "column 3")):
        load_runs([path])
    with pytest.raises(ReportError, match=r"absent.json: cannot read: No such file"):
        load_runs([tmp_path / "absent.json"])


def test_runs_given_in_memory_are_checked_and_named_by_position(tmp_path):
    with pytest.raises(ReportError, match=r"^run 2: missing key 'slav'$"):
        write_report([make_run(), broken(slav=...)], tmp_path)
    with pytest.raises(ReportError, match="no run to report"):
        write_report([], tmp_path)
    assert not (tmp_path / "index.html").exists()
