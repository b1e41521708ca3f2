"""What `lambdalite deploy` reads from a SAM project folder, client side."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdalite.project import code_locations, default_stack_name, included_locations, load_document, over_aws_limits
from tests.conftest import zip_of

# -- what the client reads from a template ---------------------------------------------------------

def test_code_and_included_locations() -> None:
    template = load_document("""
Globals: {Function: {CodeUri: shared/}}
Resources:
  A: {Type: AWS::Serverless::Function, Properties: {CodeUri: ./src/}}
  B: {Type: AWS::Serverless::Function, Properties: {CodeUri: s3://bucket/key.zip}}
  C: {Type: AWS::Lambda::Function, Properties: {Code: plain/}}
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      DefinitionBody: {'Fn::Transform': {Name: AWS::Include, Parameters: {Location: ./api.yaml}}}
  Other: {Type: AWS::Serverless::Api, Properties: {StageName: v2, DefinitionUri: other.json}}
  Ref: {Type: AWS::Lambda::Permission, Properties: {FunctionName: !GetAtt A.Arn}}
""")
    assert list(code_locations(template)) == [("Globals.Function", "shared/"), ("Resource A", "./src/"),
                                              ("Resource C", "plain/")]
    assert sorted(included_locations(template)) == [("Resource Api", "./api.yaml"), ("Resource Other", "other.json")]
    assert template["Resources"]["Ref"]["Properties"]["FunctionName"] == {"Fn::GetAtt": ["A", "Arn"]}


@pytest.mark.parametrize(("folder", "name"), [("addfive", "addfive"), ("hello_world", "hello-world"),
                                              ("1app", "stack-1app"), ("sam app", "sam-app")])
def test_default_stack_name(tmp_path: Path, folder: str, name: str) -> None:
    (tmp_path / folder).mkdir()
    assert default_stack_name(tmp_path / folder) == name


def test_code_over_awss_limits_is_named() -> None:
    small = zip_of({"app.py": "x = 1\n"})
    big = zip_of({"app.py": "x = 1\n", "data.bin": "y" * 5000})
    assert over_aws_limits({"small/": small}, zipped_limit=10_000, unzipped_limit=10_000) == []
    warnings = over_aws_limits({"big/": big, "small/": small}, zipped_limit=200, unzipped_limit=1000)
    assert len(warnings) == 2 and all(w.startswith("CodeUri big/:") for w in warnings)
    assert "over AWS Lambda's 200 for a direct upload" in warnings[0] and "5006 bytes unzipped" in warnings[1]
