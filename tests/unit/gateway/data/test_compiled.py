"""A stage compiled for the request path: what each method needs is worked out once, per stage."""

from __future__ import annotations

from typing import Any

import pytest

from lambdalite import errors
from lambdalite.gateway.data import integration as rules
from lambdalite.gateway.data.compiled import CompiledMethod, compile_method, compile_stage, lambda_function
from lambdalite.gateway.data.vtl import compile_template
from lambdalite.gateway.snapshot import DeployedStage

FN = "arn:aws:lambda:us-east-1:000000000000:function:{}"
URI = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + FN + "/invocations"
GUIDE_TEMPLATE = "{\"num\": \"$input.params('num')\"}"


def stage(resources: list[dict[str, Any]] | None = None, variables: dict[str, str] | None = None,
          templates: tuple[str, ...] = (), validators: dict[str, Any] | None = None) -> DeployedStage:
    return DeployedStage(api_id="a1", api_name="api", stage_name="PRD", deployment_id="d1",
                         variables=variables or {}, resources=resources or [], validators=validators or {},
                         models={}, binary_media_types=[],
                         templates={text: compile_template(text) for text in templates})


def method(integration: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"httpMethod": "GET", "authorizationType": "NONE", **extra}
    if integration is not None:
        out["methodIntegration"] = integration
    return out


def lambda_integration(function: str = "addfive", **extra: Any) -> dict[str, Any]:
    return {"type": "AWS", "httpMethod": "POST", "uri": URI.format(function), **extra}


def test_the_guides_method_is_compiled_whole() -> None:
    integration = lambda_integration(requestTemplates={"application/json": GUIDE_TEMPLATE},
                                     passthroughBehavior="WHEN_NO_TEMPLATES", timeoutInMillis=2500,
                                     integrationResponses={"200": {"statusCode": "200", "selectionPattern": ""}})
    compiled = compile_method(method(integration, operationName="add"), stage(templates=(GUIDE_TEMPLATE,)))
    assert compiled.problem is None and compiled.operation_name == "add" and compiled.validator is None
    found = compiled.integration
    assert found is not None
    assert (found.kind, found.function, found.timeout_s) == ("AWS", FN.format("addfive"), 2.5)
    assert found.json_request == "application/json"                  # worked out once for JSON requests
    assert found.request_template(None) == "application/json"
    assert found.request_template("application/json; charset=utf-8") == "application/json"
    with pytest.raises(errors.UnsupportedMediaType):
        found.request_template("text/plain")                           # WHEN_NO_TEMPLATES with templates: 415
    assert found.success == (200, {"statusCode": "200", "selectionPattern": ""})
    assert found.response_for(None) is found.success
    assert found.template(GUIDE_TEMPLATE).text == GUIDE_TEMPLATE


def test_stage_variables_are_put_in_the_function_arn() -> None:
    integration = lambda_integration("${stageVariables.fn}")
    blue = compile_method(method(integration), stage(variables={"fn": "blue"}))
    green = compile_method(method(integration), stage(variables={"fn": "green"}))
    assert blue.integration and blue.integration.function == FN.format("blue")
    assert green.integration and green.integration.function == FN.format("green")


@pytest.mark.parametrize(("integration", "reason"), [
    (None, "the method has no integration"),
    ({"type": "HTTP", "httpMethod": "GET", "uri": "https://example.com"}, "HTTP integrations are not served yet"),
    ({"type": "HTTP_PROXY", "httpMethod": "GET", "uri": "https://x"}, "HTTP_PROXY integrations are not served yet"),
    (lambda_integration(httpMethod="GET"), "a Lambda integration must use POST, not GET"),
    ({"type": "AWS", "httpMethod": "POST", "uri": "arn:aws:apigateway:us-east-1:sqs:path/q"},
     "arn:aws:apigateway:us-east-1:sqs:path/q is not a Lambda function URI"),
    ({"type": "AWS_PROXY", "httpMethod": "POST", "uri": "arn:aws:apigateway:us-east-1:firehose:action/PutRecord"},
     "is not a Lambda function URI"),
])
def test_methods_that_cannot_be_served_carry_the_reason(integration: dict[str, Any] | None, reason: str) -> None:
    compiled = compile_method(method(integration), stage())
    assert compiled.integration is None and reason in (compiled.problem or "")


def test_choices_that_fail_are_worked_out_again_per_request() -> None:
    integration = lambda_integration(requestTemplates={"text/plain": "x"}, passthroughBehavior="NEVER",
                                     integrationResponses={"400": {"statusCode": "400", "selectionPattern": "bad.*"}})
    found = compile_method(method(integration), stage()).integration
    assert found is not None and found.json_request is None and found.success is None
    with pytest.raises(errors.UnsupportedMediaType):
        found.request_template(None)
    with pytest.raises(errors.IntegrationConfigurationError, match="no default output mapping"):
        found.response_for(None)
    assert found.response_for("bad input")[0] == 400
    with pytest.raises(errors.IntegrationConfigurationError, match="did not compile"):
        found.template("x")                                            # the stage has no compiled "x"


def test_passthrough_is_chosen_once_too() -> None:
    found = compile_method(method({"type": "MOCK"}), stage()).integration
    assert found is not None and found.json_request is rules.PASSTHROUGH and found.function == ""


def test_a_stage_routes_to_compiled_methods_with_their_validators() -> None:
    validators = {"v1": {"id": "v1", "validateRequestParameters": True, "validateRequestBody": False}}
    resources = [{"id": "r0", "path": "/"},
                 {"id": "r1", "path": "/addfive", "resourceMethods": {
                     "GET": method(lambda_integration(), requestValidatorId="v1")}}]
    compiled = compile_stage(stage(resources, validators=validators))
    match = compiled.routes.match("GET", "/addfive")
    assert match is not None and isinstance(match.method, CompiledMethod)
    assert match.method.validator == validators["v1"]
    assert compiled.routes.match("POST", "/addfive") is None


def test_lambda_function_reads_the_uri() -> None:
    assert lambda_function(lambda_integration("f:live"), {}) == (FN.format("f:live"), None)
    assert lambda_function(lambda_integration("${stageVariables.missing}"), {})[0] == FN.format("")
