"""The planner: from a strategy's solution to a safe, parallel action graph.

``plan(snapshot, solution, config)`` returns an :class:`ActionGraph` whose
every execution order (any order its edges allow, at any concurrency) keeps
each host within its allocatable capacity and every anti-affinity group
apart; ``graph.schedule()`` estimates how long it takes under the applier's
limits.
"""
from optimizer.planning.builder import plan
from optimizer.planning.config import PlanInfeasible, PlannerConfig
from optimizer.planning.graph import ActionGraph
from optimizer.planning.schedule import Schedule

__all__ = ["ActionGraph", "PlanInfeasible", "PlannerConfig", "Schedule", "plan"]
