"""optimizer action list / show / skip, and records surviving from one command to the next."""
from __future__ import annotations

import re


def test_list_show_and_skip(optimizer):
    uuid = optimizer.recommended_plan()
    actions = optimizer.json("action", "list", "--plan", uuid)
    assert [a["index"] for a in actions] == list(range(len(actions)))
    migrations = optimizer.json("action", "list", "--plan", uuid, "--type", "migrate")
    assert migrations and all(a["type"] == "migrate" for a in migrations)
    page = optimizer.json("action", "list", "--plan", uuid, "--limit", "2", "--sort",
                          "index:desc")
    assert [a["index"] for a in page] == [len(actions) - 1, len(actions) - 2]

    target = migrations[0]
    shown = optimizer.json("action", "show", target["uuid"])
    assert shown["action_plan"] == uuid and shown["parameters"]["instance"] == target["subject"]
    text = optimizer.run("action", "show", target["uuid"]).stdout
    assert f"Action #{target['index']} (migrate)" in text and target["reason"][:20] in text

    skipped = optimizer.run("action", "skip", target["uuid"], "--reason", "keep it there")
    assert "SKIPPED: keep it there" in skipped.stdout
    after = optimizer.json("action", "show", target["uuid"])
    assert (after["state"], after["status_message"]) == ("SKIPPED", "keep it there")
    assert [a["uuid"] for a in optimizer.json("action", "list", "--plan", uuid, "--state",
                                              "skipped")] == [target["uuid"]]
    again = optimizer.run("action", "skip", target["uuid"], status=2)
    assert "only a PENDING action can be skipped" in again.stderr
    assert "migrate" in optimizer.run("action", "list", "--plan", uuid).stdout


def test_unknown_items_are_one_line_errors(optimizer):
    missing = "00000000-0000-0000-0000-000000000000"
    for args in (("action", "show", missing), ("action", "list", "--plan", missing),
                 ("actionplan", "show", missing), ("actionplan", "start", missing),
                 ("audit", "delete", "nobody")):
        result = optimizer.run(*args, status=2)
        assert result.stderr.startswith("optimizer: error: ") and "not found" in result.stderr
        assert result.stderr.count("\n") == 1


def test_records_survive_a_restart(optimizer):
    """Every run is a new invocation opening the files again, as a new process would."""
    optimizer.run("audittemplate", "create", "kept", "--goal", "server_consolidation")
    optimizer.run("audit", "create", "--template", "kept", "--name", "remembered")
    plan = optimizer.json("actionplan", "list")[0]["uuid"]
    first = optimizer.json("action", "list", "--plan", plan, "--limit", "1")[0]
    optimizer.run("action", "skip", first["uuid"])

    assert optimizer.json("audittemplate", "show", "kept")["goal"] == "server_consolidation"
    audit = optimizer.json("audit", "show", "remembered")
    assert audit["state"] == "SUCCEEDED" and audit["action_plans"][0]["uuid"] == plan
    assert optimizer.json("action", "show", first["uuid"])["state"] == "SKIPPED"
    assert (optimizer.folder / "optimizer.db").is_file()
    assert not (optimizer.folder / "home" / "xdg_data_home" / "optimizer").exists()


def test_tables_piped_keep_each_row_on_one_line(optimizer):
    plan = optimizer.recommended_plan()
    optimizer.run("audit", "create", "--goal", "server_consolidation")  # a long default name
    actions = optimizer.json("action", "list", "--plan", plan)
    text = optimizer.run("action", "list", "--plan", plan).stdout
    for action in actions:  # instance uuids, host names and the change, whole
        assert any(action["uuid"] in line and action["subject"] in line and
                   action["change"] in line for line in text.splitlines()), text
    for command, rows in ((("audit", "list"), optimizer.json("audit", "list")),
                          (("actionplan", "list"), optimizer.json("actionplan", "list"))):
        text = optimizer.run(*command).stdout
        body = [line for line in text.splitlines() if line.startswith("│")]
        assert len(body) == len(rows), text
        assert all(row["uuid"] in text and row.get("name", row.get("audit")) in text
                   for row in rows)
    # durations as everywhere else: "4 min 45 s", not "285.168"
    assert "estimated duration " in text and "duration s " not in text
    assert re.search(r"│ (\d+ min \d\d s|\d+\.\d s|\d+\.\d{3} s|\d+ h \d\d min) +│", text)
