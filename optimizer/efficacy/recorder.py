"""The applier's hook: the cluster before a plan, and once it ended, measure and learn.

:class:`EfficacyRecorder` collects the cluster through the collector the
audits use when a plan starts running, and again once it has ended
(SUCCEEDED, FAILED or CANCELLED); it stores the measured efficacy on the
plan and feeds the plan's timed migrations to the bandwidth calibration.
Measuring is an observer: whatever fails in it is logged and never changes
how the plan ended.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from optimizer.db import get_action_plan
from optimizer.efficacy.calibration import OVERALL, learn, migration_samples
from optimizer.efficacy.measure import MeasuredEfficacy, measure
from optimizer.efficacy.store import load_bandwidth, plan_actions, save_bandwidth, store_measured
from optimizer.models.records import MEMORY
from optimizer.states import ActionPlanState

if TYPE_CHECKING:
    from optimizer.applier.executor import PlanResult
    from optimizer.context import Context
    from optimizer.models.snapshot import ClusterSnapshot

LOG = logging.getLogger(__name__)
ENDED = (ActionPlanState.SUCCEEDED, ActionPlanState.FAILED, ActionPlanState.CANCELLED)


@dataclass
class EfficacyRecorder:
    """Measures one plan's run: :meth:`start` before it runs, :meth:`finish` once it ended."""

    ctx: Context
    plan_uuid: str
    before: ClusterSnapshot | None = None
    notes: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, ctx: Context, plan_uuid: str, *,
              taken_over: bool = False) -> EfficacyRecorder:
        """Collect the cluster as it is before the plan (goes on) running."""
        recorder = cls(ctx, plan_uuid)
        try:
            recorder.before = ctx.collector.collect()
        except Exception:  # measuring must never keep a plan from running
            LOG.warning("action plan %s: cannot collect the cluster before it runs; its "
                        "efficacy will not be measured", plan_uuid, exc_info=True)
        if taken_over:
            recorder.notes.append("taken over from another applier: the cluster before and "
                                  "the duration are from the takeover on")
        return recorder

    def finish(self, result: PlanResult) -> MeasuredEfficacy | None:
        """Measure, store and learn from the ended plan; None when it did not end or failed."""
        if result.state not in ENDED or self.before is None:
            return None
        try:
            return self._record(result)
        except Exception:  # the plan has ended as it ended, measured or not
            LOG.warning("action plan %s: measuring its efficacy failed", self.plan_uuid,
                        exc_info=True)
            return None

    def _record(self, result: PlanResult) -> MeasuredEfficacy:
        after = self.ctx.collector.collect()
        with self.ctx.database.session() as session:
            plan = get_action_plan(session, self.plan_uuid)
            plan_id, estimated = plan.id, plan.estimated_duration_s
            actions = plan_actions(session, plan_id)
        measured = measure(self.before, after, actions, plan_state=result.state,
                           estimated_duration_s=estimated, duration_s=round(result.seconds, 3))
        if self.notes:
            measured = MeasuredEfficacy(**{**measured.__dict__, "notes": tuple(self.notes)})
        memory = {uuid: float(self.before.inst_size[i, MEMORY])
                  for uuid, i in self.before.instance_ids.items()}
        samples = migration_samples(actions, memory, self.ctx.planner.action_overhead_s)
        with self.ctx.database.session() as session:
            store_measured(session, plan_id, measured.to_dict())
            if samples:
                table = learn(load_bandwidth(session), samples)
                save_bandwidth(session, table,
                               {(s.source, s.destination) for s in samples} | {OVERALL})
        LOG.info("action plan %s measured: %d of %d hosts emptied, %d of %d migrations, "
                 "%.1f s of %s s estimated; %d bandwidth sample(s) learnt", self.plan_uuid,
                 measured.measured.hosts_emptied, measured.predicted.hosts_emptied,
                 measured.measured.migrations, measured.predicted.migrations,
                 result.seconds, estimated, len(samples))
        return measured
