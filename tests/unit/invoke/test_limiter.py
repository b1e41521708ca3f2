"""The concurrency limits every backend shares: the account's, and a function's reservation."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdalite import errors
from lambdalite.functions.concurrency import ConcurrencyBook
from lambdalite.invoke.limiter import ConcurrencyLimiter
from lambdalite.store import Database


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database(tmp_path / "lambdalite.sqlite")


def limiter_for(db: Database, account: int, **reserved: int) -> ConcurrencyLimiter:
    book = ConcurrencyBook(db, account)
    for name, value in reserved.items():
        book.reserved[name] = value    # as loaded from the store, past the minimum rule
    book._recount()
    return ConcurrencyLimiter(book)


def test_the_limit_throttles_with_lambdas_error_and_frees_on_exit(db: Database) -> None:
    limiter = limiter_for(db, 2)
    a, b = limiter.enter("f"), limiter.enter("g")
    with pytest.raises(errors.TooManyRequests) as caught:
        limiter.enter("f")
    assert caught.value.status == 429 and caught.value.message == "Rate Exceeded."
    assert caught.value.body() == {"Reason": "ConcurrentInvocationLimitExceeded", "Type": "User",
                                   "message": "Rate Exceeded."}
    assert limiter.in_flight == 2 and (a, b) == (False, False)
    limiter.exit("f", a)
    limiter.enter("h")
    assert limiter.in_flight == 2


def test_a_limit_of_zero_throttles_everything(db: Database) -> None:
    with pytest.raises(errors.TooManyRequests):
        limiter_for(db, 0).enter("f")


def test_a_reservation_caps_its_function_with_the_reserved_reason(db: Database) -> None:
    limiter = limiter_for(db, 10, capped=2)
    assert limiter.enter("capped") and limiter.enter("capped")
    with pytest.raises(errors.TooManyRequests) as caught:
        limiter.enter("capped")
    assert caught.value.body()["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    limiter.exit("capped", True)
    assert limiter.by_function == {"capped": 1}
    limiter.exit("capped", True)
    assert limiter.by_function == {} and limiter.in_flight == 0


def test_a_reservation_of_zero_throttles_its_function_only(db: Database) -> None:
    limiter = limiter_for(db, 10, off=0)
    with pytest.raises(errors.TooManyRequests) as caught:
        limiter.enter("off")
    assert caught.value.body()["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert limiter.enter("other") is False


def test_reservations_are_taken_from_what_the_others_share(db: Database) -> None:
    limiter = limiter_for(db, 5, big=3)
    limiter.enter("a")
    limiter.enter("b")
    with pytest.raises(errors.TooManyRequests) as caught:
        limiter.enter("c")
    assert caught.value.body()["Reason"] == "ConcurrentInvocationLimitExceeded"
    for _ in range(3):
        limiter.enter("big")     # the reservation is there even when the rest is used up
    assert limiter.in_flight == 5


def test_a_reservation_changed_while_running_leaves_the_right_count(db: Database) -> None:
    limiter = limiter_for(db, 10)
    counted = limiter.enter("f")
    limiter.book.reserved["f"] = 1
    limiter.exit("f", counted)
    assert limiter.unreserved_in_flight == 0 and limiter.by_function == {}


def test_reservations_past_the_account_limit_leave_nothing_rather_than_less(db: Database) -> None:
    limiter = limiter_for(db, 4, a=3, b=3)      # a home reserved under a larger --max-concurrency
    assert limiter.book.unreserved == 0
    with pytest.raises(errors.TooManyRequests):
        limiter.enter("c")
