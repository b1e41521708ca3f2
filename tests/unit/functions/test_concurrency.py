"""Reserved concurrency's rules and their storage (PutFunctionConcurrency's input, the minimum
unreserved, persistence)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdalite import errors
from lambdalite.functions.concurrency import ConcurrencyBook, check_reservation, unreserved_minimum
from lambdalite.store import Database


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database(tmp_path / "lambdalite.sqlite")


def test_put_keeps_the_value_and_what_is_left(db: Database) -> None:
    book = ConcurrencyBook(db, 1000)
    assert book.put("f", {"ReservedConcurrentExecutions": 100}) == 100
    assert book.get("f") == 100 and book.unreserved == 900
    book.put("f", {"ReservedConcurrentExecutions": 5})    # replacing its own value, not adding to it
    assert book.unreserved == 995


def test_at_least_a_hundred_stay_unreserved_as_aws_has_it(db: Database) -> None:
    book = ConcurrencyBook(db, 1000)
    book.put("f", {"ReservedConcurrentExecutions": 900})
    with pytest.raises(errors.InvalidParameterValue) as caught:
        book.put("g", {"ReservedConcurrentExecutions": 1})
    assert caught.value.message == ("Specified ReservedConcurrentExecutions for function decreases account's "
                                    "UnreservedConcurrentExecution below its minimum value of [100].")
    assert book.get("g") is None and book.unreserved == 100
    assert ConcurrencyBook(db, 1000).get("g") is None


@pytest.mark.parametrize(("limit", "minimum"), [(1000, 100), (5000, 100), (128, 12), (9, 0), (0, 0)])
def test_the_minimum_follows_a_smaller_account_limit(limit: int, minimum: int) -> None:
    assert unreserved_minimum(limit) == minimum


def test_zero_is_a_valid_reservation(db: Database) -> None:
    book = ConcurrencyBook(db, 1000)
    assert book.put("off", {"ReservedConcurrentExecutions": 0}) == 0
    assert book.get("off") == 0 and book.unreserved == 1000


@pytest.mark.parametrize(("body", "kind", "text"), [
    ({}, errors.ValidationError, "Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: "
                                 "Member must not be null"),
    ({"ReservedConcurrentExecutions": None}, errors.ValidationError, "Member must not be null"),
    ({"ReservedConcurrentExecutions": -1}, errors.ValidationError,
     "Value '-1' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value "
     "greater than or equal to 0"),
    ({"ReservedConcurrentExecutions": "5"}, errors.InvalidRequestContent, "must be an integer"),
    ({"ReservedConcurrentExecutions": 1.5}, errors.InvalidRequestContent, "must be an integer"),
    ({"ReservedConcurrentExecutions": True}, errors.InvalidRequestContent, "must be an integer"),
])
def test_bad_input_is_refused_with_awss_errors(body: dict[str, object], kind: type[Exception], text: str) -> None:
    with pytest.raises(kind) as caught:
        check_reservation(body)
    assert text in str(caught.value)


def test_bad_input_leaves_the_stored_value(db: Database) -> None:
    book = ConcurrencyBook(db, 1000)
    book.put("f", {"ReservedConcurrentExecutions": 7})
    with pytest.raises(errors.ValidationError):
        book.put("f", {"ReservedConcurrentExecutions": -3})
    assert book.get("f") == 7


def test_reservations_survive_a_restart_and_delete_forgets(db: Database) -> None:
    book = ConcurrencyBook(db, 1000)
    book.put("f", {"ReservedConcurrentExecutions": 3})
    book.put("g", {"ReservedConcurrentExecutions": 4})
    book.delete("g")
    again = ConcurrencyBook(db, 1000)
    again.load()
    assert again.reserved == {"f": 3} and again.unreserved == 997


def test_a_deleted_function_takes_its_reservation_with_it(db: Database) -> None:
    book = ConcurrencyBook(db, 1000)
    book.put("f", {"ReservedConcurrentExecutions": 3})
    db.delete_function("f")
    book.forget("f")
    again = ConcurrencyBook(db, 1000)
    again.load()
    assert again.reserved == {} and book.unreserved == 1000
