"""The concurrency limits: how many invocations may run at once, per function and across the
server, over any backend.

Checked before a backend is asked, so every backend shares one rule: over a limit, Lambda's
throttling error at once (429 TooManyRequestsException), never a queue. A function with reserved
concurrency counts against its reservation only (Reason
ReservedFunctionConcurrentInvocationLimitExceeded); every other function shares what the
reservations leave of the account's limit (Reason ConcurrentInvocationLimitExceeded). The figures
come from the functions' ConcurrencyBook, kept current there; here are plain counters and no lock:
the event loop is the only caller.
"""

from __future__ import annotations

from .. import errors
from ..functions.concurrency import ConcurrencyBook

RESERVED_REASON = "ReservedFunctionConcurrentInvocationLimitExceeded"


class ConcurrencyLimiter:
    __slots__ = ("book", "unreserved_in_flight", "by_function")

    def __init__(self, book: ConcurrencyBook) -> None:
        self.book = book
        self.unreserved_in_flight = 0            # invocations running now of functions without a reservation
        self.by_function: dict[str, int] = {}    # those of functions with one, by name

    @property
    def in_flight(self) -> int:
        """Every invocation running now."""
        return self.unreserved_in_flight + sum(self.by_function.values())

    def enter(self, name: str) -> bool:
        """Count one more invocation of `name` in, or raise TooManyRequests when its limit is reached.
        Returns whether it counted against a reservation: pass that back to exit()."""
        reserved = self.book.reserved.get(name)
        if reserved is not None:
            running = self.by_function.get(name, 0)
            if running >= reserved:
                raise errors.TooManyRequests("Rate Exceeded.", Reason=RESERVED_REASON)
            self.by_function[name] = running + 1
        else:
            if self.unreserved_in_flight >= self.book.unreserved:
                raise errors.TooManyRequests("Rate Exceeded.", Reason="ConcurrentInvocationLimitExceeded")
            self.unreserved_in_flight += 1
        return reserved is not None

    def exit(self, name: str, reserved: bool) -> None:
        """One invocation of `name` is over; `reserved` is what enter() returned for it (a reservation
        put or deleted while it ran does not move it to the other count)."""
        if reserved:
            left = self.by_function[name] - 1
            if left:
                self.by_function[name] = left
            else:
                del self.by_function[name]
        else:
            self.unreserved_in_flight -= 1
