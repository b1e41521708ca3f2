"""A temporary directory per instance, as `TMPDIR` (Lambda gives each execution environment its
own `/tmp`, kept across its invocations).

`<runtime dir>/tmp/<server pid>-<n>/i<k>/`, made before the worker starts and removed once the
instance has ended; a server killed with SIGKILL leaves its folder, and the next one removes folders
whose server is gone. `tempfile` and everything that honours `TMPDIR` use it; code that writes to
the literal path `/tmp` still shares the machine's.

Its size is checked against `EphemeralStorage` after invocations, at most once a second per
instance and off the event loop (`usage_mb`): an instance found over it is stopped (after the call
it is serving), which removes the folder. AWS fails the write itself ("No space left on device");
that needs a filesystem of its own per instance, and a tmpfs would charge the files to MemorySize.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
from pathlib import Path

_backends = itertools.count()


class TempDirs:
    def __init__(self, runtime_dir: Path) -> None:
        parent = runtime_dir / "tmp"
        parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(parent)
        self.root = parent / f"{os.getpid()}-{next(_backends)}"
        self.root.mkdir()
        self._ids = itertools.count()
        self._users: set[int] = set()   # function users whose folder is made

    def make(self, uid: int | None = None) -> Path:
        """A new instance's folder: named here, made by the worker itself before user code runs
        (off the server's cold-start path). `uid`: a function user's instance (pool.walls), whose
        folder goes in one of that user's own (made once, 0700), where it may make it."""
        if uid is None:
            return self.root / f"i{next(self._ids)}"
        parent = self.root / f"u{uid}"
        if uid not in self._users:
            parent.mkdir(mode=0o700, exist_ok=True)
            os.chown(parent, uid, uid)
            self._users.add(uid)
        return parent / f"i{next(self._ids)}"

    @staticmethod
    def remove(path: Path) -> None:
        """Remove an ended instance's folder, off the event loop (it may hold many files)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            shutil.rmtree(path, ignore_errors=True)
            return
        loop.run_in_executor(None, shutil.rmtree, path, True)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def usage_mb(path: Path) -> float:
    """What the files under `path` take on disk, in MB (allocated blocks: a sparse file counts
    what it uses); 0 when the folder is not there."""
    total = 0
    stack = [str(path)]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    else:
                        total += entry.stat(follow_symlinks=False).st_blocks * 512
                except OSError:
                    continue
    return total / (1 << 20)


def _remove_stale(parent: Path) -> None:
    for folder in parent.iterdir():
        try:
            os.kill(int(folder.name.split("-")[0]), 0)
            continue
        except ValueError:
            continue
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        with contextlib.suppress(OSError):
            shutil.rmtree(folder)
