"""Deployment zips: limits, zip-slip, lying headers, modes, all-or-nothing extraction."""

from __future__ import annotations

import base64
import hashlib
import io
import stat
import struct
import warnings
import zipfile
from pathlib import Path

import pytest

from lambdalite.errors import InvalidParameterValue, RequestTooLarge
from lambdalite.functions import archive
from lambdalite.functions.archive import code_sha256, extract_zip, inspect_zip

NOT_A_ZIP = "Could not unzip uploaded file. Please check your file, then try to upload again."


def make_zip(*members: tuple[str, bytes | str, int], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """Members as (name, content, unix mode incl. file type bits)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are wanted in one test
        for name, content, mode in members:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            info.create_system = 3  # Unix, so the mode bits count
            info.compress_type = compression
            zf.writestr(info, content)
    return buffer.getvalue()


def regular(name: str, content: bytes | str = b"x", mode: int = 0o644) -> tuple[str, bytes | str, int]:
    return name, content, stat.S_IFREG | mode


def symlink(name: str, target: str) -> tuple[str, bytes | str, int]:
    return name, target, stat.S_IFLNK | 0o777


def lie_about_sizes(data: bytes, claimed: int) -> bytes:
    """Patch every central-directory and local header to claim ``claimed`` uncompressed bytes."""
    patched = bytearray(data)
    offset = patched.find(b"PK\x01\x02")
    while offset != -1:
        struct.pack_into("<I", patched, offset + 24, claimed)  # central directory: uncompressed size
        offset = patched.find(b"PK\x01\x02", offset + 4)
    offset = patched.find(b"PK\x03\x04")
    while offset != -1:
        struct.pack_into("<I", patched, offset + 22, claimed)  # local header: uncompressed size
        offset = patched.find(b"PK\x03\x04", offset + 4)
    return bytes(patched)


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir())


# -- code_sha256 and inspect_zip ---------------------------------------------------------------

def test_code_sha256_is_base64_not_hex() -> None:
    data = b"hello"
    assert code_sha256(data) == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert code_sha256(data) == "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="


def test_inspect_summary() -> None:
    data = make_zip(regular("app.py", b"def handler(e, c): return 1\n"), regular("lib/x.py", b"12345"))
    summary = inspect_zip(data)
    assert summary.zipped_size == len(data) and summary.entries == 2
    assert summary.unzipped_size == len(b"def handler(e, c): return 1\n") + 5
    assert summary.code_sha256 == code_sha256(data)


@pytest.mark.parametrize("data", [b"this is not a zipfile, just a random string", b"", b"PK\x03\x04garbage"])
def test_not_a_zip(data: bytes) -> None:
    with pytest.raises(InvalidParameterValue) as caught:
        inspect_zip(data)
    assert caught.value.message == NOT_A_ZIP
    assert caught.value.status == 400


def test_zipped_too_large_names_the_limit_and_the_setting() -> None:
    error = archive.CodeLimits(zipped=50 * archive.MB).zipped_too_large(60_000_000)
    assert isinstance(error, RequestTooLarge)
    assert error.message.startswith("Zipped size must be smaller than 52428800 bytes (this one is 60000000 bytes)")
    assert "--max-zip-mb 50" in error.message
    assert error.status == 413 and error.code == "RequestEntityTooLargeException"
    assert archive.AWS_LIMITS.zipped == archive.ZIPPED_LIMIT and archive.CodeLimits().zipped == 1024 * archive.MB


def test_unzipped_too_large_from_headers() -> None:
    data = lie_about_sizes(make_zip(regular("big.bin", b"x")), archive.UNZIPPED_LIMIT + 1)
    with pytest.raises(InvalidParameterValue) as caught:
        inspect_zip(data)
    assert caught.value.message == "Unzipped size must be smaller than 262144000 bytes"


def test_unzipped_limit_is_on_the_total(tmp_path: Path) -> None:
    data = make_zip(regular("a", b"x" * 600), regular("b", b"y" * 600))
    with pytest.raises(InvalidParameterValue, match="Unzipped size must be smaller than 1000 bytes"):
        extract_zip(data, tmp_path / "code", max_unzipped=1000)
    assert leftovers(tmp_path) == []


def test_unzipped_checked_before_extracting(tmp_path: Path) -> None:
    data = lie_about_sizes(make_zip(regular("big.bin", b"x")), archive.UNZIPPED_LIMIT + 1)
    with pytest.raises(InvalidParameterValue, match="Unzipped size"):
        extract_zip(data, tmp_path / "code")
    assert leftovers(tmp_path) == []


# -- zip slip ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["../evil", "/abs", "a/../../b", "..", "C:/windows/x", "C:evil",
                                  "..\\evil", "\\abs", "a/b/../../../c"])
def test_escaping_names_refused(name: str, tmp_path: Path) -> None:
    data = make_zip(regular("ok.py"), regular(name))
    with pytest.raises(InvalidParameterValue) as caught:
        extract_zip(data, tmp_path / "code")
    assert f"archive member '{name}'" in caught.value.message
    assert caught.value.message.startswith("Could not unzip uploaded file: ")
    assert leftovers(tmp_path) == []


def test_escaping_names_refused_by_inspect() -> None:
    with pytest.raises(InvalidParameterValue, match="'../evil' points outside the code folder"):
        inspect_zip(make_zip(regular("../evil")))


def test_dotdot_that_stays_inside_is_fine(tmp_path: Path) -> None:
    extract_zip(make_zip(regular("a/../b.py", b"b")), tmp_path / "code")
    assert (tmp_path / "code" / "b.py").read_bytes() == b"b"


@pytest.mark.parametrize("target", ["/etc", "/etc/passwd", "../x", "a/../../x", "../../../../etc/shadow"])
def test_symlinks_outside_refused(target: str, tmp_path: Path) -> None:
    data = make_zip(regular("app.py"), symlink("link", target))
    with pytest.raises(InvalidParameterValue) as caught:
        extract_zip(data, tmp_path / "code")
    assert "archive member 'link' is a symbolic link" in caught.value.message
    assert leftovers(tmp_path) == []


def test_symlink_chain_escape_refused(tmp_path: Path) -> None:
    # "t" -> "." is inside; "s" -> "t/t/../.." looks inside lexically but resolves to the parent.
    data = make_zip(symlink("t", "."), symlink("s", "t/t/../.."))
    with pytest.raises(InvalidParameterValue, match="archive member 's'"):
        extract_zip(data, tmp_path / "code")
    assert leftovers(tmp_path) == []


def test_writing_through_a_symlinked_folder_stays_inside(tmp_path: Path) -> None:
    data = make_zip(regular("real/keep.txt", b"k"), symlink("alias", "real"), regular("alias/new.txt", b"n"))
    extract_zip(data, tmp_path / "code")
    assert (tmp_path / "code" / "real" / "new.txt").read_bytes() == b"n"


def test_symlink_inside_is_kept(tmp_path: Path) -> None:
    data = make_zip(regular("lib/real.py", b"v = 1\n"), symlink("alias.py", "lib/real.py"))
    extract_zip(data, tmp_path / "code")
    link = tmp_path / "code" / "alias.py"
    assert link.is_symlink() and link.read_bytes() == b"v = 1\n"


def test_special_files_refused(tmp_path: Path) -> None:
    data = make_zip(("pipe", b"", stat.S_IFIFO | 0o644))
    refused = "archive member 'pipe' was refused by the extraction filter"
    with pytest.raises(InvalidParameterValue, match=refused):
        extract_zip(data, tmp_path / "code")
    assert leftovers(tmp_path) == []


# -- lying headers (zip bombs) -----------------------------------------------------------------

def test_header_claims_10_bytes_but_inflates_to_more(tmp_path: Path) -> None:
    real = b"A" * (4 * 1024 * 1024)  # compresses to a few KB
    data = lie_about_sizes(make_zip(regular("bomb.bin", real)), 10)
    assert inspect_zip(data).unzipped_size == 10  # the headers lie
    with pytest.raises(InvalidParameterValue):
        extract_zip(data, tmp_path / "code")
    assert leftovers(tmp_path) == []


def test_bomb_never_writes_past_the_limit(tmp_path: Path) -> None:
    # Two members: the first honest, the second lying; the budget counts what is really written.
    data = make_zip(regular("a.bin", b"a" * 800), regular("b.bin", b"b" * 5000))
    lying = bytearray(data)
    second = lying.rfind(b"PK\x01\x02")
    struct.pack_into("<I", lying, second + 24, 100)
    with pytest.raises(InvalidParameterValue):
        extract_zip(bytes(lying), tmp_path / "code", max_unzipped=1000)
    assert leftovers(tmp_path) == []


# -- modes and layout --------------------------------------------------------------------------

def test_executable_bit_kept_and_world_readable(tmp_path: Path) -> None:
    data = make_zip(regular("bin/tool", b"#!/bin/sh\n", 0o700), regular("app.py", b"", 0o600))
    extract_zip(data, tmp_path / "code")
    tool = (tmp_path / "code" / "bin" / "tool").stat().st_mode
    app = (tmp_path / "code" / "app.py").stat().st_mode
    assert stat.S_IMODE(tool) == 0o755
    assert stat.S_IMODE(app) == 0o644
    assert stat.S_IMODE((tmp_path / "code" / "bin").stat().st_mode) == 0o755


def test_setuid_and_group_write_dropped(tmp_path: Path) -> None:
    extract_zip(make_zip(regular("x", b"", 0o4777)), tmp_path / "code")
    assert stat.S_IMODE((tmp_path / "code" / "x").stat().st_mode) == 0o755


def test_zip_without_unix_modes(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("app.py", "print(1)\n")  # as written by Python: 0o600, no file type bits
        zf.writestr("pkg/", "")
    extract_zip(buffer.getvalue(), tmp_path / "code")
    assert stat.S_IMODE((tmp_path / "code" / "app.py").stat().st_mode) == 0o644
    assert (tmp_path / "code" / "pkg").is_dir()


def test_nested_folders_and_content(tmp_path: Path) -> None:
    data = make_zip(regular("app.py", b"A"), regular("pkg/__init__.py", b""), regular("pkg/sub/m.py", b"M"),
                    compression=zipfile.ZIP_STORED)
    summary = extract_zip(data, tmp_path / "deep" / "code")
    assert (tmp_path / "deep" / "code" / "pkg" / "sub" / "m.py").read_bytes() == b"M"
    assert summary.entries == 3
    assert leftovers(tmp_path / "deep") == ["code"]


def test_empty_zip_gives_empty_folder(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    zipfile.ZipFile(buffer, "w").close()
    summary = extract_zip(buffer.getvalue(), tmp_path / "code")
    assert summary.entries == 0 and summary.unzipped_size == 0
    assert list((tmp_path / "code").iterdir()) == []


def test_later_member_with_same_name_wins(tmp_path: Path) -> None:
    extract_zip(make_zip(regular("a.py", b"1"), regular("a.py", b"2")), tmp_path / "code")
    assert (tmp_path / "code" / "a.py").read_bytes() == b"2"


def test_file_where_folder_is_needed(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="archive member 'a/b.py'"):
        extract_zip(make_zip(regular("a", b"file"), regular("a/b.py")), tmp_path / "code")
    assert leftovers(tmp_path) == []


def test_existing_destination_refused(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    with pytest.raises(FileExistsError):
        extract_zip(make_zip(regular("a.py")), tmp_path / "code")
    assert leftovers(tmp_path) == ["code"]


def test_corrupt_member_leaves_nothing(tmp_path: Path) -> None:
    data = bytearray(make_zip(regular("a.py", b"print('hello world')\n" * 50)))
    start = data.find(b"PK\x03\x04") + 30 + len("a.py")
    data[start:start + 8] = b"\xff" * 8  # damage the compressed stream
    with pytest.raises(InvalidParameterValue, match="Could not unzip uploaded file"):
        extract_zip(bytes(data), tmp_path / "code")
    assert leftovers(tmp_path) == []


TAG = __import__("sys").implementation.cache_tag


def test_python_files_are_compiled_when_unpacked(tmp_path: Path) -> None:
    import importlib.util
    import marshal

    dest = tmp_path / "code"
    extract_zip(make_zip(regular("app.py", "X = 1\n"), regular("pkg/__init__.py", ""), regular("pkg/mod.py", "Y = 2\n"),
                         regular("data.txt", "not python")), dest)
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*.pyc")) == [
        f"__pycache__/app.{TAG}.pyc", f"pkg/__pycache__/__init__.{TAG}.pyc", f"pkg/__pycache__/mod.{TAG}.pyc"]
    pyc = dest / "__pycache__" / f"app.{TAG}.pyc"
    assert pyc.read_bytes()[:4] == importlib.util.MAGIC_NUMBER   # what this interpreter loads
    namespace: dict[str, object] = {}
    exec(marshal.loads(pyc.read_bytes()[16:]), namespace)
    assert namespace["X"] == 1
    for path in [pyc, *dest.rglob("__pycache__")]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o022 == 0   # nobody but the owner writes


def test_what_does_not_compile_is_left_for_its_import_to_report(tmp_path: Path) -> None:
    dest = tmp_path / "code"
    extract_zip(make_zip(regular("bad.py", "def (:\n"), regular("nul.py", b"X = 1\x00\n"), regular("ok.py", "Z = 3\n")),
                dest)
    assert sorted(p.name for p in dest.rglob("*.pyc")) == [f"ok.{TAG}.pyc"]
    assert (dest / "bad.py").read_text() == "def (:\n"


def test_big_files_and_links_are_not_compiled(tmp_path: Path) -> None:
    dest = tmp_path / "code"
    big = "X = 1\n" * (archive.COMPILE_LIMIT // 6 + 1)
    extract_zip(make_zip(regular("big.py", big), regular("small.py", "Y = 1\n"),
                         ("link.py", "small.py", stat.S_IFLNK | 0o777)), dest)
    assert sorted(p.name for p in dest.rglob("*.pyc")) == [f"small.{TAG}.pyc"]


def test_a_pyc_in_the_archive_is_replaced_by_one_of_its_source(tmp_path: Path) -> None:
    import marshal

    dest = tmp_path / "code"
    stale = b"\x00" * 16 + marshal.dumps(compile("X = 'stale'", "app.py", "exec"))
    extract_zip(make_zip(regular("app.py", "X = 'fresh'\n"), regular(f"__pycache__/app.{TAG}.pyc", stale)), dest)
    namespace: dict[str, object] = {}
    exec(marshal.loads((dest / "__pycache__" / f"app.{TAG}.pyc").read_bytes()[16:]), namespace)
    assert namespace["X"] == "fresh"


def test_compile_tree_counts_what_it_compiled(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("A = 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("B = 1\n")
    (tmp_path / "c.txt").write_text("C")
    assert archive.compile_tree(tmp_path) == 2
    assert archive.compile_tree(tmp_path, limit=3) == 0
