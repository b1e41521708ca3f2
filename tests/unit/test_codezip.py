"""Deterministic zips of code folders, and InlineCode made a zip."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

from lambdalite.codezip import inline_code_zip, sha256_hex, zip_folder

# -- zips ---------------------------------------------------------------------------------------------

def make_folder(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "app.py").write_text("def handler(e, c):\n    return 1\n")
    (root / "pkg" / "mod.py").write_text("X = 1\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    (root / ".aws-sam").mkdir()
    (root / ".aws-sam" / "build.toml").write_text("")
    (root / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(root / "run.sh", 0o755)
    return root


def test_the_same_folder_zips_to_the_same_bytes(tmp_path: Path) -> None:
    first = zip_folder(make_folder(tmp_path / "a"))
    time.sleep(0.01)
    second = zip_folder(make_folder(tmp_path / "b"))
    assert first == second and sha256_hex(first) == sha256_hex(second)


def test_timestamps_do_not_change_the_hash(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "a")
    before = zip_folder(folder)
    os.utime(folder / "app.py", (1_000_000_000, 1_000_000_000))
    assert zip_folder(folder) == before
    (folder / "app.py").write_text("changed\n")
    assert zip_folder(folder) != before


def test_zip_entries_are_sorted_and_skip_build_leftovers(tmp_path: Path) -> None:
    data = zip_folder(make_folder(tmp_path / "a"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
    assert names == ["app.py", "pkg/mod.py", "run.sh"]
    assert modes["run.sh"] & 0o777 == 0o755 and modes["app.py"] & 0o777 == 0o644


def test_inline_code_becomes_index_py() -> None:
    with zipfile.ZipFile(io.BytesIO(inline_code_zip("X = 1"))) as archive:
        assert archive.read("index.py") == b"X = 1"
    assert inline_code_zip("X = 1") == inline_code_zip("X = 1")
