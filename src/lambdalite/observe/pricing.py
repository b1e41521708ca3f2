"""What an invocation would cost on AWS Lambda (pure): a price table and a month's running bill.

AWS bills each request, and each GB-second of duration (memory configured in GB × billed duration,
1 ms granularity) at tiered prices per architecture, the tiers counted over a month's use. The
monthly free tier (1M requests and 400,000 GB-s, shared by both architectures) is off unless asked
for: the figure shown is what the work costs. Prices are those of reference/aws-lambda.md §6.2
(us-east-1); a JSON file of the same shape replaces them (`lambdalite serve --price-table FILE`):

    {"requestsPerMillion": 0.20,
     "duration": {"x86_64": [{"upToGbSeconds": 6e9, "perGbSecond": 0.0000166667}, ...,
                             {"perGbSecond": 0.0000133334}],
                  "arm64": [...]},
     "freeTier": {"requests": 1000000, "gbSeconds": 400000}}

A tier without `upToGbSeconds` is the last one (it has no end).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ARCHITECTURES = ("x86_64", "arm64")

DEFAULT_TABLE: dict[str, Any] = {
    "source": "AWS Lambda, us-east-1 (reference/aws-lambda.md 6.2)",
    "requestsPerMillion": 0.20,
    "duration": {
        "x86_64": [{"upToGbSeconds": 6e9, "perGbSecond": 0.0000166667},
                   {"upToGbSeconds": 15e9, "perGbSecond": 0.000015},
                   {"perGbSecond": 0.0000133334}],
        "arm64": [{"upToGbSeconds": 7.5e9, "perGbSecond": 0.0000133334},
                  {"upToGbSeconds": 18.75e9, "perGbSecond": 0.0000120001},
                  {"perGbSecond": 0.0000106667}],
    },
    "freeTier": {"requests": 1_000_000, "gbSeconds": 400_000},
}


class PriceTableError(ValueError):
    """A price table that cannot be used; the message says where."""


@dataclass(frozen=True)
class Tier:
    up_to: float          # cumulative GB-s this month where the tier ends (math.inf: the last)
    per_gb_second: float


@dataclass(frozen=True)
class PriceTable:
    per_request: float
    tiers: dict[str, tuple[Tier, ...]]
    free_requests: int
    free_gb_seconds: float
    source: str = ""

    @classmethod
    def parse(cls, document: Any, where: str = "the price table") -> PriceTable:
        if not isinstance(document, dict):
            raise PriceTableError(f"{where}: must be a JSON object")
        per_million = _price(document.get("requestsPerMillion"), f"{where}: requestsPerMillion")
        duration = document.get("duration")
        if not isinstance(duration, dict):
            raise PriceTableError(f"{where}: duration must be an object with x86_64 and arm64 tiers")
        tiers = {arch: _tiers(duration.get(arch), f"{where}: duration.{arch}") for arch in ARCHITECTURES}
        free = document.get("freeTier", {"requests": 0, "gbSeconds": 0})
        if not isinstance(free, dict):
            raise PriceTableError(f"{where}: freeTier must be an object with requests and gbSeconds")
        free_requests = _price(free.get("requests", 0), f"{where}: freeTier.requests")
        free_gb_s = _price(free.get("gbSeconds", 0), f"{where}: freeTier.gbSeconds")
        return cls(per_million / 1_000_000, tiers, int(free_requests), free_gb_s, str(document.get("source", "")))

    @classmethod
    def load(cls, path: Path | None) -> PriceTable:
        if path is None:
            return cls.parse(DEFAULT_TABLE)
        try:
            document = json.loads(path.read_text())
        except OSError as e:
            raise PriceTableError(f"{path}: cannot be read ({e.strerror or e})") from None
        except ValueError as e:
            raise PriceTableError(f"{path}: is not JSON ({e})") from None
        return cls.parse(document, str(path))

    def describe(self) -> dict[str, Any]:
        return {"source": self.source, "requestsPerMillion": round(self.per_request * 1_000_000, 10),
                "duration": {arch: [{"upToGbSeconds": t.up_to, "perGbSecond": t.per_gb_second}
                                    if t.up_to != math.inf else {"perGbSecond": t.per_gb_second}
                                    for t in tiers] for arch, tiers in self.tiers.items()},
                "freeTier": {"requests": self.free_requests, "gbSeconds": self.free_gb_seconds}}


def _price(value: Any, where: str) -> float:
    if value is None:
        raise PriceTableError(f"{where} is missing")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PriceTableError(f"{where} must be a number, not {value!r}")
    if value < 0:
        raise PriceTableError(f"{where} must not be negative ({value})")
    return float(value)


def _tiers(value: Any, where: str) -> tuple[Tier, ...]:
    if not isinstance(value, list) or not value:
        raise PriceTableError(f"{where} must be a list of tiers ({{upToGbSeconds, perGbSecond}}, the last open)")
    out: list[Tier] = []
    for i, tier in enumerate(value):
        if not isinstance(tier, dict):
            raise PriceTableError(f"{where}[{i}] must be an object")
        last = i == len(value) - 1
        if "upToGbSeconds" not in tier and not last:
            raise PriceTableError(f"{where}[{i}]: upToGbSeconds is missing (only the last tier is open)")
        up_to = math.inf if "upToGbSeconds" not in tier else \
            _price(tier["upToGbSeconds"], f"{where}[{i}].upToGbSeconds")
        if out and up_to <= out[-1].up_to:
            raise PriceTableError(f"{where}[{i}]: upToGbSeconds must grow from tier to tier")
        out.append(Tier(up_to, _price(tier.get("perGbSecond"), f"{where}[{i}].perGbSecond")))
    if out[-1].up_to != math.inf:
        out.append(Tier(math.inf, out[-1].per_gb_second))   # past the table's last bound: its last price
    return tuple(out)


def gb_seconds(memory_mb: int, billed_ms: int) -> float:
    return memory_mb / 1024 * billed_ms / 1000


@dataclass
class MonthBill:
    """A month's running use, in the order it happened: the next invocation's price depends on it
    (tiers, free tier). Not thread-safe: one thread charges."""

    prices: PriceTable
    free_tier: bool = False
    requests: int = 0
    gb_seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(ARCHITECTURES, 0.0))

    def charge(self, arch: str, gb_s: float, requests: int = 1) -> float:
        """The dollars of `requests` requests and `gb_s` GB-seconds on `arch`, and counted as used."""
        prices = self.prices
        free_requests = free_gb_s = 0.0
        if self.free_tier:
            free_requests = min(requests, max(0, prices.free_requests - self.requests))
            used = sum(self.gb_seconds.values())
            free_gb_s = min(gb_s, max(0.0, prices.free_gb_seconds - used))
        dollars = (requests - free_requests) * prices.per_request
        dollars += _tiered(prices.tiers.get(arch) or prices.tiers["x86_64"], self.gb_seconds.get(arch, 0.0)
                           + free_gb_s, gb_s - free_gb_s)
        self.requests += requests
        self.gb_seconds[arch] = self.gb_seconds.get(arch, 0.0) + gb_s
        return dollars


def _tiered(tiers: tuple[Tier, ...], used: float, more: float) -> float:
    """The price of `more` GB-s after `used` GB-s this month, tier by tier."""
    dollars, at = 0.0, used
    for tier in tiers:
        if more <= 0:
            break
        if at >= tier.up_to:
            continue
        here = min(more, tier.up_to - at)
        dollars += here * tier.per_gb_second
        at += here
        more -= here
    return dollars
