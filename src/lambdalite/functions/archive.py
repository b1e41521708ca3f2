"""Deployment zips: check them against Lambda's limits and unpack them safely.

The one module of ``functions`` that touches the filesystem (extraction only).

Safety, in layers:
1. ``inspect_zip`` reads only the central directory (and symlink targets): zipped size, unzipped
   size as the headers declare it, member names (absolute, drive letter, ``..`` escaping) and
   symlink targets (absolute or escaping), all before a byte is written.
2. Every member then goes through the standard library's extraction filter
   (``tarfile.data_filter``, PEP 706) as a TarInfo, which also resolves symlinks already on disk,
   refuses special files and drops setuid/setgid and group/other write bits.
3. While extracting, bytes actually written are counted against the unzipped limit (a header may
   lie; ``zipfile`` itself also stops at the declared size and then fails the CRC check).
4. Everything lands in a temporary sibling folder, renamed into place at the end: a failed
   extraction leaves nothing behind.

Before the rename, its Python files are compiled (``compile_tree``): instances never write bytecode
(the folder is stamped, and with the walls not theirs to write), so what is not compiled here is
compiled again by every instance that imports it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import lzma
import os
import posixpath
import py_compile
import re
import shutil
import stat
import sys
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from lambdalite.errors import InvalidParameterValue, RequestTooLarge

ZIPPED_LIMIT = 52_428_800          # ZipFile uploaded directly (AWS: 50 MB)
UNZIPPED_LIMIT = 262_144_000       # function code unzipped (AWS: 250 MB)
MB = 1024 * 1024
SYMLINK_TARGET_LIMIT = 4096
NAME_LIMIT = 255                   # bytes of one path part of a member (Linux's, and so Lambda's file system's)
PATH_LIMIT = 4096                  # bytes of a member's whole path
COMPILE_LIMIT = 256 * 1024         # a bigger .py is left to the instance (compiling holds the server's GIL)
_CHUNK = 1 << 20

NOT_A_ZIP = "Could not unzip uploaded file. Please check your file, then try to upload again."
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class ArchiveSummary:
    zipped_size: int       # CodeSize
    unzipped_size: int     # as the central directory declares it
    entries: int
    code_sha256: str       # CodeSha256


def code_sha256(data: bytes) -> str:
    """AWS's CodeSha256: base64 (not hex) of the SHA-256 of the zip bytes."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


@dataclass(frozen=True)
class CodeLimits:
    """How large code may be. AWS's are 50 MB zipped (a direct upload) and 250 MB unzipped with the
    layers; this server's are settings of `lambdalite serve` (`--max-zip-mb`, `--max-unzipped-mb`),
    large by default so that pandas + scikit-learn (or torch-cpu) fit in one zip."""

    zipped: int = 1024 * MB
    unzipped: int = 4096 * MB

    @property
    def request(self) -> int:
        """The largest CreateFunction / UpdateFunctionCode request: the zip in base64, in JSON."""
        return self.zipped * 4 // 3 + 4 * MB

    def zipped_too_large(self, size: int | None = None) -> RequestTooLarge:
        got = f" (this one is {size} bytes)" if size is not None else ""
        return RequestTooLarge(f"Zipped size must be smaller than {self.zipped} bytes{got}: this server's limit, "
                               f"`lambdalite serve --max-zip-mb {self.zipped // MB}`; raise it to upload larger code")

    def unzipped_too_large(self, what: str = "Unzipped size") -> InvalidParameterValue:
        return InvalidParameterValue(f"{what} must be smaller than {self.unzipped} bytes: this server's limit, "
                                     f"`lambdalite serve --max-unzipped-mb {self.unzipped // MB}`")


AWS_LIMITS = CodeLimits(ZIPPED_LIMIT, UNZIPPED_LIMIT)


def zipped_too_large() -> RequestTooLarge:
    return RequestTooLarge(f"Zipped size must be smaller than {ZIPPED_LIMIT} bytes")


def unzipped_too_large(limit: int = UNZIPPED_LIMIT) -> InvalidParameterValue:
    return InvalidParameterValue(f"Unzipped size must be smaller than {limit} bytes")


def _bad_member(name: str, why: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Could not unzip uploaded file: archive member '{name}' {why}.")


@contextmanager
def _open_zip(data: bytes) -> Iterator[zipfile.ZipFile]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            yield archive
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError) as exc:
        # Unreadable headers, unsupported compression or encryption, CRC mismatch while reading.
        raise InvalidParameterValue(NOT_A_ZIP) from exc


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _normal_name(name: str) -> str:
    """The member's path inside the folder, or raise if it is absolute or escapes it."""
    if "\x00" in name:
        raise _bad_member(name, "has a NUL character in its name")
    unified = name.replace("\\", "/")
    if unified.startswith("/") or _DRIVE.match(unified):
        raise _bad_member(name, "has an absolute path")
    normal = posixpath.normpath(unified)
    if normal == ".." or normal.startswith("../"):
        raise _bad_member(name, "points outside the code folder")
    if len(normal.encode("utf-8", "surrogateescape")) > PATH_LIMIT or any(
            len(part.encode("utf-8", "surrogateescape")) > NAME_LIMIT for part in normal.split("/")):
        raise _bad_member(name[:80] + ("..." if len(name) > 80 else ""),
                          f"has a name too long for a file system (a part over {NAME_LIMIT} bytes, or a path "
                          f"over {PATH_LIMIT})")
    return normal


def _check_link_target(name: str, target: str) -> None:
    unified = target.replace("\\", "/")
    if not unified or unified.startswith("/") or _DRIVE.match(unified) or "\x00" in unified:
        raise _bad_member(name, f"is a symbolic link to an absolute or empty path ('{target}')")
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(_normal_name(name)), unified))
    if joined == ".." or joined.startswith("../"):
        raise _bad_member(name, f"is a symbolic link outside the code folder ('{target}')")


def _link_target(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    if info.file_size > SYMLINK_TARGET_LIMIT:
        raise _bad_member(info.filename, "is a symbolic link with an oversized target")
    try:
        return archive.read(info).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad_member(info.filename, "is a symbolic link with an unreadable target") from exc


def _check_members(archive: zipfile.ZipFile) -> None:
    for info in archive.infolist():
        _normal_name(info.filename)
        if _is_symlink(info):
            _check_link_target(info.filename, _link_target(archive, info))


def inspect_zip(data: bytes, *, max_unzipped: int = UNZIPPED_LIMIT) -> ArchiveSummary:
    """Check a deployment zip without extracting it.

    Raises RequestTooLarge (zipped size), InvalidParameterValue (not a zip; unzipped size from
    the central directory; a member or symlink that is absolute or escapes the folder).
    """
    with _open_zip(data) as archive:
        infos = archive.infolist()
        unzipped = sum(info.file_size for info in infos)
        if unzipped > max_unzipped:
            raise unzipped_too_large(max_unzipped)
        _check_members(archive)
    return ArchiveSummary(len(data), unzipped, len(infos), code_sha256(data))


def extract_zip(data: bytes, dest: Path, *, max_unzipped: int = UNZIPPED_LIMIT) -> ArchiveSummary:
    """Unpack a checked zip into ``dest``, which must not exist yet; all or nothing.

    File modes come from the zip (executable bits kept), made world-readable and writable by the
    owner only; folders are 0755, the top one 0700 (pool.walls gives it to its group when it runs).
    Raises what ``inspect_zip`` raises, InvalidParameterValue when a member fails the extraction
    filter or the bytes written pass ``max_unzipped``, FileExistsError when ``dest`` exists.
    """
    summary = inspect_zip(data, max_unzipped=max_unzipped)
    dest = Path(dest)
    if dest.exists() or dest.is_symlink():
        raise FileExistsError(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        with _open_zip(data) as archive:
            _Extractor(archive, staging, max_unzipped).run()
        compile_tree(staging)
        staging.chmod(0o700)
        os.rename(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return summary


def compile_tree(root: Path, limit: int = COMPILE_LIMIT) -> int:
    """Compile each ``.py`` file under ``root`` (not through links, none over ``limit`` bytes) to its
    ``__pycache__`` for this interpreter's version, as ``compileall`` would; a file that does not
    compile is left for its import to report. Folders made 0755, files 0644. How many compiled."""
    compiled = 0
    if sys.implementation.cache_tag is None:   # an interpreter that keeps no bytecode
        return 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__" and not os.path.islink(os.path.join(folder, d))]
        for name in files:
            path = os.path.join(folder, name)
            if not name.endswith(".py") or os.path.islink(path) or os.path.getsize(path) > limit:
                continue
            cache = Path(folder, "__pycache__")
            cache.mkdir(mode=0o755, exist_ok=True)
            target = str(cache / f"{name[:-3]}.{sys.implementation.cache_tag}.pyc")   # never a pycache_prefix
            try:
                py_compile.compile(path, cfile=target, doraise=True)
            except (py_compile.PyCompileError, ValueError, RecursionError, MemoryError, OSError):
                continue
            os.chmod(target, 0o644)
            compiled += 1
    return compiled


class _Extractor:
    """Writes one archive's members under ``root``, counting the bytes it writes."""

    def __init__(self, archive: zipfile.ZipFile, root: Path, max_unzipped: int) -> None:
        self.archive = archive
        self.root = root
        self.real_root = os.path.realpath(root)
        self.budget = max_unzipped
        self.max_unzipped = max_unzipped

    def run(self) -> None:
        for info in self.archive.infolist():
            try:
                self._extract(info)
            except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
                raise _bad_member(info.filename, f"could not be written ({exc.strerror})") from exc
        self._verify_links()

    def _extract(self, info: zipfile.ZipInfo) -> None:
        member = self._filtered(info)
        if member.isdir():
            self._make_dirs(self.root / member.name)
        elif member.issym():
            self._place(member.name).symlink_to(member.linkname)
        else:
            self._write_file(info, member)

    def _verify_links(self) -> None:
        # Links are judged one by one as they are made; judge the finished tree once more, where
        # every link resolves through all the others.
        for folder, dirs, files in os.walk(self.root):
            for entry in dirs + files:
                path = Path(folder, entry)
                if path.is_symlink() and not self._inside(path):
                    name = str(path.relative_to(self.root))
                    raise _bad_member(name, "is a symbolic link outside the code folder")

    def _filtered(self, info: zipfile.ZipInfo) -> tarfile.TarInfo:
        member = _as_tarinfo(info, self._target_of(info))
        try:
            filtered = tarfile.data_filter(member, str(self.root))
        except tarfile.FilterError as exc:
            raise _bad_member(info.filename, f"was refused by the extraction filter ({exc})") from exc
        assert filtered is not None  # data_filter returns a member or raises
        return filtered

    def _target_of(self, info: zipfile.ZipInfo) -> str | None:
        return _link_target(self.archive, info) if _is_symlink(info) else None

    def _inside(self, path: Path) -> bool:
        real = os.path.realpath(path)
        return real == self.real_root or real.startswith(self.real_root + os.sep)

    def _make_dirs(self, path: Path) -> None:
        if not self._inside(path):
            raise _bad_member(str(path.relative_to(self.root)), "points outside the code folder")
        path.mkdir(mode=0o755, parents=True, exist_ok=True)

    def _place(self, name: str) -> Path:
        """The path to create for a file or link: parent made and checked, old entry removed."""
        path = self.root / name
        self._make_dirs(path.parent)
        if path.is_symlink() or path.is_file():
            path.unlink()  # a later member with the same name wins, as with unzip
        elif path.exists():
            raise _bad_member(name, "names a file where a folder already is")
        return path

    def _write_file(self, info: zipfile.ZipInfo, member: tarfile.TarInfo) -> None:
        path = self._place(member.name)
        mode = _file_mode(member.mode)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        with self.archive.open(info) as source, os.fdopen(os.open(path, flags, mode), "wb") as target:
            self._copy(source, target)
            os.fchmod(target.fileno(), mode)  # the umask must not take the bits away

    def _copy(self, source: IO[bytes], target: IO[bytes]) -> None:
        while chunk := _read(source):
            self.budget -= len(chunk)
            if self.budget < 0:  # the headers lied about the sizes
                raise unzipped_too_large(self.max_unzipped)
            target.write(chunk)


def _read(source: IO[bytes]) -> bytes:
    try:
        return source.read(_CHUNK)
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError) as exc:
        # A damaged stream or a CRC mismatch (zipfile stops at the declared size, then checks the
        # CRC, so a member whose header lies about its size ends here too). The source is in
        # memory, so an OSError here comes from a decompressor (bz2), never from a disk.
        raise InvalidParameterValue(NOT_A_ZIP) from exc


def _as_tarinfo(info: zipfile.ZipInfo, link_target: str | None) -> tarfile.TarInfo:
    """Describe a zip member as a tar member, so the standard extraction filter can judge it."""
    unix_mode = info.external_attr >> 16
    member = tarfile.TarInfo(_normal_name(info.filename))
    if link_target is not None:
        member.type, member.linkname, member.mode = tarfile.SYMTYPE, link_target, 0o777
    elif info.is_dir() or stat.S_ISDIR(unix_mode):
        member.type, member.mode = tarfile.DIRTYPE, 0o755
    elif stat.S_IFMT(unix_mode) not in (0, stat.S_IFREG):
        member.type = tarfile.FIFOTYPE  # a device, FIFO or socket: the filter refuses these
    else:
        member.type, member.size = tarfile.REGTYPE, info.file_size
        member.mode = stat.S_IMODE(unix_mode) if unix_mode else 0o644
    return member


def _file_mode(mode: int | None) -> int:
    # World-readable (Lambda's rule: unreadable files break imports), writable by its owner only (no
    # function may write code, docs/security.md); executable for all when the owner could execute it;
    # never setuid/setgid/sticky (the filter already dropped those).
    mode = (mode if mode is not None else 0o644) & 0o755 | 0o444
    return mode | 0o111 if mode & 0o100 else mode
