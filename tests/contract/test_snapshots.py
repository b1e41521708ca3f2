"""Snapshots after init (LAMBDALITE_SNAPSHOT=init): a template runs init once, every instance is a
fork of it, the hooks of snapshot_restore_py run where SnapStart runs them."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest

from .conftest import invocation

HOOKED = """
import os, random, time
from snapshot_restore_py import register_after_restore, register_before_snapshot
ORDER = []
INIT_PID = os.getpid()
time.sleep(1.0)                       # a slow init: instances must not pay it
print("init ran")

@register_before_snapshot
def first():
    ORDER.append("before-1")

register_before_snapshot(lambda tag: ORDER.append(tag), "before-2")

@register_after_restore
def restored():
    ORDER.append("after-1")

register_after_restore(lambda tag: ORDER.append(tag), "after-2")

def handler(event, context):
    time.sleep(event.get("s", 0))
    return {"pid": os.getpid(), "init_pid": INIT_PID, "order": ORDER, "random": random.random(),
            "type": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")}
"""


def snap(spec):  # type: ignore[no-untyped-def]
    env = {**spec.env, "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}
    return type(spec)(**{**spec.__dict__, "snapshot": True, "env": env})


async def test_instances_are_forks_of_a_template_that_ran_init(make_spec, backend) -> None:
    spec = snap(make_spec(HOOKED))
    assert await backend.prepare(spec) is None          # the template ran init: the function may be Active
    [template] = backend.zygote_pids()
    started = time.monotonic()
    first, second = await asyncio.gather(*(backend.invoke(spec, invocation(b'{"s": 0.2}')) for _ in range(2)))
    assert time.monotonic() - started < 0.8             # no instance ran the 1 s init
    a, b = json.loads(first.body), json.loads(second.body)
    assert a["init_pid"] == b["init_pid"] == template != a["pid"] != b["pid"]
    # before-snapshot hooks ran once, in reverse order; after-restore hooks in order, in each instance
    assert a["order"] == b["order"] == ["before-2", "before-1", "after-1", "after-2"]
    assert a["random"] != b["random"] and a["type"] == "snap-start"
    assert first.init_duration_ms is None and first.restore_duration_ms is not None
    assert "init ran" not in first.output                # init's output was the template's


async def test_an_init_error_is_the_answer_of_prepare(make_spec, backend) -> None:
    spec = snap(make_spec("print('about to fail')\nraise ValueError('no model here')\n"))
    failed = await backend.prepare(spec)
    assert failed is not None and failed.function_error and failed.error_type == "ValueError"
    assert json.loads(failed.body)["errorMessage"] == "no model here"
    assert "about to fail" in failed.output and failed.init_duration_ms is not None
    outcome = await backend.invoke(spec, invocation(b"{}"))   # an invocation meets the same error
    assert outcome.error_type == "ValueError"


async def test_a_failing_before_snapshot_hook_fails_the_snapshot(make_spec, backend) -> None:
    spec = snap(make_spec("from snapshot_restore_py import register_before_snapshot\n"
                          "register_before_snapshot(lambda: 1 / 0)\ndef handler(e, c):\n    return 1\n"))
    failed = await backend.prepare(spec)
    assert failed is not None and failed.error_type == "Runtime.BeforeSnapshotError"


async def test_a_failing_after_restore_hook_fails_the_instance(make_spec, backend) -> None:
    spec = snap(make_spec("from snapshot_restore_py import register_after_restore\n"
                          "register_after_restore(lambda: 1 / 0)\ndef handler(e, c):\n    return 1\n"))
    assert await backend.prepare(spec) is None
    outcome = await backend.invoke(spec, invocation(b"{}"))
    assert outcome.function_error and outcome.error_type == "Runtime.AfterRestoreError"
    assert json.loads(outcome.body)["errorMessage"] == "division by zero"


async def test_hooks_never_run_on_demand(make_spec, backend) -> None:
    spec = make_spec("from snapshot_restore_py import register_after_restore, register_before_snapshot\n"
                     "RAN = []\nregister_before_snapshot(RAN.append, 'b')\nregister_after_restore(RAN.append, 'a')\n"
                     "def handler(e, c):\n    return RAN\n")
    assert json.loads((await backend.invoke(spec, invocation(b"{}"))).body) == []


async def test_retire_stops_the_template(make_spec, backend) -> None:
    spec = snap(make_spec("import os\ndef handler(e, c):\n    return os.getppid()\n"))
    assert await backend.prepare(spec) is None
    template = json.loads((await backend.invoke(spec, invocation(b"{}"))).body)
    assert template in backend.zygote_pids()
    await backend.retire(spec.key)
    deadline = time.monotonic() + 3
    while template in backend.zygote_pids() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert template not in backend.zygote_pids()
    with pytest.raises(ProcessLookupError):
        for _ in range(60):
            os.kill(template, 0)
            await asyncio.sleep(0.05)

