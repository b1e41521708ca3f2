"""Numbers made from the records (pure): the cost table, a function's stats, CloudWatch datapoints.

The store hands rows over; nothing here touches it. CloudWatch's `AWS/Lambda` metrics are made
from the invocation records as CloudWatch would aggregate them: Invocations (throttled calls not
counted), Errors (1 per failed invocation, 0 per good one: its Average is the error rate),
Throttles, Duration (milliseconds), ConcurrentExecutions (the most invocations running at once in
the period).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from ..store import CostRow

BY = ("function", "version", "day")
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
METRICS = {"Invocations": "Count", "Errors": "Count", "Throttles": "Count", "Duration": "Milliseconds",
           "ConcurrentExecutions": "Count"}
ERROR_OUTCOMES = ("error", "timeout", "out_of_memory")


def cost_report(rows: Iterable[CostRow], by: str) -> dict[str, Any]:
    """The cost rows summed per function, function version or day, the dearest first (days in order)."""
    lines: dict[tuple[str, ...], list[float]] = {}
    for row in rows:
        key = {"function": (row.function,), "version": (row.function, row.version), "day": (row.day,)}[by]
        total = lines.setdefault(key, [0, 0.0, 0.0])
        total[0] += row.requests
        total[1] += row.gb_seconds
        total[2] += row.dollars
    names = {"function": ("function",), "version": ("function", "version"), "day": ("day",)}[by]
    ordered = sorted(lines.items(), key=(lambda kv: kv[0]) if by == "day" else (lambda kv: (-kv[1][2], kv[0])))
    out: list[dict[str, Any]] = [{**dict(zip(names, key, strict=True)), "requests": int(r), "gbSeconds": round(g, 6),
                                  "dollars": d} for key, (r, g, d) in ordered]
    totals = [sum(v[i] for v in lines.values()) for i in range(3)]
    return {"by": by, "lines": out, "total": {"requests": int(totals[0]), "gbSeconds": round(totals[1], 6),
                                              "dollars": totals[2]}}


def percentile(ordered: Sequence[float], p: float) -> float:
    """The nearest-rank percentile of sorted values (CloudWatch's pNN)."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def stats(rows: Iterable[tuple[float, str, int]]) -> dict[str, Any]:
    """(duration ms, outcome, cold) of each record -> count, errors, throttles, percentiles, cold share."""
    durations, errors, throttles, cold = [], 0, 0, 0
    for duration, outcome, was_cold in rows:
        if outcome == "throttled":
            throttles += 1
            continue
        durations.append(duration)
        errors += outcome in ERROR_OUTCOMES
        cold += bool(was_cold)
    durations.sort()
    count = len(durations)

    def p(n: float) -> float | None:
        return round(percentile(durations, n), 3) if durations else None
    return {"invocations": count, "errors": errors, "throttles": throttles,
            "errorRate": round(errors / count, 6) if count else 0.0,
            "p50Ms": p(50), "p90Ms": p(90), "p99Ms": p(99), "maxMs": round(durations[-1], 3) if durations else None,
            "coldStarts": cold, "coldStartShare": round(cold / count, 6) if count else 0.0}


def values_of(metric: str, rows: Sequence[tuple[int, float, str]]) -> list[tuple[int, float]]:
    """(start ms, value) samples of a metric from (start ms, duration ms, outcome) records."""
    if metric == "Invocations":
        return [(t, 1.0) for t, _, o in rows if o != "throttled"]
    if metric == "Errors":
        return [(t, 1.0 if o in ERROR_OUTCOMES else 0.0) for t, _, o in rows if o != "throttled"]
    if metric == "Throttles":
        return [(t, 1.0) for t, _, o in rows if o == "throttled"]
    if metric == "Duration":
        return [(t, d) for t, d, o in rows if o != "throttled"]
    return []


def datapoints(metric: str, rows: Sequence[tuple[int, float, str]], start_ms: int, end_ms: int, period_s: int,
               statistics: Sequence[str], extended: Sequence[str]) -> list[dict[str, Any]]:
    """CloudWatch's datapoints: one per period with samples, oldest first."""
    period_ms = period_s * 1000
    buckets: dict[int, list[float]] = {}
    if metric == "ConcurrentExecutions":
        for at, most in concurrency(rows, start_ms, end_ms, period_ms).items():
            buckets[at] = [float(most)]
    else:
        for t, value in values_of(metric, rows):
            if start_ms <= t < end_ms:
                buckets.setdefault(start_ms + (t - start_ms) // period_ms * period_ms, []).append(value)
    out = []
    for at in sorted(buckets):
        values = buckets[at]
        point: dict[str, Any] = {"Timestamp": at / 1000, "Unit": METRICS.get(metric, "None")}
        for name in statistics:
            point[name] = statistic(name, values)
        if extended:
            ordered = sorted(values)
            point["ExtendedStatistics"] = {name: percentile(ordered, float(name[1:])) for name in extended}
        out.append(point)
    return out


def statistic(name: str, values: Sequence[float]) -> float:
    if name == "SampleCount":
        return float(len(values))
    if name == "Sum":
        return float(sum(values))
    if name == "Average":
        return sum(values) / len(values)
    if name == "Minimum":
        return min(values)
    return max(values)


def concurrency(rows: Sequence[tuple[int, float, str]], start_ms: int, end_ms: int,
                period_ms: int) -> dict[int, int]:
    """The most invocations running at once in each period (a sweep over starts and ends)."""
    edges: list[tuple[float, int]] = []
    for t, duration, outcome in rows:
        if outcome != "throttled":
            edges.append((t, 1))
            edges.append((t + max(duration, 0.001), -1))
    edges.sort()   # an end sorts before a start at the same instant
    out: dict[int, int] = {}
    running = 0
    for at, step in edges:
        running += step
        if step > 0 and start_ms <= at < end_ms:
            bucket = start_ms + int((at - start_ms) // period_ms) * period_ms
            out[bucket] = max(out.get(bucket, 0), running)
    return out
