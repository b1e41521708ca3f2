"""The invoker: from a function reference and an event to the answer Lambda gives.

It reads the functions' in-memory snapshot (never SQLite), keeps one immutable InstanceSpec per
function revision, runs the invocation on the pool backend, turns instance failures into Lambda's
error shapes (Sandbox.Timedout, Runtime.ExitError), writes the CloudWatch-style lines around the
function's output, prices the invocation (refusing it once a budget is spent), and hands the
record and the log lines to the recorder (written in batches, off the request path). A throttled
invocation is recorded too (no log lines, no charge).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import time
from typing import NamedTuple

from .. import errors
from ..functions.model import FunctionVersion
from ..functions.names import qualifier_of
from ..functions.service import FunctionService
from ..ids import request_id as new_request_id
from ..observe.finished import Finished, log_text
from ..observe.loglines import billed_ms
from ..observe.recorder import Recorder
from ..observe.spending import Budgets
from ..pool.types import Backend, InstanceSpec, Invocation, Outcome
from .limiter import ConcurrencyLimiter
from .specs import SpecFactory
from .traffic import Traffic

LOG_TAIL_BYTES = 4096
SYNC_PAYLOAD_LIMIT = 6_291_456   # bytes: a synchronous invocation's event (Lambda's RequestResponse limit)
STREAM_VARIABLE = "AWS_LAMBDA_LOG_STREAM_NAME"
JSON_HEADERS = [(b"content-type", b"application/json")]


class InvokeResult(NamedTuple):
    request_id: str
    body: bytes
    version: str
    function_error: bool
    finished: Finished
    raw: bool = False

    def log_text(self) -> str:
        return log_text(self.finished)

    def headers(self, tail: bool) -> list[tuple[bytes, bytes]]:
        out = [(b"content-type", b"application/unknown" if self.raw else b"application/json"),
               (b"x-amzn-requestid", self.request_id.encode()),
               (b"x-amz-executed-version", self.version.encode())]
        if self.function_error:
            out.append((b"x-amz-function-error", b"Unhandled"))
        if tail:
            out.append((b"x-amz-log-result", base64.b64encode(self.log_text().encode()[-LOG_TAIL_BYTES:])))
        return out


class Invoker:
    def __init__(self, functions: FunctionService, backend: Backend, recorder: Recorder,
                 specs: SpecFactory, limiter: ConcurrencyLimiter, budgets: Budgets, cores: int | None = None) -> None:
        self.functions = functions
        self.backend = backend
        self.recorder = recorder
        self.budgets = budgets
        self.spending = budgets.spending
        self.specs = specs
        self.limiter = limiter
        busy_at = cores or os.cpu_count() or 1
        self.traffic = Traffic(self._run_shadow, busy=lambda: backend.in_flight >= busy_at)

    def resolve(self, ref: str, qualifier: str | None) -> tuple[FunctionVersion, str]:
        """The snapshot to run and the ARN as the caller invoked it (AWS's 404, or 409 while the
        function has nothing that can run)."""
        return self.functions.runnable(ref, qualifier)

    async def invoke(self, fn: FunctionVersion, invoked_arn: str, payload: bytes,
                     client_context: str | None = None, request_id: str | None = None,
                     invocation_type: str = "RequestResponse") -> InvokeResult:
        spec = self.specs.spec_for(fn)
        request_id = request_id or new_request_id()
        started = time.time()
        try:
            if self.budgets.limits:
                self.budgets.check(fn.name)
            reserved = self.limiter.enter(fn.name)   # TooManyRequests when over a limit
        except errors.TooManyRequests as throttled:
            self._record_throttle(fn, spec, request_id, started, invoked_arn, invocation_type, throttled)
            raise
        invocation = Invocation(request_id, payload, invoked_arn, client_context)
        try:
            outcome = await self.backend.invoke(spec, invocation)
        except errors.InstanceFailure as failure:
            outcome = failed_outcome(failure, request_id, spec)
        except asyncio.CancelledError:
            # The caller stopped waiting (an API Gateway integration timeout): the invocation runs on
            # in its instance, but its answer and output go nowhere. Keep the record of it.
            self._record_abandoned(fn, spec, request_id, started, invoked_arn, invocation_type)
            raise
        finally:
            self.limiter.exit(fn.name, reserved)
        finished = self._finish(fn, spec, request_id, started, outcome, invoked_arn, invocation_type)
        if self.functions.aliases.count and (qualifier := qualifier_of(invoked_arn)) is not None:
            self._aliased(fn, qualifier, invoked_arn, payload, outcome)
        return InvokeResult(request_id, outcome.body, fn.version, outcome.function_error, finished, outcome.raw)

    def _aliased(self, fn: FunctionVersion, qualifier: str, invoked_arn: str, payload: bytes,
                 outcome: Outcome) -> None:
        """An invocation through an alias: counted for its version, and run on the alias's shadow."""
        alias = self.functions.aliases.get(fn.name, qualifier)
        if alias is None:
            return   # a version number or $LATEST
        self.traffic.record(fn.name, qualifier, fn.version, outcome.function_error, outcome.duration_ms)
        if alias.shadow is not None:
            shadow = self.functions.serving_version(fn.name, alias.shadow)
            self.traffic.shadow(fn.name, qualifier, alias.shadow, shadow, invoked_arn, payload, outcome.body,
                                outcome.function_error, outcome.duration_ms, alias.shadow_compare)

    async def _run_shadow(self, fn: FunctionVersion, invoked_arn: str,
                          payload: bytes) -> tuple[bytes, bool, str | None, float]:
        """A shadow call: on instances of its own (SCHED_IDLE), outside the concurrency limits (one runs
        at a time); recorded and logged as an invocation of its version when it failed."""
        spec = self.specs.shadow_spec_for(fn)
        request_id = new_request_id()
        started = time.time()
        try:
            outcome = await self.backend.invoke(spec, Invocation(request_id, payload, invoked_arn))
        except errors.InstanceFailure as failure:
            outcome = failed_outcome(failure, request_id, spec)
        # Its log says why it failed; a good answer is only counted and charged (bench/shadow.py:
        # recording each costs callers ~4% of p50).
        self._finish(fn, spec, request_id, started, outcome, invoked_arn, quiet=not outcome.function_error)
        return outcome.body, outcome.function_error, outcome.error_type, outcome.duration_ms

    def _finish(self, fn: FunctionVersion, spec: InstanceSpec, request_id: str, started: float, outcome: Outcome,
                invoked_arn: str, invocation_type: str = "RequestResponse", quiet: bool = False) -> Finished:
        arch = fn.architecture
        billed = billed_ms(outcome.duration_ms, outcome.init_duration_ms)
        cost, gb_s, day = self.spending.charge(fn.name, arch, spec.memory_mb, billed)
        finished = Finished(fn.name, fn.version, fn.runtime, self.functions.region, request_id, started,
                            spec.memory_mb, spec.timeout_s, outcome,
                            outcome.log_stream or spec.env.get(STREAM_VARIABLE, ""), qualifier_of(invoked_arn),
                            invocation_type, arch, cost, gb_s, day, quiet=quiet, log_format=fn.log_format)
        self.recorder.add(finished)
        if self.budgets.limits:
            self.budgets.charged(fn.name)
        return finished

    def _record_throttle(self, fn: FunctionVersion, spec: InstanceSpec, request_id: str, started: float,
                         invoked_arn: str, invocation_type: str, throttled: errors.TooManyRequests) -> None:
        outcome = Outcome(body=b"", function_error=False, error_type=str(throttled.extra.get("Reason") or ""),
                          output="", duration_ms=0.0, max_memory_mb=0)
        self.recorder.add(Finished(fn.name, fn.version, fn.runtime, self.functions.region, request_id, started,
                                   spec.memory_mb, spec.timeout_s, outcome, "", qualifier_of(invoked_arn),
                                   invocation_type, fn.architecture, throttled=True))

    def _record_abandoned(self, fn: FunctionVersion, spec: InstanceSpec, request_id: str, started: float,
                          invoked_arn: str, invocation_type: str) -> None:
        note = "[lambdalite] the caller stopped waiting; the invocation ran on and its output was not kept"
        outcome = Outcome(body=b"", function_error=True, error_type="Caller.Abandoned", output=note,
                          duration_ms=(time.time() - started) * 1000, max_memory_mb=0)
        self._finish(fn, spec, request_id, started, outcome, invoked_arn, invocation_type)


def failed_outcome(failure: errors.InstanceFailure, request_id: str, spec: InstanceSpec) -> Outcome:
    """Lambda's answer for an instance that timed out, exited or broke the protocol."""
    if isinstance(failure, errors.InstanceTimedOut):
        error_type = "Sandbox.Timedout"
        message = f"RequestId: {request_id} Error: Task timed out after {spec.timeout_s:.2f} seconds"
        duration = max(failure.duration_ms, spec.timeout_s * 1000)
        output = failure.output
    else:
        error_type, message = exit_error(failure, request_id)
        duration = failure.duration_ms
        output = failure.output + ("" if not failure.output or failure.output.endswith("\n") else "\n")
        output += f"{message}\n{error_type}"
    body = json.dumps({"errorType": error_type, "errorMessage": message}).encode()
    return Outcome(body=body, function_error=True, error_type=error_type, output=output,
                   duration_ms=duration, max_memory_mb=failure.max_memory_mb,
                   init_duration_ms=failure.init_duration_ms)


def exit_error(failure: errors.InstanceFailure, request_id: str) -> tuple[str, str]:
    """Runtime.ExitError's message from the facts waitpid gave (AWS's wording, Go's signal names)."""
    prefix = f"RequestId: {request_id} Error: "
    if isinstance(failure, errors.InstanceOutOfMemory):
        return "Runtime.OutOfMemory", f"{prefix}Runtime exited with error: signal: killed"
    if isinstance(failure, errors.InstanceExited):
        if failure.signal is not None:
            return "Runtime.ExitError", f"{prefix}Runtime exited with error: signal: {signal_name(failure.signal)}"
        if failure.exit_status:
            return "Runtime.ExitError", f"{prefix}Runtime exited with error: exit status {failure.exit_status}"
        return "Runtime.ExitError", f"{prefix}Runtime exited without providing a reason"
    return "Runtime.Unknown", f"{prefix}{failure}"


def signal_name(number: int) -> str:
    try:
        return (signal.strsignal(number) or str(number)).lower()
    except ValueError:
        return str(number)
