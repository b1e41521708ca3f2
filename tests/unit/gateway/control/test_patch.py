"""Patch operations over plain dicts: paths, ops, AWS's texts, and nothing kept from a refused op."""

from __future__ import annotations

import pytest

from lambdalite.errors import BadRequestException, NotFoundException, ValidationError
from lambdalite.gateway.control import patch


def test_split_path_unescapes_json_pointer() -> None:
    assert patch.split_path("/requestModels/application~1json") == ["requestModels", "application/json"]
    assert patch.split_path("/a~0b") == ["a~b"]


def test_ops_outside_the_enum_are_all_reported_at_once() -> None:
    with pytest.raises(ValidationError) as info:
        patch.check_ops([{"op": "replace"}, {"op": "wrong"}, {"op": "bad"}], "updateRestApiInput")
    assert info.value.message.startswith("2 validation errors detected: Value 'wrong' at "
                                         "'updateRestApiInput.patchOperations.2.member.op'")


def test_rest_api_binary_media_types_patch_like_a_map() -> None:
    api: dict = {"name": "a", "description": "d"}
    patch.apply_rest_api(api, [{"op": "add", "path": "/binaryMediaTypes/image~1png"},
                               {"op": "add", "path": "/binaryMediaTypes/-"},
                               {"op": "replace", "path": "/binaryMediaTypes/image~1png", "value": "image/gif"},
                               {"op": "remove", "path": "/description"}])
    # a replace removes the entry and appends the new value (AWS recorded:
    # test_apigateway_api.py::TestApiGatewayApiRestApi::test_update_rest_api_operation_add_remove)
    assert api == {"name": "a", "binaryMediaTypes": ["-", "image/gif"]}
    with pytest.raises(BadRequestException, match="^Invalid patch path /binaryMediaTypes$"):
        patch.apply_rest_api(api, [{"op": "add", "path": "/binaryMediaTypes"}])


def test_minimum_compression_size_accepts_only_replace_and_a_range() -> None:
    api: dict = {}
    patch.apply_rest_api(api, [{"op": "replace", "path": "/minimumCompressionSize", "value": "0"}])
    assert api == {"minimumCompressionSize": 0}
    patch.apply_rest_api(api, [{"op": "replace", "path": "/minimumCompressionSize", "value": ""}])
    assert api == {}
    with pytest.raises(BadRequestException, match=r"Must be one of: \[replace\]"):
        patch.apply_rest_api(api, [{"op": "add", "path": "/minimumCompressionSize", "value": "1"}])
    with pytest.raises(BadRequestException, match="between 0 and 10485760"):
        patch.apply_rest_api(api, [{"op": "replace", "path": "/minimumCompressionSize", "value": "-1"}])


def test_method_parameters_and_models() -> None:
    method: dict = {"httpMethod": "GET", "requestParameters": {"method.request.querystring.a": False}}
    patch.apply_method(method, [
        {"op": "add", "path": "/requestParameters/method.request.header.h", "value": "true"},
        {"op": "remove", "path": "/requestParameters/method.request.querystring.a"},
        {"op": "add", "path": "/requestModels/application~1json", "value": "Empty"},
        {"op": "replace", "path": "/apiKeyRequired", "value": "true"}],
        has_model=lambda m: m == "Empty", has_validator=lambda v: False)
    assert method == {"httpMethod": "GET", "requestParameters": {"method.request.header.h": True},
                      "requestModels": {"application/json": "Empty"}, "apiKeyRequired": True}
    patch.apply_method(method, [{"op": "remove", "path": "/requestModels/application~1json"}],
                       has_model=lambda m: True, has_validator=lambda v: True)
    assert "requestModels" not in method  # an emptied map disappears
    for path, text in (("/httpMethod", "Invalid patch path /httpMethod"),
                       ("/requestParameters", "Invalid patch path /requestParameters")):
        with pytest.raises(BadRequestException) as info:
            patch.apply_method(method, [{"op": "replace", "path": path, "value": "x"}],
                               has_model=lambda m: True, has_validator=lambda v: True)
        assert info.value.message == text
    with pytest.raises(BadRequestException, match="Invalid model identifier specified: Nope"):
        patch.apply_method(method, [{"op": "add", "path": "/requestModels/application~1json", "value": "Nope"}],
                           has_model=lambda m: False, has_validator=lambda v: True)


def test_method_response_missing_entries_are_404s() -> None:
    with pytest.raises(NotFoundException, match="^Invalid parameter name specified$"):
        patch.apply_method_response({}, [{"op": "remove", "path": "/responseParameters/method.response.header.X"}])
    with pytest.raises(NotFoundException, match="^Content-Type specified was not found$"):
        patch.apply_method_response({}, [{"op": "remove", "path": "/responseModels/application~1json"}])


def test_integration_and_integration_response() -> None:
    integration: dict = {"type": "AWS", "requestTemplates": {"application/json": "x"}, "cacheKeyParameters": []}
    patch.apply_integration(integration, [
        {"op": "replace", "path": "/requestTemplates/application~1json", "value": ""},
        {"op": "replace", "path": "/timeoutInMillis", "value": "1000"},
        {"op": "add", "path": "/cacheKeyParameters/method.request.querystring.a"}])
    assert integration == {"type": "AWS", "requestTemplates": {"application/json": None}, "timeoutInMillis": 1000,
                           "cacheKeyParameters": ["method.request.querystring.a"]}
    response: dict = {"statusCode": "200"}
    patch.apply_integration_response(response, [{"op": "replace", "path": "/selectionPattern", "value": "4\\d\\d"}])
    assert response == {"statusCode": "200", "selectionPattern": "4\\d\\d"}


def test_validator_and_model_texts_with_two_spaces() -> None:
    validator = {"name": "v", "validateRequestBody": True}
    patch.apply_validator(validator, [{"op": "replace", "path": "/validateRequestBody"}])
    assert validator["validateRequestBody"] is False  # a replace without a value sets false
    with pytest.raises(BadRequestException) as info:
        patch.apply_validator(validator, [{"op": "add", "path": "/validateRequestBody", "value": "true"}])
    assert info.value.message == ("Invalid patch path  '/validateRequestBody' specified for op 'add'. Please choose "
                                  "supported operations")
    with pytest.raises(BadRequestException, match="^Request Validator name cannot be blank$"):
        patch.apply_validator(validator, [{"op": "replace", "path": "/name", "value": " "}])
    with pytest.raises(BadRequestException) as info:
        patch.apply_model({}, [{"op": "replace", "path": "/name", "value": "x"}], lambda s: None)
    assert info.value.message == ("Invalid patch path  '/name' specified for op 'replace'. Must be one of: "
                                  "[/description, /schema]")


def test_stage_variables_method_settings_and_deployment() -> None:
    stage: dict = {"variables": {"a": "1"}, "methodSettings": {}}
    patch.apply_stage(stage, [
        {"op": "replace", "path": "/variables/b", "value": "x:/y"},
        {"op": "remove", "path": "/variables/a"},
        {"op": "replace", "path": "/deploymentId", "value": "d2"},
        {"op": "replace", "path": "/~1pets/GET/caching/enabled", "value": "true"}], has_deployment=lambda d: d == "d2")
    assert stage["variables"] == {"b": "x:/y"} and stage["deploymentId"] == "d2"
    assert stage["methodSettings"]["pets/GET"]["cachingEnabled"] is True
    assert stage["methodSettings"]["pets/GET"]["throttlingBurstLimit"] == 5000  # defaults on first write
    patch.apply_stage(stage, [{"op": "remove", "path": "/variables/b"}, {"op": "remove", "path": "/~1pets/GET"}],
                      has_deployment=lambda d: True)
    assert "variables" not in stage and stage["methodSettings"] == {}
    with pytest.raises(BadRequestException, match="^Invalid method setting path: /tags/t. Must be one of: "):
        patch.apply_stage(stage, [{"op": "replace", "path": "/tags/t", "value": "x"}], has_deployment=lambda d: True)
    with pytest.raises(BadRequestException, match="Stage variable value"):
        patch.apply_stage(stage, [{"op": "replace", "path": "/variables/a", "value": "has space"}],
                          has_deployment=lambda d: True)
    with pytest.raises(BadRequestException, match="Deployment id nope does not exist"):
        patch.apply_stage(stage, [{"op": "replace", "path": "/deploymentId", "value": "nope"}],
                          has_deployment=lambda d: False)
