"""Asynchronous invocations (InvocationType=Event): accepted durably, run in the background, retried,
and their outcome sent to the function's destinations (reference/aws-lambda.md §7).

`accept` writes the event to the store (committed) before Invoke answers 202. A drain task runs the
events through the invoker (the same pool and concurrency limits as synchronous calls), at most
`concurrency` at a time over all functions, taking functions in turn (round robin) and each
function's events in arrival order. Time (retry delays, event age) is the server clock.

- A function error or timeout is retried `MaximumRetryAttempts` times (default 2), about 1 and 2
  minutes apart, with the same request id; then the on-failure destination gets
  `RetriesExhausted`.
- A throttle or a service error (the function is being updated) is retried with back-off from 1 s up
  to 5 minutes, until the event is older than `MaximumEventAgeInSeconds` (default 6 h):
  `EventAgeExceeded`.
- Reserved concurrency 0 sends the event straight to on-failure: `ZeroReservedConcurrency`.
- A server that stops (even with SIGKILL) keeps every event not finished; the next one runs them
  again: an event that was running then runs twice (at least once, as AWS promises). Retry delays
  start again after a restart.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import heapq
import itertools
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from .. import errors
from ..clock import Clock, sleep_or_wake
from ..functions.eventconfig import EventConfig
from ..functions.service import FunctionService
from ..ids import request_id as new_request_id
from ..store.db import Database
from .invoker import Invoker

log = logging.getLogger("lambdalite.events")

MAX_EVENT_BYTES = 1_048_576
RETRY_DELAYS_S = (60.0, 120.0)   # before the 2nd and the 3rd attempt
BUDGET_EXCEEDED = "BudgetExceeded"   # a budget refused the event (the condition in its failure record)
BUDGET_LIST = "lambdalite:budget"    # where such an event is kept when it has no destination or queue
BACKOFF_MAX_S = 300.0


@dataclass(slots=True)
class Event:
    """A queued event; its payload stays in the store until it runs (a long queue costs little memory)."""

    id: int
    request_id: str
    function: str
    qualifier: str | None
    attempts: int          # ended with a function error so far
    enqueued: float        # server clock
    throttles: int = 0
    payload: bytes = b""   # read from the store when it runs


class EventQueue:
    def __init__(self, db: Database, functions: FunctionService, invoker: Invoker, clock: Clock,
                 concurrency: int, share: float = 0.5) -> None:
        self._db = db
        self._functions = functions
        self._invoker = invoker
        self._clock = clock
        self.concurrency = max(1, concurrency)
        self.share = share   # of a function's reserved concurrency, what its async events may take
        self._per_function: collections.Counter[str] = collections.Counter()   # running now
        self._ready: dict[str, collections.deque[Event]] = {}   # per function, arrival order
        self._turns: collections.deque[str] = collections.deque()   # functions with ready events, in turn
        self._later: list[tuple[float, int, Event]] = []        # (not before, order, event): retries
        self._order = itertools.count()
        self._running: set[asyncio.Task[None]] = set()
        self._wake: asyncio.Event | None = None
        self._drainer: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return sum(len(q) for q in self._ready.values()) + len(self._later) + len(self._running)

    def oldest_age(self) -> float:
        """Seconds the oldest waiting event has waited (server clock); 0 with none waiting."""
        enqueued = [q[0].enqueued for q in self._ready.values() if q] + [e.enqueued for _, _, e in self._later]
        return max(0.0, self._clock.now() - min(enqueued)) if enqueued else 0.0

    def start(self) -> None:
        """Take up the events a previous server left (each runs again, from its first retry count)."""
        self._wake = asyncio.Event()
        wall, now = time.time(), self._clock.now()
        for event_id, request_id, function, qualifier, attempts, enqueued in self._db.load_events():
            self._queue(Event(event_id, request_id, function, qualifier, attempts, now - max(0.0, wall - enqueued)))
        self._drainer = asyncio.get_running_loop().create_task(self._drain())

    def accept(self, function: str, qualifier: str | None, payload: bytes, request_id: str | None = None) -> str:
        """Keep the event durably and queue it; its request id (the one the function will see)."""
        request_id = request_id or new_request_id()
        event_id = self._db.add_event(request_id, function, qualifier, payload, time.time())
        self._queue(Event(event_id, request_id, function, qualifier, 0, self._clock.now()))
        return request_id

    def _queue(self, event: Event) -> None:
        queue = self._ready.get(event.function)
        if queue is None:
            queue = self._ready[event.function] = collections.deque()
        if not queue:
            self._turns.append(event.function)
        queue.append(event)
        if self._wake is not None:
            self._wake.set()

    def _retry_at(self, event: Event, delay: float) -> None:
        heapq.heappush(self._later, (self._clock.now() + delay, next(self._order), event))
        if self._wake is not None:
            self._wake.set()

    async def _drain(self) -> None:
        assert self._wake is not None
        while True:
            now = self._clock.now()
            while self._later and self._later[0][0] <= now:
                self._queue(heapq.heappop(self._later)[2])
            self._start_due()
            self._wake.clear()
            due = self._later[0][0] - now if self._later and len(self._running) < self.concurrency else None
            await sleep_or_wake(self._clock, due, self._wake)

    def _start_due(self) -> None:
        """Start ready events, functions in turn, within the overall cap and each function's share."""
        waiting: list[str] = []
        while self._turns and len(self._running) < self.concurrency:
            function = self._turns.popleft()
            if self._per_function[function] >= self._cap(function):
                waiting.append(function)   # its share is busy: the others go first
                continue
            queue = self._ready[function]
            event = queue.popleft()
            if queue:
                self._turns.append(function)   # its next event after the other functions' turn
            self._per_function[function] += 1
            task = asyncio.get_running_loop().create_task(self._run(event))
            self._running.add(task)
            task.add_done_callback(functools.partial(self._finished, function=function))
        self._turns.extend(waiting)

    def _cap(self, function: str) -> int:
        reserved = self._functions.concurrency.get(function)
        if not reserved:   # none, or 0 (then its events go straight to on-failure)
            return self.concurrency
        return max(1, int(reserved * self.share))

    def _finished(self, task: asyncio.Task[None], function: str) -> None:
        self._per_function[function] -= 1
        if self._per_function[function] <= 0:
            del self._per_function[function]
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("an async event's run failed", exc_info=task.exception())
        if self._wake is not None:
            self._wake.set()

    async def _run(self, event: Event) -> None:
        event.payload = self._db.event_payload(event.id)
        try:
            await self._attempt(event)
        finally:
            event.payload = b""   # a retry waits without it

    async def _attempt(self, event: Event) -> None:
        config = self._functions.event_config_for(event.function, event.qualifier)
        if self._clock.now() - event.enqueued > config.max_age_s:
            self._done(event, config, "EventAgeExceeded", None)
            return
        if self._functions.concurrency.get(event.function) == 0:
            self._done(event, config, "ZeroReservedConcurrency", None)
            return
        try:
            fn, invoked_arn = self._invoker.resolve(event.function, event.qualifier)
            result = await self._invoker.invoke(fn, invoked_arn, event.payload, request_id=event.request_id,
                                                invocation_type="Event")
        except errors.TooManyRequests as e:
            if e.extra.get("Reason") == BUDGET_EXCEEDED:   # no retry: it stays refused until the budget is raised
                self._done(event, config, BUDGET_EXCEEDED, None)
                return
            event.throttles += 1
            self._retry_at(event, min(BACKOFF_MAX_S, 2.0 ** (event.throttles - 1)))
            return
        except errors.ResourceNotFound as e:   # the function (or alias) went away meanwhile
            log.warning("async event %s of %s dropped: %s", event.request_id, event.function, e.message)
            self._db.delete_event(event.id)
            return
        except errors.ServiceError:   # throttled, or the function is being updated: try again later
            event.throttles += 1
            self._retry_at(event, min(BACKOFF_MAX_S, 2.0 ** (event.throttles - 1)))
            return
        if not result.function_error:
            self._done(event, config, "Success", result)
            return
        event.attempts += 1
        if event.attempts <= config.retries:
            self._db.event_attempted(event.id, event.attempts)
            self._retry_at(event, RETRY_DELAYS_S[min(event.attempts, len(RETRY_DELAYS_S)) - 1])
            return
        self._done(event, config, "RetriesExhausted", result)

    def _done(self, event: Event, config: EventConfig, condition: str, result: Any) -> None:
        """The event is finished: its record goes to the destination for its outcome, then it is forgotten."""
        destination = config.on_success if condition == "Success" else config.on_failure
        if destination:
            record = destination_record(event, condition, result, self._functions.arn(event.function, event.qualifier
                                                                                         or "$LATEST"))
            self._deliver(event.function, destination, record)
        elif condition != "Success":
            self._dead_letter(event, condition, result)
        self._db.delete_event(event.id)

    def _dead_letter(self, event: Event, condition: str, result: Any) -> None:
        """A failed event with no on-failure destination goes to the function's DeadLetterConfig as
        AWS sends it there (the event as the body, RequestID / ErrorCode / ErrorMessage attributes)."""
        fn = self._functions.get(event.function)
        target = ((fn.config.get("DeadLetterConfig") or {}).get("TargetArn") if fn is not None else None)
        if not target and condition == BUDGET_EXCEEDED:
            target = BUDGET_LIST   # never lost: kept to replay (`lambdalite failed NAME --replay`) once raised
        if not target:
            log.warning("async event %s of %s failed for good (%s) with no on-failure destination or dead-letter "
                        "queue", event.request_id, event.function, condition)
            return
        message = condition
        if result is not None:
            try:
                message = str(json.loads(result.body).get("errorMessage") or condition)
            except (ValueError, AttributeError):
                pass
        record = {"body": event.payload.decode("utf-8", errors="replace"),
                  "attributes": {"RequestID": event.request_id, "ErrorCode": 200, "ErrorMessage": message},
                  "requestContext": {"condition": condition}}
        self._db.add_dead_letter(event.function, target, record, time.time())

    def replay(self, function: str, records: list[dict[str, Any]]) -> int:
        """Send kept records' events again (`lambdalite failed NAME --replay`); how many."""
        for item in records:
            record = item["record"]
            payload = record["body"].encode() if "body" in record else json.dumps(record.get("requestPayload")).encode()
            self.accept(function, None, payload)
            self._db.delete_dead_letter(item["id"])
        return len(records)

    def _deliver(self, function: str, destination: str, record: dict[str, Any]) -> None:
        """A Lambda destination gets the record as an async event of its own; any other kind (a queue,
        a topic, a bus, a bucket: no such service here) is kept in the function's dead-letter list."""
        if ":function:" in destination:
            name, _, qualifier = destination.split(":function:", 1)[1].partition(":")
            if self._functions.get(name) is not None:
                self.accept(name, qualifier or None, json.dumps(record).encode())
                return
        self._db.add_dead_letter(function, destination, record, time.time())

    async def close(self) -> None:
        """Stop draining; events not finished stay in the store for the next server."""
        tasks = [t for t in (self._drainer, *self._running) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def destination_record(event: Event, condition: str, result: Any, function_arn: str) -> dict[str, Any]:
    """AWS's destination record (reference §7)."""
    try:
        payload: Any = json.loads(event.payload or b"{}")
    except ValueError:
        payload = event.payload.decode("utf-8", errors="replace")
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z",
        "requestContext": {"requestId": event.request_id, "functionArn": function_arn, "condition": condition,
                           "approximateInvokeCount": event.attempts + (1 if condition == "Success" else 0)},
        "requestPayload": payload,
    }
    if result is not None:
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": result.version}
        if result.function_error:
            response["functionError"] = "Unhandled"
        record["responseContext"] = response
        try:
            record["responsePayload"] = json.loads(result.body) if result.body else None
        except ValueError:
            record["responsePayload"] = result.body.decode("utf-8", errors="replace")
    return record
