"""The strategy interface that built-in and third-party strategies implement.

A strategy is a pure function of (snapshot, parameters) to a
:class:`~optimizer.strategies.solution.Solution`, declared with its name, goal and
typed parameters. Publish one from any package through the
``optimizer.strategies`` entry point group::

    [project.entry-points."optimizer.strategies"]
    my_strategy = "my_package.my_module:strategy"

where ``strategy`` is a :class:`Strategy`.
"""
from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optimizer.models.errors import UserError
from optimizer.strategies.parameters import ParameterSpec, build_parameters, describe, json_schema
from optimizer.strategies.solution import Solution

if TYPE_CHECKING:  # numpy is for running strategies, not for naming them in a listing
    from optimizer.models.snapshot import ClusterSnapshot

DOC_SECTIONS = ("Optimizes", "Metrics", "Parameters", "Limits")


@dataclass(frozen=True)
class IndicatorSpec:
    """An efficacy indicator a goal's plans report: published as the goal's specification."""

    name: str
    description: str
    unit: str
    minimum: float = 0.0

    def as_dict(self) -> dict:
        """Watcher's shape of an indicator specification (its ``schema`` as JSON schema)."""
        return {"name": self.name, "description": self.description, "unit": self.unit,
                "schema": {"type": "number", "minimum": self.minimum}}


@dataclass(frozen=True)
class Goal:
    """What an audit wants to achieve; strategies are grouped under goals."""

    name: str
    display_name: str
    description: str
    # the indicators every strategy of the goal reports, under Watcher's names where
    # Watcher has one, so tools reading a goal know what its plans will say
    efficacy_specification: tuple[IndicatorSpec, ...] = ()


MIGRATIONS = IndicatorSpec("instance_migrations_count",
                           "The number of instance migrations to be performed.", "migrations")

GOALS = {g.name: g for g in (
    Goal("dummy", "Dummy goal", "Exercises the machinery; changes nothing.",
         (IndicatorSpec("planned_actions", "The number of actions planned.", "actions"),)),
    Goal("server_consolidation", "Server consolidation",
         "Run the instances on as few hosts as possible, so the others can be released.",
         (IndicatorSpec("compute_nodes_count", "Hosts running instances before the plan.",
                        "hosts"),
          IndicatorSpec("released_compute_nodes_count",
                        "Hosts the plan leaves without instances.", "hosts"),
          MIGRATIONS)),
    Goal("workload_balancing", "Workload balancing",
         "Spread the load so that no host is much busier than the others.",
         (MIGRATIONS,
          IndicatorSpec("cpu_load_stdev_before",
                        "Standard deviation of host CPU load before the plan.", "ratio"),
          IndicatorSpec("cpu_load_stdev_after",
                        "Standard deviation of host CPU load after the plan.", "ratio"))),
    Goal("cluster_maintaining", "Cluster maintaining",
         "Move instances off hosts that need maintenance.", (MIGRATIONS,)),
)}


def global_efficacy(goal: str, indicators: Mapping[str, Any]) -> list[dict] | None:
    """The goal's one-figure summary of a plan, as Watcher computes it; None if it has none.

    Server consolidation: the share of the hosts in use that the plan releases.
    """
    if goal != "server_consolidation" or "compute_nodes_count" not in indicators:
        return None
    hosts = float(indicators["compute_nodes_count"] or 0)
    released = float(indicators.get("released_compute_nodes_count") or 0)
    return [{"name": "released_nodes_ratio", "unit": "%",
             "value": 100 * released / hosts if hosts > 0 else 0.0,
             "description": "Released compute nodes over the compute nodes in use."}]


# Watcher's names with the same meaning as ours: a goal maps to ours and, where
# Watcher's goal holds one strategy, to that strategy as the default.
WATCHER_GOALS: dict[str, tuple[str, str | None]] = {
    "saving_energy": ("server_consolidation", "saving_energy"),
    "hardware_maintenance": ("cluster_maintaining", None),
}
WATCHER_STRATEGIES = {"basic": "basic_consolidation"}


def our_names(goal: str | None, strategy: str | None) -> tuple[str | None, str | None]:
    """(goal, strategy) with Watcher's names of the same things replaced by ours."""
    strategy = WATCHER_STRATEGIES.get(strategy, strategy) if strategy else strategy
    if goal in WATCHER_GOALS:
        goal, default = WATCHER_GOALS[goal]
        strategy = strategy or default
    return goal, strategy


class StrategyDocError(ValueError):
    """A strategy's docstring does not follow the template."""


@dataclass(frozen=True)
class Strategy:
    """A named, goal-bound optimisation: typed parameters and a pure ``execute``."""

    name: str
    goal: str
    parameters: type
    execute: Callable[[ClusterSnapshot, Any], Solution]
    display_name: str = ""
    # goal-only audits try every strategy of the goal with its defaults; one that
    # needs parameters (a host to evacuate) or runs long opts out
    auto_select: bool = True

    @property
    def summary(self) -> str:
        return self.sections()["summary"]

    def sections(self) -> dict[str, str]:
        """The docstring of ``execute`` split into the template's sections."""
        return parse_doc(inspect.getdoc(self.execute) or "", self.name)

    def describe_parameters(self) -> list[ParameterSpec]:
        return describe(self.parameters)

    def schema(self) -> dict:
        return json_schema(self.parameters)

    def validate(self, values: Mapping[str, Any]) -> Any:
        """Typed parameters from raw values; :class:`ParameterError` lists all problems."""
        return build_parameters(self.parameters, values, strategy=self.name)

    def run(self, snapshot: ClusterSnapshot, values: Mapping[str, Any] | None = None) -> Solution:
        """Validate ``values`` and execute the strategy on ``snapshot``."""
        return self.execute(snapshot, self.validate(values or {}))


def parse_doc(doc: str, name: str = "?") -> dict[str, str]:
    """Split a docstring into ``summary`` and the sections of :data:`DOC_SECTIONS`.

    Sections are lines ``Name:`` alone, followed by indented or plain text up
    to the next section; all four must be present.
    """
    lines = doc.strip().splitlines()
    if not lines:
        raise StrategyDocError(f"strategy {name}: docstring is empty")
    out = {"summary": lines[0].strip()}
    current, body = None, []
    pattern = re.compile(rf"^({'|'.join(DOC_SECTIONS)}):\s*$")
    for line in lines[1:]:
        match = pattern.match(line.strip())
        if match:
            if current:
                out[current] = "\n".join(body).strip()
            current, body = match.group(1), []
        elif current:
            body.append(line)
        else:
            out["summary"] += ("\n" + line) if line.strip() or out["summary"] else ""
    if current:
        out[current] = "\n".join(body).strip()
    missing = [s for s in DOC_SECTIONS if s not in out]
    if missing:
        raise StrategyDocError(f"strategy {name}: docstring lacks section(s) {', '.join(missing)}")
    out["summary"] = out["summary"].strip()
    return out


class UnknownStrategy(UserError):
    """No installed strategy has the name asked for."""
