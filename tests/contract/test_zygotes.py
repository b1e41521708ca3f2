"""Instances forked from a zygote behave as fresh interpreters would, and a zygote's faults cost
nothing but speed. (The local backend's zygotes; every other contract test runs on them too.)"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import pytest

from lambdalite import errors
from lambdalite.pool.cgroups import Cgroups

from .conftest import invocation, local_backend

ENV_INFO = """
import os, sys, random, time
def handler(event, context):
    return {"pid": os.getpid(), "ppid": os.getppid(), "cwd": os.getcwd(), "path0": sys.path[0],
            "offset": time.localtime(1765000000).tm_gmtoff,
            "env": dict(os.environ), "random": random.random(), "pgid": os.getpgid(0), "sid": os.getsid(0)}
"""


@pytest.fixture
def zygote_backend(runtime_dir: Path, code_root: Path, bundle: Path, envs_root: Path, made_backends):  # type: ignore[no-untyped-def]
    def make(**options):  # type: ignore[no-untyped-def]
        backend = local_backend(runtime_dir, code_root, bundle, envs_root, **options)
        made_backends.append(backend)
        return backend
    return make


def invoke(spec, payload: bytes = b"{}", on=None):  # type: ignore[no-untyped-def]
    return on.invoke(spec, invocation(payload))


def _spares(zygote: int) -> list[int]:
    """The zygote's children waiting as spares (named so in ps)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            name = (entry / "comm").read_text().strip()
        except (OSError, ValueError):
            continue
        if entry.name.isdigit() and int(stat.rsplit(") ", 1)[1].split()[1]) == zygote and name == "lambdalite-spar":
            found.append(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")


async def test_an_instance_is_forked_and_sees_only_its_own_function(make_spec, zygote_backend,
                                                                    code_folder) -> None:
    backend = zygote_backend()
    one = make_spec(ENV_INFO, env={"ONLY_ONE": "1", "TZ": "Europe/Paris"})
    two = make_spec(ENV_INFO, env={"ONLY_TWO": "2"})
    a, b = [json.loads((await invoke(spec, on=backend)).body) for spec in (one, two)]
    [zygote] = backend.zygote_pids()
    assert a["ppid"] == b["ppid"] == zygote                # both forked from the one zygote of the environment
    assert a["pgid"] == a["sid"] == a["pid"]               # each in a session of its own
    assert a["cwd"] == a["path0"] == code_folder(one) and b["path0"] == code_folder(two)
    assert a["env"]["ONLY_ONE"] == "1" and "ONLY_ONE" not in b["env"] and "ONLY_TWO" not in a["env"]
    assert a["env"]["TZ"] == "Europe/Paris" and a["offset"] == 3600   # the zone is the function's own
    assert not any(k.startswith("_LAMBDALITE_") for k in (*a["env"], *b["env"]))
    assert a["random"] != b["random"]                       # siblings do not share a random state


async def test_siblings_draw_different_numbers(make_spec, zygote_backend) -> None:
    backend = zygote_backend()
    spec = make_spec("import random, time\ndef handler(event, context):\n    time.sleep(0.3)\n"
                     "    return random.getrandbits(64)\n")
    draws = await asyncio.gather(*(invoke(spec, on=backend) for _ in range(3)))
    assert len({d.body for d in draws}) == 3


async def test_a_module_the_zygote_preloaded_yields_to_the_functions_own(make_spec, zygote_backend,
                                                                         envs_root) -> None:
    backend = zygote_backend()
    env = envs_root / "shared"
    env.mkdir()
    (env / "helper.py").write_text("WHO = 'the environment'\n")
    user = make_spec("import helper\ndef handler(event, context):\n    return helper.WHO\n")
    user = type(user)(**{**user.__dict__, "environment": "shared"})
    assert json.loads((await invoke(user, on=backend)).body) == "the environment"
    await asyncio.sleep(0.3)   # the zygote has preloaded helper by now
    own = make_spec({"app.py": "import helper\ndef handler(event, context):\n    return helper.WHO\n",
                     "helper.py": "WHO = 'the function'\n"})
    own = type(own)(**{**own.__dict__, "environment": "shared"})
    assert json.loads((await invoke(own, on=backend)).body) == "the function"
    again = make_spec("import sys, helper\ndef handler(event, context):\n    return helper.WHO\n")
    again = type(again)(**{**again.__dict__, "environment": "shared"})
    assert json.loads((await invoke(again, on=backend)).body) == "the environment"


async def test_a_module_that_leaves_a_thread_running_is_not_preloaded(make_spec, zygote_backend,
                                                                      envs_root) -> None:
    backend = zygote_backend()
    env = envs_root / "threaded"
    env.mkdir()
    (env / "spinner.py").write_text("import threading, time\n"
                                    "threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()\n")

    def spec():  # type: ignore[no-untyped-def]
        s = make_spec("import os, threading, spinner\ndef handler(event, context):\n"
                      "    return [os.getppid(), threading.active_count()]\n")
        return type(s)(**{**s.__dict__, "environment": "threaded"})

    first_parent, threads = json.loads((await invoke(spec(), on=backend)).body)
    assert threads == 2
    deadline = time.monotonic() + 5
    while first_parent in backend.zygote_pids() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)   # the zygote imported spinner, saw the thread, and left
    assert first_parent not in backend.zygote_pids()
    for _ in range(2):   # a new zygote never preloads it again, and instances still work
        parent, threads = json.loads((await invoke(spec(), on=backend)).body)
        assert threads == 2 and parent in backend.zygote_pids()


async def test_a_killed_zygote_costs_its_instances_and_nothing_else(make_spec, zygote_backend) -> None:
    backend = zygote_backend()
    spec = make_spec("import os, time\ndef handler(event, context):\n    time.sleep(event.get('s', 0))\n"
                     "    return os.getpid()\n")
    pid = int((await invoke(spec, on=backend)).body)
    [zygote] = backend.zygote_pids()
    busy = asyncio.ensure_future(invoke(spec, b'{"s": 5}', on=backend))
    forking = [asyncio.ensure_future(invoke(make_spec("def handler(e, c):\n    return 1\n"), on=backend))
               for _ in range(3)]
    await asyncio.sleep(0.3)
    os.kill(zygote, signal.SIGKILL)
    with pytest.raises(errors.InstanceExited):
        await busy
    for call in forking:   # forked before the kill, or started fresh / from a new zygote after it
        try:
            assert (await call).body == b"1"
        except errors.InstanceExited:
            pass
    deadline = time.monotonic() + 3
    while not _gone(pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert _gone(pid)                                   # its instances died with it
    again = await invoke(spec, on=backend)             # and the next call starts another instance
    assert int(again.body) != pid and again.init_duration_ms is not None


async def test_an_idle_zygote_stops_after_its_timeout(make_spec, zygote_backend) -> None:
    now = [1000.0]
    backend = zygote_backend(idle_timeout_s=60, zygote_idle_timeout_s=300, clock=lambda: now[0])
    spec = make_spec("def handler(event, context):\n    return 1\n")
    await invoke(spec, on=backend)
    [zygote] = backend.zygote_pids()
    now[0] += 60
    assert await backend.reap_idle() == 1               # the instance goes first
    now[0] += 299
    await backend.reap_idle()
    assert backend.zygote_pids() == [zygote]
    now[0] += 1
    await backend.reap_idle()
    assert backend.zygote_pids() == []                   # no process left for this function at all
    deadline = time.monotonic() + 3
    while not _gone(zygote) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert _gone(zygote)
    assert (await invoke(spec, on=backend)).body == b"1"   # and a call starts them again


PRELOADED = """
import sys
SEEN = "fractions" in sys.modules   # before this module imports it: the zygote had it already?
import fractions
def handler(event, context):
    return {"seen": SEEN, "ppid": __import__("os").getppid(),
            "cgroups": open("/proc/self/cgroup").read()}
"""


async def test_the_modules_a_spec_names_are_in_its_zygote_before_the_first_fork(make_spec, zygote_backend) -> None:
    cold = make_spec(PRELOADED)
    backend = zygote_backend()
    assert json.loads((await invoke(cold, on=backend)).body)["seen"] is False   # nobody imported it yet
    restarted = zygote_backend()   # a new server: only what the function version kept is known
    spec = make_spec(PRELOADED)
    spec = type(spec)(**{**spec.__dict__, "preload": ("fractions",)})
    answer = json.loads((await invoke(spec, on=restarted)).body)
    assert answer["seen"] is True and answer["ppid"] in restarted.zygote_pids()


@pytest.mark.skipif(not Cgroups.available(), reason="no cgroup can be made on this machine")
async def test_a_fork_that_finds_its_spare_dropped_by_a_preload_still_joins_the_instance_cgroups(
        make_spec, zygote_backend) -> None:
    backend = zygote_backend()
    first = make_spec("def handler(event, context):\n    return 1\n")
    assert (await invoke(first, on=backend)).body == b"1"
    [zygote] = backend.zygote_pids()
    deadline = time.monotonic() + 5
    while not _spares(zygote) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)   # the zygote's spare is armed
    assert _spares(zygote)
    # This spec's preload reaches the zygote just before the fork that takes the spare: the zygote
    # imports, drops the spare (forked before the import), and forks a new child instead.
    spec = make_spec(PRELOADED)
    spec = type(spec)(**{**spec.__dict__, "preload": ("fractions",)})
    answer = json.loads((await invoke(spec, on=backend)).body)
    assert answer["seen"] is True
    memory = next(line for line in answer["cgroups"].splitlines() if ":memory:" in line)
    assert "/lambdalite-" in memory   # in a group of its own, not the server's


@pytest.mark.skipif(not Cgroups.available(), reason="no cgroup can be made on this machine")
async def test_cold_starts_faster_than_a_spare_matures_make_the_zygote_keep_two(make_spec, zygote_backend) -> None:
    backend = zygote_backend()
    source = "import os\ndef handler(event, context):\n    return os.getppid()\n"
    first = make_spec(source)
    assert (await invoke(first, on=backend)).body
    [zygote] = backend.zygote_pids()
    deadline = time.monotonic() + 5
    while len(_spares(zygote)) < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert len(_spares(zygote)) == 1   # one is kept while cold starts are rare
    await asyncio.sleep(0.3)
    assert len(_spares(zygote)) == 1
    for _ in range(3):   # back to back: the next fork comes before (or just after) the new spare is forked
        assert json.loads((await invoke(make_spec(source), on=backend)).body) == zygote
    deadline = time.monotonic() + 5
    while len(_spares(zygote)) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert len(_spares(zygote)) == 2


@pytest.mark.skipif(not Cgroups.available(), reason="no cgroup can be made on this machine")
async def test_a_spare_killed_before_its_fork_costs_the_fork_nothing_but_speed(make_spec, zygote_backend) -> None:
    """The pool hands a fork request to a spare directly (over the spare's socket); one that died
    meanwhile leaves the fork to the zygote."""
    backend = zygote_backend()
    source = "import os\ndef handler(event, context):\n    return os.getppid()\n"
    assert (await invoke(make_spec(source), on=backend)).body
    [zygote] = backend.zygote_pids()
    for _ in range(2):
        deadline = time.monotonic() + 5
        while not _spares(zygote) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        spares = _spares(zygote)
        assert spares
        for spare in spares:
            os.kill(spare, signal.SIGKILL)
        while any(not _gone(spare) for spare in spares) and time.monotonic() < deadline + 5:
            await asyncio.sleep(0.005)   # gone; the zygote's W frame may not have been read yet
        assert json.loads((await invoke(make_spec(source), on=backend)).body) == zygote


async def test_what_a_forked_instance_inherits_is_out_of_its_garbage_collectors_reach(
        make_spec, zygote_backend) -> None:
    """Frozen before the fork (gc.freeze): a collection in the instance never writes to the inherited
    objects' headers, which would copy the zygote's whole heap into it."""
    backend = zygote_backend()
    spec = make_spec("import gc\ndef handler(event, context):\n    return gc.get_freeze_count()\n")
    assert json.loads((await invoke(spec, on=backend)).body) > 1000
