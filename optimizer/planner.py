"""The planner's public face; the work is in :mod:`optimizer.planning`."""
from optimizer.planning import ActionGraph, PlanInfeasible, PlannerConfig, Schedule, plan

__all__ = ["ActionGraph", "PlanInfeasible", "PlannerConfig", "Schedule", "plan"]
