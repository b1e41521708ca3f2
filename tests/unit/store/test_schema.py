"""The store's schema versions: new homes, homes of the first release, homes of a newer release."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from lambdalite.errors import HomeUnusable
from lambdalite.store import Database
from lambdalite.store.schema import LATEST, SCHEMA_V1, stored_version

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "home-v1" / "lambdalite.sql"


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def v1_home(tmp_path: Path) -> Path:
    """The database of a home made by the first release (its dump, loaded as it was)."""
    path = tmp_path / "lambdalite.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(FIXTURE.read_text())
    return path


def test_a_new_store_is_made_at_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "lambdalite.db"
    db = Database(path)
    db.close()
    assert user_version(path) == LATEST
    assert "function_versions" in tables(path) and "functions" not in tables(path)


def test_the_first_release_store_has_no_version_and_counts_as_one(tmp_path: Path) -> None:
    path = v1_home(tmp_path)
    assert user_version(path) == 0
    assert stored_version(path) == 1
    assert stored_version(tmp_path / "nothing.db") == 0


def test_a_first_release_store_is_migrated_and_keeps_its_functions(tmp_path: Path) -> None:
    path = v1_home(tmp_path)
    with sqlite3.connect(path) as conn:
        (before,) = conn.execute("SELECT data FROM functions WHERE name = 'addfive'").fetchone()
    db = Database(path)
    try:
        assert db.schema_version == LATEST
        functions = db.load_functions()
        assert [f["name"] for f in functions] == ["addfive"]
        assert functions[0] == json.loads(before)
        assert db.test_events("addfive").keys() == {"test_1", "test_2"}
        assert [s["name"] for s in db.load_stacks()] == ["addfive"]
    finally:
        db.close()
    assert user_version(path) == LATEST
    assert "functions" not in tables(path)


def test_a_migrated_store_opens_again_unchanged(tmp_path: Path) -> None:
    path = v1_home(tmp_path)
    Database(path).close()
    again = Database(path)
    try:
        assert again.schema_version == LATEST and len(again.load_functions()) == 1
    finally:
        again.close()


def test_a_store_from_a_newer_release_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "lambdalite.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA_V1)
        conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    before = path.read_bytes()
    with pytest.raises(HomeUnusable) as refused:
        Database(path)
    message = str(refused.value)
    assert f"schema version {LATEST + 1}" in message and "newer Lambdalite" in message
    assert "another --home" in message
    assert path.read_bytes() == before
    assert not (tmp_path / "lambdalite.db-wal").exists()


def test_a_file_that_is_not_a_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lambdalite.db"
    path.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(HomeUnusable, match="not a Lambdalite store"):
        Database(path)
    assert path.read_bytes() == b"this is not SQLite" * 100


def test_function_versions_are_kept_per_name_and_version(tmp_path: Path) -> None:
    db = Database(tmp_path / "lambdalite.db")
    try:
        db.put_function("f", "$LATEST", {"name": "f", "version": "$LATEST"})
        db.put_function("f", "1", {"name": "f", "version": "1"})
        db.put_function("g", "$LATEST", {"name": "g", "version": "$LATEST"})
        db.put_policy("f", {"revision_id": "r", "statements": []})
        db.put_test_event("f", "e", "{}")
        assert [(d["name"], d["version"]) for d in db.load_functions()] == [("f", "$LATEST"), ("f", "1"),
                                                                           ("g", "$LATEST")]
        db.delete_function("f")
        assert [d["name"] for d in db.load_functions()] == ["g"]
        assert db.load_policies() == {} and db.test_events("f") == {}
    finally:
        db.close()


def test_function_stats_count_in_sqlite(tmp_path: Path) -> None:
    from lambdalite.store import Database

    db = Database(tmp_path / "lambdalite.db")
    rows = [(f"r{i}", 1000 + i, float(i), "error" if i % 10 == 0 else "ok") for i in range(1, 201)]
    rows += [("t", 5000, 0.0, "throttled"), ("old", 10, 999.0, "error")]
    db._conn.executemany("INSERT INTO invocations (request_id, function, version, started_ms, duration_ms, billed_ms, "
                         "memory_mb, max_memory_mb, outcome) VALUES (?, 'f', '$LATEST', ?, ?, 1, 128, 10, ?)", rows)
    assert db.function_stats("f", 1000) == (201, 20, 198.0)   # the 199th of 201 ordered (0.0 first)
    assert db.function_stats("g", 0) == (0, 0, None)
    db.close()
