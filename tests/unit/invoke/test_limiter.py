"""The concurrency limit every backend shares."""

from __future__ import annotations

import pytest

from lambdalite import errors
from lambdalite.invoke.limiter import ConcurrencyLimiter


def test_the_limit_throttles_with_lambdas_error_and_frees_on_exit() -> None:
    limiter = ConcurrencyLimiter(2)
    limiter.enter()
    limiter.enter()
    with pytest.raises(errors.TooManyRequests) as caught:
        limiter.enter()
    assert caught.value.status == 429 and caught.value.message == "Rate Exceeded."
    assert caught.value.body() == {"Reason": "ConcurrentInvocationLimitExceeded", "Type": "User",
                                   "message": "Rate Exceeded."}
    assert limiter.in_flight == 2
    limiter.exit()
    limiter.enter()
    assert limiter.in_flight == 2


def test_a_limit_of_zero_throttles_everything() -> None:
    with pytest.raises(errors.TooManyRequests):
        ConcurrencyLimiter(0).enter()
