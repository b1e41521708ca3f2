"""A deployed stage compiled for the request path, once per (deployment, stage). Pure.

Everything a request would otherwise work out again and again is worked out here, when a deployment
is created or a stage is created or changed: the route table; each method's validator; for a Lambda
integration the function's ARN with the stage's variables put in, the timeout, the request template
a JSON (or Content-Type-less) request selects, and the integration response a successful call
selects. A method that cannot be served (no integration, a Lambda integration that is not POST or
whose URI is not a Lambda function's, an integration type not built yet) carries the reason, which
every request to it answers with 500 and one log line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ... import errors
from ..snapshot import DeployedStage
from . import integration as rules
from .authorizers import CompiledAuthorizer, compile_authorizer
from .routing import RouteTable, compile_route_table
from .validation import ModelSet, compile_models
from .vtl import CompiledTemplate

LAMBDA_URI = re.compile(r"arn:[^:]+:apigateway:[^:]+:lambda:path/2015-03-31/functions/(?P<function>.+)/invocations")
STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")
DEFAULT_CONTENT_TYPE = "application/json"
SERVED = ("AWS_PROXY", "AWS", "MOCK")


@dataclass(frozen=True, slots=True)
class CompiledIntegration:
    kind: str                                         # AWS_PROXY | AWS | MOCK
    function: str                                     # a Lambda integration's function ARN ("" for MOCK)
    timeout_s: float
    passthrough: str | None
    request_templates: Mapping[str, str | None]       # content type -> template text, as deployed
    json_request: str | rules.Passthrough | None      # what a JSON request selects (None: 415, worked out again)
    responses: Mapping[str, Mapping[str, Any]] | None
    success: tuple[int, Mapping[str, Any]] | None     # what a success selects (None: 500, worked out again)
    templates: Mapping[str, CompiledTemplate]         # the deployment's templates that compiled, by text

    def request_template(self, content_type: str | None) -> str | rules.Passthrough:
        """The request template key for a Content-Type, or PASSTHROUGH; UnsupportedMediaType (415)."""
        if (content_type is None or content_type == DEFAULT_CONTENT_TYPE) and self.json_request is not None:
            return self.json_request
        return rules.select_request_template(self.request_templates, content_type, self.passthrough)

    def response_for(self, selection: str | None) -> tuple[int, Mapping[str, Any]]:
        """(status, integration response) for a Lambda error message / a MOCK status (None: success)."""
        if selection is None and self.success is not None:
            return self.success
        return rules.select_integration_response(self.responses, selection)

    def template(self, text: str | None) -> CompiledTemplate:
        template = self.templates.get(text or "")
        if template is None:   # did not compile at deployment: reported then, 500 now
            raise errors.IntegrationConfigurationError("the mapping template did not compile at deployment")
        return template


@dataclass(frozen=True, slots=True)
class CompiledMethod:
    method: Mapping[str, Any]                     # as deployed: requestParameters, requestModels, ...
    operation_name: str | None
    validator: Mapping[str, Any] | None
    integration: CompiledIntegration | None       # None when `problem` says why it cannot be served
    problem: str | None = None
    api_key_required: bool = False
    authorizer: CompiledAuthorizer | None = None  # a CUSTOM method's Lambda authorizer


@dataclass(frozen=True)
class CompiledStage:
    stage: DeployedStage
    routes: RouteTable                            # a match's `method` is a CompiledMethod
    models: ModelSet


def compile_stage(stage: DeployedStage) -> CompiledStage:
    models = compile_models({name: model.get("schema") or "{}" for name, model in stage.models.items()})
    routes = compile_route_table(stage.resources, lambda method: compile_method(method, stage))
    return CompiledStage(stage, routes, models)


def compile_method(method: Mapping[str, Any], stage: DeployedStage) -> CompiledMethod:
    validator_id = method.get("requestValidatorId")
    validator = stage.validators.get(validator_id) if validator_id else None
    integration, problem = _integration(method.get("methodIntegration"), stage)
    authorizer = None
    if method.get("authorizationType") == "CUSTOM":
        authorizer = compile_authorizer(stage.authorizers.get(str(method.get("authorizerId"))), stage.variables)
    return CompiledMethod(method, method.get("operationName"), validator, integration, problem,
                          bool(method.get("apiKeyRequired")), authorizer)


def _integration(raw: Mapping[str, Any] | None, stage: DeployedStage) -> tuple[CompiledIntegration | None, str | None]:
    if not raw:
        return None, "the method has no integration"
    kind = str(raw.get("type"))
    if kind not in SERVED:
        return None, f"{kind} integrations are not served yet"
    function = ""
    if kind != "MOCK":
        function, problem = lambda_function(raw, stage.variables)
        if problem is not None:
            return None, problem
    templates = raw.get("requestTemplates") or {}
    responses = raw.get("integrationResponses")
    compiled = CompiledIntegration(
        kind=kind, function=function, timeout_s=float(raw.get("timeoutInMillis") or 29000) / 1000,
        passthrough=raw.get("passthroughBehavior"), request_templates=templates,
        json_request=_or_none(lambda: rules.select_request_template(templates, None, raw.get("passthroughBehavior"))),
        responses=responses, success=_or_none(lambda: rules.select_integration_response(responses, None)),
        templates=stage.templates)
    return compiled, None


def lambda_function(integration: Mapping[str, Any], variables: Mapping[str, str]) -> tuple[str, str | None]:
    """The function ARN a Lambda integration calls (stage variables put in), or why it cannot."""
    if str(integration.get("httpMethod") or "").upper() != "POST":
        # Lambda is only ever invoked with POST; AWS accepts another verb at PutIntegration and
        # answers the call with 500 (AWS-recorded for AWS_PROXY with GET, reference 1.1).
        return "", f"a Lambda integration must use POST, not {integration.get('httpMethod')}"
    uri = str(integration.get("uri") or "")
    if "${" in uri:
        uri = STAGE_VARIABLE.sub(lambda m: variables.get(m.group(1), ""), uri)
    found = LAMBDA_URI.fullmatch(uri)
    if found is None:
        return "", f"{uri} is not a Lambda function URI"
    return found.group("function"), None


def _or_none(work: Any) -> Any:
    """What `work()` answers, or None when it raises a gateway error (then worked out per request)."""
    try:
        return work()
    except errors.GatewayError:
        return None
