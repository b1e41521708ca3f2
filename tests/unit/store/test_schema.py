"""The store's schema versions: new homes, homes of the first release, homes of a newer release."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

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


def record(request_id: str, started_ms: int, duration_ms: float, outcome: str, function: str = "f") -> Any:
    from lambdalite.store.db import InvocationRecord

    return InvocationRecord(request_id, function, "$LATEST", started_ms, duration_ms, 1, 128, 10, None, outcome, None)


def test_function_stats_count_the_whole_minutes_after_the_one_since_falls_in(tmp_path: Path) -> None:
    db = Database(tmp_path / "lambdalite.db")
    minute = 60_000
    rows = [record(f"r{i}", 10 * minute + i * 500, float(i), "error" if i % 10 == 0 else "ok") for i in range(1, 201)]
    rows += [record("t", 12 * minute, 0.0, "throttled"), record("early", 9 * minute + 59_999, 999.0, "error"),
             record("other", 11 * minute, 5.0, "timeout", function="g")]
    db.append(rows[:50], [])
    db.append(rows[50:], [])   # two batches: the minutes they share are added up
    assert db.function_stats("f", 9 * minute + 30_000) == (201, 20, 198.0)   # the 199th of 201 ordered (0.0 first)
    assert db.function_stats("f", 8 * minute) == (202, 21, 199.0)   # minute 9 is in: the 200th of 202
    assert db.function_stats("g", 0) == (1, 1, 5.0)
    assert db.function_stats("h", 0) == (0, 0, None)
    db.close()


def test_the_p99_is_of_the_latest_records_when_there_are_many(tmp_path: Path) -> None:
    from lambdalite.store.db import P99_SAMPLE

    db = Database(tmp_path / "lambdalite.db")
    old = [record(f"o{i}", 60_000 + i, 1000.0, "ok") for i in range(100)]
    new = [record(f"n{i}", 120_000 + i, float(i % 100), "ok") for i in range(P99_SAMPLE)]
    db.append(old + new, [])
    assert db.function_stats("f", 0) == (P99_SAMPLE + 100, 0, 98.0)
    db.close()


def test_per_minute_counts_records_per_function_and_minute() -> None:
    from lambdalite.store.db import per_minute

    rows = [record("a", 0, 1.0, "ok"), record("b", 59_999, 1.0, "error"), record("c", 60_000, 1.0, "throttled"),
            record("d", 60_001, 1.0, "out_of_memory"), record("e", 5, 1.0, "timeout", function="g")]
    assert sorted(per_minute(rows)) == [("f", 0, 2, 1), ("f", 1, 2, 1), ("g", 0, 1, 1)]
    assert per_minute([]) == []


def test_expiry_takes_the_minutes_before_the_retention_too(tmp_path: Path) -> None:
    db = Database(tmp_path / "lambdalite.db")
    db.append([record("a", 60_000, 1.0, "ok"), record("b", 600_000, 1.0, "ok")], [])
    db.expire(300_000, 1000, 1000)
    assert db.function_stats("f", 0) == (1, 0, 1.0)
    assert db._conn.execute("SELECT minute FROM minutes").fetchall() == [(10,)]
    db.close()


def test_a_store_of_version_13_gets_its_last_days_minutes_from_its_records(tmp_path: Path) -> None:
    from lambdalite.store import schema

    path = tmp_path / "lambdalite.db"
    conn = sqlite3.connect(path, isolation_level=None)
    day = 86_400_000
    try:
        schema.migrate(conn, 0)   # to LATEST, then back to 13 as a home of the last release was
        conn.execute("DROP TABLE minutes")
        conn.execute("PRAGMA user_version = 13")
        rows = [("r1", 5 * day, "ok"), ("r2", 5 * day + 1, "error"), ("r3", 5 * day + 60_000, "throttled"),
                ("r4", 4 * day + 59_999, "error"), ("r5", 4 * day + 60_000, "ok")]
        conn.executemany("INSERT INTO invocations (request_id, function, version, started_ms, duration_ms, billed_ms, "
                         "memory_mb, max_memory_mb, outcome) VALUES (?, 'f', '$LATEST', ?, 1.0, 1, 128, 10, ?)", rows)
    finally:
        conn.close()
    db = Database(path)
    try:
        assert db.schema_version == LATEST
        minutes = db._conn.execute("SELECT * FROM minutes ORDER BY minute").fetchall()
        # r4 is over a day older than the newest record
        assert minutes == [("f", 4 * 1440 + 1, 1, 0), ("f", 5 * 1440, 2, 1), ("f", 5 * 1440 + 1, 1, 0)]
    finally:
        db.close()
