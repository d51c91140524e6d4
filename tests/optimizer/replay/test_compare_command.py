"""``optimizer replay-report``: runs from files to a report, bad files as one line."""
from __future__ import annotations

import json

from click.testing import CliRunner

from optimizer.cli import cli
from optimizer.replay.compare_command import compare_command
from tests.optimizer.replay.test_report import make_run


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def write_runs(tmp_path, *runs) -> list[str]:
    paths = []
    for run in runs:
        path = tmp_path / f"{run['policy']}.json"
        path.write_text(json.dumps(run))
        paths.append(str(path))
    return paths


def test_report_of_two_runs_prints_the_table_and_the_page(tmp_path):
    paths = write_runs(tmp_path, make_run("npa", energy=2410.8, migrations=0),
                       make_run("lr-mmt-1.2", energy=163.48))
    result = invoke("replay-report", *paths, "--report", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output + result.stderr
    assert (tmp_path / "out" / "index.html").is_file()
    assert (tmp_path / "out" / "compare_esv.png").is_file()
    assert f"Report: {tmp_path / 'out' / 'index.html'}" in result.output
    lines = {line.split()[1]: line for line in result.output.splitlines() if "│" in line}
    assert "2410.80" in lines["npa"] and "163.48" in lines["lr-mmt-1.2"]


def test_json_output_names_the_page_and_the_runs(tmp_path):
    paths = write_runs(tmp_path, make_run("thr-mmt-0.8"))
    result = invoke("replay-report", *paths, "--report", str(tmp_path / "r"), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.output) == {"report": str(tmp_path / "r" / "index.html"),
                                         "runs": ["thr-mmt-0.8"]}


def test_a_bad_run_file_is_one_line_and_exit_2_and_nothing_written(tmp_path):
    run = make_run()
    del run["pdm_pct"]
    (bad := tmp_path / "bad.json").write_text(json.dumps(run))
    result = invoke("replay-report", str(bad), "--report", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert result.stderr == f"optimizer: error: {bad}: missing key 'pdm_pct'\n"
    assert not (tmp_path / "out").exists()


def test_compare_command_is_the_whole_job(tmp_path):
    paths = write_runs(tmp_path, make_run("npa"), make_run("lr"))
    result = compare_command(paths, tmp_path / "out")
    assert result.page == tmp_path / "out" / "index.html"
    assert result.labels == ["npa", "lr"]
    assert [r["policy"] for r in result.runs] == ["npa", "lr"]
