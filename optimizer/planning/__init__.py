"""The planner: from a strategy's solution to a safe, parallel action graph.

``plan(snapshot, solution, config)`` returns an :class:`ActionGraph` whose
every execution order (any order its edges allow, at any concurrency) keeps
each host within its allocatable capacity and every anti-affinity group
apart; ``graph.schedule()`` estimates how long it takes under the applier's
limits.
"""
from optimizer.lazy import lazy_exports

# name -> the module of this package that defines it, imported when the name is used
_EXPORTS = {
    "plan": "builder", "PlanInfeasible": "config", "PlannerConfig": "config",
    "ActionGraph": "graph", "Schedule": "schedule",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = ["ActionGraph", "PlanInfeasible", "PlannerConfig", "Schedule", "plan"]
