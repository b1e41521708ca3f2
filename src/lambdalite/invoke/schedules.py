"""Schedules (SAM `Schedule` / `ScheduleV2`): each invokes its function asynchronously, at the times its
expression names, on the server clock.

A run is an async event (retries, destinations and the rest apply) whose payload is EventBridge's
scheduled event (reference/apigateway-sam.md §9), or exactly the target's `Input` when it has one.
The stacks hand their schedules over (`set_stack`) when they are loaded, deployed or deleted. Runs
missed while the server was down are not made up, as on AWS: the next run is the first one after
the server started. A `rate(...)` runs first one rate after it was set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from ..clock import Clock, sleep_or_wake
from . import cron
from .events import EventQueue

log = logging.getLogger("lambdalite.schedules")


@dataclass
class _Entry:
    stack: str
    schedule: dict[str, Any]          # stacks.model.PlannedSchedule.to_document()
    parsed: cron.Rate | cron.Cron
    next_at: float | None = None      # server clock; None: disabled, or no run any more


class Scheduler:
    def __init__(self, events: EventQueue, clock: Clock, region: str, account: str) -> None:
        self._events = events
        self._clock = clock
        self._region, self._account = region, account
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._wall0, self._clock0 = time.time(), clock.now()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run())

    def wall(self, at: float | None = None) -> dt.datetime:
        """The wall-clock time of a server-clock moment (now by default), UTC."""
        moment = self._clock.now() if at is None else at
        return dt.datetime.fromtimestamp(self._wall0 + (moment - self._clock0), dt.UTC)

    def set_stack(self, stack: str, schedules: list[dict[str, Any]]) -> None:
        """The stack's schedules now (an empty list: it has none, or it is gone)."""
        for key in [k for k in self._entries if k[0] == stack]:
            del self._entries[key]
        for schedule in schedules:
            try:
                parsed = cron.parse(schedule["expression"], schedule.get("timezone"))
            except cron.ScheduleError as e:   # checked when planned: a store from another version
                log.warning("stack %s: schedule %s skipped: %s", stack, schedule.get("name"), e)
                continue
            entry = _Entry(stack, schedule, parsed)
            entry.next_at = self._next(entry, self._clock.now()) if schedule.get("enabled", True) else None
            self._entries[(stack, schedule["logical_id"])] = entry
        if self._wake is not None:
            self._wake.set()

    def _next(self, entry: _Entry, after: float) -> float | None:
        if isinstance(entry.parsed, cron.Rate):
            return after + entry.parsed.seconds
        nxt = entry.parsed.next_after(self.wall(after))
        if nxt is None:
            return None
        return self._clock0 + (nxt.timestamp() - self._wall0)

    def listing(self) -> list[dict[str, Any]]:
        out = []
        for entry in sorted(self._entries.values(), key=lambda e: (e.stack, e.schedule["name"])):
            s = entry.schedule
            out.append({"stack": entry.stack, "name": s["name"], "expression": s["expression"],
                        "timezone": s.get("timezone"), "enabled": s.get("enabled", True), "function": s["function"],
                        "qualifier": s.get("qualifier"),
                        "next": self.wall(entry.next_at).strftime("%Y-%m-%dT%H:%M:%SZ")
                        if entry.next_at is not None else None})
        return out

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            now = self._clock.now()
            for entry in list(self._entries.values()):
                if entry.next_at is not None and entry.next_at <= now:
                    self._fire(entry, entry.next_at)
                    # from now on: runs missed while the loop was held up are not made up, as on AWS
                    entry.next_at = self._next(entry, max(entry.next_at, now))
            self._wake.clear()
            due = [e.next_at for e in self._entries.values() if e.next_at is not None]
            await sleep_or_wake(self._clock, min(due) - now if due else None, self._wake)

    def _fire(self, entry: _Entry, at: float) -> None:
        schedule = entry.schedule
        if schedule.get("input") is not None:
            payload = str(schedule["input"]).encode()
        else:
            payload = json.dumps({
                "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
                "account": self._account, "time": self.wall(at).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": self._region, "resources": [schedule["arn"]], "detail": {}}).encode()
        try:
            self._events.accept(schedule["function"], schedule.get("qualifier"), payload)
        except Exception:   # noqa: BLE001 - one schedule's failure must not stop the others
            log.exception("schedule %s could not queue its run", schedule["name"])

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
