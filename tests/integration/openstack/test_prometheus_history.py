"""A real Nova and Prometheus: the collector fills each server's CPU series from history.

One server is booted and its CPU use published by the test exporter; the
``openstack`` collector with a CPU history window sends one range query for
all servers and gives the server a series of its measured use.
"""
from __future__ import annotations

from exporter import Load
from nova_cloud import sdk_connection

from optimizer.datasources.prometheus import PrometheusDatasource, PrometheusSettings
from optimizer.openstack.collector import MetricsOptions, OpenStackCollector


def test_collector_fills_cpu_series_from_one_range_query(nova, metrics):
    prometheus, exporter = metrics
    flavor = nova.create_flavor("m1.history", vcpus=1, ram_mb=256, disk_gb=1)
    uuid = nova.boot("history-vm", flavor)["id"]
    exporter.set_instance(uuid, Load(cpu=0.4, memory=0.5))
    prometheus.wait_for_series(
        f'count_over_time(libvirt_domain_info_virtual_cpus{{uuid="{uuid}"}}[12s]) >= 11', 1,
        timeout_s=60)
    datasource = PrometheusDatasource(PrometheusSettings(url=prometheus.url, rate_window="5s",
                                                         step_s=1))
    collector = OpenStackCollector(sdk_connection(nova.compute_url, nova.placement_url),
                                   datasource, MetricsOptions(window_s=5, history_window_s=5,
                                                              history_step_s=1))
    snapshot = collector.collect()
    assert datasource.queries == 3  # CPU, memory, CPU history: whatever the servers
    series = snapshot.instance_record(snapshot.inst_uuids.index(uuid)).cpu_util_series
    assert series is not None and len(series) >= 5
    assert all(abs(value - 0.4) < 0.05 for value in series), series
    assert uuid not in collector.last_report.no_cpu_history
