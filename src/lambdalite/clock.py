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
    """Time moves only in `advance`; sleepers wake in deadline order, each given its turn to run
    (and, say, go back to sleep) before the clock moves past the next deadline."""

    __test__ = False   # not a pytest class, despite the name

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), wake))
        await wake

    async def advance(self, seconds: float) -> float:
        """Move time forward by `seconds`, waking every sleeper whose deadline is passed on the way."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        target = self._now + seconds
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, wake = heapq.heappop(self._sleepers)
            self._now = max(self._now, deadline)
            if not wake.done():
                wake.set_result(None)
                for _ in range(YIELDS_AFTER_WAKING):
                    await asyncio.sleep(0)
        self._now = target
        return self._now
