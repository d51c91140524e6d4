"""End to end against a real Nova: collect, plan a consolidation, apply it, check Nova.

20 one-vCPU servers are booted one at a time over three fake computes (the
scheduler spreads them); Prometheus scrapes their CPU and memory use from
the test exporter. The engine builds its model with the ``openstack``
collector, ``vm_workload_consolidation`` packs the servers, the ``nova``
actuator carries the plan out, and Nova is asked where every server is.
"""
from __future__ import annotations

from exporter import Load

from optimizer.applier import execute_plan
from optimizer.config import load_config
from optimizer.context import open_context
from optimizer.db import list_actions
from optimizer.db.action_plans import get_action_plan
from optimizer.openstack.collector import OpenStackCollector
from optimizer.operations import new_audit, run_audit, start_action_plan

SERVERS = 20


def counting_calls(connection) -> list[str]:
    """Record every HTTP request the connection's session sends."""
    calls: list[str] = []
    send = connection.session.request

    def request(url, method, **kwargs):
        calls.append(f"{method} {url}")
        return send(url, method, **kwargs)

    connection.session.request = request
    return calls


def write_config(tmp_path, nova, prometheus_url) -> str:
    clouds = nova.write_clouds_yaml(tmp_path / "clouds.yaml")
    config = tmp_path / "optimizer.conf"
    config.write_text(
        f"[database]\nconnection = sqlite:///{tmp_path / 'optimizer.db'}\n"
        "[collector]\nname = openstack\n"
        "[openstack]\ncloud = test\ndatasource = prometheus\nmetrics_window_s = 5\n"
        f"[prometheus]\nurl = {prometheus_url}\nrate_window = 5s\nstep_s = 1\n")
    return str(config), str(clouds)


def test_consolidation_planned_and_applied_on_nova(nova, metrics, tmp_path, monkeypatch):
    prometheus, exporter = metrics
    config, clouds = write_config(tmp_path, nova, prometheus.url)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", clouds)
    flavor = nova.create_flavor("m1.tiny", vcpus=1, ram_mb=512, disk_gb=1)
    settings = load_config(config)
    ctx = open_context(settings)
    collector = ctx.collector
    assert isinstance(collector, OpenStackCollector)
    calls = counting_calls(collector.connection)
    collector.collect()  # the first one also discovers API versions

    servers = []
    for n in range(SERVERS):
        server = nova.boot(f"vm-{n:02d}", flavor)
        servers.append(server["id"])
        exporter.set_instance(server["id"], Load(cpu=0.05 + 0.01 * n, memory=0.5))
        if n + 1 == SERVERS // 2:
            calls.clear()
            collector.collect()
            calls_at_half = len(calls)
    calls.clear()
    snapshot = collector.collect()
    # Listing calls do not grow with the servers (one inventory call per host).
    assert len(calls) == calls_at_half
    assert snapshot.instance_count == SERVERS
    assert snapshot.host_count == 3
    hosts_before = {nova.host_of(uuid) for uuid in servers}
    assert len(hosts_before) == 3  # the scheduler spread them

    prometheus.wait_for_series("count_over_time(libvirt_domain_info_virtual_cpus[12s]) >= 11",
                               SERVERS, timeout_s=60)
    collector.collect()
    assert collector.last_report.no_cpu_data == []
    assert collector.datasource.queries == 8  # two metrics a collection, any cluster size

    audit = new_audit(ctx, goal="server_consolidation", strategy="vm_workload_consolidation")
    outcome = run_audit(ctx, audit.uuid)
    assert outcome.action_plan_uuid, outcome.message
    with ctx.database.session() as session:
        plan = get_action_plan(session, outcome.action_plan_uuid)
        actions = [(a.type, dict(a.parameters)) for a in list_actions(session, plan, page=None)]
    moves = {p["instance"]: p["destination"] for kind, p in actions if kind == "migrate"}
    assert moves, actions

    start_action_plan(ctx, outcome.action_plan_uuid)
    result = execute_plan(ctx, outcome.action_plan_uuid)
    assert result.state == "SUCCEEDED", (result.message, result.failures)

    where = {uuid: nova.host_of(uuid) for uuid in servers}
    for uuid, destination in moves.items():
        assert where[uuid] == destination, uuid
    assert len(set(where.values())) < len(hosts_before)
    ctx.close()
