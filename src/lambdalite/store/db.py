"""The only module that touches SQLite (with `schema.py`, its tables and their migrations).

One database file (`<home>/lambdalite.db`, WAL mode) holds function versions, policies, API Gateway
REST APIs and stacks (a JSON document each: the services own their shape, the store knows no
rules), saved test events, invocation records and log events; code archives live beside it as
content-addressed blob files (`blobs.py`). Opening a store brings its schema forward (`schema.py`)
or refuses a store written by a newer Lambdalite. A
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from . import schema

DATABASE_NAME = "lambdalite.db"
USAGE_TABLES = ("api_keys", "usage_plans")   # API Gateway's account-wide objects, one document each


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
    outcome: str          # "ok" | "error" (a function error) | "timeout" | "out_of_memory" | "throttled"
    error_type: str | None    # the function error's type, or the throttle's reason
    qualifier: str | None = None            # an alias or a version, as invoked (None: unqualified)
    invocation_type: str = "RequestResponse"   # or "Event"
    cold: bool = False                      # it ran on a new instance (init or restore)
    restore_ms: float | None = None
    cost: float = 0.0                       # dollars, as AWS would bill it
    arch: str = "x86_64"


RECORD_COLUMNS = ", ".join(InvocationRecord._fields)
MINUTE_MS = 60_000


def per_minute(records: Iterable[InvocationRecord]) -> list[tuple[str, int, int, int]]:
    """(function, minute, invocations, errors) of records, a row per function and minute they started
    in (minute: started_ms // 60000); an error is an outcome other than ok and throttled."""
    counts: dict[tuple[str, int], list[int]] = {}
    for r in records:
        sums = counts.setdefault((r.function, r.started_ms // MINUTE_MS), [0, 0])
        sums[0] += 1
        sums[1] += r.outcome not in ("ok", "throttled")
    return [(function, minute, n, failed) for (function, minute), (n, failed) in counts.items()]


class CostRow(NamedTuple):
    """One invocation's share of a day's cost (the recorder sums them per day and version)."""

    day: str
    function: str
    version: str
    arch: str
    requests: int
    gb_seconds: float
    dollars: float


class LogEvent(NamedTuple):
    """One invocation's log text; stored as one row (a tuple: cheap to make on the invoke path)."""

    function: str
    ts_ms: int
    request_id: str
    text: str
    stream: str = ""


@dataclass(frozen=True)
class StoredLogEvent:
    id: int
    ts_ms: int
    request_id: str
    message: str


P99_SAMPLE = 5000   # the console's p99 column: over a function's latest calls, this many at most


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        version = schema.stored_version(path)
        schema.check_version(path, version)
        self._conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self.schema_version = schema.migrate(self._conn, version)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _write(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._lock:
            self._conn.execute(sql, params)

    # execution roles and the numbers of instance users and groups --------------------------------
    def load_roles(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute("SELECT arn, data FROM roles").fetchall()
        return {arn: json.loads(data) for arn, data in rows}

    def put_role(self, arn: str, document: dict[str, Any]) -> None:
        self._write("INSERT OR REPLACE INTO roles (arn, data) VALUES (?, ?)", (arn, json.dumps(document)))

    def delete_role(self, arn: str) -> None:
        self._write("DELETE FROM roles WHERE arn = ?", (arn,))

    def principal_number(self, kind: str, name: str) -> int:
        """The number of (kind, name), allocated once (the next of its kind) and kept."""
        with self._lock:
            row = self._conn.execute("SELECT number FROM principals WHERE kind = ? AND name = ?",
                                     (kind, name)).fetchone()
            if row is not None:
                return int(row[0])
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                (number,) = self._conn.execute("SELECT COALESCE(MAX(number) + 1, 0) FROM principals WHERE kind = ?",
                                               (kind,)).fetchone()
                self._conn.execute("INSERT INTO principals (kind, name, number) VALUES (?, ?, ?)", (kind, name, number))
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return int(number)

    # function versions and policies: a JSON document each ---------------------------------
    def load_functions(self) -> list[dict[str, Any]]:
        """Every stored function version's document, by name then version."""
        with self._lock:
            rows = self._conn.execute("SELECT data FROM function_versions ORDER BY name, version").fetchall()
        return [json.loads(data) for (data,) in rows]

    def put_function(self, name: str, version: str, document: dict[str, Any]) -> None:
        self._write("INSERT OR REPLACE INTO function_versions (name, version, data) VALUES (?, ?, ?)",
                    (name, version, json.dumps(document, separators=(",", ":"))))

    def _transaction(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Several writes, all or none."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                for sql, params in statements:
                    self._conn.execute(sql, params)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def delete_function(self, name: str) -> None:
        """The function, every version and alias of it, its policies (its own, its versions' and
        aliases'), saved test events, reserved and provisioned concurrency, its budget: one transaction.
        Its records, logs and cost history stay (as CloudWatch keeps a deleted function's logs)."""
        self._transaction([
            *((f"DELETE FROM {table} WHERE name = ?", (name,)) for table in (
                "function_versions", "policies", "reserved_concurrency", "init_modules", "aliases",
                "provisioned_concurrency")),
            ("DELETE FROM test_events WHERE function = ?", (name,)),
            ("DELETE FROM event_invoke_configs WHERE name = ?", (name,)),
            ("DELETE FROM budgets WHERE scope = ?", (name,)),
            ("DELETE FROM policies WHERE name LIKE ? ESCAPE '\\'", (_like_prefix(name + ":"),)),
        ])

    def delete_function_version(self, name: str, version: str) -> None:
        """One published version, its policy, its provisioned concurrency and what its inits imported."""
        self._transaction([
            ("DELETE FROM function_versions WHERE name = ? AND version = ?", (name, version)),
            ("DELETE FROM init_modules WHERE name = ? AND version = ?", (name, version)),
            ("DELETE FROM policies WHERE name = ?", (f"{name}:{version}",)),
            ("DELETE FROM provisioned_concurrency WHERE name = ? AND qualifier = ?", (name, version)),
            ("DELETE FROM event_invoke_configs WHERE name = ? AND qualifier = ?", (name, version)),
        ])

    # asynchronous invocations ----------------------------------------------------------------
    def add_event(self, request_id: str, function: str, qualifier: str | None, payload: bytes,
                  enqueued: float) -> int:
        """Keep an accepted event (committed before Invoke answers 202); its id (arrival order)."""
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO async_events (request_id, function, qualifier, payload, attempts, enqueued) "
                "VALUES (?, ?, ?, ?, 0, ?)", (request_id, function, qualifier, payload, enqueued))
        return int(cursor.lastrowid or 0)

    def load_events(self) -> list[tuple[int, str, str, str | None, int, float]]:
        """The events not finished, without their payloads (`event_payload` reads one)."""
        with self._lock:
            rows = self._conn.execute("SELECT id, request_id, function, qualifier, attempts, enqueued "
                                      "FROM async_events ORDER BY id").fetchall()
        return [(int(i), r, f, q, int(a), float(e)) for i, r, f, q, a, e in rows]

    def event_payload(self, event_id: int) -> bytes:
        with self._lock:
            row = self._conn.execute("SELECT payload FROM async_events WHERE id = ?", (event_id,)).fetchone()
        return bytes(row[0]) if row else b""

    def event_attempted(self, event_id: int, attempts: int) -> None:
        self._write("UPDATE async_events SET attempts = ? WHERE id = ?", (attempts, event_id))

    def delete_event(self, event_id: int) -> None:
        self._write("DELETE FROM async_events WHERE id = ?", (event_id,))

    def load_event_configs(self) -> list[tuple[str, str, dict[str, Any]]]:
        with self._lock:
            rows = self._conn.execute("SELECT name, qualifier, data FROM event_invoke_configs").fetchall()
        return [(name, qualifier, json.loads(data)) for name, qualifier, data in rows]

    def put_event_config(self, name: str, qualifier: str, document: dict[str, Any]) -> None:
        self._write("INSERT OR REPLACE INTO event_invoke_configs (name, qualifier, data) VALUES (?, ?, ?)",
                    (name, qualifier, json.dumps(document, separators=(",", ":"))))

    def delete_event_config(self, name: str, qualifier: str) -> None:
        self._write("DELETE FROM event_invoke_configs WHERE name = ? AND qualifier = ?", (name, qualifier))

    def add_dead_letter(self, function: str, destination: str, record: dict[str, Any], created: float) -> None:
        self._write("INSERT INTO dead_letters (function, destination, record, created) VALUES (?, ?, ?, ?)",
                    (function, destination, json.dumps(record, separators=(",", ":")), created))

    def delete_dead_letter(self, record_id: int) -> None:
        self._write("DELETE FROM dead_letters WHERE id = ?", (record_id,))

    def dead_letters(self, function: str, limit: int) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute("SELECT id, destination, record, created FROM dead_letters WHERE function = ? "
                                      "ORDER BY id DESC LIMIT ?", (function, limit)).fetchall()
        return [{"id": i, "destination": d, "record": json.loads(r), "created": c} for i, d, r, c in rows]

    def load_provisioned(self) -> list[tuple[str, str, dict[str, Any]]]:
        with self._lock:
            rows = self._conn.execute("SELECT name, qualifier, data FROM provisioned_concurrency").fetchall()
        return [(name, qualifier, json.loads(data)) for name, qualifier, data in rows]

    def put_provisioned(self, name: str, qualifier: str, document: dict[str, Any]) -> None:
        self._write("INSERT OR REPLACE INTO provisioned_concurrency (name, qualifier, data) VALUES (?, ?, ?)",
                    (name, qualifier, json.dumps(document, separators=(",", ":"))))

    def delete_provisioned(self, name: str, qualifier: str) -> None:
        self._write("DELETE FROM provisioned_concurrency WHERE name = ? AND qualifier = ?", (name, qualifier))

    def load_aliases(self) -> list[tuple[str, str, dict[str, Any]]]:
        with self._lock:
            rows = self._conn.execute("SELECT name, alias, data FROM aliases ORDER BY name, alias").fetchall()
        return [(name, alias, json.loads(data)) for name, alias, data in rows]

    def put_alias(self, name: str, alias: str, document: dict[str, Any]) -> None:
        self._write("INSERT OR REPLACE INTO aliases (name, alias, data) VALUES (?, ?, ?)",
                    (name, alias, json.dumps(document, separators=(",", ":"))))

    def delete_alias(self, name: str, alias: str) -> None:
        """An alias, its policy and its provisioned concurrency."""
        self._transaction([
            ("DELETE FROM aliases WHERE name = ? AND alias = ?", (name, alias)),
            ("DELETE FROM policies WHERE name = ?", (f"{name}:{alias}",)),
            ("DELETE FROM provisioned_concurrency WHERE name = ? AND qualifier = ?", (name, alias)),
            ("DELETE FROM event_invoke_configs WHERE name = ? AND qualifier = ?", (name, alias)),
        ])

    def load_init_modules(self) -> dict[tuple[str, str], list[str]]:
        """(name, version) -> the modules its inits imported from outside its code."""
        with self._lock:
            rows = self._conn.execute("SELECT name, version, modules FROM init_modules").fetchall()
        return {(name, version): json.loads(modules) for name, version, modules in rows}

    def put_init_modules(self, name: str, version: str, modules: list[str]) -> None:
        self._write("INSERT OR REPLACE INTO init_modules (name, version, modules) VALUES (?, ?, ?)",
                    (name, version, json.dumps(modules)))

    def load_reserved_concurrency(self) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute("SELECT name, reserved FROM reserved_concurrency").fetchall()
        return {name: int(reserved) for name, reserved in rows}

    def put_reserved_concurrency(self, name: str, reserved: int) -> None:
        self._write("INSERT OR REPLACE INTO reserved_concurrency (name, reserved) VALUES (?, ?)", (name, reserved))

    def delete_reserved_concurrency(self, name: str) -> None:
        self._write("DELETE FROM reserved_concurrency WHERE name = ?", (name,))

    def load_policies(self) -> dict[str, dict[str, Any]]:
        """function name -> its policy document."""
        with self._lock:
            rows = self._conn.execute("SELECT name, data FROM policies ORDER BY name").fetchall()
        return {name: json.loads(data) for name, data in rows}

    def put_policy(self, name: str, document: dict[str, Any]) -> None:
        self._write("INSERT OR REPLACE INTO policies (name, data) VALUES (?, ?)", (name, json.dumps(document)))

    # dependency locks: a requirements text resolved once ------------------------------------
    def lock(self, key: str) -> str | None:
        with self._lock:
            row = self._conn.execute("SELECT lock FROM locks WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def put_lock(self, key: str, lock: str) -> None:
        self._write("INSERT OR REPLACE INTO locks (key, lock) VALUES (?, ?)", (key, lock))

    # Lambda layers: one JSON document per version ----------------------------------------------
    def load_layer_versions(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute("SELECT data FROM layer_versions ORDER BY name, version").fetchall()
        return [json.loads(data) for (data,) in rows]

    def last_layer_versions(self) -> dict[str, int]:
        with self._lock:
            return dict(self._conn.execute("SELECT name, last_version FROM layer_names").fetchall())

    def put_layer_version(self, name: str, version: int, document: dict[str, Any]) -> None:
        """A new version and the name's counter, in one transaction."""
        with self._lock:
            self._conn.execute("BEGIN")
            self._conn.execute("INSERT INTO layer_versions (name, version, data) VALUES (?, ?, ?)",
                               (name, version, json.dumps(document)))
            self._conn.execute("INSERT OR REPLACE INTO layer_names (name, last_version) VALUES (?, ?)", (name, version))
            self._conn.execute("COMMIT")

    def delete_layer_version(self, name: str, version: int) -> None:
        self._write("DELETE FROM layer_versions WHERE name = ? AND version = ?", (name, version))

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

    # API Gateway API keys and usage plans: one JSON document each -------------------------
    def load_usage_objects(self, table: str) -> list[dict[str, Any]]:
        """Every stored API key (`table` "api_keys") or usage plan ("usage_plans")."""
        assert table in USAGE_TABLES
        with self._lock:
            rows = self._conn.execute(f"SELECT data FROM {table} ORDER BY id").fetchall()
        return [json.loads(data) for (data,) in rows]

    def put_usage_object(self, table: str, object_id: str, document: dict[str, Any]) -> None:
        assert table in USAGE_TABLES
        self._write(f"INSERT OR REPLACE INTO {table} (id, data) VALUES (?, ?)", (object_id, json.dumps(document)))

    def delete_usage_object(self, table: str, object_id: str) -> None:
        assert table in USAGE_TABLES
        self._write(f"DELETE FROM {table} WHERE id = ?", (object_id,))

    # stacks: one JSON document each ----------------------------------------------------------
    def load_http_apis(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute("SELECT data FROM http_apis ORDER BY id").fetchall()
        return [json.loads(data) for (data,) in rows]

    def put_http_api(self, api_id: str, document: dict[str, Any]) -> None:
        self._write("INSERT OR REPLACE INTO http_apis (id, data) VALUES (?, ?)", (api_id, json.dumps(document)))

    def delete_http_api(self, api_id: str) -> None:
        self._write("DELETE FROM http_apis WHERE id = ?", (api_id,))

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

    # records and logs (written in batches by the recorder) ---------------------------------
    def append(self, records: Iterable[InvocationRecord], events: Iterable[LogEvent],
               costs: Iterable[CostRow] = ()) -> None:
        marks = ",".join("?" * len(InvocationRecord._fields))
        records = list(records)
        with self._lock:
            self._conn.execute("BEGIN")
            self._conn.executemany(f"INSERT OR REPLACE INTO invocations ({RECORD_COLUMNS}) VALUES ({marks})",
                                   records)
            self._conn.executemany(
                "INSERT INTO minutes VALUES (?,?,?,?) ON CONFLICT (function, minute) DO UPDATE SET "
                "invocations = invocations + excluded.invocations, errors = errors + excluded.errors",
                per_minute(records))
            self._conn.executemany("INSERT INTO logs (function, ts_ms, request_id, text, stream) VALUES (?,?,?,?,?)",
                                   events)
            self._conn.executemany(
                "INSERT INTO costs VALUES (?,?,?,?,?,?,?) ON CONFLICT (day, function, version, arch) DO UPDATE SET "
                "requests = requests + excluded.requests, gb_seconds = gb_seconds + excluded.gb_seconds, "
                "dollars = dollars + excluded.dollars", costs)
            self._conn.execute("COMMIT")

    def expire(self, before_ms: int, max_records: int, max_log_rows: int) -> tuple[int, int]:
        """Records and log rows older than `before_ms` deleted, then the oldest past the caps;
        returns how many of each went. Cost per day stays."""
        with self._lock:
            gone = self._conn.execute("DELETE FROM invocations WHERE started_ms < ?", (before_ms,)).rowcount
            gone += self._conn.execute(
                "DELETE FROM invocations WHERE started_ms <= (SELECT started_ms FROM invocations "
                "ORDER BY started_ms DESC LIMIT 1 OFFSET ?)", (max_records,)).rowcount
            self._conn.execute("DELETE FROM minutes WHERE minute < ?", (before_ms // MINUTE_MS,))
            lines = self._conn.execute("DELETE FROM logs WHERE ts_ms < ?", (before_ms,)).rowcount
            lines += self._conn.execute(
                "DELETE FROM logs WHERE id <= (SELECT id FROM logs ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (max_log_rows,)).rowcount
        return int(gone), int(lines)

    # cost and budgets -----------------------------------------------------------------------------
    def costs(self, first_day: str, last_day: str) -> list[CostRow]:
        """The days' cost rows, from `first_day` to `last_day` (YYYY-MM-DD, both included)."""
        with self._lock:
            rows = self._conn.execute("SELECT * FROM costs WHERE day >= ? AND day <= ? ORDER BY day, function, "
                                      "version", (first_day, last_day)).fetchall()
        return [CostRow(*row) for row in rows]

    def load_budgets(self) -> dict[str, float]:
        with self._lock:
            return dict(self._conn.execute("SELECT scope, dollars FROM budgets").fetchall())

    def put_budget(self, scope: str, dollars: float | None) -> None:
        """A month's budget for the server ("") or a function; None removes it."""
        if dollars is None:
            self._write("DELETE FROM budgets WHERE scope = ?", (scope,))
        else:
            self._write("INSERT OR REPLACE INTO budgets VALUES (?, ?)", (scope, dollars))

    # CloudWatch metrics: the records in a window ----------------------------------------------
    def minute_rows(self, function: str, since_ms: int, limit: int) -> list[tuple[int, float, str, float]]:
        """(started ms, duration ms, outcome, billed GB-seconds) of a function's latest `limit` records since
        a time, newest first (the console's charts: a busy function is drawn from its latest calls)."""
        with self._lock:
            return self._conn.execute(
                "SELECT started_ms, duration_ms, outcome, billed_ms * memory_mb / 1024000.0 FROM invocations "
                "WHERE function = ? AND started_ms >= ? ORDER BY started_ms DESC LIMIT ?",
                (function, since_ms, limit)).fetchall()

    def records_between(self, start_ms: int, end_ms: int, columns: str, function: str | None = None,
                        qualifier: str | None = None, version: str | None = None) -> list[tuple[Any, ...]]:
        """`columns` of the records started in [start_ms, end_ms), of a function (as invoked through
        `qualifier`, or run as `version`) or of all."""
        sql = f"SELECT {columns} FROM invocations WHERE started_ms >= ? AND started_ms < ?"
        params: list[Any] = [start_ms, end_ms]
        for column, value in (("function", function), ("qualifier", qualifier), ("version", version)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def function_stats(self, function: str, since_ms: int) -> tuple[int, int, float | None]:
        """(invocations, errors, p99 duration ms) of a function's records since a time. The counts are
        of whole minutes (the one `since_ms` falls in excluded), from the per-minute counts kept as
        records are written: 60 rows for an hour however busy the function was. The p99 is of the
        latest P99_SAMPLE records of those minutes."""
        first = since_ms // MINUTE_MS + 1
        with self._lock:
            count, failed = self._conn.execute(
                "SELECT COALESCE(SUM(invocations), 0), COALESCE(SUM(errors), 0) FROM minutes "
                "WHERE function = ? AND minute >= ?", (function, first)).fetchone()
            if not count:
                return 0, 0, None
            durations = sorted(d for (d,) in self._conn.execute(
                "SELECT duration_ms FROM invocations WHERE function = ? AND started_ms >= ? "
                "ORDER BY started_ms DESC LIMIT ?", (function, first * MINUTE_MS, P99_SAMPLE)))
        p99 = float(durations[-(-99 * len(durations) // 100) - 1]) if durations else None
        return int(count), int(failed), p99

    # the CloudWatch Logs API's reads ------------------------------------------------------------
    def log_groups(self) -> list[tuple[str, int, int]]:
        """(function, first event ms, stored bytes) of each function with log rows."""
        with self._lock:
            rows = self._conn.execute("SELECT function, MIN(ts_ms), SUM(LENGTH(text)) FROM logs GROUP BY function "
                                      "ORDER BY function").fetchall()
        return [(f, int(t), int(b or 0)) for f, t, b in rows]

    def has_logs(self, function: str, stream: str | None = None) -> bool:
        """Whether a function (or one stream of it) has log rows."""
        sql = "SELECT 1 FROM logs WHERE function = ?" + (" AND stream = ?" if stream is not None else "") + " LIMIT 1"
        with self._lock:
            row = self._conn.execute(sql, (function,) if stream is None else (function, stream)).fetchone()
        return row is not None

    def log_streams(self, function: str) -> list[tuple[str, int, int, int]]:
        """(stream, first event ms, last event ms, stored bytes) of a function's streams."""
        with self._lock:
            rows = self._conn.execute("SELECT stream, MIN(ts_ms), MAX(ts_ms), SUM(LENGTH(text)) FROM logs "
                                      "WHERE function = ? GROUP BY stream", (function,)).fetchall()
        return [(s, int(a), int(b), int(c or 0)) for s, a, b, c in rows]

    def log_rows(self, function: str, streams: list[str] | None, start_ms: int | None,
                 end_ms: int | None, stream_prefix: str | None = None,
                 containing: Sequence[str] = ()) -> list[tuple[int, int, str, str]]:
        """(row id, ms, stream, text) of a function's invocations in a window, oldest first: of some
        streams (or those named with a prefix), with text containing every one of `containing`. A
        window with a start is read through the time index (a recent window of millions of lines)."""
        time_index = start_ms is not None or end_ms is not None
        sql = ("SELECT id, ts_ms, stream, text FROM logs INDEXED BY logs_by_time WHERE function = ?" if time_index
               else "SELECT id, ts_ms, stream, text FROM logs WHERE function = ?")
        params: list[Any] = [function]
        if streams is not None:
            sql += f" AND stream IN ({','.join('?' * len(streams))})"
            params += streams
        if stream_prefix:
            sql += " AND substr(stream, 1, ?) = ?"
            params += [len(stream_prefix), stream_prefix]
        for term in containing:
            sql += " AND instr(text, ?) > 0"
            params.append(term)
        if start_ms is not None:
            sql += " AND ts_ms >= ?"
            params.append(start_ms)
        if end_ms is not None:
            sql += " AND ts_ms < ?"
            params.append(end_ms)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY id", params).fetchall()
        return [(int(i), int(t), str(st), str(x)) for i, t, st, x in rows]

    def delete_logs(self, function: str) -> int:
        with self._lock:
            cursor = self._conn.execute("DELETE FROM logs WHERE function = ?", (function,))
        return int(cursor.rowcount)

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
                f"SELECT {RECORD_COLUMNS} FROM invocations WHERE function = ? ORDER BY started_ms DESC LIMIT ?",
                (function, limit)).fetchall()
        return [InvocationRecord(*row) for row in rows]


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern matching strings that start with `prefix` (escape character: backslash)."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
