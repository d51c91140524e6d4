"""optimizer audittemplate create / list / show / delete."""
from __future__ import annotations

import json


def test_template_life_cycle(optimizer):
    created = optimizer.run("audittemplate", "create", "nightly", "--goal",
                            "server_consolidation", "--strategy", "vm_workload_consolidation",
                            "-p", "target_cpu_load=0.6", "--description", "pack at night")
    assert "created audit template nightly" in created.stdout

    listed = optimizer.json("audittemplate", "list")
    assert [t["name"] for t in listed] == ["nightly"]
    shown = optimizer.json("audittemplate", "show", "nightly")
    assert shown["parameters"] == {"target_cpu_load": 0.6}  # typed by the strategy
    assert shown["description"] == "pack at night"
    assert optimizer.json("audittemplate", "show", shown["uuid"])["name"] == "nightly"
    assert "nightly" in optimizer.run("audittemplate", "list").stdout

    assert "deleted audit template nightly" in optimizer.run(
        "audittemplate", "delete", "nightly").stdout
    assert optimizer.json("audittemplate", "list") == []
    gone = optimizer.run("audittemplate", "show", "nightly", status=2)
    assert gone.stderr == "optimizer: error: audit template 'nightly' not found\n"


def test_template_with_a_scope_file(optimizer):
    scope = optimizer.folder / "scope.json"
    scope.write_text(json.dumps({"exclude": {"hosts": ["compute-00001"]}}))
    optimizer.run("audittemplate", "create", "spare-one", "--goal", "server_consolidation",
                  "--scope", str(scope), "--auto-trigger")
    shown = optimizer.json("audittemplate", "show", "spare-one")
    assert shown["scope"] == [{"exclude": {"hosts": ["compute-00001"]}}]
    assert shown["auto_trigger"] is True


def test_bad_template_requests_are_one_line(optimizer):
    cases = {
        ("--goal", "tidy"): "unknown goal 'tidy'",
        ("--goal", "server_consolidation", "--strategy", "nope"): "unknown strategy 'nope'",
        ("--goal", "workload_balancing", "--strategy", "vm_workload_consolidation"):
            "serves goal server_consolidation",
        ("--goal", "server_consolidation", "--strategy", "vm_workload_consolidation",
         "-p", "target_cpu_load=7"): "target_cpu_load",
    }
    for args, message in cases.items():
        result = optimizer.run("audittemplate", "create", "bad", *args, status=2)
        assert result.stderr.startswith("optimizer: error: ") and message in result.stderr
        assert result.stderr.count("\n") == 1
    optimizer.run("audittemplate", "create", "twice", "--goal", "dummy")
    again = optimizer.run("audittemplate", "create", "twice", "--goal", "dummy", status=2)
    assert "already exists" in again.stderr
