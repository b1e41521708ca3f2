"""The worker's peak memory (kB), cheaply enough to measure on every invocation.

getrusage's ru_maxrss (1-2 µs) is the obvious source, but Linux carries over into it the peak
of the process that exec'd us: a worker spawned by a 300 MB server would report 300 MB. So the
peak is trusted only once it exceeds that inherited value; below it, the worker's own high-water
mark is VmHWM at init and, per invocation, the current resident size (/proc/self/statm, ~2 µs;
/proc/self/status would give VmHWM but costs ~15 µs). Below the inherited value a short peak
inside an invocation can thus be missed; above it the figure is exact.
"""

from __future__ import annotations

import os
import resource

_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


class MemoryGauge:
    """`peak_file`: the instance's memory cgroup's memory.max_usage_in_bytes. When given, it is the
    figure (the instance's own charge: pages shared with a zygote are not counted, as RSS would)."""

    def __init__(self, peak_file: str | None = None) -> None:
        self._cgroup = -1
        if peak_file:
            try:
                self._cgroup = os.open(peak_file, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                self._cgroup = -1
        self._inherited = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self._peak = _read_hwm_kb()
        self._statm = -1
        if self._peak < self._inherited:
            try:
                self._statm = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                self._statm = -1

    def peak_kb(self) -> int:
        if self._cgroup >= 0:
            try:
                return int(os.pread(self._cgroup, 32, 0)) // 1024
            except (OSError, ValueError):
                self._cgroup = -1
        usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if self._statm < 0 or usage > self._inherited:
            return usage
        resident = int(os.pread(self._statm, 128, 0).split()[1]) * _PAGE_KB
        if resident > self._peak:
            self._peak = resident
        return self._peak


def _read_hwm_kb() -> int:
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 1 << 62   # unknown: trust getrusage alone
