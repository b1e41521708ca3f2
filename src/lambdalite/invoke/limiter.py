"""The concurrency limit: how many invocations may run at once across the server, over any backend.

Checked before a backend is asked, so every backend shares one rule: over the limit, Lambda's
throttling error at once (429 TooManyRequestsException, Reason ConcurrentInvocationLimitExceeded),
never a queue. Plain counters, no lock: the event loop is the only caller.
"""

from __future__ import annotations

from .. import errors


class ConcurrencyLimiter:
    __slots__ = ("limit", "in_flight")

    def __init__(self, limit: int) -> None:
        self.limit = limit          # 0 throttles every invocation
        self.in_flight = 0

    def enter(self) -> None:
        """Count one more invocation in, or raise TooManyRequests when the limit is reached."""
        if self.in_flight >= self.limit:
            raise errors.TooManyRequests("Rate Exceeded.", Reason="ConcurrentInvocationLimitExceeded")
        self.in_flight += 1

    def exit(self) -> None:
        self.in_flight -= 1
