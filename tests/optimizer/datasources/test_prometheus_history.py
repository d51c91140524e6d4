"""Histories from Prometheus: one range query a metric, aligned on a common grid.

A scripted HTTP server plays Prometheus, so the exact query, holes, absent
instances and broken answers are all under the test's control.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from optimizer.datasources import DatasourceError, HistoryDatasource
from optimizer.datasources.prometheus import (
    DEFAULT_EXPRESSIONS,
    PrometheusDatasource,
    PrometheusSettings,
    time_grid,
)
from tests.optimizer.datasources.fake_prometheus import FakePrometheus, matrix

START, END, STEP = 1_000.0, 1_240.0, 60  # five samples: 1000, 1060, ..., 1240
A, B, C = "uuid-a", "uuid-b", "uuid-c"


@pytest.fixture
def prometheus():
    with FakePrometheus() as fake:
        yield fake


def source(fake: FakePrometheus) -> PrometheusDatasource:
    return PrometheusDatasource(PrometheusSettings(url=fake.url, rate_window="2m", timeout_s=5))


def test_one_range_query_for_all_instances_with_the_exact_promql(prometheus):
    prometheus.reply("query_range", matrix({
        A: [(START + k * STEP, 0.1 * (k + 1)) for k in range(5)],
        B: [(START + k * STEP, 0.5) for k in range(5)]}))
    datasource = source(prometheus)
    history = datasource.instance_cpu_history([B, A], START, END, STEP)
    assert datasource.queries == 1
    expected = DEFAULT_EXPRESSIONS["instance_cpu_util"].replace("{rate}", "2m")
    assert prometheus.requests == [("/api/v1/query_range", {
        "query": expected, "start": "1000.000", "end": "1240.000", "step": "60s"})]
    assert history.keys == (B, A)  # rows follow the order asked
    assert history.times.tolist() == [1000, 1060, 1120, 1180, 1240]
    np.testing.assert_allclose(history.values, [[0.5] * 5, [0.1, 0.2, 0.3, 0.4, 0.5]])
    assert history.missing == () and history.errors == () and history.holes() == 0


def test_holes_are_nan_and_an_absent_instance_is_missing(prometheus):
    prometheus.reply("query_range", matrix({
        A: [(1000, 0.2), (1120, "NaN"), (1240, 0.4)],     # 1060, 1180 absent; 1120 NaN
        B: [(1000, 1.7), (1060, -0.2)],                    # clipped to 0..1
        "uuid-not-asked": [(1000, 0.9)]}))
    history = source(prometheus).history("instance_cpu_util", [A, B, C], START, END, STEP)
    assert history.values.shape == (3, 5)
    assert history.values[0, [0, 4]].tolist() == [0.2, 0.4]
    assert np.isnan(history.values[0, 1:4]).all()
    assert history.values[1, :2].tolist() == [1.0, 0.0]
    assert np.isnan(history.values[2]).all()
    assert history.missing == (C,)
    assert history.has_history().tolist() == [True, True, False]
    assert history.holes() == 3 + 3  # A's three, B's last three
    assert history.errors == ()


def test_series_without_the_label_or_with_bad_samples_are_skipped_with_a_reason(prometheus):
    body = matrix({A: [(1000, 0.3)], B: [(1000, 0.3)]})
    body["data"]["result"][1]["values"] = [[1000, "lots"]]
    body["data"]["result"].append({"metric": {"instance": "x"}, "values": [[1000, "0.1"]]})
    body["data"]["result"].append({"metric": {"uuid": A}, "values": [[1060, "0.9"]]})
    prometheus.reply("query_range", body)
    history = source(prometheus).history("instance_cpu_util", [A, B], START, END, STEP)
    assert history.missing == (B,)
    assert history.values[0, 0] == pytest.approx(0.3) and np.isnan(history.values[0, 1])
    assert len(history.errors) == 3
    assert "uuid=uuid-b: unreadable samples, e.g. [1000, 'lots']" in history.errors[0]
    assert "no label 'uuid'" in history.errors[1]
    assert "uuid=uuid-a: several series, kept the first" in history.errors[2]


def test_http_error_is_one_line_naming_the_query(prometheus):
    prometheus.reply("query_range", {"status": "error", "errorType": "execution",
                                     "error": "query timed out"}, status=503)
    with pytest.raises(DatasourceError) as caught:
        source(prometheus).instance_cpu_history([A], START, END, STEP)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"prometheus at {prometheus.url}/api/v1/query_range: HTTP 503: "
                              "execution: query timed out (query sum by (uuid)")


@pytest.mark.parametrize(("status", "body", "match"), [
    (502, "<html>bad gateway</html>", r"HTTP 502, not JSON: '<html>bad gateway</html>'"),
    (200, '["success"]', r"HTTP 200, not a Prometheus answer"),
    (200, {"status": "success", "data": {"resultType": "vector", "result": []}},
     r"query returned 'vector', not a matrix \(query sum by"),
    (200, {"status": "success", "data": {"resultType": "matrix", "result": {"a": 1}}},
     r"'result' is not a list"),
    (200, {"status": "success"}, r"query returned None, not a matrix"),
])
def test_malformed_answers_are_one_clear_error(prometheus, status, body, match):
    prometheus.reply("query_range", body, status=status)
    with pytest.raises(DatasourceError, match=match) as caught:
        source(prometheus).instance_cpu_history([A], START, END, STEP)
    assert "\n" not in str(caught.value)


def test_values_that_are_not_a_list_are_skipped_for_that_instance(prometheus):
    body = matrix({A: [(1000, 0.3)], B: []})
    body["data"]["result"][1]["values"] = "oops"
    prometheus.reply("query_range", body)
    history = source(prometheus).history("instance_cpu_util", [A, B], START, END, STEP)
    assert history.missing == (B,)
    assert history.errors == ("instance_cpu_util: uuid=uuid-b: 'values' is not a list: oops",)


def test_unknown_metric_and_bad_ranges_are_refused_before_any_query(prometheus):
    datasource = source(prometheus)
    with pytest.raises(DatasourceError, match="unknown metric 'gpu'"):
        datasource.history("gpu", [A], START, END, STEP)
    with pytest.raises(DatasourceError, match="ends .* before it starts"):
        datasource.history("instance_cpu_util", [A], END, START, STEP)
    with pytest.raises(DatasourceError, match="step must be at least 1 s, not 0"):
        datasource.history("instance_cpu_util", [A], START, END, 0)
    with pytest.raises(DatasourceError, match=r"11521 points .* use a step of at least 63 s"):
        datasource.history("instance_cpu_util", [A], 0, 8 * 86400, 60)
    assert len(time_grid(0, 8 * 86400, 63)) <= 11_000
    assert prometheus.requests == []


def test_time_grid_and_the_protocol():
    assert time_grid(0, 600, 300).tolist() == [0, 300, 600]
    assert time_grid(0, 599, 300).tolist() == [0, 300]
    assert math.isclose(time_grid(10, 10, 60)[0], 10)
    assert isinstance(PrometheusDatasource(PrometheusSettings()), HistoryDatasource)
