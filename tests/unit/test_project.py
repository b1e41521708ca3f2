"""What `lambdalite deploy` reads from a SAM project folder, client side."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdalite.project import code_locations, default_stack_name, included_locations, load_document

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
