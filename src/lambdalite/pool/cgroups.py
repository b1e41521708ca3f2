"""A cgroup per instance: MemorySize enforced by the kernel, a bound on processes, and a kill that
reaches everything the instance started, even what left its session.

Linux cgroup v1 (the `memory` and `pids` controllers), used when the server can create groups
under its own: as root on these machines. The server makes `lambdalite-<pid>-<n>/` under its own group
of each controller and, per instance, `i<n>/` in both, with `memory.limit_in_bytes` (and the
memory+swap limit when the kernel accounts swap) at MemorySize and `pids.max` at PIDS_MAX. The
worker joins them itself before any user code runs (it writes its pid into each `cgroup.procs`), so
pages it shares with its zygote stay charged to the zygote: what the group counts is the
instance's own memory (its copies, its allocations, the files it reads), which is what `Max
Memory Used` reports (the worker reads `memory.max_usage_in_bytes`). Over the limit the kernel's
OOM killer kills inside the group; `memory.oom_control`'s `oom_kill` count tells it was that.

Where no group can be made (not root, cgroup v2 without delegation, a read-only /sys), `detect`
returns None: the pool then watches MemorySize itself (resident size; pool/local.py's watchdog)
and kills process groups only.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("memory", "pids")
PIDS_MAX = 1024   # Lambda's processes-and-threads limit per execution environment


@dataclass
class InstanceGroup:
    memory: Path
    pids: Path
    memory_mb: int
    swap_accounted: bool = False

    def limit(self, memory_mb: int) -> None:
        """Set MemorySize (a spare's group gets its instance's figure when it is taken)."""
        if memory_mb == self.memory_mb:
            return
        value = str(memory_mb << 20)
        files = ["memory.limit_in_bytes", *(["memory.memsw.limit_in_bytes"] if self.swap_accounted else [])]
        if memory_mb > self.memory_mb:   # memory+swap is never below memory: raise it first, lower it last
            files.reverse()
        for name in files:
            (self.memory / name).write_text(value)
        self.memory_mb = memory_mb

    def discard(self, loop: asyncio.AbstractEventLoop, tries: int = 50) -> None:
        """Kill what is in the group and remove it once its last process has exited."""
        self.kill_all()
        if not self.remove() and tries > 0:
            loop.call_later(0.1, self.discard, loop, tries - 1)

    @property
    def dirs(self) -> tuple[Path, Path]:
        return self.memory, self.pids

    @property
    def peak_file(self) -> str:
        return str(self.memory / "memory.max_usage_in_bytes")

    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer killed a process of this group."""
        try:
            for line in (self.memory / "memory.oom_control").read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == "oom_kill":
                    return int(value) > 0
            return int((self.memory / "memory.failcnt").read_text()) > 0 and self._under_oom()
        except (OSError, ValueError):
            return False

    def _under_oom(self) -> bool:
        with contextlib.suppress(OSError):
            return "under_oom 1" in (self.memory / "memory.oom_control").read_text()
        return False

    def peak_mb(self) -> int:
        with contextlib.suppress(OSError, ValueError):
            return -(-int((self.memory / "memory.max_usage_in_bytes").read_text()) // (1 << 20))
        return 0

    def kill_all(self) -> int:
        """SIGKILL every process in the group (a session of its own does not get out of it)."""
        killed = 0
        for directory in self.dirs:
            with contextlib.suppress(OSError, ValueError):
                for line in (directory / "cgroup.procs").read_text().split():
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(int(line), signal.SIGKILL)
                        killed += 1
        return killed

    def remove(self) -> bool:
        """rmdir both groups; False while a process is still in one (call again later)."""
        done = True
        for directory in self.dirs:
            try:
                directory.rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                done = False
        return done


# The sentinel: a small process that outlives a server killed with SIGKILL just long enough to kill
# what is left in its groups (a process that left its session is in no process group of ours, and
# the parent-death signal reaches only our own children). It waits for EOF on a pipe only the
# server holds the write end of.
SENTINEL = """
import os, sys, time
try:
    while os.read(int(sys.argv[1]), 64):
        pass
except OSError:
    pass
for attempt in range(20):
    left = False
    for base in sys.argv[2:]:
        try:
            names = os.listdir(base)
        except OSError:
            continue
        for name in names:
            group = os.path.join(base, name)
            if not os.path.isdir(group):
                continue
            try:
                with open(os.path.join(group, "cgroup.procs")) as procs:
                    pids = procs.read().split()
            except OSError:
                pids = []
            for pid in pids:
                try:
                    os.kill(int(pid), 9)
                except OSError:
                    pass
            try:
                os.rmdir(group)
            except OSError:
                left = True
        try:
            os.rmdir(base)
        except OSError:
            left = left or os.path.isdir(base)
    if not left:
        break
    time.sleep(0.1)
"""


class Cgroups:
    def __init__(self, bases: dict[str, Path]) -> None:
        self._bases = bases
        self._ids = itertools.count()
        self.swap_accounted = (bases["memory"] / "memory.memsw.limit_in_bytes").exists()
        self._sentinel, self._alarm = _start_sentinel(list(bases.values()))

    @staticmethod
    def available() -> bool:
        """Whether `detect` would find cgroups to use (creates nothing)."""
        try:
            own = _own_groups()
        except OSError:
            return False
        return all(c in own and os.access(ROOT / c / own[c].lstrip("/"), os.W_OK) for c in CONTROLLERS)

    @classmethod
    def detect(cls) -> Cgroups | None:
        """The server's own cgroups, ready for per-instance groups, or None (with the reason logged)."""
        try:
            own = _own_groups()
            bases = {}
            for controller in CONTROLLERS:
                if controller not in own:
                    raise OSError(f"no cgroup v1 {controller} controller is mounted")
                parent = ROOT / controller / own[controller].lstrip("/")
                _remove_stale(parent)
                base = parent / f"lambdalite-{os.getpid()}-{next(_backends)}"
                base.mkdir(exist_ok=True)
                bases[controller] = base
            (bases["memory"] / "memory.use_hierarchy").read_text()
        except OSError as exc:
            log.info("instances run without a cgroup of their own (a watchdog enforces MemorySize; "
                     "processes are not bounded): %s", exc)
            return None
        return cls(bases)

    def create(self, memory_mb: int, owner: int | None = None) -> InstanceGroup:
        """A group for one instance. `owner`: the uid its worker runs as (pool.walls), which joins the
        group itself and so must be able to write its `cgroup.procs` (nothing else of it)."""
        name = f"i{next(self._ids)}"
        memory, pids = self._bases["memory"] / name, self._bases["pids"] / name
        memory.mkdir()
        try:
            pids.mkdir()
            limit = str(memory_mb << 20)
            (memory / "memory.limit_in_bytes").write_text(limit)
            if self.swap_accounted:
                (memory / "memory.memsw.limit_in_bytes").write_text(limit)
            (pids / "pids.max").write_text(str(PIDS_MAX))
            if owner is not None:
                for folder in (memory, pids):
                    os.chown(folder / "cgroup.procs", owner, -1)
        except OSError:
            InstanceGroup(memory, pids, memory_mb).remove()
            raise
        return InstanceGroup(memory, pids, memory_mb, self.swap_accounted)

    def close(self) -> None:
        self._clear()
        if self._alarm >= 0:
            os.close(self._alarm)   # the sentinel finds nothing left and exits
            self._alarm = -1
        if self._sentinel is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._sentinel.wait(5)

    def _clear(self) -> None:
        for base in self._bases.values():
            _empty(base)


_backends = itertools.count()


def _start_sentinel(bases: list[Path]) -> tuple[subprocess.Popen[bytes] | None, int]:
    read_fd, write_fd = os.pipe()
    os.set_inheritable(write_fd, False)
    try:
        sentinel = subprocess.Popen([sys.executable, "-I", "-S", "-c", SENTINEL, str(read_fd), *map(str, bases)],
                                    pass_fds=(read_fd,), start_new_session=True, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError as exc:
        log.info("no cgroup sentinel (groups outlive a server killed with SIGKILL): %s", exc)
        os.close(write_fd)
        return None, -1
    finally:
        os.close(read_fd)
    return sentinel, write_fd


def _remove_stale(parent: Path) -> None:
    """Groups a server killed with SIGKILL left behind (its pid is gone): emptied and removed."""
    for base in parent.glob("lambdalite-*"):
        try:
            pid = int(base.name.split("-")[1])
            os.kill(pid, 0)
            continue
        except (ValueError, IndexError):
            continue
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        _empty(base)


def _empty(base: Path) -> None:
    """Kill what is in each group under `base`, remove the groups, then `base` itself."""
    for child in [c for c in base.iterdir() if c.is_dir()] if base.is_dir() else []:
        InstanceGroup(child, child, 0).kill_all()
        with contextlib.suppress(OSError):
            child.rmdir()
    with contextlib.suppress(OSError):
        base.rmdir()


def _own_groups() -> dict[str, str]:
    """controller -> this process's group path, from /proc/self/cgroup (v1 lines only)."""
    groups = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            if controller:
                groups[controller] = path
    return groups
