"""Which interpreter runs a function, and the runtime bundle (boto3 and its dependencies) that
every function can import, as on AWS.

`find_interpreter("python3.X")`: the server's own interpreter when it is 3.X; else `python3.X`
found on PATH and verified to run (pyenv shims exist that fail); else the server's interpreter
with a one-line warning. Answers are cached per runtime.

`build_runtime_bundle(home)`: a directory of symlinks to boto3 and the distributions it needs
(its requirements' closure, extras skipped) in the server's environment, with their .dist-info,
built once per boto3 version. Nothing else of the server's environment is in it.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

_RUNTIME = re.compile(r"^python(\d+)\.(\d+)$")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
VERIFY_TIMEOUT_S = 10.0


@functools.cache
def find_interpreter(runtime: str) -> tuple[str, str | None]:
    """(path of the interpreter, warning or None) for a Lambda runtime name like "python3.11"."""
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    match = _RUNTIME.match(runtime)
    if match is None:
        return sys.executable, f"{runtime} is not a Python runtime; the function runs on Python {here}."
    wanted = f"{match[1]}.{match[2]}"
    if wanted == here:
        return sys.executable, None
    found = shutil.which(f"python{wanted}")
    if found is not None and _reports_version(found) == wanted:
        return found, None
    return sys.executable, (f"Python {wanted} ({runtime}) is not installed on this server; "
                            f"the function runs on Python {here}.")


def python_version(runtime: str) -> str:
    """The X.Y that a function of `runtime` runs on here (the server's own when it has no 3.X)."""
    match = _RUNTIME.match(runtime)
    if match is not None and find_interpreter(runtime)[1] is None:
        return f"{match[1]}.{match[2]}"
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _reports_version(path: str) -> str | None:
    """The X.Y an interpreter reports when run, or None when it does not run."""
    try:
        done = subprocess.run([path, "-I", "-S", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=VERIFY_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def build_runtime_bundle(home: Path, root: str = "boto3") -> Path:
    """`<home>/runtime/bundle/<root>-<version>`: symlinks to `root` and everything it requires."""
    version = metadata.version(root)
    target = Path(home) / "runtime" / "bundle" / f"{root}-{version}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{root}-", dir=target.parent))
    try:
        for dist in _closure(root):
            _link_distribution(dist, building)
        building.rename(target)
    except OSError:
        shutil.rmtree(building, ignore_errors=True)
        if not target.is_dir():   # another process built it first: use theirs
            raise
    return target


def _closure(root: str) -> list[metadata.Distribution]:
    """`root` and the distributions it requires, transitively; extras skipped, and requirements
    that are not installed (their markers excluded them here) ignored."""
    seen: dict[str, metadata.Distribution] = {}
    todo = [root]
    while todo:
        name = _normalise(todo.pop())
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[name] = dist
        for requirement in dist.requires or []:
            if "extra" in requirement.partition(";")[2]:
                continue
            match = _NAME.match(requirement)
            if match:
                todo.append(match[1])
    return list(seen.values())


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _link_distribution(dist: metadata.Distribution, into: Path) -> None:
    """Link each top-level name the distribution installed (packages, modules, .dist-info)."""
    for top in _top_level_names(dist):
        source = Path(str(dist.locate_file(top)))
        if source.exists() and not (into / top).exists():
            os.symlink(source, into / top)


def _top_level_names(dist: metadata.Distribution) -> set[str]:
    names: set[str] = set()
    for file in dist.files or []:
        parts = file.parts
        if not parts or parts[0] in ("..", "__pycache__") or parts[0].endswith((".pth", ".data")):
            continue
        if len(parts) == 1 and not parts[0].endswith(".py"):
            continue  # a stray top-level file that is not a module
        names.add(parts[0])   # the .dist-info directory comes in through its RECORD'd files
    return names
