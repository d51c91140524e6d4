"""The dummy strategy: a few harmless actions to exercise the machinery."""
from __future__ import annotations

from dataclasses import dataclass

from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.base import Strategy
from optimizer.strategies.parameters import param
from optimizer.strategies.solution import Indicator, Nop, Sleep, Solution


@dataclass(frozen=True)
class DummyParameters:
    para1: float = param(3.2, help="Seconds each sleep action waits.", minimum=0, maximum=3600)
    para2: str = param("hello", help="Message each nop action logs.")
    count: int = param(3, help="How many nop / sleep pairs to plan.", minimum=0, maximum=1000)


def plan_dummy(snapshot: ClusterSnapshot, params: DummyParameters) -> Solution:
    """Plan pairs of nop and sleep actions, touching nothing.

    Optimizes:
        Nothing: it checks that audits, planning and execution work end to end.
    Metrics:
        None.
    Parameters:
        para1 and para2 as in Watcher's dummy strategy; count sets the number of pairs.
    Limits:
        Never moves an instance or changes a host.
    """
    actions = []
    for k in range(params.count):
        actions.append(Nop(message=params.para2, reason=f"dummy step {k + 1}"))
        actions.append(Sleep(duration=params.para1, reason=f"dummy step {k + 1}"))
    return Solution(
        strategy="dummy", goal="dummy", actions=tuple(actions),
        indicators=(Indicator("planned_actions", len(actions), "actions",
                              "Actions the dummy strategy planned."),),
    )


strategy = Strategy(name="dummy", goal="dummy", parameters=DummyParameters,
                    execute=plan_dummy, display_name="Dummy strategy")
