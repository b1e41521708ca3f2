"""This month's spending, charged as invocations finish, and the budgets that stop it (beyond AWS).

`Spending.charge` prices one invocation on the month's running bill (`pricing.MonthBill`) on the
invoke path: a few float operations, on the event loop's thread only (no lock). The recorder writes
each day's cost per function version (`costs` table); at startup the month's rows rebuild the bill.
Months are UTC months of the server clock, so the test clock can turn one.

`Budgets` holds a month's budget for the server and per function. `check` refuses an invocation
once spending has reached a budget (429 TooManyRequestsException, Reason BudgetExceeded) until the
budget is raised or the month turns; `charged` warns once per month at 50%, 80% and 100%.
"""

from __future__ import annotations

import calendar
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from .. import errors
from ..store import Database
from .pricing import MonthBill, PriceTable, gb_seconds

log = logging.getLogger("lambdalite.budgets")

SERVER = ""                        # the scope of the server-wide budget
THRESHOLDS = (0.5, 0.8, 1.0)       # warned once each per scope and month


def month_of(epoch: float) -> str:
    return time.strftime("%Y-%m", time.gmtime(epoch))


def month_days(month: str) -> tuple[str, str]:
    """The first and last day (YYYY-MM-DD) of a month YYYY-MM; ValueError when it is not one."""
    year, number = (int(part) for part in month.split("-"))
    if not 1 <= number <= 12 or len(month) != 7:
        raise ValueError(month)
    return f"{month}-01", f"{month}-{calendar.monthrange(year, number)[1]:02d}"


class Spending:
    def __init__(self, prices: PriceTable, free_tier: bool, now: Callable[[], float]) -> None:
        self.prices = prices
        self.free_tier = free_tier
        self._now = now
        self.month = ""
        self.bill = MonthBill(prices, free_tier)
        self.total = 0.0
        self.by_function: dict[str, float] = {}
        self._day = ""
        self._day_ends = -math.inf

    def load(self, db: Database) -> None:
        """The current month's cost rows (written by the recorder) as spent so far."""
        self._turn(self._now())
        first, last = month_days(self.month)
        for row in db.costs(first, last):
            self.bill.requests += row.requests
            self.bill.gb_seconds[row.arch] = self.bill.gb_seconds.get(row.arch, 0.0) + row.gb_seconds
            self.total += row.dollars
            self.by_function[row.function] = self.by_function.get(row.function, 0.0) + row.dollars

    def charge(self, function: str, arch: str, memory_mb: int, billed_ms: int) -> tuple[float, float, str]:
        """(dollars, GB-seconds, day) of one invocation, added to this month's spending."""
        now = self._now()
        if now >= self._day_ends:
            self._turn(now)
        gb_s = gb_seconds(memory_mb, billed_ms)
        dollars = self.bill.charge(arch, gb_s)
        self.total += dollars
        self.by_function[function] = self.by_function.get(function, 0.0) + dollars
        return dollars, gb_s, self._day

    def spent(self, scope: str) -> float:
        if self._now() >= self._day_ends:
            self._turn(self._now())
        return self.total if scope == SERVER else self.by_function.get(scope, 0.0)

    def _turn(self, now: float) -> None:
        """A new day; a new month starts a new bill."""
        day = time.gmtime(now)
        self._day = time.strftime("%Y-%m-%d", day)
        self._day_ends = calendar.timegm((day.tm_year, day.tm_mon, day.tm_mday, 0, 0, 0)) + 86400
        month = self._day[:7]
        if month != self.month:
            self.month = month
            self.bill = MonthBill(self.prices, self.free_tier)
            self.total = 0.0
            self.by_function = {}


class Budgets:
    def __init__(self, db: Database, spending: Spending, warn: Callable[[str, str], None]) -> None:
        self._db = db
        self.spending = spending
        self._warn = warn          # (scope, text): a warning line for the logs
        self.limits: dict[str, float] = {}
        self._warned: dict[str, tuple[str, float]] = {}   # scope -> (month, highest threshold warned)

    def load(self) -> None:
        self.limits = self._db.load_budgets()

    def set(self, scope: str, dollars: Any) -> None:
        amount = parse_amount(dollars)
        self._db.put_budget(scope, amount)
        self.limits[scope] = amount
        self._warned.pop(scope, None)

    def clear(self, scope: str) -> bool:
        if scope not in self.limits:
            return False
        self._db.put_budget(scope, None)
        del self.limits[scope]
        self._warned.pop(scope, None)
        return True

    def forget(self, function: str) -> None:
        """The function was deleted (the store dropped its budget with it)."""
        self.limits.pop(function, None)
        self._warned.pop(function, None)

    def check(self, function: str) -> None:
        """TooManyRequests (Reason BudgetExceeded) when the function's or the server's budget is spent."""
        for scope in (function, SERVER):
            budget = self.limits.get(scope)
            if budget is not None and self.spending.spent(scope) >= budget:
                raise errors.TooManyRequests(refusal(scope, budget, self.spending.spent(scope), self.spending.month),
                                             Reason="BudgetExceeded")

    def charged(self, function: str) -> None:
        """After an invocation was charged: a warning per threshold crossed this month."""
        for scope in (function, SERVER):
            budget = self.limits.get(scope)
            if budget is None:
                continue
            spent = self.spending.spent(scope)
            ratio = spent / budget if budget else math.inf
            month = self.spending.month
            warned_month, warned = self._warned.get(scope, ("", 0.0))
            if warned_month != month:
                warned = 0.0
            crossed = [t for t in THRESHOLDS if ratio >= t > warned]
            if crossed:
                self._warned[scope] = (month, crossed[-1])
                text = warning(scope, budget, spent, crossed[-1], month)
                log.warning("%s", text)
                self._warn(scope, text)

    def listing(self) -> list[dict[str, Any]]:
        out = []
        for scope, budget in sorted(self.limits.items()):
            spent = self.spending.spent(scope)
            warned_month, warned = self._warned.get(scope, ("", 0.0))
            out.append({"scope": "server" if scope == SERVER else "function", "function": scope or None,
                        "monthlyBudget": budget, "spent": round(spent, 10), "month": self.spending.month,
                        "usedRatio": round(spent / budget, 6) if budget else None,
                        "warned": warned if warned_month == self.spending.month else 0.0,
                        "refusing": spent >= budget})
        return out


def parse_amount(value: Any) -> float:
    """A budget in dollars: a number (or numeric text) of 0 or more; ValidationFailed otherwise."""
    if isinstance(value, bool):
        raise errors.InvalidParameterValue(f"a budget is an amount in dollars, not {value!r}")
    try:
        amount = float(value)
    except (TypeError, ValueError):
        raise errors.InvalidParameterValue(f"a budget is an amount in dollars such as 5.00, not {value!r}") from None
    if not math.isfinite(amount) or amount < 0:
        raise errors.InvalidParameterValue(f"a budget must be 0 or more dollars, not {value!r}")
    return amount


def _who(scope: str) -> str:
    return "the server" if scope == SERVER else f"function {scope}"


def refusal(scope: str, budget: float, spent: float, month: str) -> str:
    raise_it = "lambdalite budget set AMOUNT" + ("" if scope == SERVER else f" --function {scope}")
    return (f"Budget exceeded: {_who(scope)} has spent ${spent:.6f} of its ${budget:.6f} budget for {month} "
            f"(UTC). Raise it with `{raise_it}`, or wait for the month to turn.")


def warning(scope: str, budget: float, spent: float, threshold: float, month: str) -> str:
    then = "new invocations are refused until it is raised or the month turns" if threshold >= 1 else \
        "at 100% new invocations are refused"
    return (f"[lambdalite] budget: {_who(scope)} has spent ${spent:.6f}, {int(threshold * 100)}% of its "
            f"${budget:.6f} budget for {month}; {then}")
