"""The cost table, a function's stats and CloudWatch's datapoints, made from rows."""

from __future__ import annotations

import math

import pytest

from lambdalite.observe.reports import concurrency, cost_report, datapoints, percentile, stats
from lambdalite.store import CostRow

ROWS = [CostRow("2026-12-01", "a", "$LATEST", "x86_64", 10, 1.0, 0.3),
        CostRow("2026-12-02", "a", "1", "x86_64", 5, 0.5, 0.2),
        CostRow("2026-12-02", "b", "$LATEST", "arm64", 1, 2.0, 0.9)]


def test_cost_by_function_puts_the_dearest_first_with_a_total() -> None:
    report = cost_report(ROWS, "function")
    assert [(x["function"], x["requests"], x["dollars"]) for x in report["lines"]] == [("b", 1, 0.9), ("a", 15, 0.5)]
    assert report["total"] == {"requests": 16, "gbSeconds": 3.5, "dollars": 1.4}


def test_cost_by_version_and_by_day() -> None:
    assert [(x["function"], x["version"]) for x in cost_report(ROWS, "version")["lines"]] == \
        [("b", "$LATEST"), ("a", "$LATEST"), ("a", "1")]
    days = cost_report(ROWS, "day")["lines"]
    assert [(x["day"], x["requests"]) for x in days] == [("2026-12-01", 10), ("2026-12-02", 6)]
    assert cost_report([], "day") == {"by": "day", "lines": [],
                                      "total": {"requests": 0, "gbSeconds": 0.0, "dollars": 0.0}}


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50 and percentile(values, 99) == 99 and percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7.0 and math.isnan(percentile([], 50))


def test_stats_count_errors_throttles_and_cold_starts() -> None:
    rows = [(10.0, "ok", 1), (20.0, "ok", 0), (30.0, "error", 0), (40.0, "timeout", 0), (0.0, "throttled", 0)]
    got = stats(rows)
    assert got["invocations"] == 4 and got["errors"] == 2 and got["throttles"] == 1
    assert got["errorRate"] == 0.5 and got["p50Ms"] == 20.0 and got["p99Ms"] == 40.0
    assert got["coldStarts"] == 1 and got["coldStartShare"] == 0.25
    assert stats([])["p50Ms"] is None and stats([])["errorRate"] == 0.0


SAMPLES = [(0, 5.0, "ok"), (10_000, 7.0, "error"), (61_000, 3.0, "ok"), (62_000, 0.0, "throttled"),
           (130_000, 100.0, "timeout")]


def test_invocations_are_summed_per_period_without_throttles() -> None:
    points = datapoints("Invocations", SAMPLES, 0, 180_000, 60, ["Sum", "SampleCount"], [])
    assert [(p["Timestamp"], p["Sum"]) for p in points] == [(0.0, 2.0), (60.0, 1.0), (120.0, 1.0)]
    assert all(p["Unit"] == "Count" for p in points)


def test_errors_average_is_the_error_rate() -> None:
    points = datapoints("Errors", SAMPLES, 0, 180_000, 60, ["Sum", "Average"], [])
    assert [(p["Sum"], p["Average"]) for p in points] == [(1.0, 0.5), (0.0, 0.0), (1.0, 1.0)]


def test_throttles_and_durations() -> None:
    assert [p["Sum"] for p in datapoints("Throttles", SAMPLES, 0, 180_000, 60, ["Sum"], [])] == [1.0]
    (first, *_) = datapoints("Duration", SAMPLES, 0, 180_000, 60, ["Minimum", "Maximum", "Average"], ["p99"])
    assert (first["Minimum"], first["Maximum"], first["Average"], first["Unit"]) == (5.0, 7.0, 6.0, "Milliseconds")
    assert first["ExtendedStatistics"] == {"p99": 7.0}


def test_the_window_is_respected_and_unknown_metrics_have_no_points() -> None:
    assert [p["Timestamp"] for p in datapoints("Invocations", SAMPLES, 60_000, 120_000, 60, ["Sum"], [])] == [60.0]
    assert datapoints("Nope", SAMPLES, 0, 180_000, 60, ["Sum"], []) == []


def test_concurrent_executions_are_the_most_running_at_once() -> None:
    rows = [(0, 100.0, "ok"), (50, 100.0, "ok"), (60, 10.0, "ok"), (100, 5.0, "ok"), (500, 1.0, "ok"),
            (70, 0.0, "throttled")]
    assert concurrency(rows, 0, 1000, 1000) == {0: 3}
    assert concurrency(rows, 0, 1000, 250) == {0: 3, 500: 1}
    points = datapoints("ConcurrentExecutions", rows, 0, 1000, 1, ["Maximum"], [])
    assert points == [{"Timestamp": 0.0, "Unit": "Count", "Maximum": 3.0}]


@pytest.mark.parametrize("by", ["function", "version", "day"])
def test_every_grouping_totals_the_same(by: str) -> None:
    assert cost_report(ROWS, by)["total"]["dollars"] == pytest.approx(1.4)
