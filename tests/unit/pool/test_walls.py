"""The walls' pure parts: what other users can reach, the home's modes, folder groups, code stamps,
the numbers kept for users and groups."""

from __future__ import annotations

import asyncio
import io
import os
import stat
import sys
import zipfile
from pathlib import Path

import pytest

from lambdalite.functions.code import CodeStore
from lambdalite.pool.walls import GROUP_BASE, USER_BASE, Walls, blocked_ancestor, reachable_interpreter
from lambdalite.store import BlobStore, Database
from lambdalite.store.blobs import fingerprint

ROOT = os.geteuid() == 0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_folder_others_cannot_enter_is_named(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    (closed / "inner").mkdir(parents=True)
    tmp_path.chmod(0o755)
    closed.chmod(0o700)
    assert blocked_ancestor(closed / "inner" / "home") == closed
    closed.chmod(0o711)   # entered, not listed: enough
    assert blocked_ancestor(closed / "inner" / "home") != closed


def test_an_interpreter_others_can_run_is_found_for_the_same_version() -> None:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    found = reachable_interpreter(sys.executable, version)
    if found is not None:
        assert blocked_ancestor(Path(found)) is None
    assert reachable_interpreter("/nonexistent/python", "2.1") is None


def test_numbers_are_allocated_once_per_kind_and_kept(tmp_path: Path) -> None:
    db = Database(tmp_path / "lambdalite.db")
    assert [db.principal_number("function", n) for n in ("a", "b", "a")] == [0, 1, 0]
    assert db.principal_number("folder", "code/x") == 0
    db.close()
    again = Database(tmp_path / "lambdalite.db")
    assert again.principal_number("function", "b") == 1 and again.principal_number("function", "c") == 2
    again.close()


@pytest.mark.skipif(not ROOT, reason="chown needs root")
def test_the_home_is_traversable_and_its_store_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for folder in ("blobs", "code", "envs", "runtime/tmp"):
        (home / folder).mkdir(parents=True)
    for name in ("lambdalite.db", "server.log", "keys.json"):
        (home / name).write_text("x")
    numbers: dict[tuple[str, str], int] = {}
    walls = Walls(home, lambda kind, name: numbers.setdefault((kind, name), len(numbers)))
    walls.secure_home()
    assert mode(home) == 0o711 and mode(home / "code") == 0o711 and mode(home / "runtime" / "tmp") == 0o711
    assert mode(home / "blobs") == 0o700 and mode(home / "lambdalite.db") == 0o600
    assert mode(home / "server.log") == 0o600 and mode(home / "keys.json") == 0o600
    code, layer = home / "code" / "c0ffee", home / "code" / "1a7e4"
    code.mkdir()
    layer.mkdir()
    identity = walls.identity("fn", [code, layer])
    assert identity.uid == identity.gid == USER_BASE + numbers[("function", "fn")]
    assert set(identity.groups) == {code.stat().st_gid, layer.stat().st_gid}
    assert min(identity.groups) >= GROUP_BASE and mode(code) == 0o750 and code.stat().st_uid == 0
    assert walls.identity("fn", [code]).groups == (code.stat().st_gid,)   # the same folder keeps its group
    assert walls.identity("other", [code]).uid != identity.uid


def zipped(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = 0o100666 << 16   # world-writable in the zip
            z.writestr(info, text)
    return buf.getvalue()


def test_code_is_stamped_when_unpacked_and_unpacked_again_when_changed(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    store = CodeStore(blobs)
    code = asyncio.run(store.from_zip(zipped({"app.py": "x = 1\n", "lib/util.py": "y = 2\n"})))
    digest = __import__("base64").b64decode(code.sha256).hex()
    folder = blobs.code_dir(digest)
    assert mode(folder) == 0o700 and mode(folder / "app.py") == 0o644   # nobody but the owner writes code
    assert store.verify(digest) is None and store.stamped_files(digest) == 7   # 3, and 2 __pycache__ with a .pyc each
    (folder / "app.py").write_text("x = 'tampered'\n")
    assert "changed after it was unpacked" in (store.verify(digest) or "")
    assert (folder / "app.py").read_text() == "x = 1\n" and store.verify(digest) is None
    (folder / "extra.py").write_text("")
    assert store.verify(digest) is not None and not (folder / "extra.py").exists()
    os.rename(folder / "lib" / "util.py", folder / "lib" / "renamed.py")
    assert store.verify(digest) is not None and (folder / "lib" / "util.py").exists()
    (blobs.blobs / f"{digest}.stamp").unlink()   # a folder an older Lambdalite unpacked, read after a restart
    store = CodeStore(BlobStore(tmp_path))
    assert "not stamped" in (store.verify(digest) or "")
    assert store.verify(digest) is None


def test_a_fingerprint_sees_content_rewritten_in_place_with_the_same_size_and_time(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("aaaa")
    before = fingerprint(tmp_path)
    st = (tmp_path / "a.py").stat()
    (tmp_path / "a.py").write_text("bbbb")
    os.utime(tmp_path / "a.py", ns=(st.st_atime_ns, st.st_mtime_ns))   # mtime set back; ctime cannot be
    assert fingerprint(tmp_path) != before


def test_stamps_go_with_unused_archives(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    digest = blobs.put(b"zip bytes")
    blobs.code_dir(digest).mkdir()
    blobs.stamp(digest)
    blobs.remove_unused(set())
    assert not list(blobs.blobs.iterdir())
