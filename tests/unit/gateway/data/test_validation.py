"""Method request validation and model checks: reference section 2, trap 31, AWS-recorded texts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdalite.errors import RequestValidationError
from lambdalite.gateway.data.validation import (
    EMPTY_MODEL_SCHEMA,
    MethodRequest,
    check_model_schema,
    compile_models,
    missing_parameters,
    validate_request,
)

PARAMS_ONLY = {"validateRequestParameters": True, "validateRequestBody": False}
BODY_ONLY = {"validateRequestParameters": False, "validateRequestBody": True}
BOTH = {"validateRequestParameters": True, "validateRequestBody": True}
ADDFIVE = {"requestParameters": {"method.request.querystring.num": True}}
TEST_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "testSchema",
    "type": "object",
    "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
    "required": ["a", "b"],
}
RECORDED_METHOD = {
    "requestModels": {"application/json": "testSchema"},
    "requestParameters": {
        "method.request.header.x-header-param": True,
        "method.request.path.issuer": True,
        "method.request.querystring.qs1": True,
    },
}


def rejected(
    method: dict[str, Any], validator: dict[str, Any] | None, request: MethodRequest, models: Any = None
) -> str:
    with pytest.raises(RequestValidationError) as caught:
        validate_request(method, validator, models or {}, request)
    assert caught.value.status == 400 and caught.value.error_type == "BadRequestException"
    return caught.value.message


def test_guide_missing_num() -> None:
    assert rejected(ADDFIVE, PARAMS_ONLY, MethodRequest()) == "Missing required request parameters: [num]"


def test_guide_with_num_passes() -> None:
    validate_request(ADDFIVE, PARAMS_ONLY, {}, MethodRequest(query={"num": "5"}))


def test_no_validator_means_no_validation() -> None:
    validate_request(ADDFIVE, None, {}, MethodRequest())
    validate_request({**RECORDED_METHOD}, None, {"testSchema": TEST_SCHEMA}, MethodRequest(body=b"nope"))


def test_validator_with_nothing_enabled_validates_nothing() -> None:
    validate_request(ADDFIVE, {"validateRequestParameters": False, "validateRequestBody": False}, {}, MethodRequest())


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_values_count_as_missing(blank: str) -> None:
    assert rejected(ADDFIVE, PARAMS_ONLY, MethodRequest(query={"num": blank})).endswith("[num]")


def test_all_missing_listed_in_sorted_full_key_order_recorded() -> None:
    message = rejected(RECORDED_METHOD, BOTH, MethodRequest(), {"testSchema": TEST_SCHEMA})
    assert message == "Missing required request parameters: [x-header-param, issuer, qs1]"


def test_only_missing_header_recorded() -> None:
    request = MethodRequest(path_params={"issuer": "i"}, query={"qs1": "v"})
    assert rejected(RECORDED_METHOD, PARAMS_ONLY, request) == "Missing required request parameters: [x-header-param]"


def test_only_missing_querystring_recorded() -> None:
    request = MethodRequest(path_params={"issuer": "i"}, headers={"x-header-param": "h"})
    assert rejected(RECORDED_METHOD, PARAMS_ONLY, request) == "Missing required request parameters: [qs1]"


def test_headers_are_matched_case_insensitively() -> None:
    request = MethodRequest(path_params={"issuer": "i"}, query={"qs1": "v"}, headers={"X-Header-Param": "h"})
    validate_request(RECORDED_METHOD, PARAMS_ONLY, {}, request)


def test_optional_parameters_are_not_required() -> None:
    method = {"requestParameters": {"method.request.querystring.num": False, "method.request.header.h": False}}
    validate_request(method, PARAMS_ONLY, {}, MethodRequest())


def test_parameters_are_checked_before_the_body() -> None:
    message = rejected(RECORDED_METHOD, BOTH, MethodRequest(body=b"not json"), {"testSchema": TEST_SCHEMA})
    assert message.startswith("Missing required request parameters")


def test_missing_parameters_helper_ignores_malformed_keys() -> None:
    params = {"method.request.querystring.a": True, "bogus": True, "method.request.body.x": True}
    assert missing_parameters(params, MethodRequest()) == ["a"]


def test_missing_parameters_names_can_contain_dots() -> None:
    assert missing_parameters({"method.request.header.x.y": True}, MethodRequest()) == ["x.y"]


# ---- body --------------------------------------------------------------------------------------

MODELS = {"testSchema": TEST_SCHEMA}
BODY_METHOD = {"requestModels": {"application/json": "testSchema"}}


def body_request(body: Any, content_type: str | None = "application/json") -> MethodRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    return MethodRequest(headers=headers, body=raw)


def test_valid_body_passes() -> None:
    validate_request(BODY_METHOD, BODY_ONLY, MODELS, body_request({"a": 1, "b": 2}))


@pytest.mark.parametrize("body", [{"a": 1}, {"a": "x", "b": 2}, [1], b"not json", b"\xff"])
def test_invalid_body_recorded_message(body: Any) -> None:
    assert rejected(BODY_METHOD, BODY_ONLY, body_request(body), MODELS) == "Invalid request body"


def test_empty_body_validates_as_empty_object() -> None:
    assert rejected(BODY_METHOD, BODY_ONLY, body_request(b""), MODELS) == "Invalid request body"
    validate_request({"requestModels": {"application/json": "Empty"}}, BODY_ONLY, {}, body_request(b""))


def test_no_content_type_means_application_json() -> None:
    assert rejected(BODY_METHOD, BODY_ONLY, body_request({"a": 1}, None), MODELS) == "Invalid request body"


def test_content_type_parameters_are_ignored() -> None:
    request = body_request({"a": 1}, "application/json; charset=utf-8")
    assert rejected(BODY_METHOD, BODY_ONLY, request, MODELS) == "Invalid request body"


def test_default_model_for_other_content_types() -> None:
    method = {"requestModels": {"application/json": "testSchema", "$default": "Empty"}}
    validate_request(method, BODY_ONLY, MODELS, body_request({"x": 1}, "text/plain"))


def test_without_models_the_empty_model_applies() -> None:
    validate_request({}, BODY_ONLY, {}, body_request({"anything": 1}))
    assert rejected({}, BODY_ONLY, body_request([1, 2])) == "Invalid request body"


def test_ref_between_models_recorded() -> None:
    # test_api_gateway_request_validator_with_ref_models (AWS-recorded models)
    models = {
        "testSchema": TEST_SCHEMA,
        "testSchemaList": {
            "type": "array",
            "items": {"$ref": "https://apigateway.amazonaws.com/restapis/abc123/models/testSchema"},
        },
    }
    method = {"requestModels": {"application/json": "testSchemaList"}}
    validate_request(method, BODY_ONLY, models, body_request([{"a": 1, "b": 2}]))
    assert rejected(method, BODY_ONLY, body_request([{"a": 1}]), models) == "Invalid request body"


def test_ref_one_of_with_null_recorded() -> None:
    # test_api_gateway_request_validator_with_ref_one_ofmodels (AWS-recorded models)
    models = {
        "StatusModel": {
            "type": "object",
            "properties": {"Status": {"type": "string"}, "Order": {"type": "integer"}},
            "required": ["Status", "Order"],
        },
        "TestModel": {
            "type": "object",
            "properties": {
                "status": {
                    "oneOf": [
                        {"type": "null"},
                        {"$ref": "https://apigateway.amazonaws.com/restapis/x/models/StatusModel"},
                    ]
                }
            },
            "required": ["status"],
        },
    }
    method = {"requestModels": {"application/json": "TestModel"}}
    validate_request(method, BODY_ONLY, models, body_request({"status": None}))
    validate_request(method, BODY_ONLY, models, body_request({"status": {"Status": "ok", "Order": 1}}))
    assert rejected(method, BODY_ONLY, body_request({}), models) == "Invalid request body"
    assert rejected(method, BODY_ONLY, body_request({"status": {"Status": 1}}), models) == "Invalid request body"


def test_unresolvable_ref_rejects_the_body() -> None:
    models = {"M": {"$ref": "https://apigateway.amazonaws.com/restapis/x/models/Nope"}}
    assert rejected({"requestModels": {"application/json": "M"}}, BODY_ONLY, body_request({}), models) == (
        "Invalid request body"
    )


def test_unknown_model_name_rejects_the_body() -> None:
    assert rejected({"requestModels": {"application/json": "Ghost"}}, BODY_ONLY, body_request({})) == (
        "Invalid request body"
    )


def test_models_may_be_json_text_and_compiled_once() -> None:
    model_set = compile_models({"testSchema": json.dumps(TEST_SCHEMA)})
    validate_request(BODY_METHOD, BODY_ONLY, model_set, body_request({"a": 1, "b": 2}))
    assert rejected(BODY_METHOD, BODY_ONLY, body_request({}), model_set) == "Invalid request body"


def test_draft4_semantics() -> None:
    # draft 4: exclusiveMaximum is a boolean modifier
    schema = {"type": "object", "properties": {"n": {"type": "number", "maximum": 5, "exclusiveMaximum": True}}}
    method = {"requestModels": {"application/json": "M"}}
    assert rejected(method, BODY_ONLY, body_request({"n": 5}), {"M": schema}) == "Invalid request body"
    validate_request(method, BODY_ONLY, {"M": schema}, body_request({"n": 4}))


# ---- CreateModel -------------------------------------------------------------------------------

NO_SCHEMA = "Model schema must have at least 1 property or array items defined"
INVALID = "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]"


@pytest.mark.parametrize("text", [None, "", "   "])
def test_missing_schema_recorded(text: str | None) -> None:
    assert check_model_schema(text) == NO_SCHEMA


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '"text"', '{"type": 5}', '{"required": []}'])
def test_invalid_schema_message(text: str) -> None:
    assert check_model_schema(text) == INVALID


@pytest.mark.parametrize(
    "schema", [{"title": "MySchema", "type": "object"}, EMPTY_MODEL_SCHEMA, TEST_SCHEMA, {"type": "array", "items": {}}]
)
def test_valid_schemas_are_accepted(schema: dict[str, Any]) -> None:
    assert check_model_schema(json.dumps(schema)) is None
