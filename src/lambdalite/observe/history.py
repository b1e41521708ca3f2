"""Reading back what the recorder wrote: a function's log lines and its invocation records.

The read side of `recorder.py`, for Lambdalite's own endpoints (`lambdalite logs`, the invocation
records) and later the CloudWatch Logs API; it asks the store, never the request path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..store import CostRow, Database, InvocationRecord, StoredLogEvent


class History:
    def __init__(self, db: Database, sync: Callable[[], None] | None = None) -> None:
        self._db = db
        self._sync = sync

    async def caught_up(self) -> None:
        """Wait until the recorder has written what finished before now (read-your-writes for APIs
        such as CloudWatch's, whose callers read right after they invoked)."""
        if self._sync is not None:
            await asyncio.to_thread(self._sync)

    def logs(self, function: str, since_ms: int | None, after_id: int | None, limit: int) -> list[StoredLogEvent]:
        """Log lines in order; the lines of one invocation share its id (the `after` cursor)."""
        return self._db.query_logs(function, since_ms, after_id, limit)

    def invocations(self, function: str, limit: int) -> list[InvocationRecord]:
        """The newest first."""
        return self._db.recent_invocations(function, limit)

    def dead_letters(self, function: str, limit: int) -> list[dict[str, Any]]:
        """Async outcomes kept for destinations that have no service here, the newest first."""
        return self._db.dead_letters(function, limit)

    # the CloudWatch Logs API's reads (apis/logs.py) ---------------------------------------------
    def log_groups(self) -> list[tuple[str, int, int]]:
        """(function, first event ms, stored bytes) of each function with log lines."""
        return self._db.log_groups()

    def has_logs(self, key: str, stream: str | None = None) -> bool:
        return self._db.has_logs(key, stream)

    def log_streams(self, function: str) -> list[tuple[str, int, int, int]]:
        """(stream, first ms, last ms, stored bytes) of a function's streams."""
        return self._db.log_streams(function)

    def log_rows(self, function: str, streams: list[str] | None, start_ms: int | None,
                 end_ms: int | None, stream_prefix: str | None = None,
                 containing: list[str] | None = None) -> list[tuple[int, int, str, str]]:
        """(row id, ms, stream, invocation's text) in a window, oldest first (of some streams, or those
        with a prefix; whose text contains each of `containing`)."""
        return self._db.log_rows(function, streams, start_ms, end_ms, stream_prefix, containing or ())

    def delete_logs(self, function: str) -> int:
        return self._db.delete_logs(function)

    # cost, stats and CloudWatch metrics -------------------------------------------------------
    def costs(self, first_day: str, last_day: str) -> list[CostRow]:
        return self._db.costs(first_day, last_day)

    def samples(self, start_ms: int, end_ms: int, function: str | None = None, qualifier: str | None = None,
                version: str | None = None) -> list[tuple[int, float, str]]:
        """(start ms, duration ms, outcome) of the records in a window."""
        return [(int(t), float(d), str(o)) for t, d, o in self._db.records_between(
            start_ms, end_ms, "started_ms, duration_ms, outcome", function, qualifier, version)]

    def recent(self, function: str, since_ms: int, limit: int) -> list[tuple[int, float, str, float]]:
        """(started ms, duration ms, outcome, billed GB-seconds) of the latest `limit` records since a time."""
        return [(int(t), float(d), str(o), float(g or 0.0))
                for t, d, o, g in self._db.minute_rows(function, since_ms, limit)]

    def function_stats(self, function: str, since_ms: int) -> tuple[int, int, float | None]:
        """(invocations, errors, p99 duration ms) since a time."""
        return self._db.function_stats(function, since_ms)

    def stat_rows(self, function: str, since_ms: int) -> list[tuple[float, str, int]]:
        """(duration ms, outcome, cold) of a function's records since a time."""
        return [(float(d), str(o), int(c)) for d, o, c in self._db.records_between(
            since_ms, 2**62, "duration_ms, outcome, cold", function)]
