"""Deterministic zip archives of code folders: the same files give the same bytes, so the same hash.

`lambdalite deploy` zips each CodeUri folder on the client and names it by SHA-256; a folder that did
not change must hash the same on every run (an unchanged redeploy is a no-op, and nothing is
uploaded twice). So entries are sorted, timestamps fixed, permissions reduced to 0644 / 0755, and
what `sam build` would leave out is skipped. Standard library only: the client and the server both use it.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

FIXED_TIME = (1980, 1, 1, 0, 0, 0)   # the earliest a zip header can say
# What sam build's CopySource leaves out (reference 8.10), plus the stack's own saved events.
SKIPPED_NAMES = frozenset({
    ".aws-sam", ".git", ".gitignore", "__pycache__", ".venv", "venv", ".env", ".tox", ".nox",
    ".pytest_cache", ".mypy_cache", ".ruff_cache", ".idea", ".vscode", "htmlcov", ".coverage", ".cache",
    ".python-version", ".DS_Store",
})
SKIPPED_SUFFIXES = (".pyc", ".pyo", ".egg-info")


def skipped(name: str) -> bool:
    return name in SKIPPED_NAMES or name.endswith(SKIPPED_SUFFIXES)


def folder_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(archive name, path) of every file under `root` that goes into the zip, sorted by name.

    Symbolic links are followed (as `sam build` copies them); a link to a folder is walked once."""
    found: list[tuple[str, Path]] = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not skipped(d))
        rel = Path(folder).relative_to(root)
        for name in files:
            if not skipped(name):
                found.append(((rel / name).as_posix(), Path(folder) / name))
    yield from sorted(found)


def zip_entries(entries: Iterable[tuple[str, bytes, bool]]) -> bytes:
    """A zip of (name, content, executable) entries in the order given, with fixed metadata."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content, executable in entries:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode bits below are read back
            info.external_attr = ((0o100755 if executable else 0o100644) & 0xFFFF) << 16
            archive.writestr(info, content, compresslevel=6)
    return buf.getvalue()


def zip_folder(root: Path) -> bytes:
    """The folder's files as a deterministic zip."""
    return zip_entries((name, path.read_bytes(), bool(path.stat().st_mode & stat.S_IXUSR))
                       for name, path in folder_files(root))


def inline_code_zip(source: str) -> bytes:
    """InlineCode: CloudFormation writes it as `index.py` (so the Handler is `index.<function>`)."""
    return zip_entries([("index.py", source.encode(), False)])


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
