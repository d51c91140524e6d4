"""Choosing a strategy when an audit names only a goal.

Every installed strategy for the goal runs on the same snapshot with its
default parameters; the best by global efficacy wins, and the comparison is
kept with the plan so an operator can see why.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from optimizer.models.errors import UserError
from optimizer.models.snapshot import ClusterSnapshot
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

    def as_dict(self) -> dict:
        return {"strategy": self.strategy, "score": list(self.score),
                "migrations": self.migrations, "seconds": round(self.seconds, 3),
                "error": self.error}


def score(solution: Solution) -> tuple:
    """Smaller is better: released hosts first, then spread, then migrations."""
    migrations = len(solution.migrations)
    released = solution.indicator("released_compute_nodes_count") or 0
    spread = solution.indicator("cpu_load_stdev_after")
    unplaced = solution.indicator("unplaced_instances_count") or 0
    return (unplaced, -released, spread if spread is not None else 0.0, migrations)


def choose(snapshot: ClusterSnapshot, goal: str,
           strategies: dict[str, Strategy]) -> tuple[Strategy, Solution, list[Candidate]]:
    """Run every candidate for ``goal``; return the best, its solution and the comparison."""
    candidates = [s for _, s in sorted(strategies.items()) if s.goal == goal and s.auto_select]
    if not candidates:
        raise UserError(f"no installed strategy serves goal {goal!r} without parameters")
    results: list[tuple[Strategy, Solution]] = []
    report: list[Candidate] = []
    for strategy in candidates:
        start = time.perf_counter()
        try:
            solution = strategy.run(snapshot, {})
        except Exception as exc:  # one failing candidate must not sink the audit
            LOG.warning("candidate %s failed: %s", strategy.name, exc)
            report.append(Candidate(strategy.name, (), 0, time.perf_counter() - start,
                                    f"{type(exc).__name__}: {exc}"))
            continue
        results.append((strategy, solution))
        report.append(Candidate(strategy.name, score(solution), len(solution.migrations),
                                time.perf_counter() - start))
    if not results:
        raise UserError(f"every strategy for goal {goal!r} failed: "
                        + "; ".join(f"{c.strategy}: {c.error}" for c in report))
    best = min(results, key=lambda r: score(r[1]))
    return best[0], best[1], report
