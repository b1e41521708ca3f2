"""The pool's contract: what starting and invoking an instance takes and gives back.

Every backend (local processes now, Ray later) implements `Backend`; the invoker only sees these
types. An `InstanceSpec` is an immutable snapshot of one function version's runnable form: two
invocations with equal `key` may share an instance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple, Protocol


@dataclass(frozen=True)
class InstanceSpec:
    key: str                      # instances are shared only between invocations with the same key
    function_name: str
    version: str                  # "$LATEST" or "1", "2", ...
    handler: str                  # "module.func" as configured
    python: str                   # interpreter that runs the worker
    code_dir: str                 # unpacked code; the worker's cwd and sys.path[0]
    sys_path: tuple[str, ...]     # in order: code, layers' python/, dependency env, runtime bundle
    env: Mapping[str, str]        # the complete process environment (Lambda variables + function's own)
    memory_mb: int
    timeout_s: float
    init_timeout_s: float = 10.0


class Invocation(NamedTuple):   # a tuple: made once per invoke, on the hot path
    request_id: str
    payload: bytes                # the event as the caller sent it (JSON text); b"" means {}
    invoked_arn: str              # exactly as invoked: unqualified, ...:$LATEST, ...:alias
    client_context: str | None = None   # decoded JSON text of X-Amz-Client-Context
    trace_id: str | None = None


class Outcome(NamedTuple):
    """An invocation that ended with an answer from the function: a result or a function error."""

    body: bytes                   # the result JSON, or the error JSON {errorMessage, errorType, ...}
    function_error: bool          # True: the answer carries X-Amz-Function-Error: Unhandled
    error_type: str | None        # errorType of a function error, for records and metrics
    output: str                   # the function's own log output (no START/END/REPORT lines)
    duration_ms: float
    max_memory_mb: int
    init_duration_ms: float | None = None   # set when this invocation started the instance
    raw: bool = False             # body is bytes the handler returned (not JSON)


class Backend(Protocol):
    """Runs invocations on instances. Raises errors.TooManyRequests when over the concurrency cap,
    errors.InstanceFailure subclasses when an instance died or timed out (the instance is then
    gone; the next invocation gets a fresh one)."""

    async def invoke(self, spec: InstanceSpec, invocation: Invocation) -> Outcome: ...

    async def retire(self, key: str) -> None:
        """Stop the idle instances of `key` and stop busy ones when they finish (code changed)."""
        ...

    async def close(self) -> None:
        """Stop every instance: drain with a deadline, then kill."""
        ...
