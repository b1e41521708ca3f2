"""One worker process running one function version, one invocation at a time.

An instance learns how it ended from facts only: the deadline timer it set (timed out), the exit
status or signal its `WorkerProcess` reports (exited), a frame it could not parse (protocol
error). Whatever the ending, the whole process group is killed with SIGKILL and the process is
reaped; `dead` resolves when both happened and the socket is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import errors
from ..runtime import protocol
from .cgroups import InstanceGroup
from .channel import FrameProtocol, OutputBuffer, PipeProtocol, ReplyTooLarge
from .process import UNKNOWN_EXIT, ExitCode, WorkerProcess
from .types import InstanceSpec, Invocation, Outcome

TOO_LARGE_BODY = (b'{"errorMessage": "Response payload size exceeded maximum allowed payload size '
                  b'(6291556 bytes).", "errorType": "Function.ResponseSizeTooLarge"}')
EOF_GRACE_S = 1.0     # how long an exit and the socket's close may lag behind each other
SPIN_S = 0.0003       # how long a lone invocation polls for its reply before sleeping in the loop
QUICK_REPLY_S = 0.002 # an instance that answered faster than this is worth polling for
_quote = json.encoder.encode_basestring_ascii
_INVOKE_HEADER = '{"id":%s,"deadline_ms":%d,"arn":%s,"client_context":%s,"trace_id":%s}'
_Reply = tuple[int, dict[str, Any] | None, "bytes | ReplyTooLarge"]


_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def memory_mb(rss_kb: int) -> int:
    return math.ceil(rss_kb / 1024)


class Instance:
    def __init__(self, spec: InstanceSpec, process: WorkerProcess, sock: socket.socket,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.spec = spec
        self.pid = process.pid
        self.output = OutputBuffer()
        self.dead: asyncio.Future[None] = loop.create_future()
        self.last_used = 0.0
        self.on_dead: Callable[[Instance], object] = lambda instance: None
        self.on_free: Callable[[Instance], object] = lambda instance: None   # after an abandoned call
        self._loop = loop
        self._process = process
        self._spawned_at = loop.time()
        self._spawned_pc = time.perf_counter()   # init's duration: finer than the loop's clock (1 ms under uvloop)
        self._phase_started = self._spawned_at
        self._phase = "init"
        self._expect: tuple[int, ...] = (protocol.READY, protocol.INIT_ERROR)
        # The init reply is awaited from the start: the worker may answer before wait_ready runs
        # (the loop reads the socket as soon as it is connected).
        self._reply: asyncio.Future[_Reply] | None = loop.create_future()
        self._init_reply: asyncio.Future[_Reply] | None = self._reply
        self._timer: asyncio.TimerHandle | None = None
        self._pending_init_ms: float | None = None
        self._pending_restore_ms: float | None = None
        self._max_rss_kb = 0
        self._timed_out_after: float | None = None
        self._protocol_error: str | None = None
        self._exit_code: int | None = None
        self._eof = self._finished = False
        self._frames: asyncio.BaseTransport | None = None
        self._pipe: asyncio.BaseTransport | None = None
        self._fd = sock.fileno()
        self._protocol: FrameProtocol
        self._quick = True
        self.init_modules: list[str] = []   # what init imported from outside the function's folder
        self.zygote_pid: int | None = None  # the zygote it was forked from
        self.group: InstanceGroup | None = None   # its cgroups, when the machine allows them
        self.tmp: Path | None = None               # its TMPDIR, removed once it has ended
        self.tmp_checked = 0.0                     # when its size was last checked (loop time)
        self.retiring = False                      # stop it once its invocation ends
        self.provisioned = False                   # kept while provisioned concurrency asks for it
        self.ready = False                         # init has finished
        self.log_stream: str | None = None         # AWS_LAMBDA_LOG_STREAM_NAME of this instance
        self.key_id: str | None = None             # its session credentials' key (revoked once it has ended)
        self.started_at = 0.0                      # on the pool's clock: it stops before its keys expire
        self._out_of_memory = False                # ended for passing MemorySize (no cgroup)

    @classmethod
    async def start(cls, spec: InstanceSpec, process: WorkerProcess, sock: socket.socket,
                    pipe_fd: int) -> Instance:
        """The instance of a worker that was just started (spawned or forked): `sock` and
        `pipe_fd` are the parent's ends of its socket and of its output pipe."""
        instance = cls(spec, process, sock, asyncio.get_running_loop())
        try:
            await instance._connect(sock, pipe_fd)
        except BaseException:
            instance._abandon_init()
            instance.kill()
            raise
        return instance

    async def _connect(self, sock: socket.socket, pipe_fd: int) -> None:
        self._process.watch(self._on_exit)
        pipe = os.fdopen(pipe_fd, "rb", buffering=0)
        self._pipe, _ = await self._loop.connect_read_pipe(lambda: PipeProtocol(self.output), pipe)
        self._frames, self._protocol = await self._loop.create_unix_connection(lambda: FrameProtocol(self),
                                                                               sock=sock)

    def forget_init(self) -> None:
        """Its first invocation reports no init (a provisioned instance: the init was not its caller's)."""
        self._pending_init_ms = None

    @property
    def alive(self) -> bool:
        return self._exit_code is None and not self._finished

    # -- the two phases ------------------------------------------------------------------------

    async def wait_ready(self, timeout_s: float) -> Outcome | None:
        """None when the handler is loaded; the init error as an Outcome (the instance is gone)."""
        reply, self._init_reply = self._init_reply, None
        if reply is None:
            raise RuntimeError("wait_ready is called once, before any invocation")
        remaining = max(0.0, timeout_s - (self._loop.time() - self._spawned_at))
        self._timer = self._loop.call_later(remaining, self._on_deadline, timeout_s)
        kind, head, payload = await self._await_reply(timeout_s, reply)
        init_ms: float | None = (time.perf_counter() - self._spawned_pc) * 1000
        if kind == protocol.READY:
            self._max_rss_kb = int((head or {}).get("max_rss_kb", 0))
            restore = (head or {}).get("restore_ms")
            if isinstance(restore, int | float):   # restored from a snapshot: the init ran in its template
                self._pending_restore_ms, init_ms = float(restore), None
            modules = (head or {}).get("modules")
            self.init_modules = [m for m in modules if isinstance(m, str)] if isinstance(modules, list) else []
            self._pending_init_ms = init_ms
            self._phase, self._expect = "idle", ()
            self.ready = True
            return None
        assert isinstance(payload, bytes)
        with contextlib.suppress(asyncio.TimeoutError):   # the worker exits 1 right after X
            await asyncio.wait_for(asyncio.shield(self.dead), 2.0)
        self.kill()
        return Outcome(body=payload, function_error=True, error_type=_error_type(payload),
                       output=self.output.take(), duration_ms=0.0,
                       max_memory_mb=memory_mb(self._max_rss_kb), init_duration_ms=init_ms)

    async def invoke(self, inv: Invocation, spin: bool = False) -> Outcome:
        """Run one invocation. `spin`: nothing else is in flight on this server, so instead of
        sleeping in the event loop until the reply arrives, poll the socket for a short while
        (see `_spin`)."""
        timeout = self.spec.timeout_s
        header = (_INVOKE_HEADER % (
            _quote(inv.request_id), int((time.time() + timeout) * 1000), _quote(inv.invoked_arn),
            "null" if inv.client_context is None else _quote(inv.client_context),
            "null" if inv.trace_id is None else _quote(inv.trace_id))).encode()
        self._phase, self._expect = "invoke", (protocol.RESULT, protocol.ERROR)
        reply = self._expect_reply(timeout)
        self._frames.write(protocol.headed_frame(protocol.INVOKE, header, inv.payload))  # type: ignore[union-attr]
        if spin and self._quick:
            self._spin(reply)
        kind, head, payload = await self._await_reply(timeout, reply)
        self._quick = (self._loop.time() - self._phase_started) < QUICK_REPLY_S
        if self.group is None and head is not None and \
                memory_mb(max(self._max_rss_kb, int(head.get("max_rss_kb", 0)))) > self.spec.memory_mb:
            raise self._over_memory(head)   # its peak passed MemorySize, though it answered first
        self._phase, self._expect = "idle", ()
        return self._outcome(kind, head, payload)

    def _over_memory(self, head: dict[str, Any]) -> errors.InstanceOutOfMemory:
        """Where no cgroup enforces MemorySize: the instance is ended as the kernel would have."""
        self._max_rss_kb = max(self._max_rss_kb, int(head.get("max_rss_kb", 0)))
        self._out_of_memory = True
        failure = self._failure()
        self.kill()
        assert isinstance(failure, errors.InstanceOutOfMemory)
        return failure

    def check_memory(self) -> None:
        """The watchdog's look at a busy instance without a cgroup: its resident size now; over
        MemorySize, it is killed and its invocation answers the out-of-memory error."""
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as statm:
                resident_kb = int(statm.read().split()[1]) * _PAGE_KB
        except (OSError, ValueError, IndexError):
            return
        if memory_mb(resident_kb) > self.spec.memory_mb:
            self._max_rss_kb = max(self._max_rss_kb, resident_kb)
            self._out_of_memory = True
            self.kill()

    def _spin(self, reply: asyncio.Future[_Reply]) -> None:
        """Busy-poll the socket for up to SPIN_S while the reply is not in.

        A process that sleeps in epoll until the worker answers pays a wake-up, which on a virtual
        machine costs more than a small handler runs: the two processes' hand-offs dominate the
        warm path. Polling is only done when no other invocation is in flight (nothing else needs
        the loop meanwhile) and when this instance answered its last call quickly; what arrives is
        fed to the frame protocol exactly as the event loop would."""
        fd = self._fd
        deadline = time.perf_counter() + SPIN_S
        while not reply.done() and time.perf_counter() < deadline:
            try:
                data = os.read(fd, 262144)
            except BlockingIOError:
                continue
            except OSError:
                return
            if not data:
                return   # EOF: the event loop sees it too and ends the instance
            self._protocol.data_received(data)

    def _abandon_init(self) -> None:
        """Nobody will wait for this instance's init: its failure must not go unretrieved."""
        if self._init_reply is not None:
            self._init_reply.cancel()
            self._init_reply = self._reply = None

    def _expect_reply(self, timeout_s: float) -> asyncio.Future[_Reply]:
        if not self.alive:
            raise self._failure()
        self._phase_started = self._loop.time()
        reply = self._reply = self._loop.create_future()
        self._timer = self._loop.call_later(timeout_s, self._on_deadline, timeout_s)
        return reply

    async def _await_reply(self, timeout_s: float, reply: asyncio.Future[_Reply] | None = None) -> _Reply:
        if reply is None:
            reply = self._expect_reply(timeout_s)
        # When the caller is cancelled here, `reply` is cancelled with it: the invocation runs on
        # (the timer stays: its deadline still applies) and on_frame frees the instance later.
        result: _Reply = await reply
        if self._timer is not None:
            self._timer.cancel()
        return result

    def _outcome(self, kind: int, head: dict[str, Any] | None, payload: bytes | ReplyTooLarge) -> Outcome:
        init_ms, self._pending_init_ms = self._pending_init_ms, None
        restore_ms, self._pending_restore_ms = self._pending_restore_ms, None
        elapsed_ms = (self._loop.time() - self._phase_started) * 1000
        if head is not None:
            self._max_rss_kb = max(self._max_rss_kb, int(head.get("max_rss_kb", 0)))
        if isinstance(payload, ReplyTooLarge) or head is None:
            return Outcome(body=TOO_LARGE_BODY, function_error=True,
                           error_type="Function.ResponseSizeTooLarge", output=self.output.take(),
                           duration_ms=elapsed_ms, max_memory_mb=memory_mb(self._max_rss_kb),
                           init_duration_ms=init_ms)
        is_error = kind == protocol.ERROR
        return Outcome(body=payload, function_error=is_error,
                       error_type=head.get("error_type") if is_error else None,
                       output=self.output.take(), duration_ms=float(head.get("duration_ms", elapsed_ms)),
                       max_memory_mb=memory_mb(self._max_rss_kb), init_duration_ms=init_ms,
                       raw=bool(head.get("raw")), restore_duration_ms=restore_ms, log_stream=self.log_stream)

    # -- FrameSink: called by FrameProtocol ------------------------------------------------------

    def on_frame(self, kind: int, header: dict[str, Any] | None, payload: bytes | ReplyTooLarge) -> None:
        reply = self._reply
        if kind not in self._expect or reply is None:
            self.on_protocol_error(f"unexpected frame {chr(kind)!r} while {self._phase}")
            return
        self._reply = None
        if reply.cancelled():   # an abandoned invocation answered: the instance is free again
            if self._timer is not None:
                self._timer.cancel()
            self._phase, self._expect = "idle", ()
            self.output.take()
            self.on_free(self)
            return
        reply.set_result((kind, header, payload))

    def on_protocol_error(self, reason: str) -> None:
        if self._protocol_error is None:
            self._protocol_error = reason
        self.kill()

    def on_eof(self) -> None:
        self._eof = True
        if self._exit_code is not None:
            self._finish()
        else:
            # The socket closes while the interpreter shuts down, a moment before the exit: give
            # the exit its time (its status is the fact we report), then kill: a worker without
            # its socket can do nothing more.
            self._loop.call_later(EOF_GRACE_S, self.kill)

    # -- endings ---------------------------------------------------------------------------------

    def kill(self) -> None:
        """SIGKILL the whole process group (the worker and anything it started), and everything in
        its cgroup (what left the process group too). Safe to repeat."""
        self._process.kill()
        if self.group is not None:
            self.group.kill_all()

    def _on_deadline(self, seconds: float) -> None:
        self._timed_out_after = seconds
        self.kill()

    def _on_exit(self, code: ExitCode) -> None:
        """The worker has ended and was reaped: its status is the fact this instance reports."""
        self._exit_code = code
        if self._eof:
            self._finish()
        else:
            self._loop.call_later(EOF_GRACE_S, self._finish)

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if self._timer is not None:
            self._timer.cancel()
        for transport in (self._frames, self._pipe):
            if transport is not None:
                transport.close()
        reply, self._reply = self._reply, None
        if reply is not None and not reply.done():
            reply.set_exception(self._failure())
        if self.group is not None:   # what it started and left running, in its session or not
            self.group.discard(self._loop)
        self.dead.set_result(None)
        self.on_dead(self)

    def _failure(self) -> errors.InstanceFailure:
        elapsed_ms = (self._loop.time() - self._phase_started) * 1000
        in_init = self._phase == "init"
        known: dict[str, Any] = {
            "output": self.output.take(), "max_memory_mb": memory_mb(self._max_rss_kb),
            "duration_ms": 0.0 if in_init else elapsed_ms,
            "init_duration_ms": elapsed_ms if in_init else self._pending_init_ms,
        }
        phase = "Init" if in_init else "Task"
        if self._timed_out_after is not None:
            return errors.InstanceTimedOut(f"{phase} timed out after {self._timed_out_after:.2f} seconds",
                                           **known)
        if self._protocol_error is not None:
            return errors.InstanceProtocolError(f"worker broke the protocol: {self._protocol_error}",
                                                **known)
        code = self._exit_code
        # Out of memory: the watchdog's or the post-hoc check's verdict, or the cgroup's OOM killer.
        if self._out_of_memory or (self.group is not None and code == -signal.SIGKILL and self.group.oom_killed()):
            peak = self.group.peak_mb() if self.group is not None else known["max_memory_mb"]
            known["max_memory_mb"] = max(peak, self.spec.memory_mb)
            return errors.InstanceOutOfMemory(f"Runtime exited with signal {signal.SIGKILL} (out of memory)",
                                              signal=signal.SIGKILL, **known)
        if code is None or code == UNKNOWN_EXIT:
            return errors.InstanceExited("Runtime exited; its exit status is unknown", **known)
        if code >= 0:
            return errors.InstanceExited(f"Runtime exited with status {code}", exit_status=code, **known)
        return errors.InstanceExited(f"Runtime exited with signal {-code} ({signal.strsignal(-code)})",
                                     signal=-code, **known)


def _error_type(error_json: bytes) -> str | None:
    with contextlib.suppress(ValueError, AttributeError):
        value = json.loads(error_json).get("errorType")
        return value if isinstance(value, str) else None
    return None
