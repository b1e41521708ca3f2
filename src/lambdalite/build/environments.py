"""Content-addressed dependency environments under `<home>/envs/<key>/`.

A requirements text is resolved once into a lock (its exact pins; kept in the store, keyed by the
text, Python X.Y and platform: the same text is never resolved again). The environment's key hashes
(lock, Python X.Y, platform): the same key is built once, shared by every function that needs it,
and two functions pinning different versions of one package get two environments side by side.

A build goes to `.building-<key>-<pid>` and is renamed into place only when complete, so a server
killed mid-build leaves no half environment under a final name; the leftovers go at the next start.
Builds of one key are serialised (a second caller waits for the first, then uses its result).
Environments no function uses any more are removed once they stayed unused for a grace period.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import secrets
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..store import Database
from . import uv

PLATFORM = f"{sys.platform}-{platform.machine()}"
DEFAULT_BUILD_TIMEOUT_S = 900.0
DEFAULT_GRACE_S = 3600.0     # an environment no function uses is kept this long, then removed
BUILDING = ".building-"


@dataclass
class Build:
    """One build under way, as `lambdalite deploy` shows it."""

    key: str
    function: str
    phase: str                    # "resolving" | "installing"
    started: float = field(default_factory=time.monotonic)
    last_line: str = ""

    def view(self) -> dict[str, object]:
        return {"environment": self.key, "function": self.function, "phase": self.phase,
                "elapsedS": round(time.monotonic() - self.started, 1), "message": self.last_line}


class Environments:
    def __init__(self, root: Path, db: Database, timeout_s: float = DEFAULT_BUILD_TIMEOUT_S,
                 grace_s: float = DEFAULT_GRACE_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.root = root
        self._db = db
        self._timeout_s = timeout_s
        self._grace_s = grace_s
        self._clock = clock
        self._guard = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._builds: dict[int, Build] = {}
        self._unused_since: dict[str, float] = {}

    def start(self) -> None:
        """Make the folder; remove what a build killed mid-way left behind."""
        self.root.mkdir(parents=True, exist_ok=True)
        for leftover in self.root.glob(BUILDING + "*"):
            shutil.rmtree(leftover, ignore_errors=True)

    def path(self, key: str) -> Path:
        return self.root / key

    def prepare(self, requirements: str, python: str, python_version: str, function: str) -> tuple[str, str]:
        """(environment key, lock) for a function's requirements, resolving and building what is not
        there yet. Blocking (run it in a worker thread); raises BuildFailed."""
        text = normalise(requirements)
        build = Build("", function, "resolving")
        with self._tracking(build):
            lock = self._lock_for(text, python_version)
            key = environment_key(lock, python_version)
            build.key, build.phase = key, "installing"
            self._ensure(key, lock, python, build)
        return key, lock

    def builds(self) -> list[dict[str, object]]:
        with self._guard:
            return [b.view() for b in self._builds.values()]

    def remove_unused(self, in_use: set[str]) -> list[str]:
        """Remove the environments not in `in_use` that stayed unused for the grace period."""
        now = self._clock()
        removed: list[str] = []
        present = {p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")} \
            if self.root.exists() else set()
        self._unused_since = {k: t for k, t in self._unused_since.items() if k in present and k not in in_use}
        for key in present - in_use:
            since = self._unused_since.setdefault(key, now)
            if now - since >= self._grace_s:
                shutil.rmtree(self.path(key), ignore_errors=True)
                self._unused_since.pop(key, None)
                removed.append(key)
        return removed

    # internals -------------------------------------------------------------------------------
    def _lock_for(self, text: str, python_version: str) -> str:
        key = hashlib.sha256(f"{python_version}\n{PLATFORM}\n{text}".encode()).hexdigest()
        lock = self._db.lock(key)
        if lock is None:
            lock = uv.compile_lock(text, python_version, self._timeout_s)
            self._db.put_lock(key, lock)
        return lock

    def _ensure(self, key: str, lock: str, python: str, build: Build) -> None:
        final = self.path(key)
        if final.is_dir():
            return
        with self._guard:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:   # a second build of the same key waits here, then finds it done
            if final.is_dir():
                return
            building = self.root / f"{BUILDING}{key}-{os.getpid()}-{secrets.token_hex(4)}"
            shutil.rmtree(building, ignore_errors=True)
            try:
                if lock.strip():
                    uv.install(lock, building, python, self._timeout_s, progress=lambda line: _note(build, line))
                else:
                    building.mkdir()   # requirements that pin nothing: an empty environment
                building.rename(final)
            finally:
                shutil.rmtree(building, ignore_errors=True)

    @contextlib.contextmanager
    def _tracking(self, build: Build) -> Iterator[None]:
        """Lists a build in `builds()` while it runs."""
        with self._guard:
            self._builds[id(build)] = build
        try:
            yield
        finally:
            with self._guard:
                self._builds.pop(id(build), None)


def _note(build: Build, line: str) -> None:
    if line.strip():
        build.last_line = line.strip()


def normalise(requirements: str) -> str:
    """The text as it counts: line ends unified, trailing blanks and blank lines dropped."""
    lines = [line.rstrip() for line in requirements.replace("\r\n", "\n").split("\n")]
    return "".join(line + "\n" for line in lines if line)


def environment_key(lock: str, python_version: str) -> str:
    return hashlib.sha256(f"{python_version}\n{PLATFORM}\n{lock}".encode()).hexdigest()[:40]
