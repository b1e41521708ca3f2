"""Invocation records and log events, written off the request path in batches.

The invoke path only appends the invocation's facts (`Finished`) to a deque (no lock, no I/O, no
formatting). A thread of its own wakes every `interval` seconds, makes the records and the log
texts, and writes them in one transaction on its own SQLite connection.
A clean stop flushes everything; a `kill -9` loses at most the last interval's worth.
"""

from __future__ import annotations

import collections
import threading
import time
from pathlib import Path

from ..store import Database
from .finished import Finished, log_event_of, record_of

CHUNK = 32              # invocations formatted between two GIL hand-offs
MAX_PENDING = 200_000   # bounded: past this, the oldest unwritten events are dropped (`dropped` counts them)


class Recorder:
    def __init__(self, db_path: Path, interval: float = 0.2) -> None:
        self._db_path = db_path
        self._interval = interval
        self._finished: collections.deque[Finished] = collections.deque(maxlen=MAX_PENDING)
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="lambdalite-recorder", daemon=True)
        self.failures = 0   # batches that could not be written
        self.dropped = 0    # invocations whose record and logs were dropped unwritten (queue full)

    def start(self) -> None:
        self._thread.start()

    def add(self, finished: Finished) -> None:
        if len(self._finished) == MAX_PENDING:
            self.dropped += 1   # the append below pushes the oldest one out
        self._finished.append(finished)

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
        batch = _drain(self._finished)
        if not batch:
            return
        records, events = [], []
        for start in range(0, len(batch), CHUNK):
            # Formatting holds the GIL: in small chunks, letting the event loop's thread in between.
            chunk = batch[start:start + CHUNK]
            records += [record_of(f) for f in chunk]
            events += [log_event_of(f) for f in chunk]
            time.sleep(0)
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
