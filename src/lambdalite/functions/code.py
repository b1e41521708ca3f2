"""Function code: archives kept by content (SHA-256) and unpacked once, shared by every function
version with the same archive.

An archive arrives either in a request (`ZipFile`: decoded, checked, hashed, unpacked, kept) or is
already in the store by its hash (uploaded for a deploy, or the code of an earlier version): then it
is used by hash, never read back, re-encoded and hashed again.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import shutil
from pathlib import Path
from typing import Any

from .. import errors
from ..store import BlobStore
from ..store.blobs import fingerprint
from . import archive

NO_LIMIT = 1 << 62   # reading an archive's own sizes; the limits are checked against them after
UNZIP_ERROR = "Could not unzip uploaded file. Please check your file, then try to upload again."


class Code:
    """AWS's CodeSha256 (base64) and CodeSize of an archive in the store."""

    __slots__ = ("sha256", "size")

    def __init__(self, sha256: str, size: int) -> None:
        self.sha256 = sha256
        self.size = size


class CodeStore:
    def __init__(self, blobs: BlobStore, limits: archive.CodeLimits | None = None) -> None:
        self._blobs = blobs
        self.limits = limits or archive.CodeLimits()
        self._unzipped: dict[str, int] = {}

    async def from_zip(self, zip_bytes: bytes) -> Code:
        """Keep an archive sent in a request (unpacked once); answers AWS's CodeSha256 and size."""
        if len(zip_bytes) > self.limits.zipped:
            raise self.limits.zipped_too_large(len(zip_bytes))
        sha_b64 = archive.code_sha256(zip_bytes)
        digest = to_hex(sha_b64)
        target = self._blobs.code_dir(digest)
        summary = await asyncio.to_thread(archive.inspect_zip, zip_bytes, max_unzipped=NO_LIMIT)
        if summary.unzipped_size > self.limits.unzipped:
            raise self.limits.unzipped_too_large()
        self._unzipped[digest] = summary.unzipped_size
        if not target.exists():
            await asyncio.to_thread(self._unpack, zip_bytes, digest)
        await asyncio.to_thread(self._blobs.put, zip_bytes)
        return Code(sha_b64, len(zip_bytes))

    async def from_store(self, digest: str) -> Code:
        """An archive already in the store (hex SHA-256), unpacked if it never was."""
        blob = self._blobs.path(digest)
        if not blob.exists():
            raise errors.InvalidParameterValue(f"The code archive {digest} is not on this server; upload it first.")
        if not self._blobs.code_dir(digest).exists():
            data = await asyncio.to_thread(blob.read_bytes)
            await asyncio.to_thread(self._unpack, data, digest)
        return Code(base64.b64encode(bytes.fromhex(digest)).decode(), blob.stat().st_size)

    def _unpack(self, data: bytes, digest: str) -> None:
        archive.extract_zip(data, self._blobs.code_dir(digest), max_unzipped=self.limits.unzipped)
        self._blobs.stamp(digest)

    def verify(self, digest: str) -> str | None:
        """Before a cold start: the code folder is as it was unpacked (its stamp), else it is
        unpacked again from its archive. Why it was, or None when it was intact."""
        folder = self._blobs.code_dir(digest)
        stamp = self._blobs.stamp_of(digest)
        try:
            now = fingerprint(folder)[0]
        except OSError:
            now = None
        if stamp is not None and now is not None and stamp.get("fingerprint") == now:
            return None
        if not self._blobs.path(digest).exists():
            return None   # nothing to unpack it from (a folder made before archives were kept): left as is
        reason = ("it was not stamped when unpacked (an older Lambdalite)" if stamp is None
                  else "it is missing" if now is None
                  else "it changed after it was unpacked (a file written, added, removed or renamed)")
        data = self._blobs.read(digest)
        fresh = folder.with_name(f".{digest}.again")
        shutil.rmtree(fresh, ignore_errors=True)
        archive.extract_zip(data, fresh, max_unzipped=NO_LIMIT)
        old = folder.with_name(f".{digest}.old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            os.rename(folder, old)
        os.rename(fresh, folder)
        shutil.rmtree(old, ignore_errors=True)
        self._blobs.stamp(digest)
        return reason

    def stamped_files(self, digest: str) -> int:
        """How many entries the folder had when unpacked (0: unknown)."""
        stamp = self._blobs.stamp_of(digest)
        files = stamp.get("files") if stamp is not None else None
        return files if isinstance(files, int) else 0

    def unzipped_size(self, digest: str) -> int:
        """An archive's size unzipped (from its central directory), kept once known."""
        size = self._unzipped.get(digest)
        if size is None:
            summary = archive.inspect_zip(self._blobs.read(digest), max_unzipped=NO_LIMIT)
            size = self._unzipped[digest] = summary.unzipped_size
        return size

    async def keep(self, zip_bytes: bytes) -> str:
        """Store an archive that was checked already (an upload for a deploy); answers its hex SHA-256."""
        return await asyncio.to_thread(self._blobs.put, zip_bytes)

    def has(self, digest: str) -> bool:
        return self._blobs.path(digest).exists()

    async def read(self, digest: str) -> bytes:
        if not self.has(digest):
            raise errors.ResourceNotFound(f"No code archive {digest} on this server.")
        return await asyncio.to_thread(self._blobs.read, digest)

    def folder(self, digest: str) -> Path:
        return self._blobs.code_dir(digest)

    def remove_unused(self, in_use: set[str]) -> None:
        self._blobs.remove_unused(in_use)


def decode_zip(code: dict[str, Any]) -> bytes:
    try:
        return base64.b64decode(code["ZipFile"], validate=True)
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise errors.InvalidParameterValue(UNZIP_ERROR) from None


def update_code_source(body: dict[str, Any]) -> dict[str, Any]:
    """UpdateFunctionCode's code: a ZipFile (S3 and images are not built yet)."""
    if "ZipFile" in body:
        return body
    if "S3Bucket" in body or "S3Key" in body or "ImageUri" in body:
        raise errors.UnsupportedOperation("Lambdalite takes function code as ZipFile only; S3 and "
                                          "container images are not supported yet.")
    raise errors.InvalidParameterValue("Please provide a source for function code.")


def to_hex(sha_b64: str) -> str:
    return base64.b64decode(sha_b64).hex()
