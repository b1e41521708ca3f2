"""Champion and challenger side by side: what each version behind an alias answered, and shadow
traffic (a Lambdalite extension) compared with the caller's answer.

`Traffic.record` runs on the invoke path of an alias (a few dict and deque operations). A shadow call
is queued there and run later by one background worker, never before the caller has its answer:
the queue is bounded, a call that finds it full is dropped, and so is one that the worker takes
while the machine is busy (as many invocations running as cores); every drop is counted. Shadow
instances are separate from the caller's (their own pool) and run at a lower CPU priority.

Figures are kept in memory, per (function, alias): they start again at a server restart.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("lambdalite.traffic")

QUEUE = 256            # shadow calls waiting at most; more are dropped
LATENCIES = 2000       # recent latencies kept per version (p50 / p99 are computed over them)
SAMPLES = 10           # differing pairs kept, the most recent
SAMPLE_BYTES = 2048    # of each answer in a sample

# A shadow call: (function version to run, invoked ARN, payload) -> (body, function error?, error type, ms)
RunShadow = Callable[[Any, str, bytes], Awaitable[tuple[bytes, bool, str | None, float]]]


def _percentile(values: collections.deque[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


@dataclass
class VersionFigures:
    invocations: int = 0
    errors: int = 0
    latencies: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=LATENCIES))

    def view(self, total: int) -> dict[str, Any]:
        return {"invocations": self.invocations, "errors": self.errors,
                "share": round(self.invocations / total, 4) if total else 0.0,
                "p50Ms": _percentile(self.latencies, 0.5), "p99Ms": _percentile(self.latencies, 0.99)}


@dataclass
class ShadowFigures:
    version: str
    compare: str | None = None   # the part of the answers compared (None: all of it)
    queued: int = 0
    dropped_full: int = 0        # the queue was full
    dropped_busy: int = 0        # the machine was busy when its turn came
    ran: int = 0
    equal: int = 0
    different: int = 0
    shadow_errors: int = 0       # the shadow raised (and the caller's call did not)
    shadow_timeouts: int = 0
    shadow_missing: int = 0      # the shadow version is gone
    primary_ms: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=LATENCIES))
    shadow_ms: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=LATENCIES))
    samples: collections.deque[dict[str, Any]] = field(default_factory=lambda: collections.deque(maxlen=SAMPLES))

    def view(self) -> dict[str, Any]:
        compared = self.equal + self.different + self.shadow_errors + self.shadow_timeouts
        return {
            "version": self.version, "compare": self.compare, "queued": self.queued, "ran": self.ran,
            "dropped": self.dropped_full + self.dropped_busy,
            "droppedQueueFull": self.dropped_full, "droppedBusy": self.dropped_busy,
            "equal": self.equal, "different": self.different, "shadowErrors": self.shadow_errors,
            "shadowTimeouts": self.shadow_timeouts, "shadowMissing": self.shadow_missing,
            "agreement": round(self.equal / compared, 4) if compared else None,
            "primaryP50Ms": _percentile(self.primary_ms, 0.5), "primaryP99Ms": _percentile(self.primary_ms, 0.99),
            "shadowP50Ms": _percentile(self.shadow_ms, 0.5), "shadowP99Ms": _percentile(self.shadow_ms, 0.99),
            "samples": list(self.samples),
        }


@dataclass
class AliasFigures:
    versions: dict[str, VersionFigures] = field(default_factory=dict)
    shadow: ShadowFigures | None = None
    since: float = field(default_factory=time.time)


class _ShadowCall:
    __slots__ = ("key", "figures", "fn", "arn", "payload", "body", "error", "ms")

    def __init__(self, key: tuple[str, str], figures: ShadowFigures, fn: Any, arn: str, payload: bytes,
                 body: bytes, error: bool, ms: float) -> None:
        self.key, self.figures, self.fn, self.arn, self.payload = key, figures, fn, arn, payload
        self.body, self.error, self.ms = body, error, ms


_MISSING = object()


def comparable(body: bytes, path: str | None = None) -> object:
    """What is compared of an answer: its JSON value (a proxy response's JSON body parsed too, so
    key order and spacing never matter), or with `path` (dotted: `body.class`, `items.0`) that part."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body if path is None else _MISSING
    if isinstance(value, dict) and "statusCode" in value and isinstance(value.get("body"), str):
        try:
            value = {**value, "body": json.loads(value["body"])}
        except ValueError:
            pass
    for key in path.split(".") if path else ():
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return _MISSING
    return value


def compare(primary: bytes, primary_error: bool, shadow: bytes, shadow_error: bool,
            shadow_error_type: str | None, path: str | None = None) -> str:
    """equal | different | shadow_error | shadow_timeout (`path`: compare only that part)."""
    if shadow_error_type == "Sandbox.Timedout":
        return "shadow_timeout"
    if shadow_error and not primary_error:
        return "shadow_error"
    if path is None and primary == shadow:
        return "equal"
    ours, theirs = comparable(primary, path), comparable(shadow, path)
    return "equal" if ours is not _MISSING and ours == theirs else "different"


_COUNTERS = {"equal": "equal", "different": "different", "shadow_error": "shadow_errors",
             "shadow_timeout": "shadow_timeouts"}


def _text(body: bytes) -> str:
    return body[:SAMPLE_BYTES].decode("utf-8", errors="replace")


class Traffic:
    def __init__(self, run_shadow: RunShadow, busy: Callable[[], bool]) -> None:
        self._run_shadow = run_shadow
        self._busy = busy
        self._figures: dict[tuple[str, str], AliasFigures] = {}
        self._queue: collections.deque[_ShadowCall] = collections.deque()
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None

    def figures(self, function: str, alias: str) -> AliasFigures:
        key = (function, alias)
        found = self._figures.get(key)
        if found is None:
            found = self._figures[key] = AliasFigures()
        return found

    def forget(self, function: str, alias: str | None = None) -> None:
        for key in [k for k in self._figures if k[0] == function and (alias is None or k[1] == alias)]:
            del self._figures[key]

    def record(self, function: str, alias: str, version: str, error: bool, ms: float) -> None:
        figures = self.figures(function, alias)
        version_figures = figures.versions.get(version)
        if version_figures is None:
            version_figures = figures.versions[version] = VersionFigures()
        version_figures.invocations += 1
        version_figures.errors += error
        version_figures.latencies.append(ms)

    def shadow(self, function: str, alias: str, shadow_version: str, fn: Any, arn: str, payload: bytes,
               body: bytes, error: bool, ms: float, path: str | None = None) -> None:
        """Queue a shadow call of `fn` (None: the version is gone) with the caller's answer to compare
        (all of it, or the part `path` names)."""
        figures = self.figures(function, alias)
        if figures.shadow is None or (figures.shadow.version, figures.shadow.compare) != (shadow_version, path):
            figures.shadow = ShadowFigures(shadow_version, path)
        shadow = figures.shadow
        if fn is None:
            shadow.shadow_missing += 1
            return
        if len(self._queue) >= QUEUE:
            shadow.dropped_full += 1
            return
        shadow.queued += 1
        self._queue.append(_ShadowCall((function, alias), shadow, fn, arn, payload, body, error, ms))
        if self._worker is None or self._worker.done():
            self._wake = asyncio.Event()
            self._worker = asyncio.get_running_loop().create_task(self._work())
        elif self._wake is not None:
            self._wake.set()

    async def _work(self) -> None:
        """One shadow call at a time, each only while the machine has a core to spare."""
        assert self._wake is not None
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            call = self._queue.popleft()
            if self._busy():
                call.figures.dropped_busy += 1
                await asyncio.sleep(0)
                continue
            try:
                body, error, error_type, ms = await self._run_shadow(call.fn, call.arn, call.payload)
            except Exception:   # noqa: BLE001 - a shadow's failure is only counted: the caller was served
                log.exception("a shadow call of %s failed", call.key[0])
                call.figures.shadow_errors += 1
                continue
            self._compared(call, body, error, error_type, ms)

    @staticmethod
    def _compared(call: _ShadowCall, body: bytes, error: bool, error_type: str | None, ms: float) -> None:
        figures = call.figures
        figures.ran += 1
        figures.primary_ms.append(call.ms)
        figures.shadow_ms.append(ms)
        verdict = compare(call.body, call.error, body, error, error_type, figures.compare)
        counter = _COUNTERS[verdict]
        setattr(figures, counter, getattr(figures, counter) + 1)
        if verdict != "equal":
            figures.samples.append({"verdict": verdict, "request": _text(call.payload or b"{}"),
                                    "primary": _text(call.body), "shadow": _text(body), "at": round(time.time(), 3)})

    def view(self, function: str, alias: str) -> dict[str, Any]:
        figures = self._figures.get((function, alias)) or AliasFigures()
        total = sum(v.invocations for v in figures.versions.values())
        return {"function": function, "alias": alias, "since": round(figures.since, 3), "invocations": total,
                "versions": {v: f.view(total) for v, f in sorted(figures.versions.items())},
                "shadow": figures.shadow.view() if figures.shadow is not None else None}

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
