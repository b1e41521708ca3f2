"""How a worker process ends, apart from what the worker does: its pid, killing it, learning its exit.

An `Instance` speaks frames with its worker; a `WorkerProcess` only knows the process. The exit
status comes from facts: for a direct child, `waitpid` on a pidfd that turns readable when the
child exits. A worker forked from a zygote is not this server's child (waitpid cannot see it):
its parent reports the status instead, through another `WorkerProcess` with the same contract.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import Callable
from typing import Protocol

UNKNOWN_EXIT = -1000  # stands for "exited, status unknown" (never a real exit code or signal)

ExitCode = int   # >= 0: exit status; < 0: -signal number; UNKNOWN_EXIT: not known


class WorkerProcess(Protocol):
    pid: int

    def watch(self, on_exit: Callable[[ExitCode], None]) -> None:
        """Call `on_exit` once, on the event loop, when the process has ended (and was reaped)."""
        ...

    def kill(self) -> None:
        """SIGKILL the process and everything it started (its process group). Safe to repeat."""
        ...


class ChildProcess:
    """A direct child of the server: its end is seen through a pidfd, its status through waitpid."""

    def __init__(self, process: subprocess.Popen[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self.pid = process.pid
        self._process = process
        self._loop = loop
        self._pidfd = -1
        self._exit: ExitCode | None = None
        self._on_exit: Callable[[ExitCode], None] = lambda code: None

    def watch(self, on_exit: Callable[[ExitCode], None]) -> None:
        self._on_exit = on_exit
        self._pidfd = os.pidfd_open(self.pid)
        self._loop.add_reader(self._pidfd, self._readable)

    def kill(self) -> None:
        # The group id stays pinned by the worker until it is reaped, which happens after this.
        if self._exit is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)

    def _readable(self) -> None:
        """The pidfd is readable: the worker has exited (a zombie until waitpid below)."""
        self.kill()   # children it left behind go too
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:   # reaped by someone else: how it ended is not known
            pid, status = self.pid, -1
        if pid == 0:
            return    # not reaped yet: the pidfd stays readable, this runs again
        self._loop.remove_reader(self._pidfd)
        os.close(self._pidfd)
        self._exit = os.waitstatus_to_exitcode(status) if status != -1 else UNKNOWN_EXIT
        self._process.returncode = self._exit
        # wait4's ru_maxrss is not used: it includes the peak of the server that spawned the
        # worker (see runtime/memory.py); the worker's last report stands.
        self._on_exit(self._exit)
