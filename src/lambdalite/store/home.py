"""One server per home: an advisory lock on `<home>/server.lock`, held for the server's life.

`flock` is released by the kernel when the holding process dies however it dies, so a stale lock
file never blocks a restart; the file only says who holds it (pid, port) for the refusal message.
The descriptor is close-on-exec: a worker process never inherits the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path

from ..errors import HomeUnusable

LOCK_NAME = "server.lock"


class HomeLock:
    def __init__(self, fd: int, path: Path) -> None:
        self._fd = fd
        self.path = path

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)   # closing the descriptor releases the flock
            self._fd = -1


def lock_home(home: Path, port: int) -> HomeLock:
    """Take the home for this process, or raise HomeUnusable naming the server that has it."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _holder(fd)
        os.close(fd)
        raise HomeUnusable(
            f"{home} is in use by another Lambdalite server ({holder}): one server per home, or two "
            "writers would share one store. Stop that server, or start this one with another --home.") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"pid": os.getpid(), "port": port}).encode(), 0)
    return HomeLock(fd, path)


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError, TypeError):
        data = json.loads(os.pread(fd, 4096, 0))
        return f"pid {int(data['pid'])}, port {int(data['port'])}"
    return "it is starting; pid and port not written yet"
