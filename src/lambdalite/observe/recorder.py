"""Invocation records and log events, written off the request path in batches.

The invoke path only appends to a deque (no lock, no I/O). A thread of its own wakes every
`interval` seconds and writes what accumulated in one transaction on its own SQLite connection.
A clean stop flushes everything; a `kill -9` loses at most the last interval's worth.
"""

from __future__ import annotations

import collections
import threading
from pathlib import Path

from ..store import Database, InvocationRecord, LogEvent

MAX_PENDING = 200_000   # bounded: past this, the oldest unwritten events are dropped (and counted)


class Recorder:
    def __init__(self, db_path: Path, interval: float = 0.2) -> None:
        self._db_path = db_path
        self._interval = interval
        self._records: collections.deque[InvocationRecord] = collections.deque(maxlen=MAX_PENDING)
        self._events: collections.deque[LogEvent] = collections.deque(maxlen=MAX_PENDING)
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="lambdalite-recorder", daemon=True)
        self.failures = 0

    def start(self) -> None:
        self._thread.start()

    def add(self, record: InvocationRecord, event: LogEvent) -> None:
        self._records.append(record)
        self._events.append(event)

    def flush_soon(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(30)

    def _run(self) -> None:
        db = Database(self._db_path)
        try:
            while True:
                self._wake.wait(self._interval)
                self._wake.clear()
                self._flush(db)
                if self._stopping:
                    self._flush(db)
                    return
        finally:
            db.close()

    def _flush(self, db: Database) -> None:
        records = _drain(self._records)
        events = _drain(self._events)
        if not records and not events:
            return
        try:
            db.append(records, events)
        except Exception:  # a full disk must not stop the server; the count is in /_lambdalite/health
            self.failures += 1


def _drain(queue: collections.deque) -> list:  # type: ignore[type-arg]
    out = []
    while True:
        try:
            out.append(queue.popleft())
        except IndexError:
            return out
