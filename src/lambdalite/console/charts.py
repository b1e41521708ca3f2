"""The console's charts, drawn on the server as SVG: a function's last hour per minute (invocations and
errors as bars, p50 and p99 duration as lines). No chart library: a few rectangles and polylines,
escaped text, nothing for the browser to run. Pure."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT, PAD = 560, 140, 28
MINUTES = 60
CHART_SAMPLE = 20_000   # a busy function's charts are drawn from its latest calls, this many at most


@dataclass(frozen=True)
class Minute:
    invocations: int
    errors: int
    p50: float | None
    p99: float | None
    gb_seconds: float = 0.0


def per_minute(rows: Iterable[tuple[int, float, str, float]], now_ms: int) -> list[Minute]:
    """The last MINUTES minutes (oldest first) from (started ms, duration ms, outcome, billed GB-s) rows."""
    durations: list[list[float]] = [[] for _ in range(MINUTES)]
    errors = [0] * MINUTES
    gb_seconds = [0.0] * MINUTES
    for started, duration, outcome, gb_s in rows:
        age = (now_ms - started) // 60_000
        if 0 <= age < MINUTES:
            slot = MINUTES - 1 - int(age)
            if outcome != "throttled":
                durations[slot].append(duration)
                gb_seconds[slot] += gb_s
            if outcome not in ("ok", "throttled"):
                errors[slot] += 1
    out = []
    for slot in range(MINUTES):
        ordered = sorted(durations[slot])
        out.append(Minute(len(ordered), errors[slot], _quantile(ordered, 0.5), _quantile(ordered, 0.99),
                          gb_seconds[slot]))
    return out


def dollars(minute: Minute, per_request: float, per_gb_second: float) -> float:
    """What a minute's calls would cost on AWS Lambda at the first tier's price (no free tier)."""
    return minute.invocations * per_request + minute.gb_seconds * per_gb_second


def _quantile(ordered: Sequence[float], q: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def bars(title: str, series: Sequence[tuple[str, str, Sequence[float]]]) -> str:
    """Bars per minute, one colour per series (drawn over each other: errors over invocations)."""
    top = max([1.0, *(v for _, _, values in series for v in values)])
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    step = inner_w / MINUTES
    shapes = []
    for name, colour, values in series:
        for i, value in enumerate(values):
            if value:
                h = inner_h * value / top
                shapes.append(f'<rect x="{PAD + i * step:.1f}" y="{PAD + inner_h - h:.1f}" '
                              f'width="{max(1.0, step - 1):.1f}" height="{h:.1f}" fill="{colour}">'
                              f'<title>{escape(name)}: {value:g}</title></rect>')
    return _frame(title, f"{top:g}", shapes, series)


def lines(title: str, unit: str, series: Sequence[tuple[str, str, Sequence[float | None]]]) -> str:
    """Lines per minute; a minute without calls is a gap."""
    top = max([1.0, *(v for _, _, values in series for v in values if v is not None)])
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    step = inner_w / MINUTES
    shapes = []
    for name, colour, values in series:
        run: list[str] = []
        for i, value in enumerate([*values, None]):
            if value is not None:
                run.append(f"{PAD + (i + 0.5) * step:.1f},{PAD + inner_h - inner_h * value / top:.1f}")
                continue
            if len(run) == 1:
                x, y = run[0].split(",")
                shapes.append(f'<circle cx="{x}" cy="{y}" r="2" fill="{colour}"/>')
            elif run:
                shapes.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{" ".join(run)}">'
                              f'<title>{escape(name)}</title></polyline>')
            run = []
    return _frame(title, f"{top:.3g} {unit}" if top < 0.1 else f"{top:.1f} {unit}", shapes, series)


def _frame(title: str, top: str, shapes: list[str], series: Sequence[tuple[str, str, object]]) -> str:
    legend = "".join(f'<tspan fill="{colour}">■ {escape(name)} </tspan>' for name, colour, _ in series)
    base = HEIGHT - PAD
    return (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
            f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
            f'<text x="{PAD}" y="16" font-size="12" font-weight="600">{escape(title)}</text>'
            f'<text x="{WIDTH - PAD}" y="16" font-size="11" text-anchor="end">{legend}</text>'
            f'<text x="{PAD - 4}" y="{PAD + 4}" font-size="10" text-anchor="end" fill="#5f6b7a">{escape(top)}</text>'
            f'<line x1="{PAD}" y1="{base}" x2="{WIDTH - PAD}" y2="{base}" stroke="#aab7b8"/>'
            f'<text x="{PAD}" y="{base + 14}" font-size="10" fill="#5f6b7a">60 min ago</text>'
            f'<text x="{WIDTH - PAD}" y="{base + 14}" font-size="10" text-anchor="end" fill="#5f6b7a">now</text>'
            + "".join(shapes) + "</svg>")
