"""How instances start, fail, end and scale: init errors, timeouts, exits, concurrency, reaping."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import pytest

from lambdalite import errors

PID = "import os\ndef handler(event, context):\n    return os.getpid()\n"


@pytest.mark.parametrize(("files", "handler", "error_type", "message"), [
    ({"app.py": PID}, "app", "Runtime.MalformedHandlerName",
     "Bad handler 'app': not enough values to unpack (expected 2, got 1)"),
    ({"app.py": PID}, "sys.handler", "Runtime.BuiltInModuleConflict",
     "Cannot use built-in module sys as a handler module"),
    ({"app.py": PID}, "nope.handler", "Runtime.ImportModuleError",
     "Unable to import module 'nope': No module named 'nope'"),
    ({"app.py": "import requests\n"}, "app.handler", "Runtime.ImportModuleError",
     "Unable to import module 'app': No module named 'requests'"),
    ({"app.py": PID}, "app.missing", "Runtime.HandlerNotFound", "Handler 'missing' missing on module 'app'"),
    ({"app.py": "x = 1 / 0\n"}, "app.handler", "ZeroDivisionError", "division by zero"),
])
async def test_handler_loading_failures(make_spec, invoke, backend, files, handler, error_type,
                                        message) -> None:
    spec = make_spec(files, handler=handler)
    outcome = await invoke(spec)
    error = json.loads(outcome.body)
    assert outcome.function_error and outcome.error_type == error_type
    assert error["errorType"] == error_type and error["errorMessage"] == message
    assert error["requestId"] == ""
    assert outcome.init_duration_ms is not None
    assert "LAMBDA_WARNING: Unhandled exception." in outcome.output
    assert f"[ERROR] {error_type}: {message}" in outcome.output
    assert backend.instance_pids(spec.key) == []   # the instance is gone
    again = await invoke(spec)                   # and the next invocation initialises again
    assert again.error_type == error_type and again.init_duration_ms is not None


async def test_exception_at_import_keeps_the_user_frames(make_spec, invoke, code_folder) -> None:
    spec = make_spec({"app.py": "import helper\n", "helper.py": "raise Exception('boom at import')\n"})
    error = json.loads((await invoke(spec)).body)
    assert error["errorType"] == "Exception" and error["errorMessage"] == "boom at import"
    assert error["stackTrace"][-1].startswith(f'  File "{code_folder(spec)}/helper.py", line 1, in <module>')
    assert not any("_lambdalite_runtime" in frame for frame in error["stackTrace"])


async def test_syntax_error(make_spec, invoke, code_folder) -> None:
    spec = make_spec("def handler(event, context)\n    return 1\n")
    error = json.loads((await invoke(spec)).body)
    assert error["errorType"] == "Runtime.UserCodeSyntaxError"
    assert error["errorMessage"] == "Syntax error in module 'app': expected ':' (app.py, line 1)"
    assert error["stackTrace"] == [
        f'  File "{code_folder(spec)}/app.py" Line 1\n    def handler(event, context)\n']


async def test_slash_form_handler(make_spec, invoke) -> None:
    spec = make_spec({"sub/mod.py": "def handler(event, context):\n    return __name__\n"},
                     handler="sub/mod.handler")
    assert (await invoke(spec)).body == b'"sub.mod"'


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


async def test_timeout_kills_the_process_group(make_spec, invoke) -> None:
    spec = make_spec("""
        import os, subprocess, time
        calls = 0
        def handler(event, context):
            global calls
            calls += 1
            if event.get("sleep"):
                child = subprocess.Popen(["sleep", "30"])
                print("child", child.pid, "worker", os.getpid(), flush=True)
                time.sleep(30)
            return {"calls": calls, "pid": os.getpid()}
    """, timeout_s=1.0)
    warm = json.loads((await invoke(spec)).body)
    started = time.monotonic()
    with pytest.raises(errors.InstanceTimedOut) as caught:
        await invoke(spec, b'{"sleep": true}')
    assert time.monotonic() - started < 2.5
    failure = caught.value
    assert 1000 <= failure.duration_ms < 2500 and failure.init_duration_ms is None
    words = failure.output.split()
    child, worker = int(words[words.index("child") + 1]), int(words[words.index("worker") + 1])
    assert worker == warm["pid"]
    deadline = time.monotonic() + 2
    while not (_gone(child) and _gone(worker)) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert _gone(child) and _gone(worker)
    fresh = await invoke(spec)
    assert json.loads(fresh.body)["calls"] == 1 and json.loads(fresh.body)["pid"] != worker
    assert fresh.init_duration_ms is not None


@pytest.mark.parametrize(("code", "exit_status", "signal_number"), [
    ("sys.exit(0)", 0, None),
    ("sys.exit(3)", 3, None),
    ("os._exit(0)", 0, None),
    ("os.kill(os.getpid(), 9)", None, signal.SIGKILL),
])
async def test_process_exit(make_spec, invoke, code, exit_status, signal_number) -> None:
    spec = make_spec(f"""
        import os, sys
        def handler(event, context):
            print("before")
            if event.get("die"):
                {code}
            return os.getpid()
    """)
    pid = int((await invoke(spec)).body)
    with pytest.raises(errors.InstanceExited) as caught:
        await invoke(spec, b'{"die": true}')
    assert caught.value.exit_status == exit_status and caught.value.signal == signal_number
    assert "before" in caught.value.output
    assert int((await invoke(spec)).body) != pid


async def test_exit_during_init(make_spec, invoke) -> None:
    with pytest.raises(errors.InstanceExited) as caught:
        await invoke(make_spec("import sys\nprint('bye')\nsys.exit(2)\n"))
    assert caught.value.exit_status == 2 and "bye" in caught.value.output
    assert caught.value.init_duration_ms is not None


async def test_init_is_bounded(make_spec, invoke) -> None:
    spec = make_spec("import time\ntime.sleep(30)\n", timeout_s=0.5)
    spec = type(spec)(**{**spec.__dict__, "init_timeout_s": 1.0})
    started = time.monotonic()
    with pytest.raises(errors.InstanceTimedOut):
        await invoke(spec)
    assert time.monotonic() - started < 2.5


async def test_concurrent_invocations_use_two_instances(make_spec, invoke, backend) -> None:
    spec = make_spec("import os, time\ndef handler(event, context):\n    time.sleep(0.5)\n    return os.getpid()\n")
    first, second = await asyncio.gather(invoke(spec), invoke(spec))
    assert first.body != second.body
    assert sorted(backend.instance_pids(spec.key)) == sorted([int(first.body), int(second.body)])
    third = await invoke(spec)   # both idle now: one of them serves, none starts
    assert third.init_duration_ms is None and third.body in (first.body, second.body)


async def test_a_freed_instance_serves_a_waiting_invocation(make_spec, invoke, backend) -> None:
    spec = make_spec("""
        import os, time
        time.sleep(float(os.environ.get("SLOW_INIT", "0")) if os.path.exists("slow") else 0)
        open("slow", "w").close()
        def handler(event, context):
            return os.getpid()
    """, env={"SLOW_INIT": "1.5"})
    first = await invoke(spec)                       # fast init; later instances init slowly
    started = time.monotonic()
    results = await asyncio.gather(invoke(spec), invoke(spec))
    assert time.monotonic() - started < 1.0          # the second did not wait for a slow init
    assert [r.body for r in results] == [first.body, first.body]


async def test_idle_instances_are_reaped(make_spec, invoke, make_backend) -> None:
    now = [1000.0]
    backend = make_backend(idle_timeout_s=60, clock=lambda: now[0])
    spec = make_spec(PID)
    pid = int((await invoke(spec, on=backend)).body)
    now[0] += 59
    assert await backend.reap_idle() == 0
    now[0] += 1
    assert await backend.reap_idle() == 1
    assert backend.instance_pids() == [] and _gone(pid)
    assert int((await invoke(spec, on=backend)).body) != pid


async def test_retire_stops_idle_and_busy_instances(make_spec, invoke, backend) -> None:
    spec = make_spec("import os, time\ndef handler(event, context):\n    time.sleep(event.get('s', 0))\n"
                     "    return os.getpid()\n")
    two = await asyncio.gather(invoke(spec, b'{"s": 0.3}'), invoke(spec, b'{"s": 0.3}'))
    assert len({r.body for r in two}) == 2
    busy = asyncio.ensure_future(invoke(spec, b'{"s": 0.5}'))
    await asyncio.sleep(0.2)
    await backend.retire(spec.key)
    assert len(backend.instance_pids(spec.key)) == 1          # the idle one is stopped already
    busy_pid = int((await busy).body)   # the busy one finishes its invocation, then stops
    deadline = time.monotonic() + 2
    while backend.instance_pids(spec.key) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert backend.instance_pids(spec.key) == [] and _gone(busy_pid)


async def test_close_kills_what_is_running(make_spec, invoke, make_backend) -> None:
    backend = make_backend()
    spec = make_spec("import time\ndef handler(event, context):\n    time.sleep(30)\n", timeout_s=60)
    running = asyncio.ensure_future(invoke(spec, on=backend))
    await asyncio.sleep(0.5)
    started = time.monotonic()
    await backend.close(drain_s=0.3)
    assert time.monotonic() - started < 2
    with pytest.raises(errors.InstanceExited) as caught:
        await running
    assert caught.value.signal == signal.SIGKILL
    assert os.environ.get("_LAMBDALITE_FD") is None


async def test_an_abandoned_invocation_runs_on_and_frees_its_instance(make_spec, invoke, backend) -> None:
    spec = make_spec("import os, time\ndef handler(event, context):\n    time.sleep(event.get('s', 0))\n"
                     "    return os.getpid()\n")
    pid = int((await invoke(spec)).body)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(invoke(spec, b'{"s": 0.3}'), 0.1)   # the caller goes away
    await asyncio.sleep(0.4)
    again = await invoke(spec)
    assert int(again.body) == pid and again.init_duration_ms is None
    assert backend.in_flight == 0


async def test_a_worker_that_cannot_start_is_an_instance_failure(make_spec, invoke) -> None:
    spec = make_spec(PID)
    spec = type(spec)(**{**spec.__dict__, "code": "0" * 64})   # an archive that was never unpacked
    with pytest.raises(errors.InstanceFailure, match="could not start a worker"):
        await invoke(spec)
