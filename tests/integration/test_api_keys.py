"""API keys and usage plans (issue 25 item 1) through the real server: boto3's `apigateway` client for the
management API, requests for the stage.

Shapes and texts as LocalStack recorded them against AWS (`test_apigateway_extended.snapshot.json`
TestApigatewayApiKeysCrud, `test_apigateway_common.snapshot.json` TestUsagePlans); the data plane's
answers as reference apigateway-sam.md 1.4 and 7.1. One server on a test clock for the module: the
token buckets stand still until the clock moves, and a quota period turns when it passes midnight.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ROLE, Server, advance, boto_client, error_of, unique, zip_of
from tests.integration.test_gateway_dataplane import lambda_uri, permit

ECHO = '''
import json

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event["requestContext"]["identity"])}
'''
FORBIDDEN = {"message": "Forbidden"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("keys") / "home", extra=("--test-clock",))
    server.home.mkdir()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gw(srv: Server):  # type: ignore[no-untyped-def]
    return boto_client(srv.base, "apigateway")


@pytest.fixture(scope="module")
def echo(srv: Server) -> str:
    name = unique("echo")
    boto_client(srv.base).create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                                          Code={"ZipFile": zip_of(ECHO)})
    return name


def keyed_api(srv: Server, gw: Any, echo: str, stages: tuple[str, ...] = ("prod",)) -> str:
    """An API whose GET /item requires a key, deployed on `stages`."""
    api = gw.create_rest_api(name=unique("keyed"))["id"]
    root = gw.get_resources(restApiId=api)["items"][0]["id"]
    res = gw.create_resource(restApiId=api, parentId=root, pathPart="item")["id"]
    gw.put_method(restApiId=api, resourceId=res, httpMethod="GET", authorizationType="NONE", apiKeyRequired=True)
    gw.put_integration(restApiId=api, resourceId=res, httpMethod="GET", type="AWS_PROXY",
                       integrationHttpMethod="POST", uri=lambda_uri(echo))
    permit(srv.base, api, echo)
    for stage in stages:
        gw.create_deployment(restApiId=api, stageName=stage)
    return api


def url(srv: Server, api: str, stage: str = "prod") -> str:
    return f"{srv.base}/restapis/{api}/{stage}/_user_request_/item"


def get(srv: Server, api: str, key: str | None, stage: str = "prod") -> requests.Response:
    return requests.get(url(srv, api, stage), headers={"x-api-key": key} if key else {}, timeout=30)


def plan_with_key(gw: Any, api: str, stage: str = "prod", **limits: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    key = gw.create_api_key(name=unique("k"), enabled=True)
    plan = gw.create_usage_plan(name=unique("plan"), apiStages=[{"apiId": api, "stage": stage}], **limits)
    gw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    return key, plan


# management API -------------------------------------------------------------------------------------
def test_api_key_lifecycle_in_aws_shapes(gw: Any) -> None:
    name = unique("partner")
    created = gw.create_api_key(name=name, value="partner-key-0123456789abcdef")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert {k: created[k] for k in ("name", "enabled", "stageKeys", "value")} == {
        "name": name, "enabled": False, "stageKeys": [], "value": "partner-key-0123456789abcdef"}
    assert "tags" not in created and len(created["id"]) == 10
    got = gw.get_api_key(apiKey=created["id"])
    assert "value" not in got and got["tags"] == {}
    assert gw.get_api_key(apiKey=created["id"], includeValue=True)["value"] == created["value"]
    listed = gw.get_api_keys(nameQuery=name[:-2])["items"]
    assert [k["id"] for k in listed] == [created["id"]] and "value" not in listed[0]
    assert gw.get_api_keys(nameQuery=name.upper())["items"] == []   # AWS-recorded: the query is case-sensitive
    assert gw.get_api_keys(nameQuery=name, includeValues=True)["items"][0]["value"] == created["value"]
    updated = gw.update_api_key(apiKey=created["id"], patchOperations=[{"op": "replace", "path": "/enabled",
                                                                          "value": "true"}])
    assert updated["enabled"] is True and updated["tags"] == {}
    assert error_of(gw.update_api_key, apiKey=created["id"], message_key="message",
                    patchOperations=[{"op": "replace", "path": "/id", "value": "x"}]) == (
        "BadRequestException", 400, "Invalid patch path  '/id' specified for op 'replace'. Must be one of: "
                                    "[/description, /enabled, /name, /customerId]")
    gw.delete_api_key(apiKey=created["id"])
    assert error_of(gw.get_api_key, apiKey=created["id"]) == (
        "NotFoundException", 404, "Invalid API Key identifier specified")


def test_a_key_value_shorter_than_20_characters_is_refused(gw: Any) -> None:
    assert error_of(gw.create_api_key, name=unique("short"), value="too-short-0123456789"[:19],
                    message_key="message") == (
        "BadRequestException", 400, "API Key value should be at least 20 characters")
    assert error_of(gw.create_api_key, value="x" * 129) == (
        "BadRequestException", 400, "API Key value exceeds maximum size of 128 characters")
    generated = gw.create_api_key(name=unique("generated"))["value"]
    assert len(generated) == 40 and generated.isalnum()


def test_usage_plan_lifecycle_in_aws_shapes(gw: Any, srv: Server, echo: str) -> None:
    api = keyed_api(srv, gw, echo, ("dev",))
    plan = gw.create_usage_plan(name=unique("plan"), description="partners", apiStages=[{"apiId": api,
                                                                                          "stage": "dev"}],
                                quota={"limit": 10, "period": "DAY"}, throttle={"rateLimit": 2, "burstLimit": 1})
    assert plan["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (plan["apiStages"], plan["quota"], plan["throttle"]) == (
        [{"apiId": api, "stage": "dev"}], {"limit": 10, "offset": 0, "period": "DAY"},
        {"burstLimit": 1, "rateLimit": 2.0})
    assert gw.get_usage_plan(usagePlanId=plan["id"])["tags"] == {}
    assert "tags" not in next(p for p in gw.get_usage_plans()["items"] if p["id"] == plan["id"])
    updated = gw.update_usage_plan(usagePlanId=plan["id"], patchOperations=[
        {"op": "replace", "path": "/throttle/burstLimit", "value": "100"},
        {"op": "replace", "path": "/quota/period", "value": "MONTH"},
        {"op": "replace", "path": "/quota/limit", "value": "5000"}])
    assert (updated["quota"], updated["throttle"]["burstLimit"]) == ({"limit": 5000, "offset": 0,
                                                                      "period": "MONTH"}, 100)
    # AWS-recorded (TestUsagePlans::test_usage_plan_crud)
    assert error_of(gw.update_usage_plan, usagePlanId=plan["id"] + "1", patchOperations=[
        {"op": "replace", "path": "/throttle/burstLimit", "value": "1"}]) == (
        "NotFoundException", 404, "Invalid Usage Plan ID specified")
    assert error_of(gw.update_usage_plan, usagePlanId=plan["id"], patchOperations=[
        {"op": "remove", "path": "/apiStages"}]) == ("BadRequestException", 400, "Invalid API Stage specified")
    assert error_of(gw.update_usage_plan, usagePlanId=plan["id"], patchOperations=[
        {"op": "remove", "path": "/apiStages", "value": f"{api}:fakestagename"}]) == (
        "NotFoundException", 404, f"Invalid API Stage {{api: {api}, stage: fakestagename}} specified for usageplan "
                                  f"{plan['id']}")
    gw.delete_usage_plan(usagePlanId=plan["id"])
    assert error_of(gw.get_usage_plan, usagePlanId=plan["id"])[:2] == ("NotFoundException", 404)


def test_a_usage_plan_naming_a_stage_that_does_not_exist_is_refused(gw: Any, srv: Server, echo: str) -> None:
    api = keyed_api(srv, gw, echo)
    assert error_of(gw.create_usage_plan, name=unique("plan"), apiStages=[{"apiId": api, "stage": "nope"}]) == (
        "BadRequestException", 400, f"API Stage not found: {api}:nope")
    assert error_of(gw.create_usage_plan, name=unique("plan"), apiStages=[{"apiId": "missing123", "stage": "prod"}]
                    ) == ("BadRequestException", 400, "API Stage not found: missing123:prod")
    assert error_of(gw.create_usage_plan, name=unique("plan"), quota={"limit": 5, "period": "YEAR"})[:2] == (
        "ValidationException", 400)


def test_usage_plan_keys(gw: Any, srv: Server, echo: str) -> None:
    api = keyed_api(srv, gw, echo)
    key, plan = plan_with_key(gw, api)
    listed = gw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]
    assert listed == [{"id": key["id"], "type": "API_KEY", "value": key["value"], "name": key["name"]}]
    assert gw.get_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])["value"] == key["value"]
    assert gw.get_usage_plan_keys(usagePlanId="nosuchplan")["items"] == []   # AWS-recorded: 200, not 404
    assert [p["id"] for p in gw.get_usage_plans(keyId=key["id"])["items"]] == [plan["id"]]
    gw.delete_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"])
    assert gw.get_usage_plan_keys(usagePlanId=plan["id"])["items"] == []
    assert get(srv, api, key["value"]).status_code == 403   # out of the plan: no longer admitted


# the data plane -------------------------------------------------------------------------------------
def assert_forbidden(r: requests.Response) -> None:
    assert (r.status_code, r.text, r.headers["x-amzn-ErrorType"]) == (403, '{"message":"Forbidden"}',
                                                                      "ForbiddenException")


def test_a_key_required_method_admits_only_a_key_of_a_plan_for_the_stage(gw: Any, srv: Server, echo: str) -> None:
    api = keyed_api(srv, gw, echo, ("prod", "beta"))
    key, _ = plan_with_key(gw, api, "prod")
    assert_forbidden(get(srv, api, None))
    assert_forbidden(get(srv, api, "no-such-key-0123456789abcdef"))
    ok = get(srv, api, key["value"])
    assert ok.status_code == 200, ok.text
    assert (ok.json()["apiKey"], ok.json()["apiKeyId"]) == (key["value"], key["id"])
    assert requests.get(url(srv, api), headers={"X-API-Key": key["value"]}, timeout=30).status_code == 200
    assert_forbidden(get(srv, api, key["value"], stage="beta"))   # a stage outside its plan
    gw.update_api_key(apiKey=key["id"], patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}])
    assert_forbidden(get(srv, api, key["value"]))                 # disabled


def test_over_the_plans_rate_is_429_too_many_requests(gw: Any, srv: Server, echo: str) -> None:
    api = keyed_api(srv, gw, echo)
    key, _ = plan_with_key(gw, api, throttle={"rateLimit": 1, "burstLimit": 2})
    assert [get(srv, api, key["value"]).status_code for _ in range(2)] == [200, 200]
    refused = get(srv, api, key["value"])
    assert (refused.status_code, refused.json(), refused.headers["x-amzn-ErrorType"]) == (
        429, {"message": "Too Many Requests"}, "TooManyRequestsException")
    advance(srv, 1.0)   # one token back
    assert get(srv, api, key["value"]).status_code == 200


def test_the_quota_runs_out_and_resets_at_the_periods_turn(gw: Any, srv: Server, echo: str) -> None:
    api = keyed_api(srv, gw, echo)
    key, plan = plan_with_key(gw, api, quota={"limit": 2, "period": "DAY"})
    assert [get(srv, api, key["value"]).status_code for _ in range(2)] == [200, 200]
    over = get(srv, api, key["value"])
    assert (over.status_code, over.json(), over.headers["x-amzn-ErrorType"]) == (
        429, {"message": "Limit Exceeded"}, "LimitExceededException")
    usage = gw.get_usage(usagePlanId=plan["id"], startDate="2000-01-01", endDate="2000-01-02")
    assert usage["usagePlanId"] == plan["id"] and usage["items"][key["id"]] == [[0, 0], [0, 0]]
    advance(srv, 86400)   # a day later on the server clock: past midnight UTC, a new period
    assert get(srv, api, key["value"]).status_code == 200


def test_get_usage_counts_the_keys_requests_per_day(gw: Any, srv: Server, echo: str) -> None:
    api = keyed_api(srv, gw, echo)
    key, plan = plan_with_key(gw, api, quota={"limit": 10, "period": "MONTH"})
    for _ in range(3):
        assert get(srv, api, key["value"]).status_code == 200
    raw = requests.get(f"{srv.base}/usageplans/{plan['id']}/usage", timeout=10,
                       params={"startDate": "1970-01-01", "endDate": "1970-01-01"})
    assert raw.status_code == 200 and set(raw.json()) == {"usagePlanId", "startDate", "endDate", "values"}
    days = [d for d in _last_days(gw, plan["id"], key["id"]) if d[0]]
    assert days == [[3, 7]]


def _last_days(gw: Any, plan_id: str, key_id: str) -> list[list[int]]:
    """The key's [used, remaining] over the last 60 days around the server's (moved) clock."""
    import datetime as dt
    today = dt.date.today()
    usage = gw.get_usage(usagePlanId=plan_id, keyId=key_id, startDate=(today - dt.timedelta(days=5)).isoformat(),
                         endDate=(today + dt.timedelta(days=60)).isoformat())
    return list(usage["items"][key_id])


def test_keys_and_plans_survive_a_restart(tmp_path: Path) -> None:
    srv = Server(tmp_path / "home")
    srv.home.mkdir()
    srv.start()
    try:
        gw = boto_client(srv.base, "apigateway")
        key = gw.create_api_key(name="kept", value="kept-key-0123456789abcdef")
        plan = gw.create_usage_plan(name="kept-plan")
        gw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
        srv.stop()
        srv.start()
        assert gw.get_api_key(apiKey=key["id"], includeValue=True)["value"] == "kept-key-0123456789abcdef"
        assert [k["id"] for k in gw.get_usage_plan_keys(usagePlanId=plan["id"])["items"]] == [key["id"]]
    finally:
        srv.stop()
