"""The openstack collector's mapping from Nova/Placement resources to the model.

A small stand-in connection returns openstacksdk-like objects, so these
tests run anywhere; tests/integration/openstack runs the same collector
against a real Nova.
"""
from __future__ import annotations

from types import SimpleNamespace as NS

import numpy as np
import pytest

from optimizer.collectors.base import CollectorError
from optimizer.datasources.base import MetricValues
from optimizer.datasources.prometheus import PrometheusDatasource, PrometheusSettings
from optimizer.openstack.collector import MetricsOptions, OpenStackCollector
from tests.optimizer.datasources.fake_prometheus import FakePrometheus, matrix, vector


def inventory(total, reserved=0, ratio=1.0, rc="VCPU"):
    return NS(resource_class=rc, total=total, reserved=reserved, allocation_ratio=ratio)


def flavor(vcpus=2, ram=2048, disk=20, ephemeral=0, swap=0):
    return NS(vcpus=vcpus, ram=ram, disk=disk, ephemeral=ephemeral, swap=swap)


class FakeCompute:
    def __init__(self, servers, groups=()):
        self._servers, self._groups = servers, groups

    def services(self, binary):
        return [NS(host="c1", state="up", status="enabled", disabled_reason=None,
                   availability_zone="nova"),
                NS(host="c2", state="down", status="disabled", disabled_reason="maintenance",
                   availability_zone="nova")]

    def aggregates(self):
        return [NS(name="fast", metadata={"availability_zone": "az1"}, availability_zone="az1",
                   hosts=["c1"])]

    def hypervisors(self, details):
        return [NS(name="c1.example", service_details={"host": "c1"}),
                NS(name="c2.example", service_details={"host": "c2"}),
                NS(name="c3.example", service_details={"host": "c3"})]  # no service

    def servers(self, details, all_projects):
        return self._servers

    def server_groups(self, all_projects):
        return self._groups


class FakePlacement:
    def resource_providers(self):
        return [NS(name="c1.example", id="p1"), NS(name="c2.example", id="p2"),
                NS(name="c3.example", id="p3")]

    def resource_provider_inventories(self, provider):
        return [inventory(16, 2, 4.0), inventory(65536, 1024, 1.5, rc="MEMORY_MB"),
                inventory(1000, 0, 1.0, rc="DISK_GB")]


class FakeDatasource:
    name = "fake"

    def __init__(self, cpu):
        self.cpu = cpu

    def fetch(self, metric, window_s, aggregate="mean"):
        values = self.cpu if metric == "instance_cpu_util" else {}
        return MetricValues(metric, values)


def server(uuid, host="c1", status="ACTIVE", **flavor_size):
    return NS(id=uuid, name=f"vm-{uuid}", compute_host=host, status=status,
              flavor=flavor(**flavor_size))


def collector(servers, groups=(), cpu=None):
    connection = NS(compute=FakeCompute(servers, groups), placement=FakePlacement())
    return OpenStackCollector(connection, FakeDatasource(cpu or {}))


def test_hosts_take_placement_sizes_and_nova_states():
    snapshot = collector([]).collect()
    assert snapshot.host_names == ("c1", "c2")  # c3 has no nova-compute service
    c1, c2 = snapshot.host_record(0), snapshot.host_record(1)
    assert (c1.vcpus, c1.vcpus_reserved, c1.cpu_allocation_ratio) == (16, 2, 4.0)
    assert (c1.memory_mb, c1.memory_mb_reserved, c1.ram_allocation_ratio) == (65536, 1024, 1.5)
    assert (c1.zone, c1.aggregates) == ("az1", ("fast",))
    assert (c2.state, c2.status, c2.disabled_reason, c2.zone) == ("down", "disabled",
                                                                  "maintenance", "nova")


def test_servers_map_state_size_and_metrics_and_missing_data_is_reported():
    source = collector([server("a", vcpus=4, swap=2048, ephemeral=10),
                        server("b", host="c2", status="SHUTOFF"),
                        server("c", host=None, status="SHELVED_OFFLOADED"),
                        server("d", host="c3")],
                       cpu={"a": 0.5})
    snapshot = source.collect()
    assert snapshot.inst_uuids == ("a", "b")
    a, b = snapshot.instance_record(0), snapshot.instance_record(1)
    assert (a.vcpus, a.disk_gb, a.cpu_util, a.state) == (4, 32, 0.5, "active")
    assert (b.host, b.state, b.cpu_util) == ("c2", "shutoff", 0.0)
    report = source.last_report
    assert report.no_cpu_data == ["b"]
    assert [line.split(":")[0] for line in report.skipped_servers] == ["c", "d"]
    assert report.skipped_hosts == ["c3: no nova-compute service"]


def test_servers_with_impossible_flavors_are_skipped_and_reported():
    """A NaN, negative or absurd flavor never reaches the model (it failed every audit)."""
    source = collector([server("ok"), server("nan", vcpus=float("nan")),
                        server("neg", ram=-1), server("huge", disk=1e300),
                        server("text", ram="lots")])
    assert source.collect().inst_uuids == ("ok",)
    assert source.last_report.skipped_servers == [
        "nan: flavor vcpus must be between 0 and 65536, got nan",
        "neg: flavor memory_mb must be between 0 and 67108864, got -1.0",
        "huge: flavor disk_gb must be between 0 and 1048576, got 1e+300",
        "text: flavor memory_mb must be a number, got str 'lots'"]


def test_server_groups_keep_known_members_and_map_soft_policies():
    groups = [NS(id="g1", policy="soft-anti-affinity", policies=None, member_ids=["a", "b", "x"]),
              NS(id="g2", policy=None, policies=["affinity"], member_ids=["x"])]
    snapshot = collector([server("a"), server("b")], groups).collect()
    (group,) = snapshot.group_records()
    assert (group.name, group.policy, group.members) == ("g1", "anti-affinity", ("a", "b"))


def test_api_failure_is_one_line_naming_the_collector():
    class Broken(FakeCompute):
        def services(self, binary):
            raise ConnectionError("connection refused\nmore detail")

    source = OpenStackCollector(NS(compute=Broken([]), placement=FakePlacement()))
    with pytest.raises(CollectorError, match=r"^openstack collector: ConnectionError: "
                                             r"connection refused$"):
        source.collect()


# -- CPU history --------------------------------------------------------------
def prometheus_collector(fake, history_window_s=1200, now=10_170.0):
    settings = PrometheusSettings(url=fake.url, rate_window="5m", timeout_s=5)
    connection = NS(compute=FakeCompute([server("a"), server("b"), server("c")]),
                    placement=FakePlacement())
    metrics = MetricsOptions(window_s=600, history_window_s=history_window_s,
                             history_step_s=300)
    return OpenStackCollector(connection, PrometheusDatasource(settings), metrics,
                              clock=lambda: now)


@pytest.fixture
def prometheus():
    with FakePrometheus() as fake:
        fake.reply("query", vector({"a": 0.3, "b": 0.4, "c": 0.5}))
        yield fake


def test_cpu_series_come_from_one_range_query_and_feed_percentile_sizing(prometheus, caplog):
    # the clock says 10170: the window ends on the step before, 9900, and starts at 8700
    grid = [8700 + 300 * k for k in range(5)]
    prometheus.reply("query_range", matrix({
        "a": [(t, v) for t, v in zip(grid, [0.1, 0.2, 0.9, 0.3, 0.2], strict=True)],
        "b": [(8700, 0.6), (9300, 0.8), (9900, 0.7)]}))  # two holes; c has no series
    source = prometheus_collector(prometheus)
    with caplog.at_level("WARNING", logger="optimizer.openstack.collector"):
        snapshot = source.collect()
    ranges = [params for path, params in prometheus.requests if path.endswith("query_range")]
    assert len(prometheus.requests) == 3 and len(ranges) == 1  # cpu, memory, cpu history
    assert (ranges[0]["start"], ranges[0]["end"], ranges[0]["step"]) == \
        ("8700.000", "9900.000", "300s")
    a, b, c = (snapshot.instance_record(i) for i in range(3))
    assert a.cpu_util_series == pytest.approx([0.1, 0.2, 0.9, 0.3, 0.2])
    assert b.cpu_util_series == pytest.approx([0.6, 0.8, 0.7])
    assert c.cpu_util_series is None
    report = source.last_report
    assert report.no_cpu_history == ["c"] and report.cpu_history_holes == {"b": 2}
    demand = snapshot.cpu_demand("p95")  # 2 vCPUs each
    assert demand[0] == pytest.approx(2 * np.percentile([0.1, 0.2, 0.9, 0.3, 0.2], 95))
    assert demand[1] == pytest.approx(2 * np.percentile([0.6, 0.8, 0.7], 95))
    assert demand[2] == pytest.approx(2 * 0.5)  # no history: its mean cpu_util
    assert "1 of 3 servers have no CPU history over the last 1200 s (e.g. c); they are " \
           "sized by their mean cpu_util" in caplog.text
    assert "1 servers have holes in their CPU history (2 of 5 samples missing); their " \
           "percentiles use the samples present" in caplog.text


def test_failed_history_query_keeps_the_collection_and_says_so(prometheus, caplog):
    prometheus.reply("query_range", "<html>overloaded</html>", status=503)
    source = prometheus_collector(prometheus)
    with caplog.at_level("WARNING", logger="optimizer.openstack.collector"):
        snapshot = source.collect()
    assert snapshot.inst_series is None
    assert snapshot.inst_cpu_util.tolist() == pytest.approx([0.3, 0.4, 0.5])
    assert source.last_report.no_cpu_history == ["a", "b", "c"]
    assert "HTTP 503, not JSON" in source.last_report.history_error
    assert "no CPU history for any of the 3 servers (prometheus at" in caplog.text
    assert "they are sized by their mean cpu_util" in caplog.text


def test_no_history_window_sends_no_range_query(prometheus):
    snapshot = prometheus_collector(prometheus, history_window_s=0).collect()
    assert [path for path, _ in prometheus.requests] == ["/api/v1/query"] * 2
    assert snapshot.inst_series is None


def test_a_datasource_without_history_is_reported():
    connection = NS(compute=FakeCompute([server("a")]), placement=FakePlacement())
    source = OpenStackCollector(connection, FakeDatasource({"a": 0.5}),
                                MetricsOptions(history_window_s=600))
    snapshot = source.collect()
    assert snapshot.inst_series is None
    assert source.last_report.history_error == "datasource 'fake' keeps no history"
    assert source.last_report.no_cpu_history == ["a"]
