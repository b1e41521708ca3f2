"""Non-proxy and MOCK integration rules: reference 3.1, 3.3, 3.4 and traps 21-23, 29."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdalite.errors import IntegrationConfigurationError, UnsupportedMediaType
from lambdalite.gateway.data.integration import (
    PASSTHROUGH,
    lambda_error_message,
    map_response_parameters,
    mock_status_code,
    response_content_type,
    select_integration_response,
    select_request_template,
    select_response_template,
)

JSON_ONLY = {"application/json": "{}"}

# ---- request templates and passthrough ---------------------------------------------------------


@pytest.mark.parametrize("behaviour", ["WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER", None])
@pytest.mark.parametrize("content_type", [None, "application/json"])
def test_docs_example_json_is_transformed_under_all_behaviours(behaviour: str | None, content_type: str | None) -> None:
    assert select_request_template(JSON_ONLY, content_type, behaviour) == "application/json"


def test_docs_example_xml_passes_through_when_no_match() -> None:
    assert select_request_template(JSON_ONLY, "application/xml", "WHEN_NO_MATCH") is PASSTHROUGH


@pytest.mark.parametrize("behaviour", ["WHEN_NO_TEMPLATES", "NEVER"])
def test_docs_example_xml_is_415_otherwise(behaviour: str) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        select_request_template(JSON_ONLY, "application/xml", behaviour)
    assert caught.value.status == 415 and caught.value.message == "Unsupported Media Type"


def test_default_behaviour_is_when_no_match() -> None:
    assert select_request_template(JSON_ONLY, "text/plain", None) is PASSTHROUGH


def test_when_no_templates_passes_through_without_templates() -> None:
    assert select_request_template({}, "text/plain", "WHEN_NO_TEMPLATES") is PASSTHROUGH
    assert select_request_template(None, None, "WHEN_NO_TEMPLATES") is PASSTHROUGH


def test_never_rejects_even_without_templates() -> None:
    with pytest.raises(UnsupportedMediaType):
        select_request_template({}, None, "NEVER")


def test_openapi_lowercase_behaviour_names() -> None:
    with pytest.raises(UnsupportedMediaType):
        select_request_template(JSON_ONLY, "text/plain", "when_no_templates")


def test_guide_template_is_chosen_for_a_get_without_content_type() -> None:
    templates = {"application/json": """{"num": "$input.params('num')"}"""}
    assert select_request_template(templates, None, "WHEN_NO_TEMPLATES") == "application/json"


def test_content_type_parameters_and_case_are_lenient() -> None:
    assert select_request_template(JSON_ONLY, "Application/JSON; charset=utf-8", "NEVER") == "application/json"


def test_exact_key_wins_over_lenient_match() -> None:
    templates = {"application/json": "a", "application/json; charset=utf-8": "b"}
    assert select_request_template(templates, "application/json; charset=utf-8", "NEVER") == (
        "application/json; charset=utf-8"
    )


def test_default_key_catches_other_types() -> None:
    templates = {"application/json": "a", "$default": "b"}
    assert select_request_template(templates, "text/plain", "NEVER") == "$default"


# ---- selection of integration responses --------------------------------------------------------

RECORDED_RESPONSES: dict[str, dict[str, Any]] = {
    "200": {"statusCode": "200"},
    "405": {"statusCode": "405", "selectionPattern": ".*four hundred.*"},
    "502": {"statusCode": "502", "selectionPattern": ".+"},
}


def test_success_takes_the_default_response() -> None:
    status, response = select_integration_response(RECORDED_RESPONSES, None)
    assert status == 200 and response is RECORDED_RESPONSES["200"]


def test_dot_plus_does_not_catch_success_recorded() -> None:
    assert select_integration_response(RECORDED_RESPONSES, None)[0] == 200


def test_several_matches_pick_the_recorded_one() -> None:
    # test_lambda_selection_patterns (AWS-recorded): AWS answered 405
    assert (
        select_integration_response(RECORDED_RESPONSES, "Error: Raising four hundred from within the Lambda")[0] == 405
    )


def test_other_errors_hit_the_catch_all() -> None:
    assert select_integration_response(RECORDED_RESPONSES, "Error: Raising five hundred")[0] == 502


def test_patterns_match_the_whole_message() -> None:
    responses = {"200": {}, "400": {"selectionPattern": "Bad"}}
    assert select_integration_response(responses, "Bad input")[0] == 200
    assert select_integration_response(responses, "Bad")[0] == 400


def test_dot_star_also_replaces_the_default_for_successes() -> None:
    responses = {"200": {}, "500": {"selectionPattern": ".*"}}
    assert select_integration_response(responses, None)[0] == 500


def test_status_pattern_never_matches_a_lambda_success_recorded() -> None:
    responses = {"200": {}, "201": {"selectionPattern": "200"}}
    assert select_integration_response(responses, None)[0] == 200


def test_non_lambda_backends_select_on_status() -> None:
    responses = {"200": {}, "404": {"selectionPattern": "4\\d{2}"}}
    assert select_integration_response(responses, "404")[0] == 404
    assert select_integration_response(responses, "200")[0] == 200


def test_multiline_error_messages_match() -> None:
    responses = {"200": {}, "400": {"selectionPattern": ".*Invalid.*"}}
    assert select_integration_response(responses, "line one\nInvalid input")[0] == 400


def test_lambda_error_without_match_gets_the_default_status() -> None:
    responses = {"200": {"statusCode": "200"}}
    assert select_integration_response(responses, "Error: boom")[0] == 200


@pytest.mark.parametrize("responses", [{}, None, {"400": {"selectionPattern": "Bad.*"}}])
def test_no_match_and_no_default_is_500(responses: dict[str, Any] | None) -> None:
    with pytest.raises(IntegrationConfigurationError) as caught:
        select_integration_response(responses, "other")
    assert caught.value.status == 500 and caught.value.message == "Internal server error"


def test_broken_regex_never_matches() -> None:
    responses = {"200": {}, "400": {"selectionPattern": "(unclosed"}}
    assert select_integration_response(responses, "(unclosed")[0] == 200


def test_status_comes_from_the_key_when_status_code_is_absent() -> None:
    assert select_integration_response({"201": {}}, None)[0] == 201


@pytest.mark.parametrize(
    ("payload", "function_error", "expected"),
    [
        (b'{"errorMessage": "boom", "errorType": "Exception"}', True, "boom"),
        (b'{"errorMessage": "boom"}', False, None),
        (b"10", False, None),
        (b'"text"', True, ""),
        (b"not json", True, ""),
    ],
)
def test_lambda_error_message(payload: bytes, function_error: bool, expected: str | None) -> None:
    assert lambda_error_message(payload, function_error) == expected


# ---- response templates ------------------------------------------------------------------------


def test_no_templates_means_passthrough() -> None:
    assert select_response_template({}, "application/json") is None
    assert select_response_template(None, None) is None


def test_accept_picks_the_template() -> None:
    templates = {"application/json": "j", "text/html": "h"}
    assert select_response_template(templates, "text/html") == "text/html"
    assert select_response_template(templates, "text/html;q=0.9, application/json") == "text/html"


def test_unmatched_accept_falls_back_to_json_then_first() -> None:
    assert select_response_template({"text/html": "h", "application/json": "j"}, "image/png") == "application/json"
    assert select_response_template({"text/html": "h", "text/xml": "x"}, None) == "text/html"


def test_content_type_of_the_answer() -> None:
    assert response_content_type(None, {}) == "application/json"
    assert response_content_type("text/html", {}) == "text/html"
    assert response_content_type("text/html", {"content-type": "text/plain"}) == "text/plain"
    assert response_content_type("$default", {}) == "application/json"


# ---- response parameters -----------------------------------------------------------------------


def test_static_and_header_mappings() -> None:
    mapped = map_response_parameters(
        {
            "method.response.header.Access-Control-Allow-Origin": "'*'",
            "method.response.header.X-From": "integration.response.header.x-backend",
            "method.response.header.X-All": "integration.response.multivalueheader.x-multi",
        },
        headers=[("x-backend", "b"), ("x-multi", "1"), ("x-multi", "2")],
    )
    assert mapped == {"Access-Control-Allow-Origin": "*", "X-From": "b", "X-All": "1,2"}


def test_body_mappings() -> None:
    body = json.dumps({"a": {"b": "deep"}, "n": 5, "obj": {"k": 1}}).encode()
    mapped = map_response_parameters(
        {
            "method.response.header.X-Body": "integration.response.body",
            "method.response.header.X-Deep": "integration.response.body.a.b",
            "method.response.header.X-N": "integration.response.body.n",
            "method.response.header.X-Obj": "integration.response.body.obj",
        },
        body=body,
    )
    assert mapped == {"X-Body": body.decode(), "X-Deep": "deep", "X-N": "5", "X-Obj": '{"k":1}'}


def test_body_mapping_into_a_json_error_message() -> None:
    body = json.dumps({"errorMessage": json.dumps({"code": "E42", "http": {"status": 409}})}).encode()
    mapped = map_response_parameters(
        {
            "method.response.header.X-Code": "integration.response.body.errorMessage.code",
            "method.response.header.X-Status": "integration.response.body.errorMessage.http.status",
        },
        body=body,
    )
    assert mapped == {"X-Code": "E42", "X-Status": "409"}


def test_context_and_stage_variable_mappings() -> None:
    mapped = map_response_parameters(
        {
            "method.response.header.X-Request": "context.requestId",
            "method.response.header.X-Ip": "context.identity.sourceIp",
            "method.response.header.X-Alias": "stageVariables.alias",
        },
        context={"requestId": "rid", "identity": {"sourceIp": "1.2.3.4"}},
        stage_variables={"alias": "live"},
    )
    assert mapped == {"X-Request": "rid", "X-Ip": "1.2.3.4", "X-Alias": "live"}


def test_absent_sources_set_no_header() -> None:
    mapped = map_response_parameters(
        {
            "method.response.header.A": "integration.response.header.missing",
            "method.response.header.B": "integration.response.body.missing",
            "method.response.header.C": "stageVariables.missing",
            "method.response.header.D": "context.missing",
            "method.response.header.E": "something.unknown",
            "method.response.header.F": "integration.response.body.x",
        },
        body=b"not json",
    )
    assert mapped == {}


def test_header_lookup_falls_back_to_case_insensitive() -> None:
    mapped = map_response_parameters(
        {"method.response.header.X": "integration.response.header.Content-Type"}, headers=[("content-type", "a/b")]
    )
    assert mapped == {"X": "a/b"}


def test_non_header_targets_are_ignored() -> None:
    assert map_response_parameters({"method.response.body": "'x'"}) == {}


def test_empty_static_value() -> None:
    assert map_response_parameters({"method.response.header.X": "''"}) == {"X": ""}


# ---- MOCK --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rendered", "status"),
    [
        ('{"statusCode": 200}', 200),
        ("{statusCode: 200}", 200),
        ("{'statusCode': 404, 'other': 1}", 404),
        ('{\n  "statusCode" : 201\n}', 201),
    ],
)
def test_mock_status(rendered: str, status: int) -> None:
    assert mock_status_code(rendered) == status


@pytest.mark.parametrize("rendered", ["", "{}", '{"statusCode": "200"}', '{"statusCode": true}', "[200]", "nonsense"])
def test_mock_without_integer_status_is_500(rendered: str) -> None:
    with pytest.raises(IntegrationConfigurationError):
        mock_status_code(rendered)
