"""The only module that touches SQLite.

One database file (`<home>/lambdalite.db`, WAL mode) holds functions, policies, API Gateway REST
APIs (a JSON document each), stacks (a JSON document each), saved test events, invocation records
and log events; code archives live beside it as
content-addressed blob files (`blobs.py`). A
write the API has answered for is committed before the answer goes out, so it survives a
`kill -9`: WAL with synchronous=NORMAL loses nothing when only the process dies.

The control plane uses the connection of the event loop's thread; the recorder's thread opens its
own (`Database(path)` per thread), and SQLite's busy timeout serialises the two writers.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

from ..functions.model import FunctionVersion, Policy

SCHEMA = """
CREATE TABLE IF NOT EXISTS functions (
    name TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS policies (
    name TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS invocations (
    request_id TEXT PRIMARY KEY,
    function TEXT NOT NULL,
    version TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    billed_ms INTEGER NOT NULL,
    memory_mb INTEGER NOT NULL,
    max_memory_mb INTEGER NOT NULL,
    init_ms REAL,
    outcome TEXT NOT NULL,
    error_type TEXT
);
CREATE INDEX IF NOT EXISTS invocations_by_function ON invocations (function, started_ms);
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    function TEXT NOT NULL,
    ts_ms INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    text TEXT NOT NULL          -- one invocation's lines (START ... REPORT), split when read
);
CREATE INDEX IF NOT EXISTS logs_by_function ON logs (function, id);
CREATE TABLE IF NOT EXISTS rest_apis (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL          -- one API Gateway REST API: api, resources, ..., deployments, stages
);
CREATE TABLE IF NOT EXISTS stacks (
    name TEXT PRIMARY KEY,
    data TEXT NOT NULL          -- one deployed stack: templates, parameters, outputs, resources, status
);
CREATE TABLE IF NOT EXISTS test_events (
    function TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,         -- the event's JSON text, as saved
    PRIMARY KEY (function, name)
);
"""


class InvocationRecord(NamedTuple):
    request_id: str
    function: str
    version: str
    started_ms: int
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_mb: int
    init_ms: float | None
    outcome: str          # "ok" | "error"
    error_type: str | None


class LogEvent(NamedTuple):
    """One invocation's log text; stored as one row (a tuple: cheap to make on the invoke path)."""

    function: str
    ts_ms: int
    request_id: str
    text: str


@dataclass(frozen=True)
class StoredLogEvent:
    id: int
    ts_ms: int
    request_id: str
    message: str


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _write(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._lock:
            self._conn.execute(sql, params)

    # functions and policies --------------------------------------------------------------
    def load_functions(self) -> list[FunctionVersion]:
        rows = self._conn.execute("SELECT data FROM functions ORDER BY name").fetchall()
        return [FunctionVersion(**json.loads(data)) for (data,) in rows]

    def put_function(self, fn: FunctionVersion) -> None:
        self._write("INSERT OR REPLACE INTO functions (name, data) VALUES (?, ?)",
                    (fn.name, json.dumps(asdict(fn))))

    def delete_function(self, name: str) -> None:
        with self._lock:
            self._conn.execute("BEGIN")
            self._conn.execute("DELETE FROM functions WHERE name = ?", (name,))
            self._conn.execute("DELETE FROM policies WHERE name = ?", (name,))
            self._conn.execute("DELETE FROM test_events WHERE function = ?", (name,))
            self._conn.execute("COMMIT")

    def load_policies(self) -> list[Policy]:
        rows = self._conn.execute("SELECT name, data FROM policies").fetchall()
        out = []
        for name, data in rows:
            d = json.loads(data)
            out.append(Policy(function_name=name, revision_id=d["revision_id"],
                              statements=tuple(d["statements"])))
        return out

    def put_policy(self, policy: Policy) -> None:
        data = {"revision_id": policy.revision_id, "statements": list(policy.statements)}
        self._write("INSERT OR REPLACE INTO policies (name, data) VALUES (?, ?)",
                    (policy.function_name, json.dumps(data)))

    def code_in_use(self) -> set[str]:
        rows = self._conn.execute("SELECT data FROM functions").fetchall()
        return {json.loads(data)["code_sha256"] for (data,) in rows}

    # API Gateway REST APIs: one JSON document each ----------------------------------------
    def load_rest_apis(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute("SELECT data FROM rest_apis ORDER BY id").fetchall()
        return [json.loads(data) for (data,) in rows]

    def put_rest_api(self, api_id: str, document: dict[str, Any]) -> None:
        self._write("INSERT OR REPLACE INTO rest_apis (id, data) VALUES (?, ?)",
                    (api_id, json.dumps(document, separators=(",", ":"))))

    def delete_rest_api(self, api_id: str) -> None:
        self._write("DELETE FROM rest_apis WHERE id = ?", (api_id,))

    # stacks: one JSON document each ----------------------------------------------------------
    def load_stacks(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute("SELECT data FROM stacks ORDER BY name").fetchall()
        return [json.loads(data) for (data,) in rows]

    def put_stack(self, name: str, document: dict[str, Any]) -> None:
        self._write("INSERT OR REPLACE INTO stacks (name, data) VALUES (?, ?)",
                    (name, json.dumps(document, separators=(",", ":"))))

    def delete_stack(self, name: str) -> None:
        self._write("DELETE FROM stacks WHERE name = ?", (name,))

    # saved test events (the console's): function -> event name -> JSON text -------------------
    def put_test_event(self, function: str, name: str, body: str) -> None:
        self._write("INSERT OR REPLACE INTO test_events (function, name, body) VALUES (?, ?, ?)",
                    (function, name, body))

    def test_events(self, function: str) -> dict[str, str]:
        with self._lock:
            rows = self._conn.execute("SELECT name, body FROM test_events WHERE function = ? ORDER BY name",
                                      (function,)).fetchall()
        return dict(rows)

    def delete_test_events(self, function: str) -> None:
        self._write("DELETE FROM test_events WHERE function = ?", (function,))

    # records and logs (written in batches by the recorder) ---------------------------------
    def append(self, records: Iterable[InvocationRecord], events: Iterable[LogEvent]) -> None:
        with self._lock:
            self._conn.execute("BEGIN")
            self._conn.executemany("INSERT OR REPLACE INTO invocations VALUES (?,?,?,?,?,?,?,?,?,?,?)", records)
            self._conn.executemany("INSERT INTO logs (function, ts_ms, request_id, text) VALUES (?,?,?,?)", events)
            self._conn.execute("COMMIT")

    def query_logs(self, function: str, since_ms: int | None, after_id: int | None,
                   limit: int) -> list[StoredLogEvent]:
        """Log lines in order; lines of one invocation share its row id (the `after` cursor)."""
        sql = "SELECT id, ts_ms, request_id, text FROM logs WHERE function = ?"
        params: list[Any] = [function]
        if after_id is not None:
            sql += " AND id > ?"
            params.append(after_id)
        if since_ms is not None:
            sql += " AND ts_ms >= ?"
            params.append(since_ms)
        sql += " ORDER BY id LIMIT ?"
        params.append(limit)
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [StoredLogEvent(row_id, ts, request_id, line)
                for row_id, ts, request_id, text in rows for line in text.splitlines()]

    def recent_invocations(self, function: str, limit: int) -> list[InvocationRecord]:
        """The newest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT * FROM invocations WHERE function = ? ORDER BY started_ms DESC LIMIT ?",
                (function, limit)).fetchall()
        return [InvocationRecord(*row) for row in rows]
