"""The backend contract suite: every test here runs once per pool backend, on real workers.

`BACKENDS` names the backends (`pool.types.Backend` implementations) and how to make one; the
`backend_kind` fixture is parametrized over them, so a new backend is tested by the same cases the
moment it is listed here. Specs name their code by hash, as the invoker's do: `make_spec` unpacks
the code where the backend under test resolves it.

`async def` tests run in their own event loop (asyncio.run, or uvloop's when
LAMBDALITE_TEST_LOOP=uvloop); every backend a test made is closed when it ends, and an autouse
fixture fails a test that leaves any worker process behind (workers and their children carry a
marker variable in their environment).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
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
from lambdalite.pool.types import Backend, InstanceSpec, Invocation, Outcome

MARK = f"LAMBDALITE_TEST_MARK_{os.getpid()}"
MARK_VALUE = uuid.uuid4().hex
ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"
_keys = itertools.count()


def marked_pids() -> list[int]:
    """Live processes (not zombies) that carry this session's marker in their environment (a fresh
    worker and what it starts), or descend from this process (zygotes and the workers they fork:
    /proc shows a forked worker's environment as its zygote's)."""
    needle = f"{MARK}={MARK_VALUE}".encode()
    me = os.getpid()
    parents: dict[int, int] = {}
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] == "Z":
                continue
            parents[int(entry)] = int(fields[1])
            if needle in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                found.append(int(entry))
    for pid in parents:
        ancestor, hops = parents.get(pid), 0
        while ancestor and ancestor != me and hops < 64:
            ancestor, hops = parents.get(ancestor), hops + 1
        if ancestor == me and pid not in found:
            found.append(pid)
    return found


@pytest.fixture(autouse=True)
def no_worker_left() -> Iterator[None]:
    before = set(marked_pids())   # what else this pytest runs (a server an integration test left up)
    yield
    deadline = time.monotonic() + 3
    while (left := [p for p in marked_pids() if p not in before]) and time.monotonic() < deadline:
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
    made: list[Backend] = pyfuncitem.funcargs.get("made_backends", [])

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
def code_root(tmp_path: Path) -> Path:
    """Where archives are unpacked, by hash (a home's `code/`)."""
    root = tmp_path / "code"
    root.mkdir()
    return root


def local_backend(runtime_dir: Path, code_root: Path, bundle: Path, envs_root: Path,
                  **options: Any) -> LocalProcessBackend:
    return LocalProcessBackend(runtime_dir, code_root, bundle, envs_root=envs_root, **options)


def local_fresh_backend(runtime_dir: Path, code_root: Path, bundle: Path, envs_root: Path,
                        **options: Any) -> LocalProcessBackend:
    return LocalProcessBackend(runtime_dir, code_root, bundle, envs_root=envs_root, **{"zygotes": False, **options})


# name -> (runtime dir, code root, bundle, envs root, options) -> a backend. A second backend is one more line.
# "local" forks instances from zygotes (the default); "local-fresh" starts each as a new interpreter.
BACKENDS: dict[str, Callable[..., Backend]] = {"local": local_backend, "local-fresh": local_fresh_backend}


@pytest.fixture
def envs_root(tmp_path: Path) -> Path:
    """Where dependency environments are, by key (a home's `envs/`)."""
    root = tmp_path / "envs"
    root.mkdir()
    return root


@pytest.fixture(params=sorted(BACKENDS))
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def made_backends() -> list[Backend]:
    return []


@pytest.fixture
def make_backend(backend_kind: str, runtime_dir: Path, code_root: Path, bundle: Path, envs_root: Path,
                 made_backends: list[Backend]) -> Callable[..., Backend]:
    def make(**options: Any) -> Backend:
        backend = BACKENDS[backend_kind](runtime_dir, code_root, bundle, envs_root, **options)
        made_backends.append(backend)
        return backend
    return make


@pytest.fixture
def backend(make_backend: Callable[..., Backend]) -> Backend:
    return make_backend()


@pytest.fixture
def code_folder(code_root: Path) -> Callable[[InstanceSpec], str]:
    """The folder a spec's code is unpacked in (the worker's cwd and first import path)."""
    return lambda spec: str(code_root / spec.code)


@pytest.fixture
def make_spec(code_root: Path) -> Callable[..., InstanceSpec]:
    """A spec for a function whose code is `source` (app.py) or {path: source}."""

    def make(source: str | dict[str, str], handler: str = "app.handler", timeout_s: float = 3.0,
             memory_mb: int = 128, env: dict[str, str] | None = None) -> InstanceSpec:
        n = next(_keys)
        digest = hashlib.sha256(f"{MARK_VALUE}:{n}".encode()).hexdigest()   # stands for the archive's hash
        code = code_root / digest
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
                            runtime=f"python{sys.version_info.major}.{sys.version_info.minor}", code=digest,
                            env=environment, memory_mb=memory_mb, timeout_s=timeout_s)

    return make


def invocation(payload: bytes = b"{}", **fields: Any) -> Invocation:
    return Invocation(request_id=fields.pop("request_id", str(uuid.uuid4())), payload=payload,
                      invoked_arn=fields.pop("invoked_arn", ARN), **fields)


@pytest.fixture
def invoke(backend: Backend) -> Callable[..., Awaitable[Outcome]]:
    """`await invoke(spec, payload=b"{}", on=backend, **Invocation fields)`."""

    def call(spec: InstanceSpec, payload: bytes = b"{}", on: Backend | None = None,
             **fields: Any) -> Awaitable[Outcome]:
        return (on or backend).invoke(spec, invocation(payload, **fields))

    return call
