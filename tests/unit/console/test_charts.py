"""The console's charts: the last hour per minute from records, drawn as SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from lambdalite.console.charts import MINUTES, bars, dollars, lines, per_minute

NOW = 10_000_000


def test_records_fall_into_their_minute_oldest_first() -> None:
    rows = [(NOW - 1_000, 10.0, "ok", 0.25), (NOW - 2_000, 30.0, "error", 0.5), (NOW - 61_000, 5.0, "ok", 0.1),
            (NOW - 59 * 60_000 - 1, 7.0, "timeout", 0.1), (NOW - 3_600_001, 1.0, "ok", 0.1),
            (NOW + 5_000, 1.0, "ok", 0.1), (NOW - 3_000, 0.0, "throttled", 0.0)]
    minutes = per_minute(rows, NOW)
    assert len(minutes) == MINUTES
    last, before, first = minutes[-1], minutes[-2], minutes[0]
    assert (last.invocations, last.errors, last.p50, last.p99) == (2, 1, 10.0, 30.0)
    assert (before.invocations, before.p50) == (1, 5.0)
    assert (first.invocations, first.errors) == (1, 1)
    assert sum(m.invocations for m in minutes) == 4   # too old, in the future, throttled: not drawn
    assert dollars(last, 0.2e-6, 1.6667e-5) == 2 * 0.2e-6 + 0.75 * 1.6667e-5


def test_charts_are_svg_with_names_escaped() -> None:
    drawn = bars("Calls <b>", [("calls", "#000", [0, 3, 1] + [0] * (MINUTES - 3))])
    tree = ET.fromstring(drawn)
    assert tree.tag.endswith("svg") and len([e for e in tree.iter() if e.tag.endswith("rect")]) == 2
    assert "<b>" not in drawn and "Calls &lt;b&gt;" in drawn
    drawn = lines("Duration", "ms", [("p99", "#f00", [None, 5.0, 6.0, None, 2.0] + [None] * (MINUTES - 5))])
    tree = ET.fromstring(drawn)
    assert len([e for e in tree.iter() if e.tag.endswith("polyline")]) == 1
    assert len([e for e in tree.iter() if e.tag.endswith("circle")]) == 1   # a lone minute is a dot
