"""The API Gateway management API through boto3 (and the AWS CLI) against the real server.

Shapes, statuses and error texts are AWS's (reference apigateway-sam.md section 13, LocalStack's
AWS-recorded snapshots); every refused call is checked to leave the stored state as it was.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import LAMBDALITE, boto_client, unique
from tests.conftest import error_of as aws_error_of

ACCOUNT = "000000000000"
LAMBDA_URI = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
              "arn:aws:lambda:us-east-1:000000000000:function:{}/invocations")
GUIDE_TEMPLATE = "{\"num\": \"$input.params('num')\"}"
API_KEYS = {"id", "name", "createdDate", "apiKeySource", "endpointConfiguration", "disableExecuteApiEndpoint",
            "rootResourceId"}
STAGE_KEYS = {"stageName", "deploymentId", "createdDate", "lastUpdatedDate", "cacheClusterEnabled",
              "cacheClusterStatus", "methodSettings", "tracingEnabled"}


error_of = functools.partial(aws_error_of, message_key="message")  # API Gateway: lower-case key


def clean(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def state(gw, api_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Everything stored about one API, as the management API shows it."""
    return {
        "api": clean(gw.get_rest_api(restApiId=api_id)),
        "resources": gw.get_resources(restApiId=api_id, embed=["methods"], limit=500)["items"],
        "models": gw.get_models(restApiId=api_id)["items"],
        "validators": gw.get_request_validators(restApiId=api_id)["items"],
        "deployments": gw.get_deployments(restApiId=api_id)["items"],
        "stages": gw.get_stages(restApiId=api_id)["item"],
    }


@pytest.fixture
def gw(server):  # type: ignore[no-untyped-def]
    return boto_client(server.base, "apigateway")


def guide_api(gw, function: str = "addfive", stage: str | None = "PRD") -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The guide's console steps: /addfive GET, non-proxy AWS integration with the template, PRD."""
    api_id = gw.create_rest_api(name=unique("guide"))["id"]
    root = gw.get_resources(restApiId=api_id)["items"][0]["id"]
    resource = gw.create_resource(restApiId=api_id, parentId=root, pathPart="addfive")["id"]
    gw.put_method(restApiId=api_id, resourceId=resource, httpMethod="GET", authorizationType="NONE",
                  requestParameters={"method.request.querystring.num": False})
    gw.put_integration(restApiId=api_id, resourceId=resource, httpMethod="GET", type="AWS",
                       integrationHttpMethod="POST", uri=LAMBDA_URI.format(function),
                       requestTemplates={"application/json": GUIDE_TEMPLATE}, passthroughBehavior="WHEN_NO_TEMPLATES")
    gw.put_method_response(restApiId=api_id, resourceId=resource, httpMethod="GET", statusCode="200")
    gw.put_integration_response(restApiId=api_id, resourceId=resource, httpMethod="GET", statusCode="200",
                                selectionPattern="")
    out = {"api": api_id, "root": root, "resource": resource}
    if stage:
        out["deployment"] = gw.create_deployment(restApiId=api_id, stageName=stage)["id"]
    return out


def test_the_guides_console_steps_answer_aws_shapes(gw) -> None:  # type: ignore[no-untyped-def]
    api = gw.create_rest_api(name="guide-shapes", description="the guide")
    assert api["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert set(clean(api)) == API_KEYS | {"description"}
    assert len(api["id"]) == 10 and api["id"].isalnum() and api["id"].lower() == api["id"]
    assert api["endpointConfiguration"] == {"types": ["EDGE"], "ipAddressType": "ipv4"}
    assert (api["apiKeySource"], api["disableExecuteApiEndpoint"]) == ("HEADER", False)
    assert clean(gw.get_rest_api(restApiId=api["id"])) == {**clean(api), "tags": {}}
    api_id = api["id"]
    resources = gw.get_resources(restApiId=api_id)
    assert resources["items"] == [{"id": api["rootResourceId"], "path": "/"}]
    created = gw.create_resource(restApiId=api_id, parentId=api["rootResourceId"], pathPart="addfive")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert len(created["id"]) == 6
    assert clean(created) == {"id": created["id"], "parentId": api["rootResourceId"], "pathPart": "addfive",
                              "path": "/addfive"}
    rid = created["id"]
    method = gw.put_method(restApiId=api_id, resourceId=rid, httpMethod="GET", authorizationType="NONE",
                           requestParameters={"method.request.querystring.num": False})
    assert method["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert clean(method) == {"httpMethod": "GET", "authorizationType": "NONE", "apiKeyRequired": False,
                             "requestParameters": {"method.request.querystring.num": False}}
    integration = gw.put_integration(
        restApiId=api_id, resourceId=rid, httpMethod="GET", type="AWS", integrationHttpMethod="POST",
        uri=LAMBDA_URI.format("addfive"), requestTemplates={"application/json": GUIDE_TEMPLATE},
        passthroughBehavior="WHEN_NO_TEMPLATES")
    assert integration["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert clean(integration) == {
        "type": "AWS", "httpMethod": "POST", "uri": LAMBDA_URI.format("addfive"),
        "requestTemplates": {"application/json": GUIDE_TEMPLATE}, "passthroughBehavior": "WHEN_NO_TEMPLATES",
        "timeoutInMillis": 29000, "cacheNamespace": rid, "cacheKeyParameters": []}
    response = gw.put_method_response(restApiId=api_id, resourceId=rid, httpMethod="GET", statusCode="200")
    assert (response["ResponseMetadata"]["HTTPStatusCode"], clean(response)) == (201, {"statusCode": "200"})
    int_response = gw.put_integration_response(restApiId=api_id, resourceId=rid, httpMethod="GET",
                                                statusCode="200", selectionPattern="")
    assert int_response["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert clean(int_response) == {"statusCode": "200", "selectionPattern": ""}
    got = clean(gw.get_method(restApiId=api_id, resourceId=rid, httpMethod="GET"))
    assert got == {**clean(method), "methodResponses": {"200": {"statusCode": "200"}},
                   "methodIntegration": {**clean(integration),
                                         "integrationResponses": {"200": clean(int_response)}}}
    deployment = gw.create_deployment(restApiId=api_id, stageName="PRD")
    assert deployment["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert set(clean(deployment)) == {"id", "createdDate"}
    stages = gw.get_stages(restApiId=api_id)["item"]
    assert [set(s) for s in stages] == [STAGE_KEYS]
    assert stages[0]["stageName"] == "PRD" and stages[0]["deploymentId"] == deployment["id"]
    stubs = gw.get_resources(restApiId=api_id)["items"]
    assert stubs[1]["resourceMethods"] == {"GET": {}}
    embedded = gw.get_resources(restApiId=api_id, embed=["methods"])["items"]
    assert embedded[1]["resourceMethods"] == {"GET": got}
    assert clean(gw.get_integration(restApiId=api_id, resourceId=rid, httpMethod="GET")) == \
        got["methodIntegration"]


def test_rest_apis_page_with_limit_and_position_and_delete(gw) -> None:  # type: ignore[no-untyped-def]
    made = [gw.create_rest_api(name=unique("page"))["id"] for _ in range(3)]
    seen: list[str] = []
    position = None
    while True:
        page = gw.get_rest_apis(limit=2, **({"position": position} if position else {}))
        assert len(page["items"]) <= 2
        seen += [a["id"] for a in page["items"]]
        assert all("tags" not in a for a in page["items"])
        position = page.get("position")
        if not position:
            break
    assert set(made) <= set(seen) and len(seen) == len(set(seen))
    assert gw.delete_rest_api(restApiId=made[0])["ResponseMetadata"]["HTTPStatusCode"] == 202
    code, status, message = error_of(gw.get_rest_api, restApiId=made[0])
    assert (code, status, message) == ("NotFoundException", 404,
                                       f"Invalid API identifier specified {ACCOUNT}:{made[0]}")
    assert made[0] not in [a["id"] for a in gw.get_rest_apis(limit=500)["items"]]
    code, status, _ = error_of(gw.get_rest_api, restApiId=made[1].upper())  # ids are case-sensitive
    assert (code, status) == ("NotFoundException", 404)


def test_update_rest_api_with_patch_operations(gw) -> None:  # type: ignore[no-untyped-def]
    api_id = gw.create_rest_api(name=unique("patch"), description="d")["id"]
    out = gw.update_rest_api(restApiId=api_id, patchOperations=[
        {"op": "replace", "path": "/name", "value": "renamed"},
        {"op": "add", "path": "/binaryMediaTypes/image~1png"},
        {"op": "remove", "path": "/description"},
        {"op": "replace", "path": "/minimumCompressionSize", "value": "0"}])
    assert out["name"] == "renamed" and out["binaryMediaTypes"] == ["image/png"]
    assert "description" not in out and out["minimumCompressionSize"] == 0 and out["tags"] == {}
    before = state(gw, api_id)
    code, status, message = error_of(gw.update_rest_api, restApiId=api_id, patchOperations=[
        {"op": "replace", "path": "/name", "value": "lost"}, {"op": "add", "path": "/binaryMediaTypes"}])
    assert (code, status, message) == ("BadRequestException", 400, "Invalid patch path /binaryMediaTypes")
    assert state(gw, api_id) == before  # the first op of a refused patch is not kept either


def test_unknown_ids_answer_aws_texts(gw) -> None:  # type: ignore[no-untyped-def]
    ids = guide_api(gw, stage="PRD")
    api_id, rid = ids["api"], ids["resource"]
    no_api = f"Invalid API identifier specified {ACCOUNT}:nosuchapi0"
    for call in (gw.get_rest_api, gw.get_resources, gw.get_models, gw.get_request_validators,
                 gw.get_deployments, gw.get_stages, gw.delete_rest_api):
        assert error_of(call, restApiId="nosuchapi0") == ("NotFoundException", 404, no_api)
    assert error_of(gw.create_request_validator, restApiId="nosuchapi0", name="v") == (
        "BadRequestException", 400, "Invalid REST API identifier specified")
    no_resource = ("NotFoundException", 404, "Invalid Resource identifier specified")
    assert error_of(gw.put_method, restApiId="nosuchapi0", resourceId=rid, httpMethod="GET",
                    authorizationType="NONE") == no_resource
    assert error_of(gw.get_resource, restApiId=api_id, resourceId="nosuch") == no_resource
    assert error_of(gw.delete_resource, restApiId=api_id, resourceId="nosuch") == no_resource
    no_method = ("NotFoundException", 404, "Invalid Method identifier specified")
    for call in (gw.get_method, gw.delete_method, gw.get_integration):
        assert error_of(call, restApiId=api_id, resourceId=rid, httpMethod="POST") == no_method
    assert error_of(gw.get_integration, restApiId=api_id, resourceId=ids["root"], httpMethod="GET") == no_method
    assert error_of(gw.get_method_response, restApiId=api_id, resourceId=rid, httpMethod="GET",
                    statusCode="404") == ("NotFoundException", 404, "Invalid Response status code specified")
    assert error_of(gw.get_stage, restApiId=api_id, stageName="nope") == (
        "NotFoundException", 404, "Invalid Stage identifier specified")
    assert error_of(gw.get_deployment, restApiId=api_id, deploymentId="nope00") == (
        "NotFoundException", 404, "Invalid Deployment identifier specified")
    assert error_of(gw.get_model, restApiId=api_id, modelName="MySchema") == (
        "NotFoundException", 404, "Invalid model name specified: MySchema")
    assert error_of(gw.get_request_validator, restApiId=api_id, requestValidatorId="nope00") == (
        "NotFoundException", 404, "Invalid Request Validator identifier specified")
    gw.delete_integration(restApiId=api_id, resourceId=rid, httpMethod="GET")
    assert error_of(gw.get_integration, restApiId=api_id, resourceId=rid, httpMethod="GET") == (
        "NotFoundException", 404, "Invalid Integration identifier specified")


def test_create_resource_bad_parent_duplicate_and_greedy_rules_change_nothing(gw) -> None:  # type: ignore[no-untyped-def]
    ids = guide_api(gw, stage=None)
    api_id, root = ids["api"], ids["root"]
    before = state(gw, api_id)
    assert error_of(gw.create_resource, restApiId=api_id, parentId="nosuch", pathPart="x") == (
        "NotFoundException", 404, "Invalid Resource identifier specified")
    assert error_of(gw.create_resource, restApiId=api_id, parentId=root, pathPart="addfive") == (
        "ConflictException", 409, "Another resource with the same parent already has this name: addfive")
    assert state(gw, api_id) == before
    proxy = gw.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")
    assert proxy["path"] == "/{proxy+}"
    after_proxy = state(gw, api_id)
    assert error_of(gw.create_resource, restApiId=api_id, parentId=proxy["id"], pathPart="x") == (
        "BadRequestException", 400, "Cannot create a child of a resource with a greedy path variable: {proxy+}")
    assert error_of(gw.create_resource, restApiId=api_id, parentId=root, pathPart="{id}") == (
        "BadRequestException", 400,
        "A sibling ({proxy+}) of this resource already has a variable path part -- only one is allowed")
    assert state(gw, api_id) == after_proxy
    child = gw.create_resource(restApiId=api_id, parentId=ids["resource"], pathPart="{n}")
    grandchild = gw.create_resource(restApiId=api_id, parentId=child["id"], pathPart="deep")
    assert grandchild["path"] == "/addfive/{n}/deep"
    assert gw.delete_resource(restApiId=api_id, resourceId=ids["resource"])["ResponseMetadata"][
        "HTTPStatusCode"] == 202
    paths = [r["path"] for r in gw.get_resources(restApiId=api_id)["items"]]
    assert paths == ["/", "/{proxy+}"]  # the subtree went with it
    assert error_of(gw.get_resource, restApiId=api_id, resourceId=grandchild["id"])[1] == 404


def test_a_method_twice_is_a_conflict_and_methods_update_and_delete(gw) -> None:  # type: ignore[no-untyped-def]
    ids = guide_api(gw, stage=None)
    api_id, rid = ids["api"], ids["resource"]
    before = state(gw, api_id)
    assert error_of(gw.put_method, restApiId=api_id, resourceId=rid, httpMethod="GET",
                    authorizationType="AWS_IAM") == (
        "ConflictException", 409, "Method already exists for this resource")
    assert error_of(gw.put_method, restApiId=api_id, resourceId=rid, httpMethod="FETCH",
                    authorizationType="NONE") == (
        "BadRequestException", 400,
        "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY")
    assert error_of(gw.put_method, restApiId=api_id, resourceId=rid, httpMethod="POST", authorizationType="NONE",
                    requestValidatorId="nope00") == (
        "BadRequestException", 400, "Invalid Request Validator identifier specified")
    assert state(gw, api_id) == before
    validator = gw.create_request_validator(restApiId=api_id, name="params", validateRequestParameters=True)
    assert clean(validator) == {"id": validator["id"], "name": "params", "validateRequestBody": False,
                                "validateRequestParameters": True}
    updated = gw.update_method(restApiId=api_id, resourceId=rid, httpMethod="GET", patchOperations=[
        {"op": "replace", "path": "/requestParameters/method.request.querystring.num", "value": "true"},
        {"op": "replace", "path": "/requestValidatorId", "value": validator["id"]},
        {"op": "add", "path": "/requestModels/application~1json", "value": "Empty"}])
    assert updated["requestParameters"] == {"method.request.querystring.num": True}
    assert updated["requestValidatorId"] == validator["id"]
    assert updated["requestModels"] == {"application/json": "Empty"}
    assert error_of(gw.delete_model, restApiId=api_id, modelName="Empty") == (
        "ConflictException", 409, "Cannot delete model 'Empty', is referenced in method request: /addfive/GET")
    assert gw.delete_method(restApiId=api_id, resourceId=rid, httpMethod="GET")["ResponseMetadata"][
        "HTTPStatusCode"] == 204
    assert "resourceMethods" not in gw.get_resource(restApiId=api_id, resourceId=rid)


def test_put_integration_to_a_missing_function_is_accepted_and_replaces_responses(gw) -> None:  # type: ignore[no-untyped-def]
    ids = guide_api(gw, function=unique("no-such-function"), stage=None)
    api_id, rid = ids["api"], ids["resource"]
    got = gw.get_integration(restApiId=api_id, resourceId=rid, httpMethod="GET")
    assert "no-such-function" in got["uri"] and got["integrationResponses"]["200"]["selectionPattern"] == ""
    again = gw.put_integration(restApiId=api_id, resourceId=rid, httpMethod="GET", type="AWS_PROXY",
                               integrationHttpMethod="POST", uri=LAMBDA_URI.format("other"))
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 201
    now = clean(gw.get_integration(restApiId=api_id, resourceId=rid, httpMethod="GET"))
    assert "integrationResponses" not in now and "requestTemplates" not in now  # replaced whole, as on AWS
    assert now["type"] == "AWS_PROXY" and now["passthroughBehavior"] == "WHEN_NO_MATCH"
    mock = gw.put_integration(restApiId=api_id, resourceId=rid, httpMethod="GET", type="MOCK",
                              uri="http://ignored", requestTemplates={"application/json": '{"statusCode": 200}'})
    assert "uri" not in mock and "httpMethod" not in mock
    http = gw.put_integration(restApiId=api_id, resourceId=rid, httpMethod="GET", type="HTTP",
                              integrationHttpMethod="GET", uri="https://example.com/x")
    assert http["connectionType"] == "INTERNET"
    before = state(gw, api_id)
    assert error_of(gw.put_integration, restApiId=api_id, resourceId=rid, httpMethod="GET", type="AWS",
                    uri=LAMBDA_URI.format("x")) == (
        "BadRequestException", 400, "Enumeration value for HttpMethod must be non-empty")
    assert error_of(gw.put_integration, restApiId=api_id, resourceId=rid, httpMethod="GET", type="AWS",
                    integrationHttpMethod="POST", uri="not-an-arn") == (
        "BadRequestException", 400, "Invalid ARN specified in the request")
    assert error_of(gw.put_integration, restApiId=api_id, resourceId=rid, httpMethod="GET", type="AWS",
                    integrationHttpMethod="POST", uri="arn:aws:lambda:us-east-1:000000000000:function:f") == (
        "BadRequestException", 400, "AWS ARN for integration must contain path or action")
    assert error_of(gw.put_integration, restApiId=api_id, resourceId=rid, httpMethod="GET", type="MOCK",
                    passthroughBehavior="SOMETIMES") == (
        "BadRequestException", 400, "Invalid passthrough behavior specified: SOMETIMES")
    assert error_of(gw.put_integration, restApiId=api_id, resourceId=rid, httpMethod="GET", type="MOCK",
                    timeoutInMillis=49) == ("BadRequestException", 400, "Timeout should be between 50 ms and 29000 ms")
    assert state(gw, api_id) == before


def test_put_integration_and_import_apply_one_set_of_rules(gw) -> None:  # type: ignore[no-untyped-def]
    """A timeout above 29 s and an AWS_PROXY integration to Firehose: PutIntegration accepts both
    (reference 13.4, 1.5), and so does an OpenAPI import of the same integrations."""
    firehose = "arn:aws:apigateway:us-east-1:firehose:action/PutRecord"
    ids = guide_api(gw, function=unique("rules"), stage=None)
    api_id, rid = ids["api"], ids["resource"]
    put = gw.put_integration(restApiId=api_id, resourceId=rid, httpMethod="GET", type="AWS_PROXY",
                             integrationHttpMethod="POST", uri=firehose, timeoutInMillis=60000)
    assert (put["uri"], put["timeoutInMillis"]) == (firehose, 60000)
    document = {"swagger": "2.0", "info": {"title": unique("rules")}, "paths": {"/stream": {"get": {
        "responses": {"200": {"description": "ok"}},
        "x-amazon-apigateway-integration": {"type": "aws_proxy", "httpMethod": "POST", "uri": firehose,
                                            "timeoutInMillis": 60000}}}}}
    imported = gw.import_rest_api(body=json.dumps(document).encode())
    resources = gw.get_resources(restApiId=imported["id"], embed=["methods"])["items"]
    integration = next(r for r in resources if r["path"] == "/stream")["resourceMethods"]["GET"]["methodIntegration"]
    assert (integration["uri"], integration["timeoutInMillis"]) == (firehose, 60000)


def test_integration_responses_upsert_update_and_delete(gw) -> None:  # type: ignore[no-untyped-def]
    ids = guide_api(gw, stage=None)
    api_id, rid = ids["api"], ids["resource"]
    key = {"restApiId": api_id, "resourceId": rid, "httpMethod": "GET"}
    gw.put_integration_response(**key, statusCode="400", selectionPattern=".*bad.*",
                                responseTemplates={"application/json": ""},
                                responseParameters={"method.response.header.X": "'y'"})
    got = clean(gw.get_integration_response(**key, statusCode="400"))
    assert got == {"statusCode": "400", "selectionPattern": ".*bad.*", "responseTemplates": {"application/json": None},
                   "responseParameters": {"method.response.header.X": "'y'"}}
    out = gw.update_integration_response(**key, statusCode="400", patchOperations=[
        {"op": "replace", "path": "/selectionPattern", "value": "nope"}])
    assert out["selectionPattern"] == "nope"
    assert gw.delete_integration_response(**key, statusCode="400")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(gw.get_integration_response, **key, statusCode="400") == (
        "NotFoundException", 404, "Invalid Response status code specified")


def test_a_vtl_syntax_error_is_accepted_then_reported_by_the_deployment(server, gw) -> None:  # type: ignore[no-untyped-def]
    ids = guide_api(gw, stage=None)
    api_id, rid = ids["api"], ids["resource"]
    broken = '{"num": #if($input.params("num")}'
    out = gw.put_integration(restApiId=api_id, resourceId=rid, httpMethod="GET", type="AWS",
                             integrationHttpMethod="POST", uri=LAMBDA_URI.format("addfive"),
                             requestTemplates={"application/json": broken})
    assert out["requestTemplates"] == {"application/json": broken}  # stored verbatim
    r = requests.post(f"{server.base}/restapis/{api_id}/deployments", json={"stageName": "dev"}, timeout=10)
    assert r.status_code == 201, r.text
    body = r.json()
    assert len(body["warnings"]) == 1
    assert "GET /addfive" in body["warnings"][0] and "application/json" in body["warnings"][0]
    assert gw.get_stage(restApiId=api_id, stageName="dev")["deploymentId"] == body["id"]
    assert "warnings" not in gw.get_deployment(restApiId=api_id, deploymentId=body["id"])


def test_models_and_an_invalid_json_schema(gw) -> None:  # type: ignore[no-untyped-def]
    api_id = gw.create_rest_api(name=unique("models"))["id"]
    defaults = gw.get_models(restApiId=api_id)["items"]
    assert [m["name"] for m in defaults] == ["Empty", "Error"]
    assert json.loads(defaults[0]["schema"]) == {"$schema": "http://json-schema.org/draft-04/schema#",
                                                 "title": "Empty Schema", "type": "object"}
    schema = json.dumps({"type": "object", "properties": {"num": {"type": "string"}}, "required": ["num"]})
    model = gw.create_model(restApiId=api_id, name="Num", contentType="application/json", schema=schema)
    assert model["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert clean(model) == {"id": model["id"], "name": "Num", "contentType": "application/json", "schema": schema}
    before = state(gw, api_id)
    invalid = "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]"
    for bad in ('{"type": 5}', "not json", '{"properties": {"a": {"type": "strin"}}}', "[1]"):
        assert error_of(gw.create_model, restApiId=api_id, name="Bad", contentType="application/json",
                        schema=bad) == ("BadRequestException", 400, invalid)
    assert error_of(gw.create_model, restApiId=api_id, name="Bad", contentType="application/json", schema="") == (
        "BadRequestException", 400, "Model schema must have at least 1 property or array items defined")
    assert error_of(gw.create_model, restApiId=api_id, name="Num", contentType="application/json",
                    schema=schema) == ("ConflictException", 409, "Model name already exists for this REST API")
    assert error_of(gw.create_model, restApiId=api_id, name="", contentType="application/json", schema=schema) == (
        "BadRequestException", 400, "Model name must be non-empty")
    assert state(gw, api_id) == before
    assert gw.delete_model(restApiId=api_id, modelName="Num")["ResponseMetadata"]["HTTPStatusCode"] == 202


SWAGGER = {
    "swagger": "2.0", "info": {"title": "imported", "version": "1.0"},
    "x-amazon-apigateway-binary-media-types": ["image/png"],
    "x-amazon-apigateway-request-validators": {"all": {"validateRequestBody": True,
                                                       "validateRequestParameters": True}},
    "paths": {"/pets/{id}": {"get": {
        "parameters": [{"name": "id", "in": "path", "required": True, "type": "string"}],
        "x-amazon-apigateway-request-validator": "all",
        "responses": {"200": {"description": "ok"}},
        "x-amazon-apigateway-integration": {
            "type": "aws_proxy", "httpMethod": "POST", "uri": LAMBDA_URI.format("pets")}}}},
}


def test_import_and_put_rest_api(gw) -> None:  # type: ignore[no-untyped-def]
    api = gw.import_rest_api(body=json.dumps(SWAGGER).encode())
    assert api["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert api["name"] == "imported" and api["binaryMediaTypes"] == ["image/png"] and api["version"] == "1.0"
    api_id = api["id"]
    resources = {r["path"]: r for r in gw.get_resources(restApiId=api_id, embed=["methods"])["items"]}
    assert set(resources) == {"/", "/pets", "/pets/{id}"}
    method = resources["/pets/{id}"]["resourceMethods"]["GET"]
    validators = gw.get_request_validators(restApiId=api_id)["items"]
    assert [v["name"] for v in validators] == ["all"] and method["requestValidatorId"] == validators[0]["id"]
    assert method["methodIntegration"]["type"] == "AWS_PROXY"
    merged = {**SWAGGER, "info": {"title": "renamed", "version": "2"},
              "x-amazon-apigateway-binary-media-types": ["image/jpeg"],
              "paths": {"/cats": SWAGGER["paths"]["/pets/{id}"]}}
    merged["paths"] = {"/cats": {"get": {k: v for k, v in SWAGGER["paths"]["/pets/{id}"]["get"].items()
                                         if k != "parameters"}}}
    out = gw.put_rest_api(restApiId=api_id, mode="merge", body=json.dumps(merged).encode())
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert out["name"] == "renamed" and out["binaryMediaTypes"] == ["image/png", "image/jpeg"]
    paths = {r["path"] for r in gw.get_resources(restApiId=api_id)["items"]}
    assert paths == {"/", "/pets", "/pets/{id}", "/cats"}
    out = gw.put_rest_api(restApiId=api_id, mode="overwrite", body=json.dumps(merged).encode())
    assert out["binaryMediaTypes"] == ["image/jpeg"] and out["id"] == api_id
    assert {r["path"] for r in gw.get_resources(restApiId=api_id)["items"]} == {"/", "/cats"}


def test_import_of_a_broken_document_changes_nothing(gw) -> None:  # type: ignore[no-untyped-def]
    before = [a["id"] for a in gw.get_rest_apis(limit=500)["items"]]
    for broken in (b"not: [valid", b'{"swagger": "1.0"}', b"[]"):
        assert error_of(gw.import_rest_api, body=broken) == ("BadRequestException", 400, "Invalid OpenAPI input.")
    assert [a["id"] for a in gw.get_rest_apis(limit=500)["items"]] == before
    api_id = gw.create_rest_api(name=unique("put"))["id"]
    kept = state(gw, api_id)
    assert error_of(gw.put_rest_api, restApiId=api_id, mode="overwrite", body=b"{") == (
        "BadRequestException", 400, "Invalid OpenAPI input.")
    assert state(gw, api_id) == kept


def test_reserved_stage_names_are_refused_and_nothing_is_deployed(gw) -> None:  # type: ignore[no-untyped-def]
    ids = guide_api(gw, stage=None)
    api_id = ids["api"]
    before = state(gw, api_id)
    for name in ("restapis", "_lambdalite", "2015-03-31", "2018-10-31"):
        code, status, message = error_of(gw.create_deployment, restApiId=api_id, stageName=name)
        assert (code, status) == ("BadRequestException", 400)
        assert f"Stage name '{name}' is reserved in Lambdalite" in message and "Choose another" in message
    assert state(gw, api_id) == before  # no deployment was made either
    deployment = gw.create_deployment(restApiId=api_id)["id"]
    code, status, message = error_of(gw.create_stage, restApiId=api_id, stageName="restapis",
                                     deploymentId=deployment)
    assert (code, status) == ("BadRequestException", 400) and "reserved" in message
    assert gw.get_stages(restApiId=api_id)["item"] == []


def test_create_deployment_of_an_api_without_methods(gw) -> None:  # type: ignore[no-untyped-def]
    api_id = gw.create_rest_api(name=unique("empty"))["id"]
    assert error_of(gw.create_deployment, restApiId=api_id, stageName="dev") == (
        "BadRequestException", 400, "The REST API doesn't contain any methods")
    assert gw.get_deployments(restApiId=api_id)["items"] == [] and gw.get_stages(restApiId=api_id)["item"] == []


def test_a_deployment_is_a_snapshot(gw) -> None:  # type: ignore[no-untyped-def]
    ids = guide_api(gw, stage="PRD")
    api_id, rid, first = ids["api"], ids["resource"], ids["deployment"]
    summary = gw.get_deployment(restApiId=api_id, deploymentId=first, embed=["apisummary"])["apiSummary"]
    assert summary == {"/addfive": {"GET": {"authorizationType": "NONE", "apiKeyRequired": False}}}
    gw.delete_method(restApiId=api_id, resourceId=rid, httpMethod="GET")
    gw.put_method(restApiId=api_id, resourceId=rid, httpMethod="POST", authorizationType="NONE")
    gw.put_integration(restApiId=api_id, resourceId=rid, httpMethod="POST", type="MOCK")
    assert gw.get_deployment(restApiId=api_id, deploymentId=first, embed=["apisummary"])["apiSummary"] == summary
    assert gw.get_stage(restApiId=api_id, stageName="PRD")["deploymentId"] == first
    second = gw.create_deployment(restApiId=api_id, stageName="PRD", description="v2")
    assert second["description"] == "v2"
    assert gw.get_deployment(restApiId=api_id, deploymentId=second["id"], embed=["apisummary"])["apiSummary"] == {
        "/addfive": {"POST": {"authorizationType": "NONE", "apiKeyRequired": False}}}
    assert gw.get_stage(restApiId=api_id, stageName="PRD")["deploymentId"] == second["id"]
    assert [d["id"] for d in gw.get_deployments(restApiId=api_id)["items"]] == [first, second["id"]]
    assert gw.delete_deployment(restApiId=api_id, deploymentId=first)["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert error_of(gw.delete_deployment, restApiId=api_id, deploymentId=second["id"]) == (
        "BadRequestException", 400, "Active stages pointing to this deployment must be moved or deleted")


def test_stages_create_update_variables_filter_and_delete(gw) -> None:  # type: ignore[no-untyped-def]
    ids = guide_api(gw, stage="PRD")
    api_id, first = ids["api"], ids["deployment"]
    second = gw.create_deployment(restApiId=api_id)["id"]
    stage = gw.create_stage(restApiId=api_id, stageName="test", deploymentId=second, description="t",
                            variables={"fn": "addfive"})
    assert stage["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert set(clean(stage)) == STAGE_KEYS | {"description", "variables"}
    assert error_of(gw.create_stage, restApiId=api_id, stageName="test", deploymentId=second) == (
        "ConflictException", 409, "Stage already exists")
    assert error_of(gw.create_stage, restApiId=api_id, stageName="other", deploymentId="nope00") == (
        "NotFoundException", 404, "Invalid Deployment identifier specified")
    assert [s["stageName"] for s in gw.get_stages(restApiId=api_id, deploymentId=second)["item"]] == ["test"]
    assert [s["stageName"] for s in gw.get_stages(restApiId=api_id, deploymentId=first)["item"]] == ["PRD"]
    out = gw.update_stage(restApiId=api_id, stageName="test", patchOperations=[
        {"op": "replace", "path": "/variables/alias", "value": "live"},
        {"op": "remove", "path": "/variables/fn"},
        {"op": "replace", "path": "/deploymentId", "value": first},
        {"op": "replace", "path": "/description", "value": "moved"},
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "123"}])
    assert out["variables"] == {"alias": "live"} and out["deploymentId"] == first and out["description"] == "moved"
    assert out["methodSettings"]["*/*"]["throttlingBurstLimit"] == 123
    assert out["methodSettings"]["*/*"]["throttlingRateLimit"] == 10000.0
    before = clean(gw.get_stage(restApiId=api_id, stageName="test"))
    code, status, message = error_of(gw.update_stage, restApiId=api_id, stageName="test", patchOperations=[
        {"op": "replace", "path": "/variables/alias", "value": "changed"},
        {"op": "replace", "path": "/documentation_version", "value": "x"}])
    assert (code, status) == ("BadRequestException", 400)
    assert message.startswith("Invalid method setting path: /documentation_version. Must be one of: [/deploymentId,")
    assert clean(gw.get_stage(restApiId=api_id, stageName="test")) == before
    assert gw.delete_stage(restApiId=api_id, stageName="test")["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert error_of(gw.get_stage, restApiId=api_id, stageName="test")[1] == 404


def test_a_stage_name_shared_by_two_apis_is_allowed_with_a_warning(server, gw) -> None:  # type: ignore[no-untyped-def]
    stage = unique("shared").replace("-", "_")
    first = guide_api(gw, stage=stage)
    second = guide_api(gw, stage=None)
    r = requests.post(f"{server.base}/restapis/{second['api']}/deployments", json={"stageName": stage}, timeout=10)
    assert r.status_code == 201, r.text
    (warning,) = r.json()["warnings"]
    assert first["api"] in warning and f"/{stage}/" in warning and "keeps the short URL" in warning
    assert f"/restapis/{second['api']}/{stage}/_user_request_/" in warning
    result = cli(server.base, "apis")
    assert result.returncode == 0, result.stderr
    assert f"{server.base}/restapis/{first['api']}/{stage}/_user_request_/" in result.stdout
    assert f"{server.base}/restapis/{second['api']}/{stage}/_user_request_/" in result.stdout
    short = [line for line in result.stdout.splitlines() if line.rstrip().endswith(f"{server.base}/{stage}/")]
    assert len(short) == 1 and first["api"] in short[0]   # the short URL stays the first API's


def cli(endpoint: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LAMBDALITE_ENDPOINT": endpoint}
    return subprocess.run([LAMBDALITE, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def test_lambdalite_apis_lists_stages_and_urls(own_server) -> None:  # type: ignore[no-untyped-def]
    own_server.start()
    result = cli(own_server.base, "apis")
    assert result.returncode == 0 and result.stdout == "" and "No APIs" in result.stderr
    gw = boto_client(own_server.base, "apigateway")
    ids = guide_api(gw, stage="PRD")
    undeployed = gw.create_rest_api(name="draft")["id"]
    result = cli(own_server.base, "apis")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["API", "ID", "NAME", "STAGE", "DEPLOYMENT", "URL"]
    prd = [line for line in lines if ids["api"] in line]
    assert len(prd) == 2 and all("PRD" in line and ids["deployment"] in line for line in prd)
    assert prd[0].endswith(f"{own_server.base}/restapis/{ids['api']}/PRD/_user_request_/")
    assert prd[1].endswith(f"{own_server.base}/PRD/")
    assert any(undeployed in line and "no stage" in line for line in lines)


def test_the_aws_cli_lists_rest_apis(server, gw, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    api_id = gw.create_rest_api(name=unique("cli"))["id"]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "none"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    aws = str(Path(sys.executable).with_name("aws"))
    out = subprocess.run([aws, "apigateway", "get-rest-apis", "--endpoint-url", server.base, "--output", "json"],
                         capture_output=True, text=True, env=env, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert api_id in [a["id"] for a in json.loads(out.stdout)["items"]]
    out = subprocess.run([aws, "apigateway", "get-rest-api", "--rest-api-id", "nosuchapi0", "--endpoint-url",
                          server.base], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert out.returncode != 0 and "NotFoundException" in out.stderr
    assert f"Invalid API identifier specified {ACCOUNT}:nosuchapi0" in out.stderr


def test_everything_survives_a_restart_and_a_kill_9(own_server) -> None:  # type: ignore[no-untyped-def]
    own_server.start()
    gw = boto_client(own_server.base, "apigateway")
    ids = guide_api(gw, stage="PRD")
    api_id = ids["api"]
    gw.create_request_validator(restApiId=api_id, name="v", validateRequestBody=True)
    gw.update_stage(restApiId=api_id, stageName="PRD", patchOperations=[
        {"op": "replace", "path": "/variables/k", "value": "v"}])
    before = state(gw, api_id)
    summary = gw.get_deployment(restApiId=api_id, deploymentId=ids["deployment"], embed=["apisummary"])
    own_server.restart()
    gw = boto_client(own_server.base, "apigateway")
    assert state(gw, api_id) == before
    assert gw.get_deployment(restApiId=api_id, deploymentId=ids["deployment"], embed=["apisummary"])[
        "apiSummary"] == summary["apiSummary"]
    gw.delete_method(restApiId=api_id, resourceId=ids["resource"], httpMethod="GET")  # answered, then killed
    second = gw.create_rest_api(name="after-kill")["id"]
    own_server.kill()
    own_server.start()
    gw = boto_client(own_server.base, "apigateway")
    assert "resourceMethods" not in gw.get_resource(restApiId=api_id, resourceId=ids["resource"])
    assert gw.get_rest_api(restApiId=second)["name"] == "after-kill"
    assert gw.get_stage(restApiId=api_id, stageName="PRD")["variables"] == {"k": "v"}


def test_the_data_plane_paths_are_not_the_management_api(server, gw) -> None:  # type: ignore[no-untyped-def]
    ids = guide_api(gw, stage="PRD")
    r = requests.get(f"{server.base}/restapis/{ids['api']}/PRD/_user_request_/addfive", timeout=10)
    assert r.headers.get("x-amzn-ErrorType") != "NotFoundException"  # not answered as a management call
    r = requests.get(f"{server.base}/restapis/{ids['api']}/nothing", timeout=10)
    assert r.status_code == 404 and r.headers["x-amzn-ErrorType"] == "UnknownOperationException"


def test_update_resource_renames_and_moves_a_subtree(gw) -> None:  # type: ignore[no-untyped-def]
    ids = guide_api(gw, stage=None)
    api_id, root, rid = ids["api"], ids["root"], ids["resource"]
    child = gw.create_resource(restApiId=api_id, parentId=rid, pathPart="child")["id"]
    other = gw.create_resource(restApiId=api_id, parentId=root, pathPart="other")["id"]
    out = gw.update_resource(restApiId=api_id, resourceId=rid,
                             patchOperations=[{"op": "replace", "path": "/pathPart", "value": "addsix"}])
    assert out["path"] == "/addsix"
    assert gw.get_resource(restApiId=api_id, resourceId=child)["path"] == "/addsix/child"
    gw.update_resource(restApiId=api_id, resourceId=rid,
                       patchOperations=[{"op": "replace", "path": "/parentId", "value": other}])
    assert gw.get_resource(restApiId=api_id, resourceId=child)["path"] == "/other/addsix/child"
    before = state(gw, api_id)
    cases = [
        (rid, {"op": "replace", "path": "/parentId", "value": child}, "Resources cannot be cyclical."),
        (root, {"op": "replace", "path": "/pathPart", "value": "x"}, "Root resource cannot update its pathPart."),
        (rid, {"op": "remove", "path": "/pathPart"},
         "Invalid patch path  '/pathPart' specified for op 'remove'. Please choose supported operations"),
        (rid, {"op": "replace", "path": "/invalid", "value": "x"},
         "Invalid patch path  '/invalid' specified for op 'replace'. Must be one of: [/parentId, /pathPart]"),
    ]
    for resource, op, text in cases:
        assert error_of(gw.update_resource, restApiId=api_id, resourceId=resource, patchOperations=[op]) == (
            "BadRequestException", 400, text)
    gw.create_resource(restApiId=api_id, parentId=other, pathPart="taken")
    assert error_of(gw.update_resource, restApiId=api_id, resourceId=rid, patchOperations=[
        {"op": "replace", "path": "/pathPart", "value": "taken"}])[:2] == ("ConflictException", 409)
    assert [r for r in state(gw, api_id)["resources"] if r.get("pathPart") != "taken"] == before["resources"]


def test_a_bad_integration_type_is_refused_before_the_method_is_looked_up(server) -> None:  # type: ignore[no-untyped-def]
    """AWS-recorded (LocalStack's test_put_integration_wrong_type): the request's shape first."""
    import boto3
    from botocore.config import Config
    gw = boto3.client("apigateway", endpoint_url=server.base, region_name="us-east-1", aws_access_key_id="x",
                      aws_secret_access_key="x", config=Config(parameter_validation=False, retries={"max_attempts": 0}))
    api = gw.create_rest_api(name=unique("types"))
    root = gw.get_resources(restApiId=api["id"])["items"][0]["id"]
    code, status, message = aws_error_of(gw.put_integration, restApiId=api["id"], resourceId=root,
                                         httpMethod="GET", type="HTTPS_PROXY")   # not a modeled error: no "message"
    assert (code, status) == ("ValidationException", 400)
    assert message == ("1 validation error detected: Value 'HTTPS_PROXY' at 'putIntegrationInput.type' failed to "
                       "satisfy constraint: Member must satisfy enum value set: "
                       "[HTTP, MOCK, AWS_PROXY, HTTP_PROXY, AWS]")


def test_integration_response_errors_as_aws_recorded_them(server) -> None:  # type: ignore[no-untyped-def]
    """LocalStack's AWS-recorded TestApigatewayIntegrationResponse: what wins, and the texts."""
    import boto3
    from botocore.config import Config
    gw = boto3.client("apigateway", endpoint_url=server.base, region_name="us-east-1", aws_access_key_id="x",
                      aws_secret_access_key="x", config=Config(parameter_validation=False, retries={"max_attempts": 0}))
    api = gw.create_rest_api(name=unique("responses"))["id"]
    root = gw.get_resources(restApiId=api)["items"][0]["id"]
    key = {"restApiId": api, "resourceId": root, "httpMethod": "GET"}
    gw.put_method(**key, authorizationType="NONE")
    gw.put_integration(**key, integrationHttpMethod="GET", type="MOCK",
                       requestTemplates={"application/json": '{"statusCode": 200}'})
    code, status, message = aws_error_of(gw.put_integration_response, **key, statusCode="200", selectionPattern="",
                                         responseTemplates={"application/json": 123})
    assert (code, status) == ("SerializationException", 400)
    assert message == "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"
    assert gw.get_method(**key)["methodIntegration"].get("integrationResponses") in (None, {})   # nothing kept
    gw.put_integration_response(**key, statusCode="200", selectionPattern="")
    code, status, message = aws_error_of(gw.get_integration_response, **key, statusCode="wrong")
    assert (code, status) == ("ValidationException", 400)
    assert message == ("1 validation error detected: Value 'wrong' at 'statusCode' failed to satisfy constraint: "
                       "Member must satisfy regular expression pattern: [1-5]\\d\\d")
    code, status, message = aws_error_of(gw.delete_integration_response, restApiId=api, resourceId="bad-resource",
                                         httpMethod="GET", statusCode="200")
    assert (code, status, message) == ("NotFoundException", 404, "Invalid Resource identifier specified")
    for method in ("POST", "WRONG"):   # no such method: named as a missing integration
        code, status, message = aws_error_of(gw.delete_integration_response, restApiId=api, resourceId=root,
                                             httpMethod=method, statusCode="200")
        assert (code, message) == ("NotFoundException", "Invalid Integration identifier specified")
