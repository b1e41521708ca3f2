"""Reserved concurrency (PutFunctionConcurrency and its kin): the rules, the stored values, and
the figures the invoker's limiter reads.

A function with a reservation runs at most that many invocations at once (0 throttles every call)
and those are its own: the rest of the account shares what is left. AWS keeps at least 100 of an
account's 1,000 unreserved; an account limit below 1,000 (`--max-concurrency`) keeps a tenth.
A reservation belongs to the function, not to a version, and goes when the function goes.
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..store.db import Database
from .validate import type_error

FIELD = "ReservedConcurrentExecutions"


def unreserved_minimum(account_limit: int) -> int:
    return min(100, account_limit // 10)


class ConcurrencyBook:
    """The reservations by function name, and what stays for the functions without one.

    `reserved` and `unreserved` are read on every invocation (by the limiter), so they are plain
    attributes kept up to date on each change, never computed on the request path."""

    __slots__ = ("db", "account_limit", "reserved", "unreserved")

    def __init__(self, db: Database, account_limit: int) -> None:
        self.db = db
        self.account_limit = account_limit
        self.reserved: dict[str, int] = {}
        self.unreserved = account_limit

    def load(self) -> None:
        self.reserved = self.db.load_reserved_concurrency()
        self._recount()

    def get(self, name: str) -> int | None:
        return self.reserved.get(name)

    def put(self, name: str, body: dict[str, Any]) -> int:
        value = check_reservation(body)
        others = sum(n for fn, n in self.reserved.items() if fn != name)
        minimum = unreserved_minimum(self.account_limit)
        if self.account_limit - others - value < minimum:
            raise errors.InvalidParameterValue(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{minimum}].")
        self.db.put_reserved_concurrency(name, value)
        self.reserved[name] = value
        self._recount()
        return value

    def delete(self, name: str) -> None:
        self.db.delete_reserved_concurrency(name)
        self.forget(name)

    def forget(self, name: str) -> None:
        """The function is gone (its row went with it, in the function's own transaction)."""
        if self.reserved.pop(name, None) is not None:
            self._recount()

    def _recount(self) -> None:
        # A home reserved under a larger --max-concurrency can leave less than nothing: nothing it is.
        self.unreserved = max(0, self.account_limit - sum(self.reserved.values()))


def check_reservation(body: dict[str, Any]) -> int:
    value = body.get(FIELD)
    if value is None:
        raise errors.ValidationError("1 validation error detected: Value null at 'reservedConcurrentExecutions' "
                                     "failed to satisfy constraint: Member must not be null")
    if not isinstance(value, int) or isinstance(value, bool):
        raise type_error(FIELD, value, "an integer")
    if value < 0:
        raise errors.ValidationError(
            f"1 validation error detected: Value '{value}' at 'reservedConcurrentExecutions' failed to satisfy "
            "constraint: Member must have value greater than or equal to 0")
    return value
