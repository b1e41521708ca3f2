"""Real worker processes through LocalProcessBackend: specs built from a temporary code dir.

`async def` tests run in their own event loop (asyncio.run, or uvloop's when
LAMBDALITE_TEST_LOOP=uvloop); every backend a test made is closed
when it ends, and an autouse fixture fails a test that leaves any worker process behind (workers
and their children carry a marker variable in their environment).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import os
import signal
import sys
import textwrap
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdalite.pool.interpreters import build_runtime_bundle
from lambdalite.pool.local import LocalProcessBackend
from lambdalite.pool.types import InstanceSpec, Invocation, Outcome

MARK = f"LAMBDALITE_TEST_MARK_{os.getpid()}"
MARK_VALUE = uuid.uuid4().hex
ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"
_keys = itertools.count()


def marked_pids() -> list[int]:
    """Live processes (not zombies) that carry this session's marker in their environment."""
    needle = f"{MARK}={MARK_VALUE}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            if needle in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                found.append(int(entry))
    return found


@pytest.fixture(autouse=True)
def no_worker_left() -> Iterator[None]:
    yield
    deadline = time.monotonic() + 3
    while (left := marked_pids()) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"worker processes left behind: {left}"


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    made: list[LocalProcessBackend] = pyfuncitem.funcargs.get("made_backends", [])

    async def run() -> None:
        try:
            await pyfuncitem.obj(**kwargs)
        finally:
            for backend in made:
                await backend.close(drain_s=0.5)

    if os.environ.get("LAMBDALITE_TEST_LOOP") == "uvloop":   # the server's loop
        import uvloop

        uvloop.run(run())
    else:
        asyncio.run(run())
    return True


@pytest.fixture(scope="session")
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runtime")


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_runtime_bundle(tmp_path_factory.mktemp("home"))


@pytest.fixture
def made_backends() -> list[LocalProcessBackend]:
    return []


@pytest.fixture
def make_backend(runtime_dir: Path, made_backends: list[LocalProcessBackend]) -> Callable[..., LocalProcessBackend]:
    def make(**options: Any) -> LocalProcessBackend:
        backend = LocalProcessBackend(runtime_dir, **options)
        made_backends.append(backend)
        return backend
    return make


@pytest.fixture
def backend(make_backend: Callable[..., LocalProcessBackend]) -> LocalProcessBackend:
    return make_backend()


@pytest.fixture
def make_spec(tmp_path: Path, bundle: Path) -> Callable[..., InstanceSpec]:
    """A spec for a function whose code is `source` (app.py) or {path: source}."""

    def make(source: str | dict[str, str], handler: str = "app.handler", timeout_s: float = 3.0,
             memory_mb: int = 128, env: dict[str, str] | None = None) -> InstanceSpec:
        n = next(_keys)
        code = tmp_path / f"code{n}"
        files = {"app.py": source} if isinstance(source, str) else source
        for name, text in files.items():
            (code / name).parent.mkdir(parents=True, exist_ok=True)
            (code / name).write_text(textwrap.dedent(text))
        environment = {
            "AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11", "PATH": "/usr/local/bin:/usr/bin:/bin",
            MARK: MARK_VALUE, **(env or {}),
        }
        return InstanceSpec(key=f"fn:{n}", function_name="fn", version="$LATEST", handler=handler,
                            python=sys.executable, code_dir=str(code), sys_path=(str(code), str(bundle)),
                            env=environment, memory_mb=memory_mb, timeout_s=timeout_s)

    return make


def invocation(payload: bytes = b"{}", **fields: Any) -> Invocation:
    return Invocation(request_id=fields.pop("request_id", str(uuid.uuid4())), payload=payload,
                      invoked_arn=fields.pop("invoked_arn", ARN), **fields)


@pytest.fixture
def invoke(backend: LocalProcessBackend) -> Callable[..., Awaitable[Outcome]]:
    """`await invoke(spec, payload=b"{}", on=backend, **Invocation fields)`."""

    def call(spec: InstanceSpec, payload: bytes = b"{}", on: LocalProcessBackend | None = None,
             **fields: Any) -> Awaitable[Outcome]:
        return (on or backend).invoke(spec, invocation(payload, **fields))

    return call
