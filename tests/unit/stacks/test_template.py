"""load_template: YAML/JSON with CloudFormation's short tags, and every refusal naming where and what."""

from __future__ import annotations

import pytest

from lambdalite.errors import Problems
from lambdalite.stacks.template import TemplateTooLarge, load_document, load_template


def problems_of(text: str) -> list[str]:
    with pytest.raises(Problems) as caught:
        load_template(text)
    return caught.value.problems


def test_short_tags_become_long_forms() -> None:
    doc = load_template(
        "Resources:\n"
        "  R:\n"
        "    Type: T\n"
        "    Properties:\n"
        "      a: !Ref P\n"
        "      b: !GetAtt Fn.Arn\n"
        "      c: !GetAtt [Fn, Arn]\n"
        "      d: !Sub 'x-${AWS::Region}'\n"
        "      e: !Sub ['${a}', {a: !Ref P}]\n"
        "      f: !Join ['', [a, !Ref P]]\n"
        "      g: !Select [0, !Split [',', 'a,b']]\n"
        "      h: !If [C, !Base64 x, !FindInMap [M, k, v]]\n"
        "      i: !Equals [a, b]\n"
        "      j: !Not [!And [!Or [!Condition C, !Condition D]]]\n"
        "      k: !ImportValue X\n"
        "      l: !GetAZs ''\n"
        "      m: !Cidr [a, 1, 2]\n"
        "      n: !Transform {Name: AWS::Include, Parameters: {Location: a.yaml}}\n"
    )
    props = doc["Resources"]["R"]["Properties"]
    assert props["a"] == {"Ref": "P"}
    assert props["b"] == props["c"] == {"Fn::GetAtt": ["Fn", "Arn"]}
    assert props["d"] == {"Fn::Sub": "x-${AWS::Region}"}
    assert props["e"] == {"Fn::Sub": ["${a}", {"a": {"Ref": "P"}}]}
    assert props["f"] == {"Fn::Join": ["", ["a", {"Ref": "P"}]]}
    assert props["g"] == {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}
    assert props["h"] == {"Fn::If": ["C", {"Fn::Base64": "x"}, {"Fn::FindInMap": ["M", "k", "v"]}]}
    assert props["i"] == {"Fn::Equals": ["a", "b"]}
    assert props["j"] == {"Fn::Not": [{"Fn::And": [{"Fn::Or": [{"Condition": "C"}, {"Condition": "D"}]}]}]}
    assert props["k"] == {"Fn::ImportValue": "X"}
    assert props["l"] == {"Fn::GetAZs": ""}
    assert props["m"] == {"Fn::Cidr": ["a", 1, 2]}
    assert props["n"] == {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "a.yaml"}}}


def test_get_att_with_a_dotted_attribute_keeps_the_rest() -> None:
    doc = load_template("Resources:\n  R: {Type: T, Properties: {a: !GetAtt Db.Endpoint.Address}}\n")
    assert doc["Resources"]["R"]["Properties"]["a"] == {"Fn::GetAtt": ["Db", "Endpoint.Address"]}


def test_dates_stay_text() -> None:
    doc = load_template("AWSTemplateFormatVersion: 2010-09-09\n"
                        "Resources:\n  R: {Type: T, Properties: {V: 2012-10-17}}\n")
    assert doc["AWSTemplateFormatVersion"] == "2010-09-09"
    assert doc["Resources"]["R"]["Properties"]["V"] == "2012-10-17"


def test_json_template() -> None:
    doc = load_template('{"Resources": {"R": {"Type": "T", "Properties": {"a": {"Ref": "P"}}}}}')
    assert doc["Resources"]["R"]["Properties"]["a"] == {"Ref": "P"}


def test_json_duplicate_key_refused() -> None:
    (problem,) = problems_of('{"Resources": {"R": {"Type": "T"}, "R": {"Type": "U"}}}')
    assert "'R'" in problem and "twice" in problem


def test_yaml_error_names_the_line() -> None:
    (problem,) = problems_of("Resources:\n  R:\n    Type: T\n   bad: [unclosed\n")
    assert "YAML error at line" in problem
    assert "line 4" in problem or "line 5" in problem


def test_unknown_tag_is_a_yaml_error_with_line() -> None:
    (problem,) = problems_of("Resources:\n  R:\n    Type: !Nope x\n")
    assert "unknown tag !Nope" in problem and "line 3" in problem


@pytest.mark.parametrize("text, kind", [("- a\n- b\n", "list"), ("just text\n", "str"), ("", "empty")])
def test_valid_yaml_but_not_a_map(text: str, kind: str) -> None:
    (problem,) = problems_of(text)
    assert "not a mapping" in problem and kind in problem


@pytest.mark.parametrize("text", ["Description: x\n", "Resources: {}\n", "Resources: [a]\n"])
def test_no_resources(text: str) -> None:
    (problem,) = problems_of(text)
    assert "no Resources section" in problem


def test_two_resources_with_one_logical_id() -> None:
    (problem,) = problems_of(
        "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n  Other:\n    Type: T\n  Fn:\n    Type: T\n"
    )
    assert problem.startswith("Resources: two resources have the logical id 'Fn' (lines 2 and 6)")


def test_duplicate_key_elsewhere_names_its_line() -> None:
    (problem,) = problems_of("Resources:\n  R:\n    Type: T\n    Type: U\n")
    assert "'Type' appears twice" in problem and "line 4" in problem


# -- documents that would stall whatever walks them (issue 23) -------------------------------------

LAUGHS = ("Transform: AWS::Serverless-2016-10-31\nMetadata:\n  l0: &l0 [" + ", ".join(["lol"] * 10) + "]\n"
          + "".join(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 8)) + "Resources: {}\n")


@pytest.mark.timeout(20)
def test_a_billion_laughs_template_is_refused_naming_the_limit() -> None:
    with pytest.raises(Problems) as refused:
        load_template(LAUGHS)
    assert "500,000 values" in str(refused.value) and "aliases" in str(refused.value)
    with pytest.raises(TemplateTooLarge):
        load_document(LAUGHS)


def test_a_few_aliases_are_resolved_as_sam_cli_resolves_them() -> None:
    text = ("Globals: &g {Function: {Timeout: 3}}\nResources:\n  A: {Type: AWS::SNS::Topic, Metadata: *g}\n"
            "  B: {Type: AWS::SNS::Topic, Metadata: *g}\n")
    template = load_template(text)
    assert template["Resources"]["B"]["Metadata"] == {"Function": {"Timeout": 3}}


@pytest.mark.timeout(20)
def test_a_document_nested_too_deeply_is_refused() -> None:
    for text in ("[" * 100_000 + "]" * 100_000, '{"Resources": ' + "[" * 100_000 + "]" * 100_000 + "}"):
        with pytest.raises(Problems, match="nested too deeply"):
            load_template(text)


@pytest.mark.timeout(20)
def test_an_alias_that_contains_itself_is_refused() -> None:
    with pytest.raises(Problems, match="values"):
        load_template("Resources: &r\n  A: *r\n")
