"""Quota periods, token buckets and the meter of `gateway.usage`: pure, on fake clocks."""

from __future__ import annotations

import datetime as dt

import pytest

from lambdalite.gateway.usage import (
    KeyTable,
    PlanLimits,
    TokenBucket,
    UsageMeter,
    build_key_table,
    period_end,
    period_start,
)


def epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize(("at", "period", "start"), [
    ("2026-12-07T22:50:00", "DAY", "2026-12-07T00:00:00"),
    ("2026-12-07T00:00:00", "DAY", "2026-12-07T00:00:00"),
    ("2026-12-07T22:50:00", "WEEK", "2026-12-07T00:00:00"),   # a Monday
    ("2026-12-13T23:59:59", "WEEK", "2026-12-07T00:00:00"),   # its Sunday
    ("2026-12-14T00:00:00", "WEEK", "2026-12-14T00:00:00"),
    ("2026-12-31T23:59:59", "MONTH", "2026-12-01T00:00:00"),
    ("2027-01-01T00:00:00", "MONTH", "2027-01-01T00:00:00"),
])
def test_periods_begin_at_utc_midnight_monday_and_the_first(at: str, period: str, start: str) -> None:
    assert period_start(epoch(at), period) == epoch(start)


def test_period_ends() -> None:
    assert period_end(epoch("2026-02-01T00:00:00"), "MONTH") == epoch("2026-03-01T00:00:00")
    assert period_end(epoch("2026-12-07T00:00:00"), "WEEK") == epoch("2026-12-14T00:00:00")
    assert period_end(epoch("2026-12-07T00:00:00"), "DAY") == epoch("2026-12-08T00:00:00")


def test_a_bucket_holds_burst_and_refills_at_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.5) and not bucket.take(0.5)      # half a second: one token
    assert [bucket.take(10.0) for _ in range(4)] == [True, True, True, False]   # never more than burst


class Clock:
    def __init__(self, wall: float) -> None:
        self.mono, self.wall = 0.0, wall

    def move(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds


def test_the_quota_resets_exactly_at_the_periods_turn() -> None:
    clock = Clock(epoch("2026-12-07T23:59:58"))
    meter = UsageMeter(lambda: clock.mono, lambda: clock.wall)
    plan = PlanLimits("p", quota_limit=2, quota_period="DAY")
    assert [meter.admit("k", plan) for _ in range(3)] == [None, None, "quota"]
    clock.move(1.0)   # 23:59:59: still the same day
    assert meter.admit("k", plan) == "quota"
    clock.move(1.0)   # midnight
    assert meter.admit("k", plan) is None and meter.used(plan, "k") == 1
    assert meter.daily("p", "k") == {"2026-12-07": 2, "2026-12-08": 1}


def test_a_throttled_request_does_not_use_quota() -> None:
    clock = Clock(epoch("2026-12-07T12:00:00"))
    meter = UsageMeter(lambda: clock.mono, lambda: clock.wall)
    plan = PlanLimits("p", rate=1.0, burst=1, quota_limit=5, quota_period="MONTH")
    assert [meter.admit("k", plan) for _ in range(2)] == [None, "throttled"]
    assert meter.used(plan, "k") == 1
    meter.reset("p", "k")
    assert meter.used(plan, "k") == 0 and meter.admit("k", plan) is None


def test_the_key_table_admits_only_enabled_keys_in_a_plan_of_the_stage() -> None:
    keys = {"k1": {"id": "k1", "value": "v" * 20, "enabled": True},
            "k2": {"id": "k2", "value": "w" * 20, "enabled": False}}
    plans = {"p": {"id": "p", "apiStages": [{"apiId": "api", "stage": "prod"}], "keys": ["k1", "k2"],
                   "quota": {"limit": 5, "period": "DAY", "offset": 0}, "throttle": {"rateLimit": 1.5}}}
    table = build_key_table(keys, plans)
    found = table.plan_for("api", "prod", "v" * 20)
    assert found is not None and found[1] == PlanLimits("p", 1.5, None, 5, "DAY", 0)
    assert table.plan_for("api", "beta", "v" * 20) is None     # a stage outside the plan
    assert table.plan_for("api", "prod", "w" * 20) is None     # disabled
    assert table.plan_for("api", "prod", None) is None
    assert KeyTable().plan_for("api", "prod", "v" * 20) is None
