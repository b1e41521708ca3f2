"""An invocation that finished, as facts; its record and its log text are derived from them.

The invoke path only builds the `Finished` tuple and hands it to the recorder: the CloudWatch-style
text and the record are made by the recorder's thread (or at once, for `LogType: Tail`).
"""

from __future__ import annotations

from typing import NamedTuple

from ..pool.types import Outcome
from ..store import CostRow, InvocationRecord, LogEvent
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
    qualifier: str | None = None        # an alias or version, as invoked
    invocation_type: str = "RequestResponse"
    arch: str = "x86_64"
    cost: float = 0.0         # dollars (spending.Spending.charge)
    gb_seconds: float = 0.0
    day: str = ""             # YYYY-MM-DD it was charged to (server clock)
    throttled: bool = False   # refused (outcome.error_type holds the reason): recorded, not logged
    quiet: bool = False       # counted (cost, metrics) but neither recorded nor logged
    log_format: str = "Text"  # LoggingConfig LogFormat: Text or JSON


def log_text(f: Finished) -> str:
    out = f.outcome
    if f.log_format == "JSON":
        status = "success" if not out.function_error else \
            "timeout" if out.error_type == "Sandbox.Timedout" else "error"
        return loglines.compose_json(f.request_id, f.version, out.output, f.started, out.duration_ms, f.memory_mb,
                                     out.max_memory_mb, out.init_duration_ms, f.runtime, f.region, status,
                                     out.error_type, out.restore_duration_ms)
    after = loglines.timeout_line(f.request_id, f.timeout_s, f.started + out.duration_ms / 1000) \
        if out.error_type == "Sandbox.Timedout" else None
    restored = out.restore_duration_ms is not None
    cold = loglines.init_start_line(f.runtime, f.region, restored) if out.init_duration_ms or restored else None
    return loglines.compose(f.request_id, f.version, out.output, out.duration_ms, f.memory_mb, out.max_memory_mb,
                            out.init_duration_ms, cold, after, out.restore_duration_ms)


def outcome_of(f: Finished) -> str:
    out = f.outcome
    if f.throttled:
        return "throttled"
    if not out.function_error:
        return "ok"
    return {"Sandbox.Timedout": "timeout", "Runtime.OutOfMemory": "out_of_memory"}.get(out.error_type or "", "error")


def record_of(f: Finished) -> InvocationRecord:
    out = f.outcome
    billed = 0 if f.throttled else loglines.billed_ms(out.duration_ms, out.init_duration_ms)
    return InvocationRecord(
        request_id=f.request_id, function=f.function, version=f.version, started_ms=int(f.started * 1000),
        duration_ms=round(out.duration_ms, 3), billed_ms=billed, memory_mb=f.memory_mb,
        max_memory_mb=out.max_memory_mb, init_ms=out.init_duration_ms, outcome=outcome_of(f),
        error_type=out.error_type, qualifier=f.qualifier, invocation_type=f.invocation_type,
        cold=out.init_duration_ms is not None or out.restore_duration_ms is not None,
        restore_ms=out.restore_duration_ms, cost=f.cost, arch=f.arch)


def cost_of(f: Finished) -> CostRow:
    return CostRow(f.day, f.function, f.version, f.arch, 0 if f.throttled else 1, f.gb_seconds, f.cost)


def log_event_of(f: Finished) -> LogEvent:
    return LogEvent(f.function, int(f.started * 1000), f.request_id, log_text(f), f.stream)
