"""The test clock: time moves only when told, sleepers wake in order, each given its turn."""

from __future__ import annotations

import asyncio
import time

import pytest

from lambdalite.clock import RealClock, TestClock


def test_sleepers_wake_in_deadline_order_and_time_stands_still_otherwise() -> None:
    async def scenario() -> None:
        clock = TestClock()
        woke: list[tuple[str, float]] = []

        async def sleeper(name: str, seconds: float) -> None:
            await clock.sleep(seconds)
            woke.append((name, clock.now()))

        tasks = [asyncio.ensure_future(sleeper(n, s)) for n, s in (("late", 50), ("early", 10), ("never", 500))]
        await asyncio.sleep(0.01)
        assert woke == [] and clock.now() == 0
        assert await clock.advance(60) == 60
        assert woke == [("early", 10), ("late", 50)]
        tasks[2].cancel()
        with pytest.raises(asyncio.CancelledError):
            await tasks[2]
        with pytest.raises(ValueError):
            await clock.advance(-1)

    asyncio.run(scenario())


def test_a_periodic_task_that_works_in_a_thread_runs_once_per_period() -> None:
    async def scenario() -> None:
        clock = TestClock()
        runs: list[float] = []

        async def reaper() -> None:
            while True:
                await clock.sleep(30)
                runs.append(clock.now())
                await asyncio.to_thread(time.sleep, 0.05)   # work off the event loop, as the server's reaper does

        task = asyncio.ensure_future(reaper())
        await asyncio.sleep(0)
        await clock.advance(100)
        assert runs == [30, 60, 90]
        await clock.advance(20)
        assert runs == [30, 60, 90, 120]
        task.cancel()

    asyncio.run(scenario())


def test_the_real_clock_is_monotonic_time() -> None:
    clock = RealClock()
    before = clock.now()
    asyncio.run(clock.sleep(0.01))
    assert clock.now() - before >= 0.01
