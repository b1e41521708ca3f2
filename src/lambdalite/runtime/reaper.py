"""Children a function started and never waited for are reaped before each invocation, so that they
do not pile up as zombies; a child some live `Popen` still holds is left for its owner to wait
for (taking its status would make the owner's wait() report 0).

The common case costs one waitid(WNOWAIT) call: it says whether any child is a zombie at all.
Only then are the zombies listed (/proc/self/task/*/children) and the live Popen objects looked up
(the garbage collector's list: slow, but only for functions that leave zombies).
"""

from __future__ import annotations

import gc
import os


def reap_unwaited() -> int:
    """Reap this process's zombie children that no live Popen holds; how many were reaped."""
    try:
        if os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            return 0
    except ChildProcessError:
        return 0
    zombies = _zombie_children()
    held = _held_pids() if zombies else set()
    reaped = 0
    for pid in zombies:
        if pid in held:
            continue
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                reaped += 1
        except ChildProcessError:
            pass
    return reaped


def _zombie_children() -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/children", "rb") as children:
                pids = children.read().split()
        except OSError:
            continue
        for pid in pids:
            try:
                with open(b"/proc/" + pid + b"/stat", "rb") as stat:
                    text = stat.read()
            except OSError:
                continue
            end = text.rfind(b")")
            if text[end + 2:end + 3] == b"Z":
                found.append(int(pid))
    return found


def _held_pids() -> set[int]:
    """The pids of live, not yet waited Popen objects (subprocess's and multiprocessing's)."""
    held = set()
    for obj in gc.get_objects():
        if type(obj).__name__ == "Popen" and getattr(obj, "returncode", 0) is None:
            pid = getattr(obj, "pid", None)
            if isinstance(pid, int):
                held.add(pid)
    return held
