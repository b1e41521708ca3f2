"""Limits: what the kernel enforces per instance (its cgroups, where the machine allows them: MemorySize,
a bound on processes, a kill that reaches what left the instance's session), and the faults an
instance must survive or take down with it (zombies, segfaults, threads, floods of output)."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest

from lambdalite import errors
from lambdalite.pool.cgroups import Cgroups
from tests.conftest import DETACH

from .conftest import invocation

needs_cgroups = pytest.mark.skipif(not Cgroups.available(), reason="no cgroup can be made on this machine")

HOG = """
import time
def handler(event, context):
    blocks = [b"x" * (32 << 20) for _ in range(event["blocks"])]
    return len(blocks)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return not stat.read().split(") ")[1].startswith("Z")


@needs_cgroups
async def test_memory_over_memory_size_is_killed_and_reported(make_spec, invoke) -> None:
    spec = make_spec(HOG, memory_mb=128)
    with pytest.raises(errors.InstanceOutOfMemory) as caught:
        await invoke(spec, b'{"blocks": 16}')         # 512 MB under 128
    assert caught.value.signal == 9 and caught.value.max_memory_mb >= 128
    ok = await invoke(spec, b'{"blocks": 1}')          # a new instance serves the next call
    assert ok.body == b"1" and 32 <= ok.max_memory_mb < 128   # its own charge: the 32 MB block and change


@needs_cgroups
async def test_memory_used_counts_the_instance_not_what_it_shares(make_spec, invoke) -> None:
    small = await invoke(make_spec("def handler(event, context):\n    return 1\n", memory_mb=128))
    assert 1 <= small.max_memory_mb < 30


@needs_cgroups
async def test_a_fork_bomb_is_bounded(make_spec, invoke) -> None:
    spec = make_spec("""
        import os, time
        def handler(event, context):
            made = 0
            try:
                for _ in range(5000):
                    if os.fork() == 0:
                        time.sleep(30)
                        os._exit(0)
                    made += 1
            except OSError as exc:
                return {"made": made, "error": exc.errno}
            return {"made": made}
    """, timeout_s=20, memory_mb=2048)   # room for the processes: the pids limit is what stops it
    result = json.loads((await invoke(spec)).body)
    assert result["made"] < 1024 and result["error"] == 11   # EAGAIN from the pids controller


@needs_cgroups
async def test_a_grandchild_that_left_the_session_dies_with_its_instance(make_spec, invoke, backend) -> None:
    spec = make_spec(DETACH, timeout_s=1)
    escaped = int((await invoke(spec)).body)
    assert _alive(escaped)
    with pytest.raises(errors.InstanceTimedOut):          # the timeout kills the instance
        await invoke(spec, b'{"s": 5}')
    deadline = time.monotonic() + 3
    while _alive(escaped) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not _alive(escaped)                             # and what escaped its session


async def test_children_never_waited_for_do_not_pile_up_as_zombies(make_spec, invoke) -> None:
    spec = make_spec("""
        import os, subprocess
        HELD = []
        def zombies():
            me = os.getpid()
            found = 0
            for tid in os.listdir(f"/proc/{me}/task"):
                for pid in open(f"/proc/{me}/task/{tid}/children").read().split():
                    stat = open(f"/proc/{pid}/stat").read()
                    found += stat[stat.rindex(")") + 2] == "Z"
            return found
        def handler(event, context):
            if event.get("wait"):
                return [HELD[0].wait(), zombies()]
            for _ in range(50):
                if os.fork() == 0:
                    os._exit(0)
            HELD.append(subprocess.Popen(["sh", "-c", "exit 7"]))   # its owner waits for it later
            return zombies()
    """)
    assert int((await invoke(spec)).body) >= 1         # during the call they are zombies
    await asyncio.sleep(0.3)
    status, left = json.loads((await invoke(spec, b'{"wait": true}')).body)
    assert status == 7                                   # the held Popen's status was not taken
    assert left == 0                                     # and the 50 unwaited children were reaped


async def test_a_segfault_is_an_exit_by_signal(make_spec, invoke) -> None:
    spec = make_spec("import ctypes, os\ndef handler(event, context):\n"
                     "    if event.get('crash'):\n        ctypes.string_at(0)\n    return os.getpid()\n")
    pid = int((await invoke(spec)).body)
    with pytest.raises(errors.InstanceExited) as caught:
        await invoke(spec, b'{"crash": true}')
    assert caught.value.signal == 11
    assert int((await invoke(spec)).body) != pid


async def test_a_child_left_running_dies_with_its_instance(make_spec, invoke, backend) -> None:
    spec = make_spec("import subprocess\nKEEP = []\ndef handler(event, context):\n"
                     "    KEEP.append(subprocess.Popen(['sleep', '300']))\n    return KEEP[-1].pid\n")
    child = int((await invoke(spec)).body)
    assert _alive(child)
    await backend.retire(spec.key)
    deadline = time.monotonic() + 3
    while _alive(child) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not _alive(child)


async def test_100_mb_to_stdout_is_capped_and_the_instance_serves_on(make_spec, invoke) -> None:
    spec = make_spec("""
        import os, sys
        def handler(event, context):
            if event.get("flood"):
                chunk = "z" * (1 << 20)
                for _ in range(100):
                    sys.stdout.write(chunk)        # through the runtime's frames
                os.write(1, b"w" * (1 << 20))      # and straight at the fd
            return os.getpid()
    """, timeout_s=30)
    flood = await invoke(spec, b'{"flood": true}')
    assert len(flood.output) < 4_300_000 and "[lambdalite] output truncated" in flood.output
    after = await invoke(spec)
    assert after.body == flood.body and len(after.output) < 4_300_000   # same instance, bounded again


async def test_a_thread_left_running_after_return_ends_with_its_instance(make_spec, invoke, backend) -> None:
    spec = make_spec("""
        import os, threading, time
        def spin():
            while True:
                time.sleep(0.01)
        def handler(event, context):
            threading.Thread(target=spin).start()   # not a daemon: it never ends by itself
            return [os.getpid(), threading.active_count()]
    """)
    pid, threads = json.loads((await invoke(spec)).body)
    assert threads >= 2
    again, more = json.loads((await invoke(spec)).body)
    assert again == pid and more > threads               # the instance served on beside its threads
    await backend.retire(spec.key)
    deadline = time.monotonic() + 3
    while _alive(pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not _alive(pid)


# Where no cgroup can be made (a user that is not root, cgroup v2 without delegation) a watchdog
# and a check after each reply stand in for the kernel's limit: the same error, the same figures.

async def test_without_cgroups_the_watchdog_ends_an_instance_over_its_memory(make_spec, make_backend) -> None:
    backend = make_backend(cgroups=False)
    spec = make_spec("import time\ndef handler(event, context):\n"
                     "    blocks = [b'x' * (32 << 20) for _ in range(12)]\n    time.sleep(5)\n    return len(blocks)\n",
                     memory_mb=128, timeout_s=10)
    started = time.monotonic()
    with pytest.raises(errors.InstanceOutOfMemory) as caught:
        await backend.invoke(spec, invocation())
    assert time.monotonic() - started < 3 and caught.value.max_memory_mb >= 128


async def test_without_cgroups_a_peak_past_memory_size_fails_even_when_the_call_returned(make_spec,
                                                                                        make_backend) -> None:
    backend = make_backend(cgroups=False)
    spec = make_spec("import os\ndef handler(event, context):\n"
                     "    if event.get('big'):\n        block = bytearray(300 << 20)\n        del block\n"
                     "    return os.getpid()\n", memory_mb=128)
    pid = int((await backend.invoke(spec, invocation())).body)
    with pytest.raises(errors.InstanceOutOfMemory):
        await backend.invoke(spec, invocation(b'{"big": true}'))
    assert int((await backend.invoke(spec, invocation())).body) != pid   # a new instance serves on
