"""Choosing a strategy when an audit names only a goal.

Every installed strategy for the goal runs on the same snapshot with its
default parameters, and each solution is judged as the referee judges a
plan (:mod:`optimizer.decision.scoring`): one that is not a valid plan, or
that takes more hosts above 100 % CPU than there were, is refused whatever
it releases. Among the others the best wins by, in turn: fewest overloaded
hosts, fewest instances left unplaced, fewest hosts left in use, the
smallest spread of host CPU load, fewest migrations. The comparison, in
that ranking order (refused and failed candidates last, with the reason),
is kept with the plan so an operator can see why.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from optimizer.decision.scoring import Assessment, assess
from optimizer.models.errors import UserError
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.planning import PlannerConfig
from optimizer.strategies.base import Strategy
from optimizer.strategies.solution import Solution

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """One strategy's result in a goal-only audit."""

    strategy: str
    score: tuple
    migrations: int
    seconds: float
    error: str = ""
    overloaded_hosts: int | None = None
    max_cpu_load: float | None = None

    def as_dict(self) -> dict:
        return {"strategy": self.strategy, "score": list(self.score),
                "migrations": self.migrations, "seconds": round(self.seconds, 3),
                "error": self.error, "overloaded_hosts": self.overloaded_hosts,
                "max_cpu_load": None if self.max_cpu_load is None
                else round(self.max_cpu_load, 4)}


def score(solution: Solution, assessment: Assessment) -> tuple:
    """Smaller is better: overload, unplaced instances, hosts in use, spread, migrations."""
    unplaced = solution.indicator("unplaced_instances_count") or 0
    return (assessment.overloaded_after, unplaced, assessment.active_hosts_after,
            round(assessment.load_stdev_after, 6), assessment.migrations)


def choose(snapshot: ClusterSnapshot, goal: str, strategies: dict[str, Strategy],
           planner: PlannerConfig | None = None,
           ) -> tuple[Strategy, Solution, list[Candidate]]:
    """Run every candidate for ``goal``; return the best, its solution and the ranking."""
    candidates = [s for _, s in sorted(strategies.items()) if s.goal == goal and s.auto_select]
    if not candidates:
        raise UserError(f"no installed strategy serves goal {goal!r} without parameters")
    accepted: list[tuple[Candidate, Strategy, Solution]] = []
    refused: list[Candidate] = []
    for strategy in candidates:
        start = time.perf_counter()
        try:
            solution = strategy.run(snapshot, {})
            assessment = assess(snapshot, solution, planner)
        except Exception as exc:  # one failing candidate must not sink the audit
            LOG.warning("candidate %s failed: %s", strategy.name, exc)
            refused.append(Candidate(strategy.name, (), 0, time.perf_counter() - start,
                                     f"{type(exc).__name__}: {exc}"))
            continue
        candidate = Candidate(strategy.name, score(solution, assessment),
                              len(solution.migrations), time.perf_counter() - start,
                              assessment.rejection, assessment.overloaded_after,
                              assessment.max_load_after)
        if candidate.error:
            LOG.warning("candidate %s refused: %s", strategy.name, candidate.error)
            refused.append(candidate)
        else:
            accepted.append((candidate, strategy, solution))
    accepted.sort(key=lambda entry: entry[0].score)  # stable: ties keep name order
    ranking = [c for c, _, _ in accepted] + refused
    if not accepted:
        raise UserError(f"no strategy for goal {goal!r} gave an acceptable plan: "
                        + "; ".join(f"{c.strategy}: {c.error}" for c in refused))
    _, best, solution = accepted[0]
    return best, solution, ranking
