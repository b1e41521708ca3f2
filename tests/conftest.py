"""Shared fixtures: a real `lambdalite serve` on a free loopback port, and clients for it."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
ROLE = "arn:aws:iam::000000000000:role/lambda-role"
# A handler that leaves a grandchild behind in a session of its own (out of reach of a process-group
# kill) and returns its pid; with {"s": N} it then sleeps N seconds.
DETACH = """
import os, time
def handler(event, context):
    r, w = os.pipe()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.write(w, str(os.getpid()).encode())
            time.sleep(300)
        os._exit(0)
    pid = int(os.read(r, 32))
    time.sleep(event.get("s", 0))
    return pid
"""
LAMBDALITE = str(Path(sys.executable).with_name("lambdalite"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unique(prefix: str) -> str:
    """A name no other test of the session uses (tests share one server)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_of(call, *args, message_key: str | None = None, **kwargs) -> tuple[str, int, str]:  # type: ignore[no-untyped-def]
    """(AWS error code, HTTP status, message) of a boto3 call that must fail. `message_key`: the body
    key AWS's model writes the message under, checked to be there (API Gateway: "message")."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    err = info.value.response
    if message_key is not None:
        assert err[message_key] == err["Error"]["Message"]
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Message"]


def zip_of(files: dict[str, str] | str, name: str = "app.py") -> bytes:
    """A zip holding `files` ({path: source}), or one module `name` with the given source."""
    if isinstance(files, str):
        files = {name: files}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for path, source in files.items():
            z.writestr(path, source)
    return buf.getvalue()


@dataclass
class Server:
    """One `lambdalite serve` process; `restart()` keeps the home, `kill()` sends SIGKILL."""

    home: Path
    port: int = field(default_factory=free_port)
    extra: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)   # added to the server's environment
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        _reachable(self.home)
        with open(self.home / "server.log", "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [LAMBDALITE, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--home",
                 str(self.home), *self.extra],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, **self.env},
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(self.base + "/_lambdalite/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("server did not start: " + (self.home / "server.log").read_text()[-2000:])

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        # Workers share the server's process group; make sure none outlives it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def restart(self) -> Server:
        self.stop()
        return self.start()

    def log(self) -> str:
        return (self.home / "server.log").read_text(errors="replace")


def process_state(pid: int) -> tuple[str, int] | None:
    """(state letter, parent pid) of a process from /proc, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    state = process_state(pid)
    return state is not None and state[0] != "Z"


def children(pid: int) -> list[int]:
    """The live (not zombie) children of `pid`."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            state = process_state(int(proc.name))
            if state is not None and state[0] != "Z" and state[1] == pid:
                found.append(int(proc.name))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def zygote_pids(server_pid: int) -> list[int]:
    """The server's zygotes: children running the zygote's launch code."""
    return [pid for pid in children(server_pid) if b"zygote as b" in _cmdline(pid) or b"template as b" in _cmdline(pid)]


def instance_pids(server_pid: int) -> list[int]:
    """The server's instances: its children running a fresh worker, and its zygotes' children (each
    instance in a session of its own)."""
    direct = children(server_pid)
    zygotes = [pid for pid in direct if b"zygote as b" in _cmdline(pid) or b"template as b" in _cmdline(pid)]
    fresh = [pid for pid in direct if b"bootstrap as b" in _cmdline(pid)]
    return fresh + [pid for z in zygotes for pid in children(z) if not _is_spare(pid)]


def descendants(pid: int) -> list[int]:
    """Every live process below `pid`: instances, zygotes, their spares, the cgroup sentinel."""
    found, frontier = [], [pid]
    while frontier:
        frontier = [child for parent in frontier for child in children(parent)]
        found += frontier
    return found


def _is_spare(pid: int) -> bool:
    """A zygote's spare: forked ahead of time, not an instance yet (its process name says so)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "lambdalite-spar"
    except OSError:
        return False


def function_instances(base: str, function: str) -> list[int]:
    """The pids of a function's live instances, as the server lists them."""
    answer = requests.get(f"{base}/_lambdalite/instances", params={"function": function}, timeout=10)
    answer.raise_for_status()
    return [i["pid"] for i in answer.json()["instances"]]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """As root, the session's temporary folders live under a folder of this run's own, not pytest's
    shared /tmp/pytest-of-root: every pytest session started meanwhile (another checkout's, a second
    terminal's) sets that one back to 0700, which would lock function users out of this run's homes."""
    if os.geteuid() != 0 or config.option.basetemp is not None:
        return
    base = Path(tempfile.mkdtemp(prefix="lambdalite-tests-"))
    base.chmod(0o711)
    config.option.basetemp = str(base / "tmp")
    config.stash[_RUN_BASE] = base


def pytest_unconfigure(config: pytest.Config) -> None:
    base = config.stash.get(_RUN_BASE, None)
    if base is not None and not os.environ.get("LAMBDALITE_KEEP_TEST_TMP"):
        shutil.rmtree(base, ignore_errors=True)


_RUN_BASE = pytest.StashKey[Path]()


def _reachable(home: Path) -> None:
    """As root (as CI runs), the server starts each function's instances as a user of its own, which
    must reach the home: pytest makes its temporary folders 0700, so the ones above a test's home are
    made traversable (0711: entered, not listed; pytest sets its own root back to 0700 next run)."""
    if os.geteuid() != 0:
        return
    base = Path(tempfile.gettempdir()).resolve()
    for folder in home.resolve().parents:
        if folder == base or base not in folder.parents:
            break
        folder.chmod(folder.stat().st_mode & 0o7777 | 0o011)


@pytest.fixture(autouse=True)
def _scratch_shared_with_functions(request: pytest.FixtureRequest) -> None:
    """As root, functions run as users of their own: a test's `tmp_path`, where its functions leave
    marks for it, is shared with them as /tmp is (sticky, writable by all), and reachable."""
    if os.geteuid() == 0 and "tmp_path" in request.fixturenames:
        path: Path = request.getfixturevalue("tmp_path")
        path.chmod(0o1777)
        _reachable(path / "scratch")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server shared by the tests of a session (tests use unique function names)."""
    srv = Server(tmp_path_factory.mktemp("home")).start()
    yield srv
    srv.stop()


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Server]:
    """A server of the test's own (restart, kill -9, settings)."""
    srv = Server(tmp_path / "home")
    srv.home.mkdir()
    yield srv
    srv.stop()


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[Server]:
    """A server of the test's own on a test clock: time moves only with `advance`."""
    srv = Server(tmp_path / "clocked-home", extra=("--test-clock",))
    srv.home.mkdir()
    srv.start()
    yield srv
    srv.stop()


def advance(server: Server, seconds: float) -> None:
    """Move a --test-clock server's clock (its timers run as time passes)."""
    r = requests.post(f"{server.base}/_lambdalite/clock", json={"advance_s": seconds}, timeout=30)
    assert r.status_code == 200, r.text


def boto_client(base: str, service: str = "lambda", **config: object):  # type: ignore[no-untyped-def]
    import boto3
    from botocore.config import Config

    return boto3.client(
        service, endpoint_url=base, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 0}, read_timeout=120, **config),  # type: ignore[arg-type]
    )


@pytest.fixture
def lam(server: Server):  # type: ignore[no-untyped-def]
    return boto_client(server.base)


def create_function(lam, name: str, source: str | dict[str, str], handler: str = "app.handler",  # type: ignore[no-untyped-def]
                    wait: bool = True, **config: object) -> dict:
    out = lam.create_function(
        FunctionName=name, Runtime=config.pop("Runtime", "python3.11"), Role=config.pop("Role", ROLE), Handler=handler,
        Code={"ZipFile": zip_of(source)}, **config,
    )
    if wait:
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    return out
