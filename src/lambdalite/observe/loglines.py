"""CloudWatch-style platform lines around an invocation's own output (pure functions).

START uses a space before `Version:`; REPORT's fields are TAB-separated and the line ends with a
TAB, as AWS writes them. With LoggingConfig LogFormat JSON the platform lines are JSON records
instead (`platform.initStart`, `platform.start`, `platform.report` with its metrics and status), as
Lambda writes them to CloudWatch; the function's own output is as it wrote it. Billed Duration
rounds up to the next millisecond and, as on AWS since August 2025 for ZIP functions, includes the
Init Duration on a cold start.
"""

from __future__ import annotations

import json
import math
import time


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def billed_ms(duration_ms: float, init_ms: float | None) -> int:
    return max(1, math.ceil(duration_ms + (init_ms or 0.0)))


def report_line(request_id: str, duration_ms: float, memory_mb: int, max_memory_mb: int,
                init_ms: float | None, restore_ms: float | None = None) -> str:
    fields = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {billed_ms(duration_ms, init_ms)} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_memory_mb} MB",
    ]
    if init_ms is not None:
        fields.append(f"Init Duration: {init_ms:.2f} ms")
    if restore_ms is not None:   # an instance restored from a snapshot (SnapStart's two fields)
        fields.append(f"Restore Duration: {restore_ms:.2f} ms")
        fields.append(f"Billed Restore Duration: {max(1, math.ceil(restore_ms))} ms")
    return "\t".join(fields) + "\t"


def init_start_line(runtime: str, region: str, restore: bool = False) -> str:
    version = runtime.replace("python", "python:") + ".lambdalite"
    phase = "RESTORE_START" if restore else "INIT_START"
    return f"{phase} Runtime Version: {version}\tRuntime Version ARN: arn:aws:lambda:{region}::runtime:lambdalite"


def timeout_line(request_id: str, timeout_s: float, now: float | None = None) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now or time.time()))
    ms = int(((now or time.time()) % 1) * 1000)
    return f"{stamp}.{ms:03d}Z {request_id} Task timed out after {timeout_s:.2f} seconds"


def compose(request_id: str, version: str, output: str, duration_ms: float, memory_mb: int,
            max_memory_mb: int, init_ms: float | None, cold_start_line: str | None = None,
            after: str | None = None, restore_ms: float | None = None) -> str:
    """The invocation's whole log text, as `LogType: Tail` returns its last 4 KB."""
    parts = []
    if cold_start_line:
        parts.append(cold_start_line + "\n")
    parts.append(start_line(request_id, version) + "\n")
    if output:
        parts.append(output if output.endswith("\n") else output + "\n")
    parts.append(end_line(request_id) + "\n")
    parts.append(report_line(request_id, duration_ms, memory_mb, max_memory_mb, init_ms, restore_ms) + "\n")
    if after:
        parts.append(after + "\n")
    return "".join(parts)


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch * 1000) % 1000:03d}Z"


def compose_json(request_id: str, version: str, output: str, started: float, duration_ms: float, memory_mb: int,
                 max_memory_mb: int, init_ms: float | None, runtime: str, region: str, status: str,
                 error_type: str | None = None, restore_ms: float | None = None) -> str:
    """The invocation's log text in the JSON log format: platform records around the output."""
    ended = started + duration_ms / 1000
    records: list[str] = []
    if init_ms is not None or restore_ms is not None:
        version_name = runtime.replace("python", "python:") + ".lambdalite"
        records.append(_record(started, "platform.restoreStart" if restore_ms is not None else "platform.initStart", {
            "initializationType": "snap-start" if restore_ms is not None else "on-demand",
            "phase": "init", "runtimeVersion": version_name,
            "runtimeVersionArn": f"arn:aws:lambda:{region}::runtime:lambdalite"}))
    records.append(_record(started, "platform.start", {"requestId": request_id, "version": version}))
    lines = [*records]
    if output:
        lines.append(output[:-1] if output.endswith("\n") else output)
    metrics: dict[str, float | int] = {"durationMs": round(duration_ms, 3),
                                       "billedDurationMs": billed_ms(duration_ms, init_ms),
                                       "memorySizeMB": memory_mb, "maxMemoryUsedMB": max_memory_mb}
    if init_ms is not None:
        metrics["initDurationMs"] = round(init_ms, 3)
    if restore_ms is not None:
        metrics["restoreDurationMs"] = round(restore_ms, 3)
        metrics["billedRestoreDurationMs"] = max(1, math.ceil(restore_ms))
    report: dict[str, object] = {"requestId": request_id, "metrics": metrics, "status": status}
    if error_type and status != "success":
        report["errorType"] = error_type
    lines.append(_record(ended, "platform.report", report))
    return "\n".join(lines) + "\n"


def _record(at: float, kind: str, record: dict[str, object]) -> str:
    return json.dumps({"time": iso(at), "type": kind, "record": record}, separators=(",", ":"))
