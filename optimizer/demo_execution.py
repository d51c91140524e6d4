"""The demo's second half: run the plan on a throwaway simulated cloud.

The same path an operator takes — audit, recommended plan, start, applier —
runs against a simulated cloud and a database in a temporary folder, so the
demo shows what the cloud looks like once the plan has really been executed.
"""
from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from optimizer.cloud.simulated import SimulatedCloud
from optimizer.demo import ClusterFigures, figures
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.base import Strategy

# polls quickly: the demo's migrations are instant
DEMO_CONFIG = """\
[database]
connection = sqlite:///{folder}/optimizer.db
[simulated]
state_file = {folder}/cloud.db
[applier]
poll_interval_s = 0.01
"""


@dataclass(frozen=True)
class Execution:
    """How running the plan went, and the cloud afterwards."""

    plan_uuid: str
    state: str
    succeeded: int
    failed: int
    skipped: int
    migrations: int  # migrations that succeeded
    moved_memory_gb: float
    seconds: float
    after: ClusterFigures
    message: str = ""


def execute_on_simulated_cloud(snapshot: ClusterSnapshot, strategy: Strategy,
                               values: Mapping[str, str],
                               on_progress: Callable | None = None) -> Execution:
    """Audit ``snapshot`` with ``strategy``, start the plan and run it to the end."""
    from optimizer import operations
    from optimizer.applier import execute_plan, plan_progress
    from optimizer.config import load_config
    from optimizer.context import open_context

    with tempfile.TemporaryDirectory(prefix="optimizer-demo-") as folder:
        config = Path(folder) / "optimizer.conf"
        config.write_text(DEMO_CONFIG.format(folder=folder))
        cloud = SimulatedCloud(Path(folder) / "cloud.db")
        cloud.load(snapshot)
        ctx = open_context(load_config(str(config)))
        try:
            audit = operations.new_audit(ctx, goal=strategy.goal, strategy=strategy.name,
                                         parameters=dict(values), name="demo")
            outcome = operations.run_audit(ctx, audit.uuid)
            if outcome.action_plan_uuid is None:
                return Execution("", "FAILED", 0, 0, 0, 0, 0.0, 0.0,
                                 figures(snapshot.placement()), outcome.message)
            operations.start_action_plan(ctx, outcome.action_plan_uuid)
            started = time.perf_counter()
            execute_plan(ctx, outcome.action_plan_uuid, on_progress=on_progress)
            seconds = time.perf_counter() - started
            report = plan_progress(ctx, outcome.action_plan_uuid)
            after = cloud.snapshot(name=snapshot.name)
            return Execution(report.plan_uuid, report.state, report.succeeded, report.failed,
                             report.skipped, _migrated(ctx, outcome.action_plan_uuid),
                             report.moved_memory_mb / 1024, seconds,
                             figures(after.placement()), report.message)
        finally:
            ctx.close()
            cloud.close()


def _migrated(ctx, plan_uuid: str) -> int:
    """How many of the plan's migrations succeeded."""
    from optimizer.db import get_action_plan, list_actions

    with ctx.database.session() as session:
        plan = get_action_plan(session, plan_uuid)
        return sum(a.type == "migrate" and a.state == "SUCCEEDED"
                   for a in list_actions(session, plan))
