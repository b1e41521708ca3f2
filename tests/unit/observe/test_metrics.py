"""Metrics: counts per function version, bounded label sets, and their Prometheus text."""

from __future__ import annotations

import threading

from prometheus_client.parser import text_string_to_metric_families

from lambdalite.observe.finished import Finished
from lambdalite.observe.metrics import OTHER, Live, Metrics, error_kind, render, throttle_reason
from lambdalite.pool.types import Outcome


def finished(function: str = "f", version: str = "$LATEST", error: str | None = None, duration_ms: float = 3.0,
             init_ms: float | None = None, throttled: str | None = None, cost: float = 0.000001) -> Finished:
    outcome = Outcome(b"{}", error is not None, error or throttled, "", duration_ms, 40, init_ms)
    return Finished(function, version, "python3.12", "us-east-1", "id", 0.0, 128, 3.0, outcome, "s",
                    cost=0.0 if throttled else cost, throttled=throttled is not None)


def samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_invocations_errors_throttles_and_cold_starts_are_counted_per_version() -> None:
    metrics = Metrics()
    metrics.observe([finished(init_ms=50.0), finished(), finished(error="ValueError"),
                     finished(error="Sandbox.Timedout", duration_ms=3000), finished(version="2"),
                     finished(throttled="ReservedFunctionConcurrentInvocationLimitExceeded"),
                     finished(throttled="BudgetExceeded")])
    got = samples(render(metrics, Live()))
    latest = (("function", "f"), ("version", "$LATEST"))
    assert got[("lambdalite_invocations_total", latest)] == 4
    assert got[("lambdalite_invocations_total", (("function", "f"), ("version", "2")))] == 1
    assert got[("lambdalite_errors_total", (*latest[:1], ("kind", "function"), latest[1]))] == 1
    assert got[("lambdalite_errors_total", (*latest[:1], ("kind", "timeout"), latest[1]))] == 1
    assert got[("lambdalite_throttles_total", (*latest[:1], ("reason", "reserved"), latest[1]))] == 1
    assert got[("lambdalite_throttles_total", (*latest[:1], ("reason", "budget"), latest[1]))] == 1
    assert got[("lambdalite_cold_starts_total", latest)] == 1
    assert got[("lambdalite_init_duration_seconds_total", latest)] == 0.05
    assert got[("lambdalite_duration_seconds_count", latest)] == 4
    assert got[("lambdalite_duration_seconds_bucket", (*latest[:1], ("le", "0.005"), latest[1]))] == 3
    assert got[("lambdalite_duration_seconds_bucket", (*latest[:1], ("le", "+Inf"), latest[1]))] == 4
    assert abs(got[("lambdalite_cost_dollars_total", latest)] - 0.000004) < 1e-12


def test_error_kinds_and_throttle_reasons_are_small_fixed_sets() -> None:
    assert {error_kind(t) for t in ("KeyError", "MyOwnError", None)} == {"function"}
    assert [error_kind(t) for t in ("Sandbox.Timedout", "Runtime.OutOfMemory", "Runtime.ExitError",
                                    "Runtime.ImportModuleError", "Caller.Abandoned")] == \
        ["timeout", "out_of_memory", "exit", "runtime", "abandoned"]
    assert [throttle_reason(r) for r in ("BudgetExceeded", "ConcurrentInvocationLimitExceeded", "x", None)] == \
        ["budget", "account", "other", "other"]


def test_label_sets_stay_bounded_and_the_rest_count_as_other() -> None:
    metrics = Metrics(max_series=1000)
    metrics.observe([finished(function=f"fn-{i}") for i in range(2000)])
    series = metrics.snapshot()
    assert len(series) == 1001 and series[(OTHER, OTHER)].invocations == 1000
    metrics.forget("fn-3")
    metrics.observe([finished(function="late")])
    assert ("late", "$LATEST") in metrics.snapshot()


def test_a_deleted_functions_series_go() -> None:
    metrics = Metrics()
    metrics.observe([finished("a"), finished("a", "1"), finished("b")])
    metrics.forget("a")
    assert list(metrics.snapshot()) == [("b", "$LATEST")]
    assert metrics.totals("b").invocations == 1 and metrics.totals("a").invocations == 0


def test_labels_that_need_escaping_are_escaped() -> None:
    metrics = Metrics()
    name = 'we"ird\\name\nx'
    metrics.observe([finished(function=name)])
    text = render(metrics, Live(concurrent={name: 2}))
    assert b'function="we\\"ird\\\\name\\nx"' in text
    got = samples(text)
    assert got[("lambdalite_invocations_total", (("function", name), ("version", "$LATEST")))] == 1
    assert got[("lambdalite_concurrent_executions", (("function", name),))] == 2


def test_live_gauges_are_rendered_and_bounded() -> None:
    live = Live(concurrent={f"f{i}": 1 for i in range(5)}, instances={("f", "$LATEST"): 3}, zygotes=2,
                async_depth=7, async_oldest_age_s=12.5, builds={"installing": 1}, budgets={"": 0.5, "f": 1.2},
                budget_warnings=3, records_dropped=4)
    metrics = Metrics(max_series=3)
    got = samples(render(metrics, live))
    assert got[("lambdalite_concurrent_executions", (("function", OTHER),))] == 2
    assert got[("lambdalite_instances", (("function", "f"), ("version", "$LATEST")))] == 3
    assert got[("lambdalite_zygotes", ())] == 2 and got[("lambdalite_async_queue_depth", ())] == 7
    assert got[("lambdalite_async_oldest_age_seconds", ())] == 12.5
    assert got[("lambdalite_budget_used_ratio", (("scope", "server"),))] == 0.5
    assert got[("lambdalite_budget_used_ratio", (("scope", "f"),))] == 1.2
    assert got[("lambdalite_environment_builds_total", (("result", "installing"),))] == 1
    assert got[("lambdalite_budget_warnings_total", ())] == 3
    assert got[("lambdalite_records_dropped_total", ())] == 4


def test_a_scrape_while_functions_come_and_go_never_fails() -> None:
    metrics = Metrics()
    stop = threading.Event()

    def churn() -> None:
        i = 0
        while not stop.is_set():
            metrics.observe([finished(function=f"f{i % 50}")])
            metrics.forget(f"f{(i + 25) % 50}")
            i += 1
    worker = threading.Thread(target=churn)
    worker.start()
    try:
        for _ in range(50):
            samples(render(metrics, Live()))
    finally:
        stop.set()
        worker.join()
