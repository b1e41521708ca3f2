"""Aliases' pure rules: names, routing weights and their texts, and the weighted choice."""

from __future__ import annotations

import math
import random

import pytest

from lambdalite import errors
from lambdalite.functions.aliases import Alias, check_alias_body, check_routing


def alias(version: str = "1", weights: dict[str, float] | None = None) -> Alias:
    return Alias("fn", "live", version, "rev", "", weights or {})


@pytest.mark.parametrize("name", ["live", "a", "2024-01-02", "v1_blue", "x" * 128, "LIVE-2"])
def test_alias_names_aws_accepts(name: str) -> None:
    assert check_alias_body({"Name": name, "FunctionVersion": "1"}, creating=True) == name


@pytest.mark.parametrize(("name", "fragment"), [
    ("2024", "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"),
    ("0", "Member must satisfy regular expression pattern"),
    ("has space", "Member must satisfy regular expression pattern"),
    ("dot.ted", "Member must satisfy regular expression pattern"),
    ("x" * 129, "Member must have length less than or equal to 128"),
    ("", "Member must have length greater than or equal to 1"),
])
def test_alias_names_aws_refuses(name: str, fragment: str) -> None:
    with pytest.raises(errors.ValidationError) as caught:
        check_alias_body({"Name": name, "FunctionVersion": "1"}, creating=True)
    assert fragment in str(caught.value) and "at 'name'" in str(caught.value)


def test_create_needs_a_name_and_a_version() -> None:
    with pytest.raises(errors.ValidationError) as caught:
        check_alias_body({}, creating=True)
    assert str(caught.value) == ("2 validation errors detected: Value null at 'name' failed to satisfy constraint: "
                                 "Member must not be null; Value null at 'functionVersion' failed to satisfy "
                                 "constraint: Member must not be null")


@pytest.mark.parametrize("version", ["$LATEST", "1", "42"])
def test_function_versions_accepted(version: str) -> None:
    check_alias_body({"Name": "live", "FunctionVersion": version}, creating=True)


@pytest.mark.parametrize("version", ["$latest", "v1", "1.0", ""])
def test_function_versions_refused(version: str) -> None:
    with pytest.raises(errors.ValidationError, match="functionVersion"):
        check_alias_body({"Name": "live", "FunctionVersion": version}, creating=True)


@pytest.mark.parametrize(("body", "path"), [
    ({"Name": 3, "FunctionVersion": "1"}, "Name"),
    ({"Name": "x", "FunctionVersion": 1}, "FunctionVersion"),
    ({"Name": "x", "FunctionVersion": "1", "RoutingConfig": []}, "RoutingConfig"),
])
def test_wrong_json_types_are_refused(body: dict, path: str) -> None:
    with pytest.raises(errors.InvalidRequestContent, match=path):
        check_alias_body(body, creating=True)


def test_a_long_description_is_refused() -> None:
    with pytest.raises(errors.ValidationError, match="'description'"):
        check_alias_body({"Name": "x", "FunctionVersion": "1", "Description": "d" * 257}, creating=True)


@pytest.mark.parametrize(("routing", "weights"), [
    (None, {}),
    ({}, {}),
    ({"AdditionalVersionWeights": {}}, {}),
    ({"AdditionalVersionWeights": {"2": 0.1}}, {"2": 0.1}),
    ({"AdditionalVersionWeights": {"2": 0}}, {"2": 0.0}),
    ({"AdditionalVersionWeights": {"2": 1}}, {"2": 1.0}),
])
def test_routing_aws_accepts(routing: object, weights: dict) -> None:
    assert check_routing(routing) == weights


@pytest.mark.parametrize(("weights", "shown"), [({"2": 2}, "{2=2.0}"), ({"2": -1}, "{2=-1.0}"),
                                                 ({"2": 1.5}, "{2=1.5}"), ({"2": 1.0000001}, "{2=1.0000001}")])
def test_weights_out_of_range_get_aws_text(weights: dict, shown: str) -> None:
    with pytest.raises(errors.ValidationError) as caught:
        check_routing({"AdditionalVersionWeights": weights})
    assert str(caught.value) == (
        f"1 validation error detected: Value '{shown}' at 'routingConfig.additionalVersionWeights' failed to "
        "satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, "
        "Member must have value greater than or equal to 0.0, Member must not be null]")


@pytest.mark.parametrize("key", ["$LATEST", "v2", "", "1.5"])
def test_weight_keys_must_be_version_numbers(key: str) -> None:
    with pytest.raises(errors.ValidationError, match="Map keys must satisfy constraint"):
        check_routing({"AdditionalVersionWeights": {key: 0.5}})


def test_both_key_and_value_wrong_are_two_violations() -> None:
    with pytest.raises(errors.ValidationError) as caught:
        check_routing({"AdditionalVersionWeights": {"x": 3}})
    assert str(caught.value).startswith("2 validation errors detected: ")


def test_at_most_one_additional_version() -> None:
    with pytest.raises(errors.InvalidParameterValue) as caught:
        check_routing({"AdditionalVersionWeights": {"2": 0.1, "3": 0.1}})
    assert str(caught.value) == "Number of items in AdditionalVersionWeights cannot be greater than 1"


@pytest.mark.parametrize("value", ["0.1", None, True, [0.1]])
def test_a_weight_must_be_a_number(value: object) -> None:
    with pytest.raises(errors.InvalidParameterValue):
        check_routing({"AdditionalVersionWeights": {"2": value}})


def test_an_alias_without_weights_always_picks_its_version() -> None:
    rng = random.Random(1)
    assert {alias("3").pick(rng.random) for _ in range(100)} == {"3"}


@pytest.mark.parametrize(("weight", "draws"), [(0.1, 2000), (0.3, 2000), (0.5, 2000), (0.01, 5000)])
def test_a_weighted_split_lies_within_a_999_binomial_bound(weight: float, draws: int) -> None:
    rng = random.Random(20261207)   # seeded: the test is exact, and the bound is still a fair one
    picks = [alias("1", {"2": weight}).pick(rng.random) for _ in range(draws)]
    share = picks.count("2") / draws
    bound = 3.29 * math.sqrt(weight * (1 - weight) / draws)   # two-sided 99.9%
    assert abs(share - weight) <= bound and set(picks) <= {"1", "2"}


def test_weights_zero_and_one_are_absolute() -> None:
    rng = random.Random(5)
    assert {alias("1", {"2": 0.0}).pick(rng.random) for _ in range(500)} == {"1"}
    assert {alias("1", {"2": 1.0}).pick(rng.random) for _ in range(500)} == {"2"}


def test_versions_lists_both() -> None:
    assert alias("1", {"2": 0.5}).versions() == {"1", "2"}


def test_document_round_trip() -> None:
    a = Alias("fn", "live", "1", "rev", "d", {"2": 0.25})
    assert Alias.from_document("fn", "live", a.to_document()) == a
