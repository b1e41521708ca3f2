"""The API Gateway management API against answers LocalStack recorded from real AWS.

Each test replays the calls of one recorded LocalStack test (tests/aws/services/apigateway/...) with
boto3 against the real server and asserts AWS's error code, HTTP status and exact text. The snapshot
key each assertion comes from is cited beside it. Where the recording disagrees with our reference
(apigateway-sam.md), the recording wins.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest

from tests.conftest import boto_client, unique
from tests.conftest import error_of as aws_error_of

ACCOUNT = "000000000000"
error_of = functools.partial(aws_error_of, message_key="message")  # API Gateway: lower-case key
OP_ENUM = "Member must satisfy enum value set: [add, remove, move, test, replace, copy]"
STATUS_PATTERN = "Member must satisfy regular expression pattern: [1-5]\\d\\d"


@pytest.fixture
def gw(server):  # type: ignore[no-untyped-def]
    return boto_client(server.base, "apigateway")


@pytest.fixture
def raw_gw(server):  # type: ignore[no-untyped-def]
    """A client that sends what it is given (boto3 would refuse some of the recorded requests itself)."""
    return boto_client(server.base, "apigateway", parameter_validation=False)


def clean(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def mock_get(gw, **method_response: Any) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """An API whose root has GET -> MOCK, and (with arguments) its 200 method response."""
    api = gw.create_rest_api(name=unique("recorded"))
    api_id, root = api["id"], api["rootResourceId"]
    gw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="NONE")
    gw.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK",
                       requestTemplates={"application/json": '{"statusCode": 200}'})
    if method_response:
        gw.put_method_response(restApiId=api_id, resourceId=root, httpMethod="GET", statusCode="200",
                               **method_response)
    return api_id, root


# Models ---------------------------------------------------------------------------------------------
def test_model_calls_on_an_unknown_api_name_the_model(gw) -> None:  # type: ignore[no-untyped-def]
    # AWS recorded: test_apigateway_api.py::TestApiGatewayApiModels::test_model_validation
    # (get-model-wrong-id, del-model-wrong-id, create-model-wrong-id, get-models-wrong-id)
    assert error_of(gw.get_model, restApiId="abcde0", modelName="MySchema") == (
        "NotFoundException", 404, "Invalid model name specified: MySchema")
    assert error_of(gw.delete_model, restApiId="abcde0", modelName="MySchema") == (
        "NotFoundException", 404, "Invalid model name specified: MySchema")
    # the API is named by CreateModel and GetModels
    assert error_of(gw.create_model, restApiId="abcde0", name="MySchema", contentType="application/json",
                    schema=json.dumps({"title": "MySchema", "type": "object"})) == (
        "NotFoundException", 404, f"Invalid API identifier specified {ACCOUNT}:abcde0")
    assert error_of(gw.get_models, restApiId="abcde0") == (
        "NotFoundException", 404, f"Invalid API identifier specified {ACCOUNT}:abcde0")
    # AWS recorded: test_apigateway_api.py::TestApiGatewayApiModels::test_update_model (update-model-wrong-id)
    ops = [{"op": "replace", "path": "/schema", "value": json.dumps({"title": "Updated schema", "type": "object"})},
           {"op": "replace", "path": "/description", "value": ""}]
    assert error_of(gw.update_model, restApiId="abcde0", modelName="mySchema", patchOperations=ops) == (
        "NotFoundException", 404, "Invalid model name specified: mySchema")


# Request validators -----------------------------------------------------------------------------------
def test_request_validator_calls_on_an_unknown_api_name_the_validator(gw) -> None:  # type: ignore[no-untyped-def]
    api_id = gw.create_rest_api(name=unique("validators"), description="my api")["id"]
    validator = gw.create_request_validator(restApiId=api_id, name=unique("test-validator"))["id"]
    # AWS recorded: test_apigateway_api.py::TestApiGatewayApiRequestValidator::test_invalid_get_request_validator
    assert error_of(gw.get_request_validator, restApiId="api_id", requestValidatorId=validator) == (
        "NotFoundException", 404, "Invalid Request Validator identifier specified")
    # AWS recorded: ...::TestApiGatewayApiRequestValidator::test_invalid_delete_request_validator
    assert error_of(gw.delete_request_validator, restApiId="api_id", requestValidatorId=validator) == (
        "NotFoundException", 404, "Invalid Request Validator identifier specified")
    # not recorded for UpdateRequestValidator: answered like Get/Delete (as UpdateModel is, recorded)
    assert error_of(gw.update_request_validator, restApiId="api_id", requestValidatorId=validator,
                    patchOperations=[{"op": "replace", "path": "/name", "value": "x"}]) == (
        "NotFoundException", 404, "Invalid Request Validator identifier specified")
    # AWS recorded: ...::test_invalid_get_request_validators: the list names the API
    assert error_of(gw.get_request_validators, restApiId="api_id") == (
        "NotFoundException", 404, f"Invalid API identifier specified {ACCOUNT}:api_id")
    assert gw.get_request_validator(restApiId=api_id, requestValidatorId=validator)["id"] == validator


# Method responses -----------------------------------------------------------------------------------
def test_update_method_response_of_a_missing_entry_is_a_404(gw) -> None:  # type: ignore[no-untyped-def]
    # AWS recorded: test_apigateway_api.py::TestApigatewayMethodResponse::test_update_method_wrong_param_names
    api_id, root = mock_get(gw, responseParameters={"method.response.header.my-header": False},
                            responseModels={"application/json": "Empty"})
    key = {"restApiId": api_id, "resourceId": root, "httpMethod": "GET", "statusCode": "200"}
    before = clean(gw.get_method_response(**key))
    cases = [("replace", "/responseParameters/wrong", "true", "Invalid parameter name specified"),
             ("remove", "/responseParameters/wrong", "true", "Invalid parameter name specified"),
             ("replace", "/responseModels/wrong", "Empty", "Content-Type specified was not found"),
             ("remove", "/responseModels/wrong", "Empty", "Content-Type specified was not found")]
    for op, path, value, text in cases:
        assert error_of(gw.update_method_response, **key,
                        patchOperations=[{"op": op, "path": path, "value": value}]) == ("NotFoundException", 404, text)
    assert clean(gw.get_method_response(**key)) == before   # nothing changed
    # replace of an entry that is there, and add of a new one, still work (recorded: update-method-responses)
    out = gw.update_method_response(**key, patchOperations=[
        {"op": "replace", "path": "/responseParameters/method.response.header.my-header", "value": "true"},
        {"op": "add", "path": "/responseModels/text~1plain", "value": "Empty"}])
    assert out["responseParameters"] == {"method.response.header.my-header": True}
    assert out["responseModels"] == {"application/json": "Empty", "text/plain": "Empty"}


def test_update_method_response_checks_the_status_code_with_the_ops(raw_gw) -> None:  # type: ignore[no-untyped-def]
    # AWS recorded: test_apigateway_api.py::TestApigatewayMethodResponse::test_update_method_response_negative_tests
    gw = raw_gw
    api_id, root = mock_get(gw, responseParameters={"method.response.header.my-header": False},
                            responseModels={"application/json": "Empty"})
    key = {"restApiId": api_id, "resourceId": root, "httpMethod": "GET"}
    header = "/responseParameters/method.response.header.my-header"
    code, status, message = aws_error_of(gw.update_method_response, **key, statusCode="wrong",
                                         patchOperations=[{"op": "replace", "path": header, "value": "true"}])
    assert (code, status) == ("ValidationException", 400)   # not a modeled error: no "message" key
    assert message == f"1 validation error detected: Value 'wrong' at 'statusCode' failed to satisfy constraint: " \
                      f"{STATUS_PATTERN}"
    code, status, message = aws_error_of(gw.update_method_response, **key, statusCode="wrong",
                                         patchOperations=[{"op": "wrong_op", "path": header, "value": "true"}])
    assert (code, status) == ("ValidationException", 400)
    assert message == ("2 validation errors detected: Value 'wrong_op' at 'updateMethodResponseInput.patchOperations."
                       f"1.member.op' failed to satisfy constraint: {OP_ENUM}; Value 'wrong' at 'statusCode' failed "
                       f"to satisfy constraint: {STATUS_PATTERN}")
    assert error_of(gw.update_method_response, **key, statusCode="201",
                    patchOperations=[{"op": "replace", "path": header, "value": "true"}]) == (
        "NotFoundException", 404, "Invalid Response status code specified")


# Stages ---------------------------------------------------------------------------------------------
def stage_of_new_api(gw) -> tuple[str, Any]:  # type: ignore[no-untyped-def]
    """An API with GET -> MOCK on its root, deployed, and its stage `dev`; (api id, UpdateStage on dev)."""
    api_id, _root = mock_get(gw)
    deployment = gw.create_deployment(restApiId=api_id)["id"]
    gw.create_stage(restApiId=api_id, stageName="dev", deploymentId=deployment, description="dev stage")
    return api_id, functools.partial(gw.update_stage, restApiId=api_id, stageName="dev")


def test_a_new_method_setting_starts_from_the_stages_wildcard_one(gw) -> None:  # type: ignore[no-untyped-def]
    # AWS recorded: test_apigateway_common.py::TestStages::test_create_update_stages (update-stage, get-stage,
    # update-stage-override): test/GET, created after */* in the same patch, has */*'s cachingEnabled
    api_id, update = stage_of_new_api(gw)
    out = update(patchOperations=[
        {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "123"},
        {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
        {"op": "replace", "path": "/test/GET/throttling/burstLimit", "value": "124"}])
    defaults = {"cacheDataEncrypted": False, "cacheTtlInSeconds": 300, "dataTraceEnabled": False,
                "metricsEnabled": False, "requireAuthorizationForCacheControl": True, "throttlingRateLimit": 10000.0,
                "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER", "cachingEnabled": True}
    assert out["methodSettings"] == {"*/*": {**defaults, "throttlingBurstLimit": 123},
                                     "test/GET": {**defaults, "throttlingBurstLimit": 124}}
    assert gw.get_stage(restApiId=api_id, stageName="dev")["methodSettings"] == out["methodSettings"]
    # a later change of */* does not reach test/GET
    out = update(patchOperations=[{"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "100"}])
    assert out["methodSettings"]["*/*"]["throttlingBurstLimit"] == 100
    assert out["methodSettings"]["test/GET"]["throttlingBurstLimit"] == 124


def test_removing_a_method_setting_that_is_not_there_is_refused(gw) -> None:  # type: ignore[no-untyped-def]
    # AWS recorded: test_apigateway_common.py::TestStages::test_update_stage_remove_wildcard (delete-error,
    # update-stage-reset); AWS's text ends with a space
    _api_id, update = stage_of_new_api(gw)
    assert error_of(update, patchOperations=[{"op": "remove", "path": "/*/*"}]) == (
        "BadRequestException", 400, "Cannot remove method setting */* because there is no method setting for this "
                                    "method ")
    update(patchOperations=[{"op": "replace", "path": "/*/*/caching/enabled", "value": "true"}])
    assert update(patchOperations=[{"op": "remove", "path": "/*/*"}])["methodSettings"] == {}


def test_stage_access_log_settings(gw) -> None:  # type: ignore[no-untyped-def]
    # AWS recorded: test_apigateway_api.py::TestApiGatewayStage::test_stage_access_log_settings
    _api_id, update = stage_of_new_api(gw)
    arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{unique('access')}"
    out = update(patchOperations=[{"op": "add", "path": "/accessLogSettings/destinationArn", "value": arn}])
    assert out["accessLogSettings"] == {"destinationArn": arn}
    out = update(patchOperations=[{"op": "replace", "path": "/accessLogSettings/destinationArn", "value": arn + "a"}])
    assert out["accessLogSettings"] == {"destinationArn": arn + "a"}
    out = update(patchOperations=[{"op": "add", "path": "/accessLogSettings/format",
                                   "value": "$context.requestId $context.identity.sourceIp"}])
    assert out["accessLogSettings"] == {"destinationArn": arn + "a",
                                        "format": "$context.requestId $context.identity.sourceIp"}
    out = update(patchOperations=[{"op": "remove", "path": "/accessLogSettings"}])
    assert "accessLogSettings" not in out


def test_stage_access_log_settings_validation(gw) -> None:  # type: ignore[no-untyped-def]
    # AWS recorded: test_apigateway_api.py::TestApiGatewayStage::test_stage_access_log_settings_validation
    _api_id, update = stage_of_new_api(gw)
    invalid = ("BadRequestException", 400, "Invalid accessLogSettings path. Must be one of : "
                                           "[/accessLogSettings/destinationArn, /accessLogSettings/format]")

    def no_setting(key: str) -> tuple[str, int, str]:
        return ("BadRequestException", 400,
                f"Cannot remove method setting {key} because there is no method setting for this method ")

    for path in ("/accessLogSettings/randomValue", "/accessLogSettings/*"):
        for op in ("add", "replace"):   # invalid-path-*, star-and-*
            assert error_of(update, patchOperations=[{"op": op, "path": path, "value": "updated"}]) == invalid
        assert error_of(update, patchOperations=[{"op": "remove", "path": path, "value": "updated"}]) == \
            no_setting(path[1:])
    for op in ("add", "replace"):   # root-and-*
        assert error_of(update, patchOperations=[{"op": op, "path": "/accessLogSettings", "value": "test"}]) == invalid
    arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{unique('access')}"
    update(patchOperations=[{"op": "add", "path": "/accessLogSettings/destinationArn", "value": arn}])
    for member in ("destinationArn", "format"):
        assert error_of(update, patchOperations=[{"op": "replace", "path": f"/accessLogSettings/{member}",
                                                  "value": ""}]) == (
            "BadRequestException", 400, "Access Log value must not be empty")
    assert error_of(update, patchOperations=[{"op": "remove", "path": "/accessLogSettings/destinationArn"}]) == \
        no_setting("accessLogSettings/destinationArn")
    assert update(patchOperations=[])["accessLogSettings"] == {"destinationArn": arn}   # refused calls kept it


# REST APIs ------------------------------------------------------------------------------------------
ENUM_TYPES = ("Value '[wrong]' at 'createRestApiInput.endpointConfiguration.types' failed to satisfy constraint: "
              "Member must satisfy constraint: [Member must satisfy enum value set: [PRIVATE, EDGE, REGIONAL]]")
ENUM_IP = ("Value 'wrong' at 'createRestApiInput.endpointConfiguration.ipAddressType' failed to satisfy "
           "constraint: Member must satisfy enum value set: [ipv4, dualstack]")


def test_create_rest_api_checks_the_endpoint_configuration(raw_gw) -> None:  # type: ignore[no-untyped-def]
    # AWS recorded: test_apigateway_api.py::TestApiGatewayApiRestApi::test_create_rest_api_with_endpoint_configuration
    gw, name = raw_gw, unique("endpoint")
    code, status, message = aws_error_of(gw.create_rest_api, name=name,
                                         endpointConfiguration={"ipAddressType": "wrong", "types": ["EDGE"]})
    assert (code, status, message) == ("ValidationException", 400, f"1 validation error detected: {ENUM_IP}")
    assert aws_error_of(gw.create_rest_api, name=name,
                        endpointConfiguration={"ipAddressType": "ipv4", "types": ["wrong"]}) == (
        "ValidationException", 400, f"1 validation error detected: {ENUM_TYPES}")
    # both, whatever the order sent; and before the description's and the compression size's checks
    for config in ({"ipAddressType": "wrong", "types": ["wrong"]}, {"types": ["wrong"], "ipAddressType": "wrong"}):
        assert aws_error_of(gw.create_rest_api, name=name, description="", minimumCompressionSize=-1,
                            endpointConfiguration=config) == (
            "ValidationException", 400, f"2 validation errors detected: {ENUM_TYPES}; {ENUM_IP}")
    assert error_of(gw.create_rest_api, name=name, endpointConfiguration={"types": []}) == (
        "BadRequestException", 400, "REGIONAL Configuration and EDGE Configuration cannot be both DISABLED.")
    assert error_of(gw.create_rest_api, name=name, description="", minimumCompressionSize=-1,
                    endpointConfiguration={"ipAddressType": "ipv4", "types": ["EDGE"]}) == (
        "BadRequestException", 400, "Description cannot be an empty string")
    # AWS recorded: ...::TestApiGatewayApiRestApi::test_create_rest_api_private_type
    assert error_of(gw.create_rest_api, name=name,
                    endpointConfiguration={"ipAddressType": "ipv4", "types": ["PRIVATE"]}) == (
        "BadRequestException", 400, "Only dualstack ipAddressType is supported for Private APIs.")
    assert error_of(gw.create_rest_api, name=name, description="",
                    endpointConfiguration={"ipAddressType": "ipv4", "types": ["PRIVATE"]}) == (
        "BadRequestException", 400, "Description cannot be an empty string")
    assert name not in [api["name"] for api in gw.get_rest_apis(limit=500)["items"]]   # nothing was created
    # AWS recorded: ...::TestApiGatewayApiRestApi::test_create_rest_api_verify_defaults (a private API is dualstack)
    assert gw.create_rest_api(name=name, endpointConfiguration={"types": ["PRIVATE"]})["endpointConfiguration"] == {
        "types": ["PRIVATE"], "ipAddressType": "dualstack"}
    assert gw.create_rest_api(name=name, endpointConfiguration={"types": ["REGIONAL"]})["endpointConfiguration"] == {
        "types": ["REGIONAL"], "ipAddressType": "ipv4"}


def test_update_rest_api_endpoint_configuration(gw) -> None:  # type: ignore[no-untyped-def]
    # AWS recorded: test_apigateway_api.py::TestApiGatewayApiRestApi::test_update_rest_api_ip_address_type
    api_id = gw.create_rest_api(name=unique("endpoint"))["id"]
    update = functools.partial(gw.update_rest_api, restApiId=api_id)
    out = update(patchOperations=[{"op": "replace", "path": "/endpointConfiguration/types/0", "value": value}
                                  for value in ("EDGE", "REGIONAL", "PRIVATE")])
    assert out["endpointConfiguration"] == {"types": ["PRIVATE"], "ipAddressType": "dualstack"}
    cases = [({"op": "replace", "path": "/endpointConfiguration/ipAddressType", "value": "ipv4"},
              "Only dualstack ipAddressType is supported for Private APIs."),
             ({"op": "replace", "path": "/endpointConfiguration/ipAddressType", "value": "wrong"},
              "ipAddressType must be either ipv4 or dualstack."),
             ({"op": "replace", "path": "/endpointConfiguration/types/0", "value": "wrong"},
              "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE"),
             ({"op": "remove", "path": "/endpointConfiguration/ipAddressType", "value": "dualstack"},
              "Invalid patch operation specified. Must be one of: [replace]"),
             ({"op": "remove", "path": "/endpointConfiguration/types/0", "value": "EDGE"},
              "Invalid patch operation specified. Must be 'add'|'remove'|'replace'")]
    for op, text in cases:
        assert error_of(update, patchOperations=[op]) == ("BadRequestException", 400, text)
    out = update(patchOperations=[{"op": "replace", "path": "/endpointConfiguration/ipAddressType",
                                   "value": "dualstack"}])
    assert out["endpointConfiguration"] == {"types": ["PRIVATE"], "ipAddressType": "dualstack"}
    assert gw.get_rest_api(restApiId=api_id)["endpointConfiguration"] == out["endpointConfiguration"]


def test_update_rest_api_binary_media_types_and_compression(gw) -> None:  # type: ignore[no-untyped-def]
    # AWS recorded: test_apigateway_api.py::TestApiGatewayApiRestApi::test_update_rest_api_operation_add_remove:
    # a replace removes the entry and appends the new one
    api_id = gw.create_rest_api(name=unique("binary"), description="this is my api")["id"]
    update = functools.partial(gw.update_rest_api, restApiId=api_id)
    update(patchOperations=[{"op": "add", "path": "/binaryMediaTypes/image~1png"},
                            {"op": "add", "path": "/binaryMediaTypes/image~1jpeg"}])
    out = update(patchOperations=[{"op": "replace", "path": "/binaryMediaTypes/image~1png", "value": "image/gif"}])
    assert out["binaryMediaTypes"] == ["image/jpeg", "image/gif"]
    # AWS recorded: ...::TestApiGatewayApiRestApi::test_update_rest_api_compression (set-string-compression)
    for value in ("test", "-1"):
        assert error_of(update, patchOperations=[{"op": "replace", "path": "/minimumCompressionSize",
                                                  "value": value}]) == (
            "BadRequestException", 400, "Invalid minimum compression size, must be between 0 and 10485760")


# Methods --------------------------------------------------------------------------------------------
def test_update_method_validation(gw) -> None:  # type: ignore[no-untyped-def]
    # AWS recorded: test_apigateway_api.py::TestApiGatewayApiMethod::test_update_method_validation
    api = gw.create_rest_api(name=unique("methods"))
    key = {"restApiId": api["id"], "resourceId": api["rootResourceId"], "httpMethod": "ANY"}
    gw.put_method(**key, authorizationType="NONE", apiKeyRequired=True)
    before = clean(gw.get_method(**key))
    only_replace = ("BadRequestException", 400, "Invalid patch operation specified. Must be one of: [replace]")
    assert error_of(gw.update_method, **key, patchOperations=[
        {"op": "add", "path": "/operationName", "value": "operationName"}]) == only_replace
    assert error_of(gw.update_method, **key, patchOperations=[
        {"op": "add", "path": "/requestValidatorId", "value": "wrong-id"}]) == only_replace
    no_authorizer = ("BadRequestException", 400, "Invalid authorizer ID specified. Setting the authorization type "
                                                 "to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.")
    assert error_of(gw.update_method, **key, patchOperations=[
        {"op": "replace", "path": "/authorizationType", "value": "CUSTOM"}]) == no_authorizer
    assert error_of(gw.update_method, **key, patchOperations=[
        {"op": "replace", "path": "/authorizationType", "value": "CUSTOM"},
        {"op": "replace", "path": "/authorizerId", "value": "abc123"}]) == no_authorizer
    assert clean(gw.get_method(**key)) == before   # nothing kept of the refused patches
    # an authorizer id on a method without an authorizer type is ignored (skip-auth-id-with-wrong-type)
    out = gw.update_method(**key, patchOperations=[{"op": "replace", "path": "/authorizerId", "value": "abc123"}])
    assert clean(out) == before
    assert "authorizerId" not in gw.get_method(**key)


def test_delete_model_names_the_newer_resources_method(gw) -> None:  # type: ignore[no-untyped-def]
    # AWS recorded: test_apigateway_api.py::TestApiGatewayApiMethod::test_put_method_model
    # (delete-model-used-by-2-method, delete-model-used-by-method-1)
    api = gw.create_rest_api(name=unique("models"))
    api_id, root = api["id"], api["rootResourceId"]
    gw.create_model(restApiId=api_id, name="MySchemaTwo", contentType="application/json",
                    schema=json.dumps({"title": "MySchemaTwo", "type": "object"}))
    gw.put_method(restApiId=api_id, resourceId=root, httpMethod="ANY", authorizationType="NONE",
                  requestModels={"application/json": "MySchemaTwo"})
    test = gw.create_resource(restApiId=api_id, parentId=root, pathPart="test")["id"]
    gw.put_method(restApiId=api_id, resourceId=test, httpMethod="ANY", authorizationType="NONE",
                  requestModels={"application/json": "MySchemaTwo"})
    assert error_of(gw.delete_model, restApiId=api_id, modelName="MySchemaTwo") == (
        "ConflictException", 409, "Cannot delete model 'MySchemaTwo', is referenced in method request: /test/ANY")
    gw.update_method(restApiId=api_id, resourceId=test, httpMethod="ANY", patchOperations=[
        {"op": "remove", "path": "/requestModels/application~1json", "value": "MySchemaTwo"}])
    assert error_of(gw.delete_model, restApiId=api_id, modelName="MySchemaTwo") == (
        "ConflictException", 409, "Cannot delete model 'MySchemaTwo', is referenced in method request: //ANY")


# Integrations ---------------------------------------------------------------------------------------
def test_request_parameters_of_the_wrong_kind(raw_gw) -> None:  # type: ignore[no-untyped-def]
    # AWS recorded: test_apigateway_api.py::TestApigatewayIntegration::test_put_integration_request_parameter_bool_type
    gw = raw_gw
    api = gw.create_rest_api(name=unique("params"))
    key = {"restApiId": api["id"], "resourceId": api["rootResourceId"]}
    out = gw.put_method(**key, httpMethod="GET", authorizationType="NONE",
                        requestParameters={"method.request.path.testPath": True})
    assert out["requestParameters"] == {"method.request.path.testPath": True}
    # a key that is not method.request.{location}.{name} (boto3 sends the key True as "true")
    assert error_of(gw.put_method, **key, httpMethod="POST", authorizationType="NONE",
                    requestParameters={"method.request.path.testPath": True, True: True}) == (
        "BadRequestException", 400, "Invalid mapping expression specified: Validation Result: warnings : [], "
                                    "errors : [Invalid mapping expression specified: true]")
    # an integration's parameter values are strings: a boolean is refused by the deserializer, first of all
    for params in ({True: True}, {"integration.request.path.testPath": True}):
        code, status, message = aws_error_of(gw.put_integration, **key, httpMethod="GET", type="HTTP_PROXY",
                                             requestParameters=params)
        assert (code, status, message) == (   # not a modeled error: no "message" key
            "SerializationException", 400, "class java.lang.Boolean can not be converted to an String")
    assert "POST" not in (gw.get_resource(**key).get("resourceMethods") or {})
    assert error_of(gw.get_integration, **key, httpMethod="GET")[2] == "Invalid Integration identifier specified"


# Import -----------------------------------------------------------------------------------------------
OAS30_MOCK_OPTIONS = {
    "openapi": "3.0.1", "info": {"title": "mock-options", "version": "1.0"},
    "paths": {"/": {"options": {
        "responses": {"200": {"description": "200 response"}},
        "x-amazon-apigateway-integration": {
            "type": "mock", "httpMethod": "POST", "passthroughBehavior": "when_no_match",
            "requestTemplates": {"application/json": "{\"statusCode\": 200}"},
            "responses": {"default": {"statusCode": "200"}}}}}},
    "components": {"schemas": {"Person": {"type": "object", "properties": {"name": {"type": "string"}}}}},
}


def test_import_keeps_only_the_documents_models_and_no_mock_http_method(gw) -> None:  # type: ignore[no-untyped-def]
    # AWS recorded: test_apigateway_import.py::TestApiGatewayImportRestApi::test_import_with_circular_models
    # (get-models: Empty, House, Person - no Error) and
    # test_import_and_validate_rest_api[swagger-mock-cors.json] (get-models: none)
    api_id = gw.import_rest_api(body=json.dumps(OAS30_MOCK_OPTIONS), failOnWarnings=True)["id"]
    assert [m["name"] for m in gw.get_models(restApiId=api_id)["items"]] == ["Person"]
    # AWS recorded: ...::test_import_with_http_method_integration (integration-root-options has no httpMethod)
    root = gw.get_rest_api(restApiId=api_id)["rootResourceId"]
    integration = gw.get_integration(restApiId=api_id, resourceId=root, httpMethod="OPTIONS")
    assert integration["type"] == "MOCK" and "httpMethod" not in integration
    # a REST API created the usual way still starts with Empty and Error
    created = gw.create_rest_api(name=unique("models"))["id"]
    assert sorted(m["name"] for m in gw.get_models(restApiId=created)["items"]) == ["Empty", "Error"]


def test_the_status_code_pattern_is_checked_first_by_every_response_call(raw_gw) -> None:  # type: ignore[no-untyped-def]
    # Not recorded for these calls: answered as AWS recorded for UpdateMethodResponse
    # (TestApigatewayMethodResponse::test_update_method_response_negative_tests/
    # update-method-response-invalid-statuscode)
    # and GetIntegrationResponse (TestApigatewayIntegrationResponse::test_integration_response_invalid_statuscode):
    # the pattern of the statusCode member, before any lookup
    gw = raw_gw
    api_id, root = mock_get(gw)
    key = {"restApiId": api_id, "resourceId": root, "httpMethod": "GET", "statusCode": "wrong"}
    pattern = ("ValidationException", 400, "1 validation error detected: Value 'wrong' at 'statusCode' failed to "
                                           f"satisfy constraint: {STATUS_PATTERN}")
    assert aws_error_of(gw.get_method_response, **key) == pattern
    assert aws_error_of(gw.delete_method_response, **key) == pattern
    assert aws_error_of(gw.update_integration_response, **key, patchOperations=[
        {"op": "replace", "path": "/selectionPattern", "value": "x"}]) == pattern
    assert aws_error_of(gw.update_integration_response, **key, patchOperations=[
        {"op": "wrong_op", "path": "/selectionPattern", "value": "x"}]) == (
        "ValidationException", 400, "2 validation errors detected: Value 'wrong_op' at "
        f"'updateIntegrationResponseInput.patchOperations.1.member.op' failed to satisfy constraint: {OP_ENUM}; "
        f"Value 'wrong' at 'statusCode' failed to satisfy constraint: {STATUS_PATTERN}")


def test_a_mock_integration_keeps_no_http_method(gw) -> None:  # type: ignore[no-untyped-def]
    # AWS recorded: test_apigateway_import.py::test_import_with_http_method_integration (integration-root-options:
    # a MOCK integration imported with httpMethod POST has none); PutIntegration is answered the same way
    api = gw.create_rest_api(name=unique("mock"))
    key = {"restApiId": api["id"], "resourceId": api["rootResourceId"], "httpMethod": "GET"}
    gw.put_method(**key, authorizationType="NONE")
    out = gw.put_integration(**key, type="MOCK", integrationHttpMethod="POST",
                             requestTemplates={"application/json": '{"statusCode": 200}'})
    assert "httpMethod" not in out and "httpMethod" not in gw.get_integration(**key)
