"""A consolidation plan run on the simulated cloud is measured, stored and learnt from."""
from __future__ import annotations

from dataclasses import replace

import pytest

from optimizer import operations
from optimizer.applier import execute_plan
from optimizer.cloud.simulated import SimulatedCloud
from optimizer.config import load_config
from optimizer.context import open_context
from optimizer.db import get_action_plan, list_actions
from optimizer.efficacy.store import load_bandwidth
from tests.builders import ClusterBuilder

CONFIG = """\
[database]
connection = sqlite:///{folder}/optimizer.db
[simulated]
state_file = {folder}/cloud.db
[applier]
poll_interval_s = 0.01
retry_backoff_s = 0.01
max_retries = 0
"""


def sparse_cluster():
    """Six hosts each a quarter full: consolidation empties some of them."""
    builder = ClusterBuilder().hosts(6, vcpus=32, memory_gb=64)
    for h in range(1, 7):
        for j in range(2):
            builder.vm(f"h{h}-v{j}", on=f"h{h}", vcpus=2, memory_gb=1 + j, cpu_util=0.2)
    return builder.build()


@pytest.fixture
def ctx(tmp_path):
    (tmp_path / "optimizer.conf").write_text(CONFIG.format(folder=tmp_path))
    cloud = SimulatedCloud(tmp_path / "cloud.db")
    cloud.load(sparse_cluster())
    cloud.configure(bandwidth_mb_s=8192)  # 1 GB in 0.125 s: measurable, quick
    context = open_context(load_config(str(tmp_path / "optimizer.conf")))
    context.planner = replace(context.planner, action_overhead_s=0.0)
    yield context, cloud
    context.close()
    cloud.close()


def audit_plan(ctx) -> str:
    audit = operations.new_audit(ctx, goal="server_consolidation",
                                 strategy="vm_workload_consolidation", parameters={})
    return operations.run_audit(ctx, audit.uuid).action_plan_uuid


def test_measured_efficacy_matches_the_cloud_after_the_plan(ctx):
    ctx, cloud = ctx
    before = cloud.snapshot()
    uuid = audit_plan(ctx)
    operations.start_action_plan(ctx, uuid)
    result = execute_plan(ctx, uuid)
    after = cloud.snapshot()
    with ctx.database.session() as session:
        plan = get_action_plan(session, uuid)
        measured, estimated = plan.measured_efficacy, plan.estimated_duration_s
        moves = [a for a in list_actions(session, plan) if a.type == "migrate"]
    assert result.state == "SUCCEEDED" and measured is not None
    was_active = {before.host_names[h] for h in before.inst_host}
    now_active = {after.host_names[h] for h in after.inst_host}
    got = measured["measured"]
    assert got["hosts_emptied"] == len(was_active - now_active) > 0
    assert got["active_hosts"] == len(now_active)
    assert got["migrations"] == len(moves) == measured["predicted"]["migrations"]
    memory = sum(after.inst_size[after.instance_id(a.parameters["instance"]), 1]
                 for a in moves) / 1024
    assert got["moved_memory_gb"] == pytest.approx(memory)
    assert measured["predicted"]["duration_s"] == estimated
    assert got["duration_s"] == pytest.approx(result.seconds, abs=0.01)
    assert measured["action_durations"]["migrate"]["count"] == len(moves)
    assert all(a.duration_s and a.duration_s > 0 for a in moves)


def test_failed_migrations_are_counted(ctx):
    ctx, cloud = ctx
    uuid = audit_plan(ctx)
    with ctx.database.session() as session:
        first = next(a for a in list_actions(session, get_action_plan(session, uuid))
                     if a.type == "migrate")
    operations.start_action_plan(ctx, uuid)
    cloud.set_service_state(first.parameters["destination"], False, "broken")
    assert execute_plan(ctx, uuid).state == "FAILED"
    with ctx.database.session() as session:
        measured = get_action_plan(session, uuid).measured_efficacy
    assert measured["plan_state"] == "FAILED"
    assert measured["migrations_failed"] >= 1
    assert measured["measured"]["migrations"] < measured["predicted"]["migrations"]


def test_learnt_bandwidth_changes_a_later_estimate(ctx):
    ctx, cloud = ctx
    first = audit_plan(ctx)
    with ctx.database.session() as session:
        uncalibrated = get_action_plan(session, first).estimated_duration_s
    operations.start_action_plan(ctx, first)
    execute_plan(ctx, first)
    cloud.load(sparse_cluster())  # the same cluster again
    with ctx.database.session() as session:
        learnt = load_bandwidth(session)
    assert ("*", "*") in learnt and learnt[("*", "*")].samples > 0
    second = audit_plan(ctx)
    with ctx.database.session() as session:
        calibrated = get_action_plan(session, second).estimated_duration_s
    # the cloud moves 8 GB/s, the default estimate assumes 1000 MB/s
    assert calibrated < uncalibrated
