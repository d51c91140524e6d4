"""Write solutions as ``action-plan/1`` documents (see shared/scenarios/FORMAT.md)."""
from __future__ import annotations

import json
from pathlib import Path

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


def write_plan(document: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(document, indent=1) + "\n")
