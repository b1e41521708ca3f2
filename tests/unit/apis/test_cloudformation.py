"""CloudFormation's XML, read back by botocore's own parser."""

from __future__ import annotations

import botocore.session
from botocore.parsers import QueryParser

from lambdalite.apis.cloudformation import (
    is_query_call,
    members,
    render_error,
    render_response,
    render_stack,
    timestamp,
)
from lambdalite.stacks.service import StackRecord

BASE = "http://127.0.0.1:9000"


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
