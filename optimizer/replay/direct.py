"""Rounds as CloudSim runs them: the power-aware round alone, its migrations started at once.

:class:`DirectRounds` gives the simulation the migrations of
:func:`~optimizer.strategies.power_aware_consolidation.plan_round` (the round
code of the ``power_aware_consolidation`` plugin) exactly as the round lists
them, all started at the round's time, with no planner, guard rails or
applier in between. That is CloudSim 3.0.3's own execution: when one round
moves a VM twice (relieved from an overloaded host, then moved on again as
its new host is emptied), both migrations start together, which no real
cloud and no safe planner allows. ``--rounds direct`` exists to reproduce
CloudSim's figures exactly; the default runs the production path
(:mod:`optimizer.replay.loop`).
"""
from __future__ import annotations

import numpy as np

from optimizer.replay.loop import policy_parameters
from optimizer.replay.production import SnapshotMaker
from optimizer.strategies.power_aware_consolidation import ConsolidationPolicy, plan_round


class DirectRounds:
    """The replay's --policy round, its migrations started in the simulation at once."""

    target_load = 1.0

    def __init__(self):
        self.policy: ConsolidationPolicy | None = None
        self.maker: SnapshotMaker | None = None

    def start(self, replay) -> None:
        """The round policy of the replay's policy and fidelity, as the plugin would build it."""
        self.policy = ConsolidationPolicy(
            **policy_parameters(replay.policy, replay.fidelity, replay.mig_mb_s),
            interval_s=replay.setup.interval_s)
        self.maker = SnapshotMaker(replay)

    def __call__(self, replay, t: float) -> int:
        vms = np.flatnonzero(replay.alive & (replay.host >= 0))
        plan = plan_round(self.maker.round_input(vms), self.policy)
        for k, h in plan.migrations:
            v = int(vms[k])
            if replay.refusal(v, int(h)) is None:  # a cloud's limits still hold
                replay.start_migration(v, int(h))
        return len(plan.overloaded)

    def figures(self) -> dict:
        return {"execution": "direct: the round's migrations started at once, as CloudSim "
                             "does (no planner, guard rails or applier)"}
