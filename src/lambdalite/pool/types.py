"""The pool's contract: what starting and invoking an instance takes and gives back.

Every backend (local processes now, a cluster later) implements `Backend`; the invoker only sees
these types, and one contract suite (tests/contract) runs over every backend. An `InstanceSpec` is
an immutable snapshot of one function version's runnable form, naming its code (and, later, its
dependency environment and layers) by content hash: each backend resolves those to its own paths
(a local folder, a cluster node's cache). Two invocations with equal `key` may share an instance.
Concurrency limits are not a backend's business: `invoke/` applies them before a backend is asked.
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
    runtime: str                  # "python3.11": the backend finds an interpreter for it
    code: str                     # SHA-256 (hex) of the code archive; the worker's cwd and sys.path[0]
    env: Mapping[str, str]        # Lambda's variables and the function's own; the backend adds the
                                  # ones that name its paths (LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR)
    memory_mb: int
    timeout_s: float
    init_timeout_s: float = 10.0
    environment: str | None = None    # the dependency environment's key, None without one
    layers: tuple[tuple[str, str | None], ...] = ()   # (archive SHA-256, its environment key), the function's order
    snapshot: bool = False        # instances fork from a template that has run init (LAMBDALITE_SNAPSHOT=init)
    ephemeral_mb: int = 512       # EphemeralStorage: what the instance's TMPDIR may hold
    nice: int = 0                 # CPU priority of its instances (shadow traffic runs at 10: after the rest)
    preload: tuple[str, ...] = ()  # modules earlier inits imported from outside the code: a zygote may
                                   # import them ahead of time (not part of `key`: they only speed up)
    role: str = ""                # the execution role's ARN: what its instances' keys may do (access/)


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
    restore_duration_ms: float | None = None   # set when this invocation's instance was restored from a snapshot
    log_stream: str | None = None # the instance's log stream (None: the spec's)


class InstanceInfo(NamedTuple):
    """A live instance, as the backend sees it (for /_lambdalite/instances, metrics, the console)."""

    pid: int
    function_name: str
    version: str
    busy: bool
    parent: int | None            # the zygote it was forked from, None for a fresh interpreter


class Backend(Protocol):
    """Runs invocations on instances of a spec, starting them when none is idle. Raises
    errors.InstanceFailure subclasses when an instance died or timed out (the instance is then
    gone; the next invocation gets a fresh one), errors.ServiceFailure once closing."""

    @property
    def in_flight(self) -> int:
        """Invocations running now."""
        ...

    @property
    def limits(self) -> str:
        """How MemorySize and the rest are enforced on this backend, in a few words (for health)."""
        ...

    async def invoke(self, spec: InstanceSpec, invocation: Invocation) -> Outcome: ...

    async def retire(self, key: str) -> None:
        """Stop the idle instances of `key` and stop busy ones when they finish (code changed)."""
        ...

    async def reap_idle(self) -> int:
        """Stop the instances idle for the idle timeout or longer (on the backend's clock); how many."""
        ...

    async def close(self, drain_s: float = 5.0) -> None:
        """Refuse new invocations, let running ones finish for up to `drain_s`, then kill every instance."""
        ...

    def instance_pids(self, key: str | None = None) -> list[int]:
        """The process ids of the live instances (of one key, or all): for tests, metrics and the console."""
        ...

    def instances(self) -> list[InstanceInfo]:
        """The live instances."""
        ...

    async def prepare(self, spec: InstanceSpec) -> Outcome | None:
        """Make what instances of `spec` start from before the function is Active (a snapshot
        template that has run init): None when ready or nothing to make, else init's error."""
        ...

    async def provision(self, spec: InstanceSpec, count: int) -> Outcome | None:
        """Keep `count` instances of `spec` initialised and never reaped (provisioned concurrency;
        0 releases them): None once they are ready, else the init error of one that failed."""
        ...

    def zygote_pids(self) -> list[int]:
        """The process ids of the live zygotes (or whatever a backend forks instances from)."""
        ...
