"""Reading back what the recorder wrote: a function's log lines and its invocation records.

The read side of `recorder.py`, for Lambdalite's own endpoints (`lambdalite logs`, the invocation
records) and later the CloudWatch Logs API; it asks the store, never the request path.
"""

from __future__ import annotations

from typing import Any

from ..store import Database, InvocationRecord, StoredLogEvent


class History:
    def __init__(self, db: Database) -> None:
        self._db = db

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

    def log_streams(self, function: str) -> list[tuple[str, int, int, int]]:
        """(stream, first ms, last ms, stored bytes) of a function's streams."""
        return self._db.log_streams(function)

    def log_rows(self, function: str, streams: list[str] | None, start_ms: int | None,
                 end_ms: int | None) -> list[tuple[int, int, str, str]]:
        """(row id, ms, stream, invocation's text) in a window, oldest first."""
        return self._db.log_rows(function, streams, start_ms, end_ms)

    def delete_logs(self, function: str) -> int:
        return self._db.delete_logs(function)
