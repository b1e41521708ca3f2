"""An invocation that finished, as facts; its record and its log text are derived from them.

The invoke path only builds the `Finished` tuple and hands it to the recorder: the CloudWatch-style
text and the record are made by the recorder's thread (or at once, for `LogType: Tail`).
"""

from __future__ import annotations

from typing import NamedTuple

from ..pool.types import Outcome
from ..store import InvocationRecord, LogEvent
from . import loglines


class Finished(NamedTuple):
    function: str
    version: str
    runtime: str
    region: str
    request_id: str
    started: float            # epoch seconds
    memory_mb: int
    timeout_s: float
    outcome: Outcome
    stream: str = ""          # the log stream its lines go to


def log_text(f: Finished) -> str:
    out = f.outcome
    after = loglines.timeout_line(f.request_id, f.timeout_s, f.started + out.duration_ms / 1000) \
        if out.error_type == "Sandbox.Timedout" else None
    restored = out.restore_duration_ms is not None
    cold = loglines.init_start_line(f.runtime, f.region, restored) if out.init_duration_ms or restored else None
    return loglines.compose(f.request_id, f.version, out.output, out.duration_ms, f.memory_mb, out.max_memory_mb,
                            out.init_duration_ms, cold, after, out.restore_duration_ms)


def record_of(f: Finished) -> InvocationRecord:
    out = f.outcome
    return InvocationRecord(
        request_id=f.request_id, function=f.function, version=f.version, started_ms=int(f.started * 1000),
        duration_ms=round(out.duration_ms, 3), billed_ms=loglines.billed_ms(out.duration_ms, out.init_duration_ms),
        memory_mb=f.memory_mb, max_memory_mb=out.max_memory_mb, init_ms=out.init_duration_ms,
        outcome="error" if out.function_error else "ok", error_type=out.error_type)


def log_event_of(f: Finished) -> LogEvent:
    return LogEvent(f.function, int(f.started * 1000), f.request_id, log_text(f), f.stream)
