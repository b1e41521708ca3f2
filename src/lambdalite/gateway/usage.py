"""API keys and usage plans as the data plane sees them, and the metering of their rates and quotas.

The control plane (`control/keys.py`) publishes a `KeyTable`: an immutable snapshot of which key
value is which key, and which usage plan lets a key call which (API, stage). The data plane looks a
request's `x-api-key` up in it (a dict lookup, no store), then asks the `UsageMeter` whether the
plan's token bucket has a token (429 Too Many Requests otherwise) and whether the key has quota
left in the current period (429 Limit Exceeded otherwise).

Time: buckets refill on the server clock (`Clock.now`, monotonic); quota periods are UTC days,
weeks (Monday to Sunday) and calendar months of the server's wall time (`clock.wall_time`), so a
test clock turns a period (DESIGN.md: quotas wait on the one server clock). Counts are kept in
memory: a restart starts every period afresh (docs/api-keys.md says so).

Pure apart from the meter's own counters; imports nothing of the package.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

PERIODS = ("DAY", "WEEK", "MONTH")
DAY_S = 86400


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """What one usage plan allows each of its keys: a token bucket (None: no throttle) and a quota."""

    plan_id: str
    rate: float | None = None          # tokens per second
    burst: int | None = None           # bucket capacity
    quota_limit: int | None = None
    quota_period: str | None = None    # DAY | WEEK | MONTH
    quota_offset: int = 0


@dataclass(frozen=True, slots=True)
class KeyEntry:
    key_id: str
    enabled: bool
    value: str


@dataclass(frozen=True)
class KeyTable:
    """Published by the control plane after every change; never mutated."""

    by_value: Mapping[str, KeyEntry] = field(default_factory=lambda: MappingProxyType({}))
    # (api id, stage, key id) -> the plan that lets that key call that stage
    grants: Mapping[tuple[str, str, str], PlanLimits] = field(default_factory=lambda: MappingProxyType({}))

    def plan_for(self, api_id: str, stage: str, value: str | None) -> tuple[KeyEntry, PlanLimits] | None:
        """The key of this value and its plan for (api, stage); None when the key is missing, unknown,
        disabled or in no plan of this stage (all four are AWS's 403 Forbidden)."""
        if not value:
            return None
        key = self.by_value.get(value)
        if key is None or not key.enabled:
            return None
        plan = self.grants.get((api_id, stage, key.key_id))
        return (key, plan) if plan is not None else None


def build_key_table(keys: Mapping[str, Mapping[str, Any]], plans: Mapping[str, Mapping[str, Any]]) -> KeyTable:
    """The snapshot of the stored keys (wire shape) and plans (wire shape plus `keys`: their key ids)."""
    by_value = {k["value"]: KeyEntry(k["id"], bool(k.get("enabled")), k["value"]) for k in keys.values()}
    grants: dict[tuple[str, str, str], PlanLimits] = {}
    for plan in plans.values():
        limits = plan_limits(plan)
        for stage in plan.get("apiStages") or []:
            for key_id in plan.get("keys") or []:
                grants.setdefault((stage["apiId"], stage["stage"], key_id), limits)
    return KeyTable(MappingProxyType(by_value), MappingProxyType(grants))


def plan_limits(plan: Mapping[str, Any]) -> PlanLimits:
    throttle = plan.get("throttle") or {}
    quota = plan.get("quota") or {}
    rate = throttle.get("rateLimit")
    burst = throttle.get("burstLimit")
    return PlanLimits(
        plan_id=plan["id"],
        rate=float(rate) if rate is not None else None,
        burst=int(burst) if burst is not None else None,
        quota_limit=int(quota["limit"]) if quota.get("limit") is not None else None,
        quota_period=quota.get("period"),
        quota_offset=int(quota.get("offset") or 0),
    )


def period_start(epoch_s: float, period: str) -> float:
    """The epoch second at which the quota period holding `epoch_s` began: UTC midnight of the day, of
    the week's Monday, or of the month's first day."""
    day = dt.datetime.fromtimestamp(epoch_s, dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "WEEK":
        day -= dt.timedelta(days=day.weekday())
    elif period == "MONTH":
        day = day.replace(day=1)
    return day.timestamp()


def period_end(start_s: float, period: str) -> float:
    """When the period that began at `start_s` ends (the next one begins)."""
    start = dt.datetime.fromtimestamp(start_s, dt.UTC)
    if period == "DAY":
        return start_s + DAY_S
    if period == "WEEK":
        return start_s + 7 * DAY_S
    days = calendar.monthrange(start.year, start.month)[1]
    return start_s + days * DAY_S


class TokenBucket:
    """`burst` tokens at most, refilled at `rate` a second; a request takes one."""

    __slots__ = ("rate", "burst", "tokens", "at")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate, self.burst = rate, max(burst, 1)   # a burst of 0 would refuse everything: AWS lets 1 through
        self.tokens, self.at = float(self.burst), now

    def take(self, now: float) -> bool:
        if now > self.at:
            self.tokens = min(float(self.burst), self.tokens + (now - self.at) * self.rate)
            self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class UsageMeter:
    """Counters per (plan, key): the token bucket, the current quota period's count, and requests per
    UTC day (GetUsage). `now` is the server clock (monotonic), `wall` its epoch seconds."""

    def __init__(self, now: Any, wall: Any) -> None:
        self.now = now
        self.wall = wall
        self._buckets: dict[tuple[str, str], tuple[PlanLimits, TokenBucket]] = {}
        self._quota: dict[tuple[str, str], tuple[float, int]] = {}          # -> (period start, used)
        self._days: dict[tuple[str, str], dict[str, int]] = {}             # -> {YYYY-MM-DD: requests}

    def admit(self, key_id: str, plan: PlanLimits) -> str | None:
        """None when the request may go on (and it is counted); else "throttled" or "quota"."""
        slot = (plan.plan_id, key_id)
        if plan.rate is not None and plan.burst is not None:
            held = self._buckets.get(slot)
            if held is None or held[0] != plan:   # a plan changed: a fresh bucket
                held = (plan, TokenBucket(plan.rate, plan.burst, self.now()))
                self._buckets[slot] = held
            if not held[1].take(self.now()):
                return "throttled"
        wall = self.wall()
        if plan.quota_limit is not None and plan.quota_period in PERIODS:
            start = period_start(wall, plan.quota_period)
            began, used = self._quota.get(slot, (start, 0))
            if began != start:
                used = 0
            if used >= plan.quota_limit:
                return "quota"
            self._quota[slot] = (start, used + 1)
        day = dt.datetime.fromtimestamp(wall, dt.UTC).strftime("%Y-%m-%d")
        days = self._days.setdefault(slot, {})
        days[day] = days.get(day, 0) + 1
        return None

    def used(self, plan: PlanLimits, key_id: str) -> int:
        """Requests the key has made in the plan's current quota period."""
        if plan.quota_period not in PERIODS:
            return 0
        began, used = self._quota.get((plan.plan_id, key_id), (0.0, 0))
        return used if began == period_start(self.wall(), str(plan.quota_period)) else 0

    def daily(self, plan_id: str, key_id: str) -> Mapping[str, int]:
        return dict(self._days.get((plan_id, key_id), {}))

    def reset(self, plan_id: str, key_id: str) -> None:
        """The key's counters in the plan forgotten (it left the plan, or was deleted)."""
        self._buckets.pop((plan_id, key_id), None)
        self._quota.pop((plan_id, key_id), None)
        self._days.pop((plan_id, key_id), None)

    def today(self) -> str:
        return dt.datetime.fromtimestamp(self.wall(), dt.UTC).strftime("%Y-%m-%d")
