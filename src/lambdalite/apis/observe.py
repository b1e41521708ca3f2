"""Lambdalite's own endpoints for metrics, cost, budgets and stats:

    GET    /_lambdalite/metrics                          Prometheus text (names lambdalite_*)
    GET    /_lambdalite/cost[?by=function|version|day&month=YYYY-MM]
                                                         {"month", "by", "lines": [...], "total", "prices"}
    GET    /_lambdalite/budgets                          {"month", "budgets": [{scope, function, monthlyBudget,
                                                          spent, usedRatio, warned, refusing}]}
    PUT    /_lambdalite/budgets {"amount": 5.0[, "function": F]}   a month's budget (server, or F's)
    DELETE /_lambdalite/budgets[?function=F]             no budget any more
    GET    /_lambdalite/stats?function=F[&since=SECONDS] count, errors, throttles, p50/p90/p99, cold share

Errors are the AWS-style JSON of the other own endpoints.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from .. import errors
from ..functions.service import FunctionService
from ..observe import reports
from ..observe.history import History
from ..observe.metrics import CONTENT_TYPE, Live, Metrics, render
from ..observe.spending import SERVER, Budgets, month_days
from .http import Raw, Receive, Scope, Send, answer, read_request

PATHS = ("/_lambdalite/metrics", "/_lambdalite/cost", "/_lambdalite/budgets", "/_lambdalite/stats")
BODY_LIMIT = 64 * 1024
Answer = tuple[int, Any]


def handles(path: str) -> bool:
    return path in PATHS


class ObserveApi:
    def __init__(self, functions: FunctionService, history: History, metrics: Metrics, live: Callable[[], Live],
                 budgets: Budgets) -> None:
        self.functions = functions
        self.history = history
        self.metrics = metrics
        self.live = live
        self.budgets = budgets

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request, too_large = await read_request(scope, receive, BODY_LIMIT)
        error = errors.RequestTooLarge(f"Request must be smaller than {BODY_LIMIT} bytes") if too_large else None

        async def route(request: Any) -> Answer:
            key = (request.method, request.path)
            if request.method == "GET":
                await self.history.caught_up()
            if key == ("GET", "/_lambdalite/metrics"):
                live = self.live()   # read on the event loop; the text is made in a thread (tens of ms)
                return 200, Raw(await asyncio.to_thread(render, self.metrics, live), CONTENT_TYPE.encode())
            if key == ("GET", "/_lambdalite/cost"):
                return 200, self.cost(request.query)
            if key == ("GET", "/_lambdalite/stats"):
                return 200, self.stats(request.query)
            if request.path == "/_lambdalite/budgets":
                return 200, self.budget(request.method, request.query, request)
            raise errors.ResourceNotFound(f"No Lambdalite endpoint answers {request.method} {request.path}.")
        await answer(send, request, error, route)

    def cost(self, query: dict[str, str]) -> dict[str, Any]:
        by = query.get("by") or "function"
        if by not in reports.BY:
            raise errors.ValidationError(f"by must be one of {', '.join(reports.BY)}, not {by!r}")
        month = query.get("month") or self.budgets.spending.month
        try:
            first, last = month_days(month)
        except ValueError:
            raise errors.ValidationError(f"month must be YYYY-MM (such as 2026-12), not {month!r}") from None
        spending = self.budgets.spending
        return {"month": month, **reports.cost_report(self.history.costs(first, last), by),
                "prices": spending.prices.describe(), "freeTier": spending.free_tier}

    def stats(self, query: dict[str, str]) -> dict[str, Any]:
        name = query.get("function", "")
        self.functions.resolve(name, None)   # AWS's 404 for a function that is not there
        raw = query.get("since") or "3600"
        try:
            since_s = float(raw)
        except ValueError:
            since_s = -1.0
        if not since_s > 0:
            raise errors.ValidationError(f"since must be a number of seconds above 0, not {raw!r}")
        since_ms = int((time.time() - since_s) * 1000)
        return {"function": name, "sinceSeconds": since_s,
                **reports.stats(self.history.stat_rows(name, since_ms))}

    def budget(self, method: str, query: dict[str, str], request: Any) -> dict[str, Any]:
        if method == "GET":
            return {"month": self.budgets.spending.month, "budgets": self.budgets.listing()}
        if method == "PUT":
            body = request.json()
            scope = self._scope(body.get("function"))
            if "amount" not in body:
                raise errors.InvalidParameterValue('Give the budget as {"amount": 5.00} (and "function": NAME for '
                                                   "one function's)")
            self.budgets.set(scope, body["amount"])
        elif method == "DELETE":
            scope = self._scope(query.get("function"))
            if not self.budgets.clear(scope):
                raise errors.ResourceNotFound(f"There is no budget for {'the server' if scope == SERVER else scope}.")
        else:
            raise errors.ResourceNotFound(f"No Lambdalite endpoint answers {method} /_lambdalite/budgets.")
        return {"month": self.budgets.spending.month, "budgets": self.budgets.listing()}

    def _scope(self, function: Any) -> str:
        if function is None or function == "":
            return SERVER
        if not isinstance(function, str):
            raise errors.InvalidParameterValue("function must be a function's name")
        self.functions.resolve(function, None)
        return function
