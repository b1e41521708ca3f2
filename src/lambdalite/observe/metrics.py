"""Counters of finished invocations per function version, and their Prometheus text.

The recorder's thread folds each batch of `Finished` into `Metrics` (off the request path, at most a
flush interval behind); a scrape copies them under the same lock and renders them, with the gauges
read live at that moment (`Live`), through the maintained `prometheus_client` library. Names start
`lambdalite_`; labels are `function` and `version`. Label sets stay bounded: at most `max_series`
(function, version) series (a setting, 1,000 by default), those that come later counted under
`function="_other", version="_other"`; a deleted function's series go with it. Error kinds and
throttle reasons are small fixed sets, never the function's own error types.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from .finished import Finished

OTHER = "_other"
DEFAULT_MAX_SERIES = 1000
# Few buckets on purpose: each is a sample per series, and a scrape of 1,000 series stays < 100 ms.
DURATION_BUCKETS_S = (0.005, 0.025, 0.1, 0.25, 1.0, 5.0, 30.0, 900.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def error_kind(error_type: str | None) -> str:
    """A bounded name for an error: what went wrong, never the function's own exception names."""
    if error_type == "Sandbox.Timedout":
        return "timeout"
    if error_type == "Runtime.OutOfMemory":
        return "out_of_memory"
    if error_type == "Runtime.ExitError":
        return "exit"
    if error_type == "Caller.Abandoned":
        return "abandoned"
    if error_type and error_type.startswith(("Runtime.", "Sandbox.")):
        return "runtime"
    return "function"


def throttle_reason(reason: str | None) -> str:
    return {"BudgetExceeded": "budget", "ReservedFunctionConcurrentInvocationLimitExceeded": "reserved",
            "ConcurrentInvocationLimitExceeded": "account"}.get(reason or "", "other")


@dataclass
class Series:
    invocations: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    throttles: dict[str, int] = field(default_factory=dict)
    buckets: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS_S) + 1))
    duration_sum_s: float = 0.0
    cold_starts: int = 0         # each also adds its init (or restore) time to init_sum_s
    init_sum_s: float = 0.0
    cost: float = 0.0

    def copy(self) -> Series:
        return Series(self.invocations, dict(self.errors), dict(self.throttles), list(self.buckets),
                      self.duration_sum_s, self.cold_starts, self.init_sum_s, self.cost)

    def add(self, f: Finished) -> None:
        self.cost += f.cost
        if f.throttled:
            reason = throttle_reason(f.outcome.error_type)
            self.throttles[reason] = self.throttles.get(reason, 0) + 1
            return
        out = f.outcome
        self.invocations += 1
        if out.function_error:
            kind = error_kind(out.error_type)
            self.errors[kind] = self.errors.get(kind, 0) + 1
        seconds = out.duration_ms / 1000
        self.duration_sum_s += seconds
        self.buckets[_bucket(seconds)] += 1
        if out.init_duration_ms is not None or out.restore_duration_ms is not None:
            self.cold_starts += 1
            self.init_sum_s += ((out.init_duration_ms or 0.0) + (out.restore_duration_ms or 0.0)) / 1000


def _bucket(seconds: float) -> int:
    for i, bound in enumerate(DURATION_BUCKETS_S):
        if seconds <= bound:
            return i
    return len(DURATION_BUCKETS_S)


class Metrics:
    """Thread-safe: the recorder's thread adds, a scrape copies."""

    def __init__(self, max_series: int = DEFAULT_MAX_SERIES) -> None:
        self.max_series = max_series
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str], Series] = {}
        self.budget_warnings = 0

    def observe(self, batch: Iterable[Finished]) -> None:
        with self._lock:
            series = self._series
            for f in batch:
                key = (f.function, f.version)
                s = series.get(key)
                if s is None:
                    if len(series) - ((OTHER, OTHER) in series) >= self.max_series:
                        key = (OTHER, OTHER)
                        s = series.get(key)
                    if s is None:
                        s = series[key] = Series()
                s.add(f)

    def forget(self, function: str) -> None:
        """A deleted function's series go (its slot is free again)."""
        with self._lock:
            for key in [k for k in self._series if k[0] == function]:
                del self._series[key]

    def snapshot(self) -> dict[tuple[str, str], Series]:
        with self._lock:
            return {key: s.copy() for key, s in self._series.items()}

    def totals(self, function: str) -> Series:
        """One function's counts over its versions (for `lambdalite stats`)."""
        out = Series()
        with self._lock:
            for (name, _), s in self._series.items():
                if name == function:
                    out.invocations += s.invocations
                    out.cold_starts += s.cold_starts
                    out.cost += s.cost
                    for kind, n in s.errors.items():
                        out.errors[kind] = out.errors.get(kind, 0) + n
                    for reason, n in s.throttles.items():
                        out.throttles[reason] = out.throttles.get(reason, 0) + n
        return out


@dataclass
class Live:
    """Gauges read at scrape time from the running services."""

    concurrent: dict[str, int] = field(default_factory=dict)          # function -> invocations running
    instances: dict[tuple[str, str], int] = field(default_factory=dict)   # (function, version) -> alive
    zygotes: int = 0
    async_depth: int = 0
    async_oldest_age_s: float = 0.0
    builds: dict[str, int] = field(default_factory=dict)             # result -> environment builds
    budgets: dict[str, float] = field(default_factory=dict)          # scope ("" server) -> spent / budget
    budget_warnings: int = 0
    records_dropped: int = 0
    records_failed: int = 0


class _Collector(Collector):
    def __init__(self, series: dict[tuple[str, str], Series], live: Live, max_series: int) -> None:
        self.series, self.live, self.max_series = series, live, max_series

    def collect(self) -> Iterator[Metric]:
        labels = ["function", "version"]
        invocations = CounterMetricFamily("lambdalite_invocations", "Invocations run (not throttled)", labels=labels)
        errors = CounterMetricFamily("lambdalite_errors", "Invocations that ended in an error, by kind",
                                     labels=[*labels, "kind"])
        throttles = CounterMetricFamily("lambdalite_throttles", "Invocations refused, by reason",
                                        labels=[*labels, "reason"])
        cold = CounterMetricFamily("lambdalite_cold_starts", "Invocations that started a new instance", labels=labels)
        cost = CounterMetricFamily("lambdalite_cost_dollars", "What the invocations would cost on AWS Lambda",
                                   labels=labels)
        init = CounterMetricFamily("lambdalite_init_duration_seconds", "Init (or restore) time of new instances",
                                   labels=labels)
        duration = HistogramMetricFamily("lambdalite_duration_seconds", "Invocation duration", labels=labels)
        bounds = [_bound(b) for b in DURATION_BUCKETS_S] + ["+Inf"]
        for (function, version), s in self.series.items():
            values = [function, version]
            invocations.add_metric(values, s.invocations)
            for kind, n in s.errors.items():
                errors.add_metric([*values, kind], n)
            for reason, n in s.throttles.items():
                throttles.add_metric([*values, reason], n)
            if s.cold_starts:   # counters that stayed 0 are left out: a scrape of 1,000 series stays small
                cold.add_metric(values, s.cold_starts)
                init.add_metric(values, s.init_sum_s)
            if s.cost:
                cost.add_metric(values, s.cost)
            cumulative, buckets = 0, []
            for bound, n in zip(bounds, s.buckets, strict=True):
                cumulative += n
                buckets.append((bound, cumulative))
            duration.add_metric(values, buckets, s.duration_sum_s)
        yield from (invocations, errors, throttles, cold, duration, init, cost)
        yield from self._live()

    def _live(self) -> Iterator[Metric]:
        live = self.live
        concurrent = GaugeMetricFamily("lambdalite_concurrent_executions", "Invocations running now",
                                       labels=["function"])
        for key, n in _bounded((((f,), n) for f, n in live.concurrent.items()), self.max_series):
            concurrent.add_metric(list(key), n)
        instances = GaugeMetricFamily("lambdalite_instances", "Instances alive", labels=["function", "version"])
        for key, n in _bounded(live.instances.items(), self.max_series):
            instances.add_metric(list(key), n)
        builds = CounterMetricFamily("lambdalite_environment_builds", "Dependency environments built, by result",
                                     labels=["result"])
        for result, n in live.builds.items():
            builds.add_metric([result], n)
        budgets = GaugeMetricFamily("lambdalite_budget_used_ratio", "This month's spending over its budget",
                                    labels=["scope"])
        for scope, ratio in live.budgets.items():
            budgets.add_metric([scope or "server"], ratio)
        yield from (concurrent, instances, builds, budgets)
        yield GaugeMetricFamily("lambdalite_zygotes", "Zygotes alive", value=live.zygotes)
        yield GaugeMetricFamily("lambdalite_async_queue_depth", "Async events waiting or running",
                                value=live.async_depth)
        yield GaugeMetricFamily("lambdalite_async_oldest_age_seconds", "Age of the oldest async event",
                                value=live.async_oldest_age_s)
        yield CounterMetricFamily("lambdalite_budget_warnings", "Budget warnings given (50/80/100%)",
                                  value=live.budget_warnings)
        yield CounterMetricFamily("lambdalite_records_dropped", "Invocations whose record was dropped unwritten",
                                  value=live.records_dropped)
        yield CounterMetricFamily("lambdalite_record_batches_failed", "Record batches that could not be written",
                                  value=live.records_failed)


def _bound(seconds: float) -> str:
    return repr(float(seconds))


def _bounded(items: Iterable[tuple[tuple[str, ...], int]], limit: int) -> Sequence[tuple[tuple[str, ...], int]]:
    """At most `limit` label sets, the rest summed under `_other`."""
    out: list[tuple[tuple[str, ...], int]] = []
    other = 0
    for key, n in items:
        if len(out) < limit:
            out.append((key, n))
        else:
            other += n
    if other:
        out.append(((OTHER,) * len(out[0][0]), other))
    return out


def render(metrics: Metrics, live: Live) -> bytes:
    """The Prometheus text exposition of everything."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(metrics.snapshot(), live, metrics.max_series))
    return generate_latest(registry)
