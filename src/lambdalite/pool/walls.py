"""Per-function users (docs/security.md, "The walls"): when the server runs as root, each function's
instances, its zygote and its snapshot template run as a user of their own, `USER_BASE + n` (n
allocated once per function name and kept in the store), in a group of the same number, with the
supplementary groups of the folders it may read: its code, its layers, its dependency environments,
each folder owned by root and a group `GROUP_BASE + m` of its own, mode 0750 (the files inside are
not writable by anyone but root: unpacking clears group and other write bits).

The home is made traversable but not listable (0711); the database (0600), the blobs (0700) and
the folders' listings are closed to everyone but root. A user of ours therefore can: read its own
code, layers and environments, the runtime bundle (boto3) and the interpreter; write its own
TMPDIR. It cannot: read the database or the blobs, list or read another function's folders, read
`/proc/<pid>/environ` of the server or of another function's instances (different users), signal
them, or write any code folder.

Off (with the reason said once at start) when the server is not root, or when a function user could
not reach what it must read: a home below a folder others cannot enter (`/root`, pytest's 0700
temporary folders), an interpreter or runtime package installed there. `LAMBDALITE_ISOLATION=off`
turns it off on purpose.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

USER_BASE = 200_000    # a function's instances run as USER_BASE + n
GROUP_BASE = 300_000   # a folder a function may read (code, a layer, an environment) has group GROUP_BASE + m
PRIVATE_FILES = ("lambdalite.db", "lambdalite.db-wal", "lambdalite.db-shm", "keys.json")
TRAVERSABLE_DIRS = ("code", "envs", "runtime", "runtime/tmp")

# (kind, name) -> its number, allocated once: the store's principals table
Numbers = Callable[[str, str], int]


@dataclass(frozen=True)
class Identity:
    """Who an instance runs as."""

    uid: int
    gid: int
    groups: tuple[int, ...]


class Walls:
    def __init__(self, home: Path, numbers: Numbers) -> None:
        self.home = home
        self._numbers = numbers
        self._owned: dict[Path, int] = {}   # folder -> its group's number
        self._users: dict[str, int] = {}   # function name -> its user's number
        self._interpreters: dict[tuple[str, str], str] = {}   # (an interpreter, X.Y) -> one users can run

    @classmethod
    def detect(cls, home: Path, numbers: Numbers, must_read: Iterable[Path] = ()) -> tuple[Walls | None, str]:
        """Walls for `home`, or None and why not."""
        if os.environ.get("LAMBDALITE_ISOLATION", "").strip().lower() in ("off", "0", "false", "no"):
            return None, "LAMBDALITE_ISOLATION=off"
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            return None, "the server is not running as root, so it cannot start instances as other users"
        for path in (home, *must_read):
            blocked = blocked_ancestor(path)
            if blocked is not None:
                return None, (f"{path} is below {blocked}, which other users cannot enter (mode "
                              f"{stat.S_IMODE(blocked.stat().st_mode):04o}): function users could not reach it; "
                              f"start the server with a --home outside it (e.g. /var/lib/lambdalite), and "
                              "install Lambdalite where every user can read it")
        here = f"{sys.version_info.major}.{sys.version_info.minor}"
        python = reachable_interpreter(sys.executable, here)
        if python is None:
            return None, (f"no Python {here} that other users can run: {sys.executable} is below "
                          f"{blocked_ancestor(Path(sys.executable))}; install one "
                          f"(Debian: apt-get install python{here})")
        walls = cls(home, numbers)
        walls._interpreters[(sys.executable, here)] = python
        return walls, "each function's instances run as a user of their own"

    def secure_home(self) -> None:
        """The home traversable, not listable; what only the server reads closed to others."""
        os.chmod(self.home, 0o711)
        for entry in self.home.iterdir():   # the database, the blobs, keys, logs: the server's alone
            if entry.name not in TRAVERSABLE_DIRS and not entry.is_symlink():
                _chmod(entry, stat.S_IMODE(entry.stat().st_mode) & ~0o077)
        for name in PRIVATE_FILES:   # made later (the WAL), they take the database's mode
            _chmod(self.home / name, 0o600)
        for name in TRAVERSABLE_DIRS:
            _chmod(self.home / name, 0o711)

    def interpreter(self, python: str, version: str) -> str:
        """`python`, or one of the same X.Y that function users can run (a pyenv or uv Python under
        /root is not: Debian's /usr/bin/python3.X is)."""
        found = self._interpreters.get((python, version))
        if found is None:
            found = self._interpreters[(python, version)] = reachable_interpreter(python, version) or python
        return found

    def identity(self, function_name: str, folders: Iterable[Path]) -> Identity:
        number = self._users.get(function_name)
        if number is None:   # allocated once and never changed: asked of the store once per name
            number = self._users[function_name] = USER_BASE + self._numbers("function", function_name)
        return Identity(number, number, tuple(sorted({self.own(folder) for folder in folders})))

    def own(self, folder: Path) -> int:
        """Give `folder` (a content-addressed code, layer or environment folder) to its group: root
        owns it, the group reads it, nobody else enters it. Its group's number."""
        gid = self._owned.get(folder)
        if gid is None:
            gid = self._owned[folder] = GROUP_BASE + self._numbers("folder", f"{folder.parent.name}/{folder.name}")
        st = os.stat(folder)   # every time: a folder removed as unused and unpacked again is a new one
        if st.st_gid != gid or st.st_uid != 0 or stat.S_IMODE(st.st_mode) != 0o750:
            os.chown(folder, 0, gid)
            os.chmod(folder, 0o750)
        return gid

    def open_to_all(self, folder: Path) -> None:
        """A folder every function reads (the runtime bundle, the launcher, a TMPDIR's parent)."""
        _chmod(folder, 0o755)


def runtime_files(bundle: Path) -> list[Path]:
    """What every instance reads besides its own folders: the interpreter, the worker's runtime
    package, and what the runtime bundle's links point at (boto3 and its requirements)."""
    from .launch import RUNTIME_PACKAGE

    paths = [RUNTIME_PACKAGE / "bootstrap.py"]
    try:
        paths += [Path(os.path.realpath(entry)) for entry in bundle.iterdir()]
    except OSError:
        pass
    return paths


def reachable_interpreter(python: str, version: str) -> str | None:
    """`python` when every user can run it, else a `python{version}` that every user can (on PATH,
    /usr/bin, /usr/local/bin, resolved), else None."""
    candidates = [python, shutil.which(f"python{version}") or "", f"/usr/bin/python{version}",
                  f"/usr/local/bin/python{version}"]
    for candidate in candidates:
        if not candidate:
            continue
        real = Path(os.path.realpath(candidate))
        try:
            runnable = real.is_file() and real.stat().st_mode & stat.S_IXOTH
        except OSError:
            continue
        if runnable and blocked_ancestor(real) is None and _reports(str(real), version):
            return str(real)
    return None


def _reports(python: str, version: str) -> bool:
    try:
        out = subprocess.run([python, "-I", "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.stdout.strip() == version


def blocked_ancestor(path: Path) -> Path | None:
    """The first folder above `path` (or `path`'s own folders, for a file) that others cannot enter."""
    real = Path(os.path.realpath(path))
    for folder in reversed(real.parents):
        try:
            mode = folder.stat().st_mode
        except OSError:
            return folder
        if not mode & stat.S_IXOTH:
            return folder
    return None


def _chmod(path: Path, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except FileNotFoundError:
        pass
