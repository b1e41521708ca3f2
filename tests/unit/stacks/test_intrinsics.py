"""intrinsics: Ref, GetAtt, Sub, Join, Select, Split, If and conditions, FindInMap, Base64, parameters, cycles."""

from __future__ import annotations

from typing import Any

import pytest

from lambdalite.stacks.intrinsics import (
    Context,
    Resolver,
    find_cycles,
    pseudo_parameters,
    resolve_parameters,
)

PSEUDO = pseudo_parameters(region="eu-west-1", account="123456789012", stack_name="st", stack_id="arn:stack")


def resolver(**extra: Any) -> Resolver:
    return Resolver(Context(
        parameters={**PSEUDO, "Env": "prod", "Names": ["a", "b"]},
        refs={"Fn": "st-Fn", "Api": "abc123defg"},
        attributes={"Fn": {"Arn": "arn:aws:lambda:eu-west-1:123456789012:function:st-Fn"},
                    "Api": {"RootResourceId": "root000000"}},
        mappings={"Sizes": {"prod": {"Memory": 512}}},
        conditions={"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}, "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
                    "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Or": [{"Condition": "IsDev"}, True]}]},
                    "Loop": {"Fn::Not": [{"Condition": "Loop"}]}},
        **extra,
    ))


def resolved(value: Any) -> Any:
    r = resolver()
    out = r.resolve(value, "Resource X")
    assert r.problems == []
    return out


def problem_of(value: Any) -> str:
    r = resolver()
    r.resolve(value, "Resource X")
    assert len(r.problems) == 1, r.problems
    return r.problems[0]


def test_pseudo_parameters() -> None:
    assert resolved([{"Ref": name} for name in ("AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::StackId",
                                                "AWS::Partition", "AWS::URLSuffix")]) == \
        ["eu-west-1", "123456789012", "st", "arn:stack", "aws", "amazonaws.com"]


def test_ref_of_parameter_and_resource() -> None:
    assert resolved({"a": {"Ref": "Env"}, "b": {"Ref": "Fn"}, "c": {"Ref": "Names"}}) == \
        {"a": "prod", "b": "st-Fn", "c": ["a", "b"]}


def test_no_value_removes_the_property_and_list_item() -> None:
    assert resolved({"a": {"Ref": "AWS::NoValue"}, "b": [1, {"Ref": "AWS::NoValue"}]}) == {"b": [1]}


def test_get_att_both_forms() -> None:
    assert resolved({"Fn::GetAtt": ["Fn", "Arn"]}) == "arn:aws:lambda:eu-west-1:123456789012:function:st-Fn"
    assert resolved({"Fn::GetAtt": "Api.RootResourceId"}) == "root000000"


def test_sub_string_form_with_resources_attributes_and_escapes() -> None:
    text = "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Fn.Arn}/${!Literal}"
    assert resolved({"Fn::Sub": text}) == \
        "https://abc123defg.execute-api.eu-west-1.amazonaws.com/arn:aws:lambda:eu-west-1:123456789012:function:st-Fn/${Literal}"


def test_sub_list_form_variables_win() -> None:
    assert resolved({"Fn::Sub": ["${Name}-${Env}", {"Name": {"Ref": "Fn"}, "Env": "local"}]}) == "st-Fn-local"


def test_join_select_split_base64_findinmap() -> None:
    assert resolved({"Fn::Join": ["-", ["a", {"Ref": "Env"}, 3]]}) == "a-prod-3"
    assert resolved({"Fn::Join": [",", {"Ref": "Names"}]}) == "a,b"
    assert resolved({"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]}) == "y"
    assert resolved({"Fn::Base64": "hi"}) == "aGk="
    assert resolved({"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Memory"]}) == 512


def test_if_and_conditions() -> None:
    assert resolved({"Fn::If": ["IsProd", "big", "small"]}) == "big"
    assert resolved({"Fn::If": ["IsDev", "big", {"Ref": "AWS::NoValue"}]}).__class__.__name__ == "_NoValue"
    r = resolver()
    assert r.condition("Both", "Resource X") is True
    assert r.condition("IsDev", "Resource X") is False


def test_circular_condition() -> None:
    r = resolver()
    r.condition("Loop", "Resource X")
    assert r.problems == ["Conditions: circular reference Loop -> Loop"]


def test_ref_of_missing_resource_names_it() -> None:
    problem = problem_of({"Ref": "Nope"})
    assert problem.startswith("Resource X: Ref to 'Nope'")


def test_get_att_of_missing_resource_names_it() -> None:
    assert "Fn::GetAtt of 'Ghost'" in problem_of({"Fn::GetAtt": ["Ghost", "Arn"]})
    assert "Fn::GetAtt of 'Ghost'" in problem_of({"Fn::Sub": "${Ghost.Arn}"})


def test_unsupported_attribute() -> None:
    assert "attribute Fn.Version is not supported" in problem_of({"Fn::GetAtt": ["Fn", "Version"]})


@pytest.mark.parametrize("name", ["Fn::ImportValue", "Fn::GetAZs", "Fn::Cidr", "Fn::ToJsonString", "Fn::Length"])
def test_unsupported_intrinsic(name: str) -> None:
    problem = problem_of({"a": {name: "x"}})
    assert problem.startswith(f"Resource X: unsupported intrinsic function {name}")


def test_undeclared_condition() -> None:
    assert "condition 'Nope' is not declared" in problem_of({"Fn::If": ["Nope", 1, 2]})


def test_parameters_defaults_overrides_and_types() -> None:
    declared = {
        "Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"]},
        "Memory": {"Type": "Number", "Default": 128},
        "Subnets": {"Type": "CommaDelimitedList", "Default": "a, b"},
        "Secret": {"Type": "String", "NoEcho": True},
    }
    values, shown, problems = resolve_parameters(declared, {"Env": "prod", "Secret": "s3cr3t"})
    assert problems == []
    assert values == {"Env": "prod", "Memory": "128", "Subnets": ["a", "b"], "Secret": "s3cr3t"}
    assert shown["Secret"] == "****" and shown["Subnets"] == "a, b"


def test_parameter_problems() -> None:
    declared = {
        "NoValue": {"Type": "String"},
        "Env": {"Type": "String", "AllowedValues": ["dev"], "Default": "prod"},
        "Count": {"Type": "Number", "Default": "many"},
        "Name": {"Type": "String", "Default": "x y", "AllowedPattern": "[a-z]+"},
    }
    _, _, problems = resolve_parameters(declared, {"Unknown": "1"})
    text = "\n".join(problems)
    assert "'Unknown' is not declared" in text
    assert "Parameter NoValue has no value" in text and "--parameter-overrides NoValue=" in text
    assert "Parameter Env: 'prod' is not one of the AllowedValues" in text
    assert "Parameter Count: 'many' is not a Number" in text
    assert "Parameter Name: 'x y' is refused" in text


def test_cycles_through_refs_sub_getatt_and_depends_on() -> None:
    resources = {
        "A": {"Properties": {"x": {"Ref": "B"}}},
        "B": {"Properties": {"x": {"Fn::Sub": "${C.Arn}"}}},
        "C": {"DependsOn": "A"},
        "D": {"Properties": {"x": {"Ref": "A"}}},
    }
    assert find_cycles(resources) == [["A", "B", "C", "A"]]


def test_no_cycle() -> None:
    assert find_cycles({"A": {"Properties": {"x": {"Fn::GetAtt": "B.Arn"}}}, "B": {}}) == []
