"""Invocation records and log events, written off the request path in batches.

The invoke path only appends the invocation's facts (`Finished`) to a deque (no lock, no I/O, no
formatting). A thread of its own wakes every `interval` seconds, makes the records and the log
texts, and writes them in one transaction on its own SQLite connection.
A clean stop flushes everything; a `kill -9` loses at most the last interval's worth.

Each batch also folds into the metrics (`metrics.py`) and into each day's cost per function version.
With records off (`lambdalite serve --no-records`) only the cost is kept: no records, log lines or
metrics. Lines that belong to no invocation (budget warnings, API Gateway execution logs) come
through `note`.
"""

from __future__ import annotations

import collections
import threading
import time
from pathlib import Path

from ..store import CostRow, Database, LogEvent
from .finished import Finished, cost_of, log_event_of, record_of
from .metrics import Metrics

CHUNK = 16              # invocations handled between two GIL hand-offs (a request waits at most this long)
MAX_PENDING = 200_000   # bounded: past this, the oldest unwritten events are dropped (`dropped` counts them)


class Recorder:
    def __init__(self, db_path: Path, interval: float = 0.2, metrics: Metrics | None = None,
                 records: bool = True) -> None:
        self._db_path = db_path
        self._interval = interval
        self.metrics = metrics or Metrics()
        self.records = records
        self._finished: collections.deque[Finished] = collections.deque(maxlen=MAX_PENDING)
        self._notes: collections.deque[LogEvent] = collections.deque(maxlen=MAX_PENDING)
        self._wake = threading.Event()
        self._flushed = threading.Condition()
        self._generation = 0   # flushes done
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

    def note(self, event: LogEvent) -> None:
        """Log lines of no invocation, written with the next batch."""
        self._notes.append(event)

    def sync(self, timeout: float = 5.0) -> None:
        """Wait (in a worker thread) until what was added before this call is written: reads that must
        see the caller's own invocations (the Logs and CloudWatch APIs, cost, stats) call it first."""
        if not self._thread.is_alive():
            return
        give_up = time.monotonic() + timeout
        with self._flushed:
            target = self._generation + 2   # the flush under way may have drained before our adds
            while self._generation < target and not self._stopping and time.monotonic() < give_up:
                self._wake.set()
                self._flushed.wait(max(0.0, give_up - time.monotonic()))

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
                with self._flushed:
                    self._generation += 1
                    self._flushed.notify_all()

                if self._stopping:
                    self._flush(db)
                    return
        finally:
            db.close()

    def _flush(self, db: Database) -> None:
        batch: list[Finished] = _drain(self._finished)
        notes: list[LogEvent] = _drain(self._notes)
        if not batch and not notes:
            return
        records, events = [], notes
        costs: dict[tuple[str, str, str, str], list[float]] = {}
        for start in range(0, len(batch), CHUNK):
            # This holds the GIL: in small chunks, letting the event loop's thread in between.
            chunk = batch[start:start + CHUNK]
            if self.records:
                self.metrics.observe(chunk)
                kept = [f for f in chunk if not f.quiet]
                records += [record_of(f) for f in kept]
                events += [log_event_of(f) for f in kept if not f.throttled]
            _add_costs(costs, chunk)
            time.sleep(0)
        try:
            db.append(records, events, [CostRow(*key, int(r), g, d) for key, (r, g, d) in costs.items()])
        except Exception:  # a full disk must not stop the server; the count is in /_lambdalite/health
            self.failures += 1


def _add_costs(sums: dict[tuple[str, str, str, str], list[float]], batch: list[Finished]) -> None:
    """The invocations' cost added to the sums per (day, function, version, architecture)."""
    for f in batch:
        if not f.day:
            continue
        row = cost_of(f)
        key = (row.day, row.function, row.version, row.arch)
        total = sums.get(key)
        if total is None:
            sums[key] = [row.requests, row.gb_seconds, row.dollars]
        else:
            total[0] += row.requests
            total[1] += row.gb_seconds
            total[2] += row.dollars


def _drain(queue: collections.deque) -> list:  # type: ignore[type-arg]
    out = []
    while True:
        try:
            out.append(queue.popleft())
        except IndexError:
            return out
