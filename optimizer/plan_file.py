"""Write solutions as ``action-plan/1`` documents (see shared/scenarios/FORMAT.md)."""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from optimizer.strategies.solution import Solution

FORMAT = "action-plan/1"


def plan_to_dict(solution: Solution, scenario: str, planning_seconds: float) -> dict:
    """The solution as an ``action-plan/1`` document, actions in execution order."""
    return {
        "format": FORMAT,
        "scenario": scenario,
        "strategy": solution.strategy,
        "goal": solution.goal,
        "planning_seconds": round(planning_seconds, 4),
        "efficacy_indicators": [
            {"name": i.name, "value": i.value, "unit": i.unit, "description": i.description}
            for i in solution.indicators
        ],
        "notes": list(solution.notes),
        "actions": [a.to_plan_entry() for a in solution.actions],
    }


def stored_plan_to_dict(plan: Mapping[str, Any], actions: Iterable[Mapping[str, Any]]) -> dict:
    """A stored action plan (as ``plan_view`` shows it) as an ``action-plan/1`` document.

    ``actions`` are the stored actions in execution order (``type``,
    ``parameters``, ``reason``, ``index``, ``parents``); each entry keeps its
    ``parents`` so the graph survives, which readers of the format ignore.
    The cluster the audit saw is not stored, so ``scenario`` is null and
    ``planning_seconds`` too; ``action_plan`` and ``audit`` say where it came from.
    """
    return {
        "format": FORMAT,
        "scenario": None,
        "strategy": plan["strategy"],
        "goal": plan.get("goal"),
        "planning_seconds": None,
        "action_plan": plan["uuid"],
        "audit": plan["audit"],
        "audit_uuid": plan["audit_uuid"],
        "state": plan["state"],
        "efficacy_indicators": [
            {"name": i["name"], "value": i["value"], "unit": i["unit"],
             "description": i["description"]} for i in plan["indicators"]],
        "notes": [],
        "actions": [{"type": a["type"], **a["parameters"], "reason": a["reason"],
                     "index": a["index"], "parents": list(a["parents"])} for a in actions],
    }


def write_plan(document: dict, path: str | Path) -> None:
    """Write ``document`` as indented JSON to ``path``."""
    Path(path).write_text(json.dumps(document, indent=1) + "\n")
