"""The Prometheus datasource against a real Prometheus scraping the test exporter."""
from __future__ import annotations

import time

import numpy as np
import pytest
import requests

from optimizer.datasources import DatasourceError
from optimizer.datasources.options import load_prometheus_settings
from optimizer.datasources.prometheus import PrometheusDatasource, PrometheusSettings, window_query


def datasource(url: str, **overrides) -> PrometheusDatasource:
    return PrometheusDatasource(PrometheusSettings(url=url, rate_window="5s", step_s=1,
                                                   **overrides))


@pytest.mark.parametrize("aggregate", ["mean", "max", "p95"])
def test_instance_cpu_of_every_instance_in_one_query(prometheus, aggregate):
    url, exporter = prometheus
    source = datasource(url)
    got = source.fetch("instance_cpu_util", window_s=5, aggregate=aggregate)
    assert source.queries == 1
    assert got.values.keys() == exporter.instances.keys()
    for uuid, load in exporter.instances.items():
        assert got.values[uuid] == pytest.approx(load.cpu, abs=0.05)


def test_instance_memory_and_host_metrics(prometheus):
    url, exporter = prometheus
    source = datasource(url)
    memory = source.fetch("instance_memory_util", window_s=5)
    host_cpu = source.fetch("host_cpu_util", window_s=5)
    host_memory = source.fetch("host_memory_util", window_s=5)
    assert source.queries == 3
    instances, hosts = exporter.instances.items(), exporter.hosts.items()
    assert memory.values == pytest.approx({u: x.memory for u, x in instances}, abs=0.01)
    assert host_cpu.values == pytest.approx({h: x.cpu for h, x in hosts}, abs=0.05)
    assert host_memory.values == pytest.approx({h: x.memory for h, x in hosts}, abs=0.01)


def test_series_without_the_label_are_skipped_with_a_reason(prometheus):
    url, exporter = prometheus
    source = datasource(url, labels={"instance_cpu_util": "no_such_label"})
    got = source.fetch("instance_cpu_util", window_s=5)
    assert got.values == {}
    assert len(got.errors) == len(exporter.instances)
    assert "no label 'no_such_label'" in got.errors[0]


def test_bad_promql_names_the_query(prometheus):
    url, _ = prometheus
    source = datasource(url, expressions={"instance_cpu_util": "sum by (uuid) ((("})
    with pytest.raises(DatasourceError, match=r"bad_data.*query avg_over_time"):
        source.fetch("instance_cpu_util", window_s=5)


def test_unreachable_server_is_one_clear_error():
    source = PrometheusDatasource(PrometheusSettings(url="http://127.0.0.1:9", timeout_s=1))
    with pytest.raises(DatasourceError, match="prometheus at http://127.0.0.1:9 unreachable"):
        source.fetch("host_cpu_util", window_s=60)


def test_window_query_shapes():
    assert window_query("x", 600, 60, "mean") == "avg_over_time((x)[600s:60s])"
    assert window_query("x", 600, 60, "max") == "max_over_time((x)[600s:60s])"
    assert window_query("x", 600, 60, "p95") == "quantile_over_time(0.95, (x)[600s:60s])"
    with pytest.raises(DatasourceError, match="unknown aggregate 'median'"):
        window_query("x", 600, 60, "median")


def test_settings_from_the_config_file(tmp_path):
    conf = tmp_path / "optimizer.conf"
    conf.write_text("[prometheus]\nurl = https://prom:9090\nusername = u\npassword = p\n"
                    "rate_window = 2m\ninstance_cpu_util_label = instance_id\n")
    settings = load_prometheus_settings(str(conf))
    assert settings.url == "https://prom:9090"
    assert settings.labels["instance_cpu_util"] == "instance_id"
    source = PrometheusDatasource(settings, session=requests.Session())
    assert source.session.auth == ("u", "p")
    assert "[2m]" in source.query_for("instance_cpu_util", 600)


def test_bad_setting_names_group_and_option(tmp_path):
    conf = tmp_path / "optimizer.conf"
    conf.write_text("[prometheus]\nstep_s = often\n")
    with pytest.raises(DatasourceError, match=r"\[prometheus\].*often"):
        load_prometheus_settings(str(conf))


def test_cpu_history_of_every_instance_in_one_range_query(prometheus):
    url, exporter = prometheus
    source = datasource(url)
    end = time.time()
    asked = [*exporter.instances, "22222222-0000-0000-0000-00000000dead"]
    history = source.instance_cpu_history(asked, end - 5, end, 1)
    assert source.queries == 1
    assert history.values.shape == (len(asked), 6)
    assert history.missing == ("22222222-0000-0000-0000-00000000dead",)
    for row, load in zip(history.values, exporter.instances.values(), strict=False):
        present = row[~np.isnan(row)]
        assert present.size >= 5
        assert present == pytest.approx(np.full(present.size, load.cpu), abs=0.05)
