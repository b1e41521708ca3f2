"""Pure helpers of stacks: deterministic zips, execute-api URL rewriting, CloudFormation's XML."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

import botocore.session
import pytest
from botocore.parsers import QueryParser

from lambdalite.apis.cloudformation import (
    is_query_call,
    members,
    render_error,
    render_response,
    render_stack,
    timestamp,
)
from lambdalite.codezip import inline_code_zip, sha256_hex, zip_folder
from lambdalite.project import code_locations, default_stack_name, included_locations, load_document
from lambdalite.stacks.service import StackRecord
from lambdalite.stacks.urls import rewrite_urls, stage_url

BASE = "http://127.0.0.1:9000"


# -- zips ---------------------------------------------------------------------------------------------

def make_folder(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "app.py").write_text("def handler(e, c):\n    return 1\n")
    (root / "pkg" / "mod.py").write_text("X = 1\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    (root / ".aws-sam").mkdir()
    (root / ".aws-sam" / "build.toml").write_text("")
    (root / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(root / "run.sh", 0o755)
    return root


def test_the_same_folder_zips_to_the_same_bytes(tmp_path: Path) -> None:
    first = zip_folder(make_folder(tmp_path / "a"))
    time.sleep(0.01)
    second = zip_folder(make_folder(tmp_path / "b"))
    assert first == second and sha256_hex(first) == sha256_hex(second)


def test_timestamps_do_not_change_the_hash(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "a")
    before = zip_folder(folder)
    os.utime(folder / "app.py", (1_000_000_000, 1_000_000_000))
    assert zip_folder(folder) == before
    (folder / "app.py").write_text("changed\n")
    assert zip_folder(folder) != before


def test_zip_entries_are_sorted_and_skip_build_leftovers(tmp_path: Path) -> None:
    data = zip_folder(make_folder(tmp_path / "a"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
    assert names == ["app.py", "pkg/mod.py", "run.sh"]
    assert modes["run.sh"] & 0o777 == 0o755 and modes["app.py"] & 0o777 == 0o644


def test_inline_code_becomes_index_py() -> None:
    with zipfile.ZipFile(io.BytesIO(inline_code_zip("X = 1"))) as archive:
        assert archive.read("index.py") == b"X = 1"
    assert inline_code_zip("X = 1") == inline_code_zip("X = 1")


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


# -- URLs -----------------------------------------------------------------------------------------------

STAGES = {"abcdefghij": {"Prod", "Stage"}, "klmnopqrst": {"Prod", "PRD"}, "uvwxyz0123": {"dev"}}


def test_unique_stage_gets_the_short_url() -> None:
    url = "https://uvwxyz0123.execute-api.us-east-1.amazonaws.com/dev/items/1"
    assert rewrite_urls(url, BASE, STAGES) == f"{BASE}/dev/items/1"


def test_shared_stage_gets_the_full_url() -> None:
    url = "https://abcdefghij.execute-api.us-east-1.amazonaws.com/Prod/hello/"
    assert rewrite_urls(url, BASE, STAGES) == f"{BASE}/restapis/abcdefghij/Prod/_user_request_/hello/"


def test_url_inside_text_and_without_scheme() -> None:
    text = "see https://klmnopqrst.execute-api.eu-west-1.amazonaws.com.cn/PRD/addfive?num=5 now"
    assert rewrite_urls(text, BASE, STAGES) == f"see {BASE}/PRD/addfive?num=5 now"
    assert rewrite_urls("uvwxyz0123.execute-api.us-east-1.amazonaws.com", BASE, STAGES) == "127.0.0.1:9000"
    assert rewrite_urls("uvwxyz0123.execute-api.us-east-1.amazonaws.com/dev/", BASE, STAGES) == \
        "127.0.0.1:9000/dev/"


def test_unknown_apis_and_other_text_stay() -> None:
    for text in ("https://zzzzzzzzzz.execute-api.us-east-1.amazonaws.com/Prod/",
                 "arn:aws:lambda:us-east-1:000000000000:function:addfive", ""):
        assert rewrite_urls(text, BASE, STAGES) == text


def test_stage_url() -> None:
    assert stage_url(BASE + "/", "abcdefghij", "dev", {"dev": 1}) == f"{BASE}/dev/"
    assert stage_url(BASE, "abcdefghij", "dev", {"dev": 2}, "x") == f"{BASE}/restapis/abcdefghij/dev/_user_request_/x"


# -- CloudFormation's XML, read back by botocore's own parser -----------------------------------------

def parse(operation: str, body: str, status: int = 200) -> dict:  # type: ignore[type-arg]
    model = botocore.session.get_session().get_service_model("cloudformation")
    shape = model.operation_model(operation).output_shape
    return QueryParser().parse({"body": body.encode(), "headers": {}, "status_code": status}, shape)


def record(**changes: object) -> StackRecord:
    values: dict[str, object] = dict(
        name="demo", stack_id="arn:aws:cloudformation:us-east-1:000000000000:stack/demo/1", status="UPDATE_COMPLETE",
        template="", expanded={}, parameters={"Stage": "dev", "Secret": "****"}, outputs={}, resources=[],
        managed={}, fingerprint="", created=1_700_000_000.25, updated=1_700_000_100.5,
        description="a <demo> & more")
    values.update(changes)
    return StackRecord(**values)  # type: ignore[arg-type]


def test_describe_stacks_xml_reads_back() -> None:
    outputs = [{"OutputKey": "Url", "OutputValue": f"{BASE}/Prod/?a=1&b=2", "Description": "the <url>"},
               {"OutputKey": "Arn", "OutputValue": "arn:x", "ExportName": "demo-Arn"}]
    body = render_response("DescribeStacks", members("Stacks", [render_stack(record(), outputs)]), "req-1")
    parsed = parse("DescribeStacks", body)
    stack = parsed["Stacks"][0]
    assert parsed["ResponseMetadata"]["RequestId"] == "req-1"
    assert (stack["StackName"], stack["StackStatus"], stack["Description"]) == \
        ("demo", "UPDATE_COMPLETE", "a <demo> & more")
    assert stack["Outputs"] == outputs
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {"Stage": "dev", "Secret": "****"}
    assert stack["CreationTime"].timestamp() == 1_700_000_000.25
    assert stack["LastUpdatedTime"].timestamp() == 1_700_000_100.5


def test_a_created_stack_has_no_last_updated_time() -> None:
    body = render_response("DescribeStacks", members("Stacks", [render_stack(record(updated=None), [])]), "r")
    stack = parse("DescribeStacks", body)["Stacks"][0]
    assert "LastUpdatedTime" not in stack and stack["Outputs"] == []


def test_error_xml() -> None:
    body = render_error("ValidationError", "Stack with id nope does not exist", "req-2")
    parsed = parse("DescribeStacks", body, 400)
    assert parsed["Error"] == {"Type": "Sender", "Code": "ValidationError",
                               "Message": "Stack with id nope does not exist"}


def test_timestamp() -> None:
    assert timestamp(0.5) == "1970-01-01T00:00:00.500Z"


def test_telling_a_query_call_apart() -> None:
    form = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
    signed = {**form, "authorization": "AWS4-HMAC-SHA256 Credential=t/20260101/us-east-1/cloudformation/aws4_request"}
    other = {**form, "authorization": "AWS4-HMAC-SHA256 Credential=t/20260101/us-east-1/sqs/aws4_request"}
    body = b"Action=DescribeStacks&Version=2010-05-15"
    assert is_query_call("POST", form, body) and is_query_call("POST", signed, body)
    assert not is_query_call("POST", other, body)
    assert not is_query_call("POST", form, b"num=5")
    assert not is_query_call("GET", form, body)
    assert not is_query_call("POST", {"content-type": "application/json"}, body)
