"""The only module that runs uv: resolving a requirements text into a lock, installing a lock.

uv is the `uv` package from PyPI (a dependency of Lambdalite), run as a subprocess. It reads no
pip.conf; `UV_INDEX_URL` / `UV_DEFAULT_INDEX` and uv's other variables apply as uv applies them, and
its cache is uv's own (shared by every home on the machine). Every way uv can fail becomes a
`BuildFailed` whose message says what (the package, the first lines of uv's error) and, where it
helps, what to do.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import BuildFailed

ERROR_LINES = 6            # lines of uv's own error kept in the message
UNREACHABLE = re.compile(r"(failed to fetch|error sending request|dns error|connection refused|connect error|"
                         r"timed out|network is unreachable|failed to lookup address|tcp connect error)", re.I)


def uv_binary() -> str:
    from uv import find_uv_bin  # the uv wheel's own locator

    return str(find_uv_bin())


def compile_lock(requirements: str, python_version: str, timeout_s: float) -> str:
    """The exact pins (transitive closure) that `requirements` resolves to for Python X.Y here."""
    with tempfile.TemporaryDirectory(prefix="lambdalite-lock-") as folder:
        source = Path(folder) / "requirements.txt"
        source.write_text(requirements)
        out = run([uv_binary(), "pip", "compile", str(source), "--python-version", python_version, "--no-header",
                    "--no-annotate", "--quiet"], timeout_s, "resolving the requirements")
    return "".join(line + "\n" for line in out.splitlines() if line.strip() and not line.startswith("#"))


def install(lock: str, target: Path, python: str, timeout_s: float,
            progress: Callable[[str], None] = lambda line: None) -> None:
    """Install exactly `lock` (no resolving: it is complete) into the folder `target`, compiled to
    bytecode: instances never write it (as their own users they cannot), and scikit-learn with
    pandas imports in 1.5 s compiled, 4.7 s from source."""
    with tempfile.TemporaryDirectory(prefix="lambdalite-install-") as folder:
        source = Path(folder) / "lock.txt"
        source.write_text(lock)
        run([uv_binary(), "pip", "install", "--target", str(target), "--python", python, "--no-deps",
             "--link-mode", "copy", "--compile-bytecode", "-r", str(source)], timeout_s,
            "installing the requirements", progress)


def _parent_death_signal() -> Callable[[], object] | None:
    """prctl(PR_SET_PDEATHSIG, SIGKILL), looked up once here: a build must not outlive a server
    killed with SIGKILL (it would go on writing into the folder the next server cleans up)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGKILL)


_PDEATHSIG = _parent_death_signal()


def _die_with_server() -> None:   # runs in the forked child, before exec: nothing but the one call
    if _PDEATHSIG is not None:
        _PDEATHSIG()


def run(command: list[str], timeout_s: float, doing: str, progress: Callable[[str], None] | None = None) -> str:
    """uv's stdout; BuildFailed with uv's own words when it fails or runs out of time. With
    `progress`, uv's messages (stdout and stderr together) are passed on line by line as they come."""
    env = {**os.environ, "NO_COLOR": "1", "UV_NO_PROGRESS": "1"}
    started = time.monotonic()
    streaming = progress is not None
    process = subprocess.Popen(command, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT if streaming else subprocess.PIPE, text=True, env=env,
                               start_new_session=True, preexec_fn=_die_with_server)
    expired = threading.Event()

    def stop() -> None:
        expired.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    watchdog = threading.Timer(timeout_s, stop)
    watchdog.start()
    try:
        if streaming:
            assert process.stdout is not None and progress is not None
            lines = []
            with process.stdout:
                for line in process.stdout:
                    lines.append(line)
                    progress(line.rstrip())
            process.wait()
            stdout, stderr = "", "".join(lines)
        else:
            stdout, stderr = process.communicate()
    finally:
        watchdog.cancel()
    if expired.is_set():
        raise BuildFailed(f"{doing} took longer than {timeout_s:g} s and was stopped (a slow or unreachable "
                          "package index?); `lambdalite serve --build-timeout` sets the limit")
    if process.returncode != 0:
        raise BuildFailed(failure_message(doing, stderr or stdout, time.monotonic() - started))
    return stdout


def failure_message(doing: str, output: str, elapsed_s: float) -> str:
    """uv's error, its first lines, said plainly: an unreachable index is named as such."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    detail = "; ".join(lines[:ERROR_LINES]) or "uv failed without a message"
    if UNREACHABLE.search(output):
        index = os.environ.get("UV_DEFAULT_INDEX") or os.environ.get("UV_INDEX_URL") or "https://pypi.org/simple"
        return (f"{doing} failed: could not reach the package index ({index}) after {elapsed_s:.0f} s: {detail}. "
                "Check the network, or point UV_DEFAULT_INDEX at an index this machine reaches.")
    return f"{doing} failed: {detail}"
