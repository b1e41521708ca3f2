"""The store's schema and its forward migrations, run when the server opens a home.

The schema version lives in SQLite's `PRAGMA user_version`. Version 1 is the schema of the first
landed Lambdalite, which set no version: a home whose database has tables but `user_version` 0 is
version 1. A new home is made as version 1 and brought forward by the same migrations an old one
runs, so every migration runs on every fresh home too. Each migration is a function of its own,
run in its own transaction with the version bump: a crash mid-way leaves the previous version
whole. A home written by a newer Lambdalite (a version this code does not know) is refused before
anything is written to it.

Adding a migration: write `_to_N(conn)`, append it to MIGRATIONS; never edit a released one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from ..errors import HomeUnusable

# The schema of version 1, exactly as the first release created it.
SCHEMA_V1 = """
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


def _to_2(conn: sqlite3.Connection) -> None:
    """Functions keyed by (name, version): `$LATEST` and, later, published versions side by side."""
    conn.execute("""CREATE TABLE function_versions (
        name TEXT NOT NULL,
        version TEXT NOT NULL,      -- "$LATEST", or "1", "2", ... once versions are published
        data TEXT NOT NULL,         -- the version's configuration and state (functions.model)
        PRIMARY KEY (name, version)
    )""")
    conn.execute("INSERT INTO function_versions (name, version, data) SELECT name, '$LATEST', data FROM functions")
    conn.execute("DROP TABLE functions")


def _to_3(conn: sqlite3.Connection) -> None:
    """Dependencies: requirements resolved once (a requirements text for a Python X.Y and platform ->
    its exact pins), and Lambda layers (versions per name, never reused)."""
    conn.execute("""CREATE TABLE locks (
        key TEXT PRIMARY KEY,       -- hash of (requirements text, python X.Y, platform)
        lock TEXT NOT NULL          -- the exact pins, one per line, as uv resolved them
    )""")
    conn.execute("""CREATE TABLE layer_versions (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        data TEXT NOT NULL,         -- the layer version (functions.layers): content hash, runtimes, ...
        PRIMARY KEY (name, version)
    )""")
    conn.execute("""CREATE TABLE layer_names (
        name TEXT PRIMARY KEY,
        last_version INTEGER NOT NULL   -- versions are never reused, even after a delete
    )""")


def _to_4(conn: sqlite3.Connection) -> None:
    """Reserved concurrency: one value per function (not per version), gone with the function."""
    conn.execute("""CREATE TABLE reserved_concurrency (
        name TEXT PRIMARY KEY,
        reserved INTEGER NOT NULL   -- ReservedConcurrentExecutions; 0 throttles every invocation
    )""")


def _to_5(conn: sqlite3.Connection) -> None:
    """What each function version's init imported from outside its code folder: the zygote that
    forks its instances imports them ahead of time, after a restart too."""
    conn.execute("""CREATE TABLE init_modules (
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        modules TEXT NOT NULL,      -- a JSON list of module names, in the order init imported them
        PRIMARY KEY (name, version)
    )""")


def _to_6(conn: sqlite3.Connection) -> None:
    """Aliases of published versions (a version's own rows are function_versions'), and provisioned
    concurrency on versions and aliases."""
    conn.execute("""CREATE TABLE aliases (
        name TEXT NOT NULL,
        alias TEXT NOT NULL,
        data TEXT NOT NULL,         -- the alias (functions.aliases): version, weights, description, revision
        PRIMARY KEY (name, alias)
    )""")
    conn.execute("""CREATE TABLE provisioned_concurrency (
        name TEXT NOT NULL,
        qualifier TEXT NOT NULL,    -- a version number or an alias name
        data TEXT NOT NULL,         -- the config (functions.provisioned): requested, status, ...
        PRIMARY KEY (name, qualifier)
    )""")


def _to_7(conn: sqlite3.Connection) -> None:
    """Asynchronous invocations: each accepted event until it has run (or failed for good), the
    functions' event invoke configs, and the records of destinations that have no service here."""
    conn.execute("""CREATE TABLE async_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,   -- arrival order
        request_id TEXT NOT NULL,
        function TEXT NOT NULL,
        qualifier TEXT,             -- as invoked (None: unqualified)
        payload BLOB NOT NULL,
        attempts INTEGER NOT NULL,  -- invocations that ended with a function error so far
        enqueued REAL NOT NULL      -- wall-clock seconds when it was accepted (its age)
    )""")
    conn.execute("""CREATE TABLE event_invoke_configs (
        name TEXT NOT NULL,
        qualifier TEXT NOT NULL,    -- "$LATEST", a version or an alias
        data TEXT NOT NULL,         -- MaximumRetryAttempts, MaximumEventAgeInSeconds, DestinationConfig, ...
        PRIMARY KEY (name, qualifier)
    )""")
    conn.execute("""CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        function TEXT NOT NULL,
        destination TEXT NOT NULL,  -- the ARN the record was for (a queue, a topic, a bus, ...)
        record TEXT NOT NULL,       -- AWS's destination record (JSON)
        created REAL NOT NULL
    )""")


def _to_8(conn: sqlite3.Connection) -> None:
    """Log streams: each invocation's lines name the stream they went to (CloudWatch Logs API)."""
    conn.execute("ALTER TABLE logs ADD COLUMN stream TEXT NOT NULL DEFAULT ''")
    conn.execute("CREATE INDEX logs_by_stream ON logs (function, stream, id)")


def _to_9(conn: sqlite3.Connection) -> None:
    """Observability: complete invocation records (as invoked, cold or warm, what it cost), indexes for
    time windows (retention, CloudWatch metrics, FilterLogEvents over a recent window), each day's
    cost per function version (kept after the records expire), and monthly budgets."""
    for column in ("qualifier TEXT",                                  # an alias or a version, as invoked
                   "invocation_type TEXT NOT NULL DEFAULT 'RequestResponse'",   # or Event
                   "cold INTEGER NOT NULL DEFAULT 0",                  # 1: it ran on a new instance
                   "restore_ms REAL",                                  # restored from a snapshot
                   "cost REAL NOT NULL DEFAULT 0",                     # dollars, as AWS would bill it
                   "arch TEXT NOT NULL DEFAULT 'x86_64'"):
        conn.execute(f"ALTER TABLE invocations ADD COLUMN {column}")
    conn.execute("CREATE INDEX invocations_by_time ON invocations (started_ms)")
    conn.execute("CREATE INDEX logs_by_time ON logs (function, ts_ms)")
    conn.execute("""CREATE TABLE costs (
        day TEXT NOT NULL,          -- YYYY-MM-DD (UTC, on the server clock)
        function TEXT NOT NULL,
        version TEXT NOT NULL,
        arch TEXT NOT NULL,
        requests INTEGER NOT NULL,
        gb_seconds REAL NOT NULL,
        dollars REAL NOT NULL,
        PRIMARY KEY (day, function, version, arch)
    )""")
    conn.execute("""CREATE TABLE budgets (
        scope TEXT PRIMARY KEY,     -- "" for the whole server, else a function name
        dollars REAL NOT NULL       -- a month's budget (UTC months)
    )""")


def _to_10(conn: sqlite3.Connection) -> None:
    """HTTP APIs (API Gateway v2): one document each, as REST APIs have."""
    conn.execute("""CREATE TABLE http_apis (
        id TEXT PRIMARY KEY,
        data TEXT NOT NULL          -- the API, its routes, integrations and stages (gateway.control.http_apis)
    )""")


def _to_11(conn: sqlite3.Connection) -> None:
    """The walls (docs/security.md): the policies of execution roles that stacks define, and the
    numbers of the users and groups instances run as."""
    conn.execute("""CREATE TABLE roles (
        arn TEXT PRIMARY KEY,
        data TEXT NOT NULL          -- {"statements": [...], "managed": [ARN, ...], "stack": name}
    )""")
    conn.execute("""CREATE TABLE principals (
        kind TEXT NOT NULL,         -- 'function' (a user) or 'folder' (a group: code, layer, environment)
        name TEXT NOT NULL,
        number INTEGER NOT NULL,    -- 0, 1, 2, ... per kind, never reused
        PRIMARY KEY (kind, name)
    )""")


def _to_12(conn: sqlite3.Connection) -> None:
    """API Gateway's API keys and usage plans: account-wide objects, one document each."""
    conn.execute("""CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        data TEXT NOT NULL          -- an ApiKey in its wire shape, value included
    )""")
    conn.execute("""CREATE TABLE usage_plans (
        id TEXT PRIMARY KEY,
        data TEXT NOT NULL          -- a UsagePlan in its wire shape, plus "keys": the ids of its API keys
    )""")


def _to_13(conn: sqlite3.Connection) -> None:
    """The console's list counts a function's last hour (calls, errors) from the index alone."""
    conn.execute("CREATE INDEX invocations_outcomes ON invocations (function, started_ms, outcome)")
    conn.execute("DROP INDEX IF EXISTS invocations_by_function")   # the new one serves its queries too


def _to_14(conn: sqlite3.Connection) -> None:
    """Each function's records counted per minute as they are written, so that a last hour's calls and
    errors are 60 rows at most (counting a busy function's records from the index took ~100 ms per
    500,000). Filled from the records of the last day already stored."""
    conn.execute("""CREATE TABLE minutes (
        function TEXT NOT NULL,
        minute INTEGER NOT NULL,    -- started_ms // 60000
        invocations INTEGER NOT NULL,
        errors INTEGER NOT NULL,    -- outcome other than ok and throttled
        PRIMARY KEY (function, minute)
    ) WITHOUT ROWID""")
    conn.execute("INSERT INTO minutes SELECT function, started_ms / 60000, COUNT(*), "
                 "SUM(outcome NOT IN ('ok', 'throttled')) FROM invocations "
                 "WHERE started_ms >= (SELECT MAX(started_ms) FROM invocations) - 86400000 GROUP BY 1, 2")


# MIGRATIONS[i] makes version i + 2
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_to_2, _to_3, _to_4, _to_5, _to_6, _to_7, _to_8, _to_9,
                                                          _to_10, _to_11, _to_12, _to_13, _to_14]
LATEST = len(MIGRATIONS) + 1


def stored_version(path: Path) -> int:
    """The schema version of the database at `path` (0: no database yet), read without writing."""
    if not path.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as e:
        raise HomeUnusable(f"{path} cannot be opened as a Lambdalite store: {e}") from None
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version == 0:
            tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            version = 1 if tables else 0
    except sqlite3.DatabaseError as e:
        raise HomeUnusable(f"{path} is not a Lambdalite store (SQLite says: {e}); "
                           "start the server with another --home") from None
    finally:
        conn.close()
    return version


def check_version(path: Path, version: int) -> None:
    """Refuse a store written by a newer Lambdalite: opening it could corrupt what this code cannot read."""
    if version > LATEST:
        raise HomeUnusable(
            f"{path} was written by a newer Lambdalite (store schema version {version}; this version of "
            f"Lambdalite knows versions up to {LATEST}). Upgrade Lambdalite to use this home, or start "
            "the server with another --home.")


def migrate(conn: sqlite3.Connection, version: int) -> int:
    """Bring the store from `version` to LATEST, one transaction per step; returns LATEST."""
    if version == 0:
        conn.execute("BEGIN IMMEDIATE")
        for statement in _statements(SCHEMA_V1):
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        conn.execute("COMMIT")
        version = 1
    while version < LATEST:
        step = MIGRATIONS[version - 1]
        conn.execute("BEGIN IMMEDIATE")
        try:
            step(conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        version += 1
    return version


def _statements(script: str) -> list[str]:
    """The statements of a script of CREATE statements (comments dropped), for one transaction."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
