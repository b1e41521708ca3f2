"""Content-addressed files under the home directory: code archives and their unpacked folders.

`blobs/<sha256 hex>.zip` holds an uploaded archive exactly as sent; `code/<sha256 hex>/` its
unpacked content, shared by every function with the same archive. Both are written to a temporary
name, fsynced, then renamed, so a crash never leaves half a file under a final name.
"""

from __future__ import annotations

import hashlib
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

    def remove_unused(self, in_use: set[str]) -> None:
        """Delete archives and code folders that no function refers to any more."""
        for blob in self.blobs.glob("*.zip"):
            if blob.stem not in in_use:
                blob.unlink(missing_ok=True)
        for folder in self.code.iterdir():
            if folder.name not in in_use:
                shutil.rmtree(folder, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
