"""Users' patterns: matched on an engine that a catastrophic pattern cannot stall (with Python's `re`
these tests would run for minutes: the timeout marks are the failure they guard against)."""

from __future__ import annotations

import pytest

from lambdalite.gateway.data import patterns
from lambdalite.gateway.data.integration import select_integration_response
from lambdalite.gateway.data.validation import compile_models


@pytest.mark.parametrize(("pattern", "value"), [("(a+)+b", "a" * 30), ("(a|aa)+b", "a" * 60),
                                                 ("^(\\w+\\s?)*$", "a" * 40 + "!")])
@pytest.mark.timeout(10)
def test_catastrophic_patterns_end_without_a_match(pattern: str, value: str) -> None:
    assert patterns.fullmatch(pattern, value) is False and patterns.search(pattern, value) is False


def test_ordinary_patterns_match_as_before() -> None:
    assert patterns.fullmatch(".*Bad.*", "a Bad thing") and not patterns.fullmatch("Bad", "a Bad thing")
    assert patterns.fullmatch(".*x.*", "a\nx", dotall=True) and not patterns.fullmatch(".*x.*", "a\nx")
    assert patterns.search("^[0-9]+$", "123") and not patterns.search("^[0-9]+$", "12a")
    assert patterns.fullmatch("(unclosed", "(unclosed") is False   # unreadable: never matches


@pytest.mark.timeout(10)
def test_selection_falls_back_to_the_default_when_a_pattern_runs_out_of_time() -> None:
    responses = {"200": {"statusCode": "200"}, "400": {"statusCode": "400", "selectionPattern": "(a|aa)+b"},
                 "404": {"statusCode": "404", "selectionPattern": ".*not found.*"}}
    assert select_integration_response(responses, "a" * 60)[0] == 200
    assert select_integration_response(responses, "item not found")[0] == 404


@pytest.mark.timeout(10)
def test_model_patterns_run_on_the_time_limited_engine() -> None:
    name = {"type": "string", "pattern": "^(a|aa)+b$"}
    models = compile_models({"M": {"type": "object", "properties": {"name": name},
                                   "patternProperties": {"^x-(a|aa)+$": {"type": "integer"}},
                                   "additionalProperties": False}})
    assert models.is_valid("M", {"name": "aab", "x-aa": 1})
    assert not models.is_valid("M", {"name": "a" * 60})
    assert not models.is_valid("M", {"x-" + "a" * 60 + "!": 1})     # matches no pattern: an extra property
    assert not models.is_valid("M", {"x-aa": "not an integer"})
