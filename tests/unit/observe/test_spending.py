"""The month's spending and the budgets that refuse work once it is spent."""

from __future__ import annotations

import calendar
from pathlib import Path

import pytest

from lambdalite import errors
from lambdalite.observe.pricing import DEFAULT_TABLE, PriceTable
from lambdalite.observe.spending import SERVER, Budgets, Spending, month_days, parse_amount
from lambdalite.store import CostRow, Database

DEC_7 = calendar.timegm((2026, 12, 7, 18, 0, 0))
JAN_1 = calendar.timegm((2027, 1, 1, 0, 0, 0))


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def spending(clock: Clock, free_tier: bool = False) -> Spending:
    return Spending(PriceTable.parse(DEFAULT_TABLE), free_tier, clock)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database(tmp_path / "lambdalite.db")


def test_a_charge_is_priced_and_dated_on_the_server_clock() -> None:
    clock = Clock(DEC_7)
    spent = spending(clock)
    dollars, gb_s, day = spent.charge("addfive", "x86_64", 128, 4)
    assert day == "2026-12-07" and gb_s == pytest.approx(0.0005)
    assert dollars == pytest.approx(0.0000002 + 0.0005 * 0.0000166667)
    assert spent.spent("addfive") == spent.spent(SERVER) == pytest.approx(dollars)
    assert spent.spent("other") == 0.0 and spent.month == "2026-12"


def test_the_month_turning_starts_a_new_bill() -> None:
    clock = Clock(JAN_1 - 1)
    spent = spending(clock)
    spent.charge("f", "x86_64", 1024, 1000)
    assert spent.spent("f") > 0
    clock.now = JAN_1
    assert spent.spent("f") == 0.0 and spent.month == "2027-01"
    assert spent.charge("f", "x86_64", 128, 1)[2] == "2027-01-01"


def test_a_restart_takes_the_months_cost_rows_back(db: Database) -> None:
    db.append([], [], [CostRow("2026-12-01", "f", "$LATEST", "x86_64", 10, 2.0, 0.5),
                       CostRow("2026-12-07", "g", "1", "arm64", 1, 1.0, 0.25),
                       CostRow("2026-11-30", "f", "$LATEST", "x86_64", 99, 99.0, 9.0)])
    spent = spending(Clock(DEC_7))
    spent.load(db)
    assert spent.spent("f") == pytest.approx(0.5) and spent.spent(SERVER) == pytest.approx(0.75)
    assert spent.bill.requests == 11 and spent.bill.gb_seconds == {"x86_64": 2.0, "arm64": 1.0}


def test_a_function_budget_refuses_once_spent_and_names_itself(db: Database) -> None:
    spent = spending(Clock(DEC_7))
    warnings: list[tuple[str, str]] = []
    budgets = Budgets(db, spent, lambda scope, text: warnings.append((scope, text)))
    budgets.set("addfive", "0.000001")
    budgets.check("addfive")
    for _ in range(5):
        spent.charge("addfive", "x86_64", 128, 1)
        budgets.charged("addfive")
    with pytest.raises(errors.TooManyRequests) as refused:
        budgets.check("addfive")
    assert refused.value.status == 429 and refused.value.extra == {"Reason": "BudgetExceeded"}
    assert "function addfive" in refused.value.message and "lambdalite budget set" in refused.value.message
    budgets.check("other")   # another function is not held back
    assert [w[0] for w in warnings] == ["addfive", "addfive", "addfive"]
    assert ["50%" in warnings[0][1], "80%" in warnings[1][1], "100%" in warnings[2][1]] == [True] * 3


def test_raising_the_budget_lets_work_through_again(db: Database) -> None:
    spent = spending(Clock(DEC_7))
    budgets = Budgets(db, spent, lambda scope, text: None)
    budgets.set("f", 0)
    with pytest.raises(errors.TooManyRequests):
        budgets.check("f")
    budgets.set("f", 1.0)
    budgets.check("f")
    assert budgets.clear("f") and not budgets.clear("f")


def test_the_server_budget_holds_back_every_function(db: Database) -> None:
    spent = spending(Clock(DEC_7))
    budgets = Budgets(db, spent, lambda scope, text: None)
    budgets.set(SERVER, 0.0000005)
    spent.charge("a", "x86_64", 128, 1)
    spent.charge("b", "x86_64", 128, 1)
    spent.charge("c", "x86_64", 128, 1)
    with pytest.raises(errors.TooManyRequests, match="the server has spent"):
        budgets.check("d")


def test_a_refused_month_turns_back_into_a_working_one(db: Database) -> None:
    clock = Clock(JAN_1 - 60)
    spent = spending(clock)
    budgets = Budgets(db, spent, lambda scope, text: None)
    budgets.set("f", 0.0000001)
    spent.charge("f", "x86_64", 128, 1)
    with pytest.raises(errors.TooManyRequests):
        budgets.check("f")
    clock.now = JAN_1 + 1
    budgets.check("f")


def test_warnings_come_once_per_threshold_and_month(db: Database) -> None:
    clock = Clock(DEC_7)
    spent = spending(clock)
    warnings: list[str] = []
    budgets = Budgets(db, spent, lambda scope, text: warnings.append(text))
    budgets.set(SERVER, 0.000001)
    for _ in range(20):
        spent.charge("f", "x86_64", 128, 1)
        budgets.charged("f")
    assert len(warnings) == 3
    clock.now = JAN_1 + 5
    for _ in range(4):
        spent.charge("f", "x86_64", 128, 1)
        budgets.charged("f")
    assert len(warnings) == 5 and "2027-01" in warnings[-1]   # 50% and 80% of January


def test_budgets_are_kept_in_the_store(db: Database, tmp_path: Path) -> None:
    budgets = Budgets(db, spending(Clock(DEC_7)), lambda scope, text: None)
    budgets.set("f", 2.5)
    budgets.set(SERVER, 10)
    again = Budgets(Database(tmp_path / "lambdalite.db"), spending(Clock(DEC_7)), lambda scope, text: None)
    again.load()
    assert again.limits == {"f": 2.5, SERVER: 10.0}
    listing = again.listing()
    assert [b["scope"] for b in listing] == ["server", "function"] and listing[1]["function"] == "f"
    assert listing[1]["usedRatio"] == 0.0 and not listing[1]["refusing"]


@pytest.mark.parametrize("amount", [-1, "-0.01", "five", None, True, float("nan"), float("inf"), [1]])
def test_a_budget_that_is_negative_or_not_a_number_is_refused(amount: object, db: Database) -> None:
    budgets = Budgets(db, spending(Clock(DEC_7)), lambda scope, text: None)
    with pytest.raises(errors.InvalidParameterValue, match="budget"):
        budgets.set("f", amount)
    assert budgets.limits == {} and db.load_budgets() == {}


def test_amounts_and_months_parse() -> None:
    assert parse_amount("5.00") == 5.0 and parse_amount(0) == 0.0
    assert month_days("2026-02") == ("2026-02-01", "2026-02-28")
    assert month_days("2028-02") == ("2028-02-01", "2028-02-29")
    for bad in ("2026-13", "2026-1", "december", "2026-12-01"):
        with pytest.raises(ValueError):
            month_days(bad)
