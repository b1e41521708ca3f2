"""The one server clock that timers wait on: idle timeouts now; retries, schedules, canary windows
and quota periods later.

`RealClock` is monotonic time. `TestClock` (`lambdalite serve --test-clock`) stands still until
told to move (`POST /_lambdalite/clock {"advance_s": N}`), so tests drive time-based behaviour in
milliseconds instead of waiting for it. Timestamps in records and logs are not this clock: they
stay wall-clock time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol

YIELDS_AFTER_WAKING = 20   # event-loop turns a woken timer gets before time moves on


class Clock(Protocol):
    def now(self) -> float:
        """Seconds on a monotonic scale (only differences mean anything)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class TestClock:
    """Time moves only in `advance`; sleepers wake in deadline order, and each woken one is given its
    turn: the clock moves past the next deadline only once that task is asleep again or finished
    (waiting up to `TURN_S` of real time, for work it does in a thread meanwhile)."""

    __test__ = False   # not a pytest class, despite the name
    TURN_S = 5.0

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None], asyncio.Task[object] | None]] = []
        self._asleep: set[asyncio.Task[object]] = set()
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        task = asyncio.current_task()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), wake, task))
        if task is not None:
            self._asleep.add(task)
        try:
            await wake
        finally:
            if task is not None:
                self._asleep.discard(task)

    async def advance(self, seconds: float) -> float:
        """Move time forward by `seconds`, waking every sleeper whose deadline is passed on the way."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        target = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, wake, task = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            if not wake.done():
                if task is not None:
                    self._asleep.discard(task)   # awake from now on, until it sleeps here again
                wake.set_result(None)
                await self._its_turn(task)
        self._now = target
        return self._now

    async def _its_turn(self, task: asyncio.Task[object] | None) -> None:
        """Let a woken task run until it sleeps on this clock again or ends."""
        for _ in range(YIELDS_AFTER_WAKING):
            await asyncio.sleep(0)
        if task is None:
            return
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.TURN_S
        while not task.done() and task not in self._asleep and loop.time() < give_up:
            await asyncio.sleep(0.001)   # it waits on something else (a thread, a process): real time passes


def wall_time(clock: Clock) -> Callable[[], float]:
    """Epoch seconds that move with the server clock: wall time at the start, then the clock's
    steps (a test clock moves it; budgets' months turn on it)."""
    wall0, clock0 = time.time(), clock.now()
    return lambda: wall0 + (clock.now() - clock0)


async def sleep_or_wake(clock: Clock, seconds: float | None, wake: asyncio.Event) -> None:
    """Wait until `seconds` have passed on `clock`, or until `wake` is set, whichever comes first
    (None: only `wake`). The background loops (async events, schedules) wait this way for their
    next deadline while new work may arrive."""
    if seconds is None:
        await wake.wait()
        return
    sleep = asyncio.ensure_future(clock.sleep(max(0.0, seconds)))
    woken = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({sleep, woken}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleep.cancel()
        woken.cancel()
