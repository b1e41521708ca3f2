"""Pricing as AWS bills Lambda (reference/aws-lambda.md 6.2): requests, GB-seconds, tiers, free tier."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from lambdalite.observe.pricing import DEFAULT_TABLE, MonthBill, PriceTable, PriceTableError, gb_seconds

PER_REQUEST = 0.0000002
X86 = 0.0000166667


def table() -> PriceTable:
    return PriceTable.parse(DEFAULT_TABLE)


def test_gb_seconds_are_memory_in_gb_times_billed_seconds() -> None:
    assert gb_seconds(128, 1) == 128 / 1024 / 1000
    assert gb_seconds(1024, 1000) == 1.0
    assert gb_seconds(10240, 900_000) == 9000.0


def test_one_invocation_costs_a_request_and_its_gb_seconds() -> None:
    bill = MonthBill(table())
    dollars = bill.charge("x86_64", gb_seconds(128, 4))
    assert dollars == pytest.approx(PER_REQUEST + 0.125 * 0.004 * X86)
    assert bill.requests == 1 and bill.gb_seconds["x86_64"] == pytest.approx(0.0005)


def test_arm64_is_cheaper_per_gb_second() -> None:
    x86 = MonthBill(table()).charge("x86_64", 1.0, requests=0)
    arm = MonthBill(table()).charge("arm64", 1.0, requests=0)
    assert x86 == pytest.approx(X86) and arm == pytest.approx(0.0000133334)


def test_the_tiers_count_the_months_use_and_split_a_charge_across_a_boundary() -> None:
    bill = MonthBill(table())
    bill.gb_seconds["x86_64"] = 6e9 - 10
    dollars = bill.charge("x86_64", 30.0, requests=0)
    assert dollars == pytest.approx(10 * X86 + 20 * 0.000015)
    assert bill.charge("x86_64", 1.0, requests=0) == pytest.approx(0.000015)
    bill.gb_seconds["x86_64"] = 20e9
    assert bill.charge("x86_64", 1.0, requests=0) == pytest.approx(0.0000133334)


def test_the_tiers_of_each_architecture_are_counted_apart() -> None:
    bill = MonthBill(table())
    bill.gb_seconds["x86_64"] = 7e9
    assert bill.charge("arm64", 1.0, requests=0) == pytest.approx(0.0000133334)


def test_the_free_tier_is_off_unless_asked_for() -> None:
    assert MonthBill(table()).charge("x86_64", 1.0) > 0
    free = MonthBill(table(), free_tier=True)
    assert free.charge("x86_64", 1.0) == 0.0


def test_the_free_tier_runs_out_and_is_shared_by_both_architectures() -> None:
    bill = MonthBill(table(), free_tier=True)
    bill.requests = 1_000_000 - 1
    bill.gb_seconds["arm64"] = 400_000 - 0.5
    assert bill.charge("x86_64", 1.0) == pytest.approx(0.5 * X86)   # the last free request, half a free GB-s
    assert bill.charge("x86_64", 1.0) == pytest.approx(PER_REQUEST + X86)


def test_a_price_table_file_replaces_the_prices(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"requestsPerMillion": 1.0, "duration": {
        "x86_64": [{"perGbSecond": 0.001}], "arm64": [{"upToGbSeconds": 10, "perGbSecond": 0.002},
                                                      {"perGbSecond": 0.001}]}}))
    prices = PriceTable.load(path)
    assert prices.per_request == pytest.approx(0.000001) and prices.free_requests == 0
    bill = MonthBill(prices)
    assert bill.charge("arm64", 12.0) == pytest.approx(0.000001 + 10 * 0.002 + 2 * 0.001)
    assert prices.describe()["duration"]["arm64"][-1] == {"perGbSecond": 0.001}


def test_a_last_tier_with_an_end_keeps_its_price_beyond_it() -> None:
    document = {**DEFAULT_TABLE, "duration": {"x86_64": [{"upToGbSeconds": 5, "perGbSecond": 0.1}],
                                              "arm64": [{"perGbSecond": 0.1}]}}
    bill = MonthBill(PriceTable.parse(document))
    assert bill.charge("x86_64", 10.0, requests=0) == pytest.approx(1.0)


@pytest.mark.parametrize(("change", "says"), [
    ({"requestsPerMillion": None}, "requestsPerMillion is missing"),
    ({"requestsPerMillion": -0.2}, "must not be negative"),
    ({"requestsPerMillion": "0.20"}, "must be a number"),
    ({"requestsPerMillion": True}, "must be a number"),
    ({"requestsPerMillion": math.nan}, "must be a number"),
    ({"duration": {"x86_64": [{"perGbSecond": 1}]}}, "duration.arm64 must be a list"),
    ({"duration": "cheap"}, "duration must be an object"),
    ({"duration": {"x86_64": [{"perGbSecond": -1}], "arm64": [{"perGbSecond": 1}]}}, "must not be negative"),
    ({"duration": {"x86_64": [{"upToGbSeconds": 5}], "arm64": [{"perGbSecond": 1}]}}, "perGbSecond is missing"),
    ({"duration": {"x86_64": [{"perGbSecond": 1}, {"perGbSecond": 1}], "arm64": [{"perGbSecond": 1}]}},
     "upToGbSeconds is missing"),
    ({"duration": {"x86_64": [{"upToGbSeconds": 5, "perGbSecond": 1}, {"upToGbSeconds": 4, "perGbSecond": 1}],
                   "arm64": [{"perGbSecond": 1}]}}, "must grow"),
    ({"freeTier": {"requests": -1}}, "freeTier.requests must not be negative"),
    ({"freeTier": []}, "freeTier must be an object"),
])
def test_a_bad_price_table_is_refused_saying_where(change: dict[str, object], says: str) -> None:
    document = {**DEFAULT_TABLE, **change}
    with pytest.raises(PriceTableError, match=says.replace(".", r"\.")):
        PriceTable.parse(document, "prices.json")


def test_a_price_table_that_is_not_json_or_not_there_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text("{not json")
    with pytest.raises(PriceTableError, match="is not JSON"):
        PriceTable.load(path)
    with pytest.raises(PriceTableError, match="cannot be read"):
        PriceTable.load(tmp_path / "missing.json")
    with pytest.raises(PriceTableError, match="must be a JSON object"):
        PriceTable.parse([1, 2])
