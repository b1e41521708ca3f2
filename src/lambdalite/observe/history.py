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
