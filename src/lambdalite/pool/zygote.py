"""The parent's side of a zygote (runtime/zygote.py): start it, ask it to fork, learn the exits.

A `Zygote` speaks the zygote frames of runtime/protocol.py on a SEQPACKET socket, from event loop
callbacks. `fork(launch)` hands the zygote the new worker's socket and output pipe and returns a
`ForkedProcess`: a `WorkerProcess` whose exit status comes from the zygote (it is the worker's
parent and reaps it), so the `Instance` above it cannot tell a forked worker from a spawned one.
When the zygote dies its workers die with it (parent-death signal) and each reports an unknown exit.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import logging
import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from struct import error as struct_error
from typing import Any, ClassVar

from .. import errors
from ..runtime import protocol
from .cgroups import InstanceGroup
from .launch import Channels, Launch, spawn_zygote
from .process import UNKNOWN_EXIT, ChildProcess, ExitCode

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 15.0
SPARE_SOCKET_LINGER_S = 1.0
_CLOEXEC = getattr(socket, "MSG_CMSG_CLOEXEC", 0)   # a descriptor received is never inherited
# What a zygote's environment keeps of the first function's while it imports: variables that
# shape imports and libraries, and the same for every function of an environment.
ZYGOTE_VARIABLES = ("PATH", "LANG", "LC_ALL", "TZ", "LD_LIBRARY_PATH", "AWS_REGION", "AWS_DEFAULT_REGION",
                    "AWS_EXECUTION_ENV", "LAMBDA_RUNTIME_DIR", "HOME", "TMPDIR")


class ForkedProcess:
    """A worker forked by a zygote (pool.process.WorkerProcess)."""

    def __init__(self, pid: int, zygote_pid: int) -> None:
        self.pid = pid
        self.zygote_pid = zygote_pid
        self._exit: ExitCode | None = None
        self._on_exit: Callable[[ExitCode], None] | None = None

    def watch(self, on_exit: Callable[[ExitCode], None]) -> None:
        self._on_exit = on_exit
        if self._exit is not None:
            asyncio.get_running_loop().call_soon(on_exit, self._exit)

    def kill(self) -> None:
        if self._exit is None:
            for kill in (os.killpg, os.kill):   # the group once it has one; the worker itself before setsid
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    kill(self.pid, signal.SIGKILL)

    def exited(self, code: ExitCode) -> None:
        if self._exit is not None:
            return
        self._exit = code
        if self._on_exit is not None:
            self._on_exit(code)


@dataclass
class Spare:
    """A child the zygote forked ahead of time, already in its own session and cgroups."""

    id: int
    process: ForkedProcess
    group: InstanceGroup
    sock: socket.socket     # the only end of its socket but its own: a fork request goes here
    armed_at: float = 0.0   # when the zygote said it forked it (loop time); it joins its cgroups after


class Zygote:
    def __init__(self, key: object, process: ChildProcess, sock: socket.socket,
                 loop: asyncio.AbstractEventLoop, clock: Callable[[], float]) -> None:
        self.key = key
        self.pid = process.pid
        self.preloaded: set[str] = set()    # module names sent to it (imported or failed)
        self.banned: set[str] = set()       # modules that must not be preloaded (left a thread running)
        self.children: dict[int, ForkedProcess] = {}
        self.empty_since = clock()
        self.on_dead: Callable[[Zygote, str], object] = lambda zygote, reason: None
        self._clock = clock
        self._process = process
        self._sock = sock
        self._loop = loop
        self._ready: asyncio.Future[None] = loop.create_future()
        self._forks: dict[int, asyncio.Future[ForkedProcess]] = {}
        self._outbox: collections.deque[tuple[bytes, list[int], Channels | None]] = collections.deque()
        self._writing = False
        self._ids = itertools.count()
        self.dead_reason: str | None = None
        self.exited: asyncio.Future[None] = loop.create_future()   # the process was reaped
        self.ready_info: dict[str, Any] = {}   # what its S frame said (a template: init_ms, output)
        self.spares: collections.deque[Spare] = collections.deque()
        self.on_spare_lost: Callable[[Zygote], object] = lambda zygote: None
        self.rearmed_at = float("-inf")   # when a lost spare was last replaced (on the pool's clock)
        self.owner: int | None = None     # the uid it runs as (pool.walls), which its spares' groups admit
        self.spare_target = 1             # spares to keep ready (2 once cold starts outpaced one)
        self.preloading = 0               # preloads sent and not answered: forks meanwhile go through it
        self.spares_taken = 0
        self._arming: dict[int, InstanceGroup] = {}
        self._armed: asyncio.Future[None] | None = None   # set when a spare being armed is forked
        self._spare_procs: dict[int, ForkedProcess] = {}
        self._lingering: set[socket.socket] = set()   # sockets of spares just handed a request
        sock.setblocking(False)
        loop.add_reader(sock.fileno(), self._readable)
        process.watch(self._on_exit)

    @classmethod
    async def start(cls, key: object, launch: Launch, launcher: Path, env: dict[str, str],
                    clock: Callable[[], float], template_timeout_s: float | None = None) -> Zygote:
        """A zygote ready to fork. With `template_timeout_s`: the snapshot template of `launch`,
        ready once its init finished (errors.SnapshotInitFailed when it failed, or timed out)."""
        loop = asyncio.get_running_loop()
        template = template_timeout_s is not None
        process, sock = spawn_zygote(launch, launcher, env, template=template)
        zygote = cls(key, ChildProcess(process, loop), sock, loop, clock)
        timeout = template_timeout_s if template_timeout_s is not None else READY_TIMEOUT_S
        try:
            await asyncio.wait_for(asyncio.shield(zygote._ready), timeout)
        except TimeoutError:
            zygote.kill(f"it was not ready after {timeout:.0f} s")
            await zygote.reaped()
            if template:
                raise errors.SnapshotInitFailed(
                    {"errorType": "Sandbox.Timedout", "errorMessage": f"Init timed out after {timeout:.2f} seconds"},
                    "", timeout * 1000) from None
            raise errors.ZygoteUnavailable(f"the zygote was not ready after {timeout:.0f} s") from None
        except (errors.ZygoteUnavailable, errors.SnapshotInitFailed):
            zygote.kill("it failed to start")
            await zygote.reaped()
            raise
        return zygote

    async def reaped(self, timeout_s: float = 5.0) -> None:
        """Wait (a bounded while) until the killed process was reaped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.exited), timeout_s)

    @property
    def alive(self) -> bool:
        return self.dead_reason is None

    async def fork(self, launch: Launch, cgroups: tuple[str, ...] = (), peak_file: str | None = None,
                   spare: Spare | None = None,
                   extra_env: dict[str, str] | None = None) -> tuple[ForkedProcess, socket.socket, int]:
        """A new worker for `launch`: its process, the parent's ends of its socket and output pipe.
        The worker joins `cgroups` before it imports anything of the function's; or `spare`
        (from `take_spare`, in its cgroups already, which `cgroups` names) becomes the worker: the
        request goes to it directly. A spare that died meanwhile: the zygote forks one as usual."""
        if not self.alive:
            raise errors.ZygoteUnavailable(self.dead_reason or "the zygote is gone")
        ends = Channels.make()
        fork_id = next(self._ids)
        request = {"id": fork_id, "cwd": launch.cwd, "path": list(launch.sys_path[:1]), "env": launch.env,
                   "handler": launch.handler, "cgroups": list(cgroups), "peak": peak_file,
                   "extra_env": extra_env or {}}
        frame = protocol.frame(protocol.FORK, json.dumps(request).encode())
        if spare is not None:
            child = self._hand_to_spare(spare, frame, ends)
            if child is not None:
                return child, ends.sock, ends.pipe_r
        future = self._forks[fork_id] = self._loop.create_future()
        self._send(frame, [ends.child.fileno(), ends.pipe_w], ends)
        try:
            process = await future
        except BaseException:
            self._forks.pop(fork_id, None)
            ends.sock.close()
            os.close(ends.pipe_r)
            raise
        return process, ends.sock, ends.pipe_r

    def _hand_to_spare(self, spare: Spare, frame: bytes, ends: Channels) -> ForkedProcess | None:
        """The spare, given the fork request (None: it is gone, or going)."""
        process = self._spare_procs.pop(spare.process.pid, None)
        if process is None:
            spare.sock.close()
            return None
        try:
            socket.send_fds(spare.sock, [frame], [ends.child.fileno(), ends.pipe_w])
        except OSError:
            spare.sock.close()
            return None   # it died meanwhile (its W frame follows, for a process no longer listed)
        # Closed later, not now: closed right after the send (the two descriptors still in flight
        # until the spare reads them), py-spy found ~0.5 ms per cold start in the close.
        self._lingering.add(spare.sock)
        self._loop.call_later(SPARE_SOCKET_LINGER_S, self._close_lingering, spare.sock)
        ends.handed_over()
        self.children[process.pid] = process
        return process

    def _close_lingering(self, sock: socket.socket) -> None:
        self._lingering.discard(sock)
        sock.close()

    def drop_spares(self) -> None:
        """Spares that must not become instances (forked before a preload): each exits when its
        socket closes, and its group goes."""
        spares, self.spares = list(self.spares), collections.deque()
        for spare in spares:
            spare.sock.close()
            spare.group.discard(self._loop)

    def arm(self, group: InstanceGroup) -> None:
        """Have a spare forked now into `group` (the join is slow; the next fork then is not)."""
        if not self.alive:
            group.discard(self._loop)
            return
        spare_id = next(self._ids)
        self._arming[spare_id] = group
        self._send(protocol.frame(protocol.ARM, json.dumps({"spare": spare_id,
                                                            "cgroups": [str(d) for d in group.dirs]}).encode()),
                   [], None)

    @property
    def arming(self) -> bool:
        return bool(self._arming)

    @property
    def spares_coming(self) -> int:
        """Spares ready or being armed."""
        return len(self.spares) + len(self._arming)

    def take_spare(self) -> Spare | None:
        while self.spares:
            spare = self.spares.popleft()
            if spare.process.pid in self._spare_procs:
                return spare
        return None

    async def next_spare(self, patience_s: float) -> Spare | None:
        """A spare; when none is ready but one is being armed, that one once the zygote has forked it
        (waiting at most `patience_s`). It may still be joining its cgroups, which a new child
        would have to do too, from later on."""
        spare = self.take_spare()
        if spare is not None or not self._arming or not self.alive:
            return spare
        waiting = self._armed = self._armed if self._armed is not None else self._loop.create_future()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiting), patience_s)
        return self.take_spare()

    def preload(self, names: list[str]) -> None:
        """Ask the zygote to import `names` (those not sent before, and not banned) ahead of the
        next forks."""
        fresh = [n for n in names if n not in self.preloaded and n not in self.banned]
        if not fresh or not self.alive:
            return
        self.preloaded.update(fresh)
        self.preloading += 1
        self._send(protocol.frame(protocol.PRELOAD, json.dumps(fresh).encode()), [], None)

    def kill(self, reason: str = "it was stopped") -> None:
        """Stop the zygote (`_gone` kills its process); its workers die with it."""
        self._gone(f"the zygote was killed: {reason}")

    def _lose_children(self) -> None:
        """The zygote is gone: its workers and spares die with it (parent-death signal); make sure."""
        children, self.children = list(self.children.values()), {}
        for child in children:
            child.kill()
            child.exited(UNKNOWN_EXIT)
        for process in self._spare_procs.values():
            process.kill()
        for sock in [*(spare.sock for spare in self.spares), *self._lingering]:
            sock.close()
        self._lingering.clear()
        groups = [s.group for s in self.spares] + list(self._arming.values())
        self.spares.clear()
        self._arming.clear()
        self._spare_procs.clear()
        self._wake_armed()
        for group in groups:
            group.discard(self._loop)

    def _on_exit(self, code: ExitCode) -> None:
        self._readable()   # what it said before it went (exits, a preload's verdict)
        self._gone(f"the zygote exited ({_describe(code)})")
        self.exited.set_result(None)

    # -- the socket --------------------------------------------------------------------------------

    def _send(self, data: bytes, fds: list[int], ends: Channels | None) -> None:
        self._outbox.append((data, fds, ends))
        if not self._writing:
            self._flush()

    def _flush(self) -> None:
        while self._outbox:
            data, fds, ends = self._outbox[0]
            try:
                socket.send_fds(self._sock, [data], fds) if fds else self._sock.send(data)
            except BlockingIOError:
                if not self._writing:
                    self._writing = True
                    self._loop.add_writer(self._sock.fileno(), self._flush)
                return
            except OSError as exc:
                self._gone(f"the zygote's socket failed: {exc}")
                return
            self._outbox.popleft()
            if ends is not None:
                ends.handed_over()
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._sock.fileno())

    def _readable(self) -> None:
        while self.alive:
            try:
                data, fds, _, _ = socket.recv_fds(self._sock, 1 << 16, 1, _CLOEXEC)
            except BlockingIOError:
                return
            except OSError as exc:
                self._gone(f"the zygote's socket failed: {exc}")
                return
            if not data:
                for fd in fds:
                    os.close(fd)
                self._gone("the zygote closed its socket")
                return
            try:
                _, kind = protocol.FRAME.unpack_from(data)
                body = json.loads(data[protocol.FRAME.size:])
                if kind == protocol.ARMED:
                    self._on_armed(body, fds)
                    fds = []
                else:
                    self._on_message(kind, body)
            except (ValueError, KeyError, TypeError, AttributeError, struct_error) as exc:
                self.kill(f"it broke the protocol: {exc!r}")
                return
            finally:
                for fd in fds:
                    os.close(fd)

    def _on_message(self, kind: int, body: dict[str, Any]) -> None:
        handler = self._handlers.get(kind)
        if handler is None:
            raise ValueError(f"unexpected frame {chr(kind)!r}")
        handler(self, body)

    def _on_exited(self, body: dict[str, Any]) -> None:
        spare = self._spare_procs.pop(int(body["pid"]), None)
        if spare is not None:   # a spare that was never used (dropped after a preload, or killed)
            for held in [s for s in self.spares if s.process is spare]:
                self.spares.remove(held)
                held.sock.close()
                held.group.discard(self._loop)
            spare.exited(int(body["code"]))
            self.on_spare_lost(self)
            return
        child = self.children.pop(int(body["pid"]), None)
        if not self.children:
            self.empty_since = self._clock()
        if child is not None:
            child.exited(int(body["code"]))

    def _on_forked(self, body: dict[str, Any]) -> None:
        future = self._forks.pop(int(body["id"]), None)
        pid = int(body["pid"])
        spare = self._spare_procs.pop(pid, None)
        child = self.children[pid] = spare if spare is not None else ForkedProcess(pid, self.pid)
        if future is None or future.done():   # its invocation gave up meanwhile
            child.kill()
        else:
            future.set_result(child)

    def _on_fork_failed(self, body: dict[str, Any]) -> None:
        future = self._forks.pop(int(body["id"]), None)
        if future is not None and not future.done():
            future.set_exception(errors.ZygoteUnavailable(f"the zygote could not fork: {body.get('error')}"))

    def _on_ready(self, body: dict[str, Any]) -> None:
        self.ready_info = body
        if not self._ready.done():
            self._ready.set_result(None)

    def _on_armed(self, body: dict[str, Any], fds: list[int]) -> None:
        """A spare forked: `fds` holds its socket's other end (taken over here, closed if unused)."""
        spare_id, pid = int(body["spare"]), int(body["pid"])   # (a malformed frame raises before fds are taken)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, fileno=fds[0]) if len(fds) == 1 else None
        for fd in fds[1:]:
            os.close(fd)
        group = self._arming.pop(spare_id, None)
        process = self._spare_procs[pid] = ForkedProcess(pid, self.pid)
        if group is not None and sock is not None:
            self.spares.append(Spare(spare_id, process, group, sock, self._loop.time()))
        else:   # nothing to hand it a request with, or no group for it: it goes
            if sock is not None:
                sock.close()
            process.kill()
            if group is not None:
                group.discard(self._loop)
        self._wake_armed()

    def _wake_armed(self) -> None:
        waiting, self._armed = self._armed, None
        if waiting is not None and not waiting.done():
            waiting.set_result(None)

    def _on_template_failed(self, body: dict[str, Any]) -> None:
        if not self._ready.done():
            error = body.get("error")
            error = error if isinstance(error, dict) else {}
            self._ready.set_exception(errors.SnapshotInitFailed(error, str(body.get("output", "")),
                                                                float(body.get("init_ms", 0.0))))

    def _on_preloaded(self, body: dict[str, Any]) -> None:
        self.preloading = max(0, self.preloading - 1)
        if body.get("loaded"):
            self.drop_spares()   # forked before these imports: the pool arms new ones (their W frames)
        threaded = body.get("threaded")
        if isinstance(threaded, str):
            self.banned.add(threaded)
            log.info("zygote %s: importing %s left a thread running; it is not preloaded again", self.pid, threaded)
        if body.get("failed"):
            log.debug("zygote %s could not preload %s", self.pid, body["failed"])

    _handlers: ClassVar[dict[int, Callable[[Zygote, dict[str, Any]], None]]] = {
        protocol.EXITED: _on_exited, protocol.FORKED: _on_forked, protocol.FORK_FAILED: _on_fork_failed,
        protocol.READY: _on_ready, protocol.PRELOAD: _on_preloaded, protocol.TEMPLATE_FAILED: _on_template_failed,
    }   # ARMED carries a descriptor: _readable gives it to _on_armed

    def _gone(self, reason: str) -> None:
        if not self.alive:
            return
        self.dead_reason = reason
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_reader(self._sock.fileno())
        if self._writing:
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_writer(self._sock.fileno())
        for _, _, ends in self._outbox:
            if ends is not None:
                ends.handed_over()
        self._outbox.clear()
        self._sock.close()
        self._process.kill()
        for future in self._forks.values():
            if not future.done():
                future.set_exception(errors.ZygoteUnavailable(reason))
        self._forks.clear()
        if not self._ready.done():
            self._ready.set_exception(errors.ZygoteUnavailable(reason))
            self._ready.exception()   # retrieved: start() reports it
        self._lose_children()
        self.on_dead(self, reason)


def _describe(code: ExitCode) -> str:
    if code == UNKNOWN_EXIT:
        return "status unknown"
    return f"status {code}" if code >= 0 else f"signal {-code}"


def zygote_environment(env: dict[str, str]) -> dict[str, str]:
    return {k: env[k] for k in ZYGOTE_VARIABLES if k in env}



