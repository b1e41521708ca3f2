"""Content-addressed files under the home directory: code archives and their unpacked folders.

`blobs/<sha256 hex>.zip` holds an uploaded archive exactly as sent; `code/<sha256 hex>/` its
unpacked content, shared by every function with the same archive; `blobs/<sha256 hex>.stamp` the
fingerprint of that folder as unpacked (every entry's name, type, mode, size, times and inode), which
a cold start compares (functions.code.CodeStore.verify). The stamps sit with the blobs, where no
function can write. Both are written to a temporary
name, fsynced, then renamed, so a crash never leaves half a file under a final name.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path


class BlobStore:
    def __init__(self, home: Path) -> None:
        self.blobs = home / "blobs"
        self.code = home / "code"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.code.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes) -> str:
        """Store `data` once; return its SHA-256 hex digest (its name)."""
        digest = hashlib.sha256(data).hexdigest()
        final = self.blobs / f"{digest}.zip"
        if final.exists():
            return digest
        tmp = final.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
        _fsync_dir(self.blobs)
        return digest

    def path(self, digest: str) -> Path:
        return self.blobs / f"{digest}.zip"

    def read(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()

    def code_dir(self, digest: str) -> Path:
        return self.code / digest

    def stamp(self, digest: str) -> None:
        """Keep the fingerprint of `code/<digest>/` as it is now (just unpacked)."""
        print_, files = fingerprint(self.code_dir(digest))
        tmp = self.blobs / f"{digest}.stamp.tmp{os.getpid()}"
        tmp.write_text(json.dumps({"fingerprint": print_, "files": files}))
        os.replace(tmp, self.blobs / f"{digest}.stamp")

    def stamp_of(self, digest: str) -> dict[str, object] | None:
        try:
            data = json.loads((self.blobs / f"{digest}.stamp").read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def remove_unused(self, in_use: set[str]) -> None:
        """Delete archives and code folders that no function refers to any more."""
        for blob in [*self.blobs.glob("*.zip"), *self.blobs.glob("*.stamp")]:
            if blob.stem not in in_use:
                blob.unlink(missing_ok=True)
        for folder in self.code.iterdir():
            if folder.name not in in_use:
                shutil.rmtree(folder, ignore_errors=True)


def fingerprint(folder: Path) -> tuple[str, int]:
    """(A digest of every entry under `folder`: relative name, mode, size, mtime, ctime, inode; how
    many entries). Any write, rename, addition or removal changes it; ctime cannot be set back."""
    digest = hashlib.blake2b(digest_size=16)
    count = 0
    stack = [""]
    while stack:
        relative = stack.pop()
        with os.scandir(os.path.join(folder, relative)) as entries:
            ordered = sorted(entries, key=lambda e: e.name)
        for entry in ordered:
            st = entry.stat(follow_symlinks=False)
            name = f"{relative}/{entry.name}" if relative else entry.name
            digest.update(f"{name}\0{st.st_mode}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\n"
                          .encode("utf-8", "surrogateescape"))
            count += 1
            if entry.is_dir(follow_symlinks=False):
                stack.append(name)
    return digest.hexdigest(), count


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
