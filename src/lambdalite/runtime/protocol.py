"""The private wire protocol between the pool (parent) and a worker. Data only, never evaluated.

Transport: one Unix stream socket (a socketpair). The worker finds its end as an inherited file
descriptor named by the environment variable `_LAMBDALITE_FD`; the bootstrap removes every
`_LAMBDALITE_*` variable from `os.environ` before user code runs.

Frame: 4-byte big-endian body length, 1-byte kind, body.

Parent -> worker
    I  invoke. body = 4-byte length H + H bytes of a JSON header
       {"id": request id, "deadline_ms": epoch ms, "arn": invoked ARN,
        "client_context": JSON text or null, "trace_id": str or null}
       followed by the raw event bytes (b"" means the event {}).

Worker -> parent
    L  log output: UTF-8 text already formatted, sent as written (line-buffered) so that output
       before a timeout or a crash is not lost. When an invocation ends, output still buffered is
       sent in the same write as the R/E frame.
    S  init done: JSON {"init_ms": float, "max_rss_kb": int, "modules": [names]}. Sent once, after
       the handler was imported; "modules" are those init imported from outside the function's
       folder (what the environment's zygote may import ahead of the next instance).
    X  init error: Lambda's error JSON (requestId ""). The worker then exits with status 1, as
       awslambdaric does: the parent answers the invocation that started it with this error and
       the next invocation starts a fresh instance.
    R  result, E function error: body = 4-byte length H + JSON header
       {"duration_ms": float, "max_rss_kb": int, "raw": bool, "error_type": str (E only)}
       (max_rss_kb: the worker's peak resident size, see runtime/memory.py)
       + the result bytes (JSON text, or the bytes the handler returned when "raw") or the error
       JSON {errorMessage, errorType, requestId, stackTrace}.

Zygote (see runtime/zygote.py): one Unix SEQPACKET socket, one frame per message, same frame format.
Parent -> zygote
    F  fork: JSON {"id": int, "cwd": str, "path": [entries before the zygote's], "env": {...},
       "handler": str, "cgroups": [folders to join], "peak": file or null, "extra_env": {the
       instance's own variables: TMPDIR}}, with two file
       descriptors: the new worker's socket and its output pipe.
    M  preload: JSON [module names], imported in order by the zygote ahead of the next forks.
    A  arm a spare: JSON {"spare": int, "cgroups": [folders]}: fork a child now that takes its own
       session and joins the cgroups (moving a process between cgroups waits for an RCU grace
       period, milliseconds), then waits on a socket of its own, whose other end the B frame
       carries to the parent. The parent hands an F straight to a spare over that socket (the
       zygote is not on the cold start's path); closing it makes the spare exit. Spares forked
       before a preload that imported something lack it: the parent closes them when it reads M.
Zygote -> parent
    S  ready: JSON {"pid": int}
    P  forked: JSON {"id": int, "pid": int}       X  fork failed: JSON {"id": int, "error": str}
    B  armed: JSON {"spare": int, "pid": int}, with one file descriptor: the spare's socket
    W  a forked worker ended and was reaped: JSON {"pid": int, "code": exit status or -signal}
    M  preloaded: JSON {"loaded": int, "failed": [names], "threaded": name or null}; after a module
       that leaves a thread running ("threaded") the zygote exits: forking is no longer safe.
A snapshot template (runtime/template.py) is a zygote that has run one function's init: its S
carries {"pid", "init_ms", "output"}; when init or a before-snapshot hook fails it sends instead
    T  init failed: JSON {"error": Lambda's error JSON, "output": str, "init_ms": float}, then exits.
Its forked workers answer S with {"restore_ms": float, ...} (after-restore hooks ran), or X.

Besides the socket, the worker's file descriptors 1 and 2 (C extensions, os.write, child
processes) point at a pipe that the parent drains into the current invocation's output, best
effort: such bytes may land in the next invocation's output when they arrive after the result.
"""

from __future__ import annotations

import json
import json.scanner
import re
import struct
from typing import Any

FRAME = struct.Struct(">IB")      # body length, kind
HEAD_LEN = struct.Struct(">I")    # length of the JSON header inside I, R and E bodies

INVOKE = ord("I")
LOG = ord("L")
READY = ord("S")
INIT_ERROR = ord("X")
RESULT = ord("R")
ERROR = ord("E")
FORK = ord("F")
FORKED = ord("P")
FORK_FAILED = ord("X")
EXITED = ord("W")
PRELOAD = ord("M")
TEMPLATE_FAILED = ord("T")
ARM = ord("A")
ARMED = ord("B")

FD_VARIABLE = "_LAMBDALITE_FD"
PATH_VARIABLE = "_LAMBDALITE_PATH"
SITE_VARIABLE = "_LAMBDALITE_SITE"       # entries of the path whose .pth files count, as site-packages'
HANDLER_VARIABLE = "_LAMBDALITE_HANDLER"
PARENT_VARIABLE = "_LAMBDALITE_PARENT"   # the server's pid: the worker dies with it
CGROUPS_VARIABLE = "_LAMBDALITE_CGROUPS" # the cgroup folders the worker joins before user code runs
PEAK_VARIABLE = "_LAMBDALITE_PEAK"       # its memory cgroup's memory.max_usage_in_bytes
PRIVATE_PREFIX = "_LAMBDALITE_"

MAX_RECORDED_MODULES = 3000   # an init that imports more records only the first ones

# AWS's limit on a synchronous response: 6 MiB + 100 bytes, as its error message says.
MAX_RESPONSE_BYTES = 6291556


def frame(kind: int, body: bytes) -> bytes:
    return FRAME.pack(len(body), kind) + body


def headed_frame(kind: int, header: bytes, payload: bytes) -> bytes:
    """A frame whose body is a length-prefixed JSON header followed by a payload (I, R, E)."""
    return b"".join((FRAME.pack(4 + len(header) + len(payload), kind), HEAD_LEN.pack(len(header)),
                     header, payload))


def split_headed(body: bytes) -> tuple[bytes, bytes]:
    """(header, payload) of an I, R or E body; ValueError when the lengths do not add up."""
    if len(body) < 4:
        raise ValueError("frame body shorter than its header length")
    (size,) = HEAD_LEN.unpack_from(body)
    if 4 + size > len(body):
        raise ValueError("frame header longer than the frame")
    return body[4:4 + size], body[4 + size:]


_scan = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]
_WHITESPACE = re.compile(r"[ \t\n\r]*")


def loads(text: str) -> Any:
    """json.loads for str without its per-call set-up: headers are decoded on every invocation."""
    end = _WHITESPACE.match(text, 0).end()  # type: ignore[union-attr]
    try:
        value, end = _scan(text, end)
    except StopIteration as err:
        raise json.JSONDecodeError("Expecting value", text, err.value) from None
    end = _WHITESPACE.match(text, end).end()  # type: ignore[union-attr]
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value
