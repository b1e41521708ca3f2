"""A snapshot template: one function version's worker that has finished init, and forks instances.

What SnapStart does with a microVM snapshot, done with fork(): started by the pool as
`python -I -S -B -c TEMPLATE_CODE <launcher dir>` in the function's folder with the function's own
environment (AWS_LAMBDA_INITIALIZATION_TYPE=snap-start) and the private variables of a worker. It
imports the handler (init) with its output captured, runs the before-snapshot hooks, reports S with
the init's duration and output (or T with Lambda's error JSON, and exits: the function's create or
update fails with it), then serves fork requests as a zygote does. Each forked instance reseeds its
random generators, runs the after-restore hooks (its "restore") and serves invocations with the
handler that init loaded: no import, no model load.

Files and sockets that init opened are shared by every instance forked after it: as on AWS, a
function reconnects in an after-restore hook (docs/snapshots.md).
"""

from __future__ import annotations

import logging
import socket
import sys
import time
from typing import Any

from . import bootstrap, errors, hooks, logs, protocol
from .errors import Fault
from .handler import Handler, load_handler
from .zygote import Zygote, reseed, take_own_environment

BEFORE_SNAPSHOT_EXIT = 64   # awslambdaric's exit statuses for failed hooks
AFTER_RESTORE_EXIT = 65
MAX_OUTPUT = 64 * 1024      # of init's output, kept for the logs (the end of it)


class _Captured:
    """The output of init, kept as text: L frames in, their bodies out."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def send(self, data: bytes) -> None:
        pos = 0
        while pos + protocol.FRAME.size <= len(data):
            size, kind = protocol.FRAME.unpack_from(data, pos)
            body = data[pos + protocol.FRAME.size:pos + protocol.FRAME.size + size]
            if kind == protocol.LOG:
                self.chunks.append(body)
            pos += protocol.FRAME.size + size

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", "replace")


class Template(Zygote):
    def __init__(self, control: socket.socket, handler: Handler) -> None:
        super().__init__(control, {})
        self.handler = handler

    def become_worker(self, request: dict[str, Any], sock_fd: int, pipe_fd: int, detached: bool = False) -> int:
        started = time.perf_counter()
        if not detached:
            self.detach(request)
        self.take_output(pipe_fd)
        take_own_environment(request)
        reseed()
        sock = socket.socket(fileno=sock_fd)
        sock.set_inheritable(False)
        output = logs.Output(logs.Sender(sock.sendall))
        output.install()
        logs.setup_logging(output)
        worker = bootstrap.Worker(sock, output, request.get("peak"))
        try:
            hooks.run_after_restore()
        except Exception as exc:   # noqa: BLE001 - reported as Lambda reports it
            error = errors.from_exception(exc)
            error["errorType"] = "Runtime.AfterRestoreError"
            output.write(errors.log_text(error))
            output.end_invocation()
            worker.sender.send(protocol.frame(protocol.INIT_ERROR, worker.marshaller.encode_error(error)))
            return AFTER_RESTORE_EXIT
        restore_ms = (time.perf_counter() - started) * 1000
        output.end_invocation()
        ready = b'{"init_ms":0,"restore_ms":%.3f,"max_rss_kb":%d,"modules":[]}' % (
            restore_ms, worker.memory.peak_kb())
        worker.sender.send(protocol.frame(protocol.READY, ready))
        worker.serve(self.handler)
        return 0


def main() -> None:
    private = bootstrap.take_private_environment()
    bootstrap.die_with_parent(private.get(protocol.PARENT_VARIABLE))
    bootstrap.set_path(private)
    control = socket.socket(fileno=int(private[protocol.FD_VARIABLE]))
    control.set_inheritable(False)
    bootstrap.provide_hooks()
    captured = _Captured()
    output = logs.Output(logs.Sender(captured.send))
    output.install()
    logs.setup_logging(output)
    started = time.perf_counter()
    error: dict[str, Any] | None = None
    status = 1
    try:
        handler = load_handler(private[protocol.HANDLER_VARIABLE])
    except Fault as fault:
        error = errors.from_fault(fault)
    except Exception as exc:   # noqa: BLE001 - the function's init error
        error = errors.from_exception(exc)
    else:
        try:
            hooks.run_before_snapshot()
        except Exception as exc:   # noqa: BLE001 - a failed hook fails the snapshot
            error = errors.from_exception(exc)
            error["errorType"] = "Runtime.BeforeSnapshotError"
            status = BEFORE_SNAPSHOT_EXIT
    init_ms = (time.perf_counter() - started) * 1000
    if error is not None:
        logging.warning(bootstrap.UNHANDLED_WARNING)
        output.write(errors.log_text(error))
        output.end_invocation()
        Zygote.send_to(control, protocol.TEMPLATE_FAILED, {"error": error, "output": captured.text()[-MAX_OUTPUT:],
                                                           "init_ms": init_ms})
        sys.exit(status)
    output.end_invocation()
    text, captured.chunks = captured.text()[-MAX_OUTPUT:], []
    Template(control, handler).serve({"init_ms": init_ms, "output": text})
