"""API Gateway's objects as AWS shows them: defaults, input checks and rendering. Pure, no I/O.

Objects are kept in their wire shape (the member names boto3 sends and reads), so rendering is
mostly leaving out what AWS leaves out (reference 13.3). Texts of the checks are AWS's (13.4).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from ...errors import BadRequestException, SerializationException, ValidationError

HTTP_METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY")
INTEGRATION_TYPES = ("HTTP", "MOCK", "AWS_PROXY", "HTTP_PROXY", "AWS")
PASSTHROUGH = ("WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER")
STATUS_CODE = re.compile(r"[1-5]\d\d")
PATH_PART = re.compile(r"[A-Za-z0-9._\-:]+|\{[A-Za-z0-9._\-:]+\+?\}")
METHOD_PARAMETER = re.compile(r"method\.request\.(path|querystring|header|multivaluequerystring|multivalueheader)"
                              r"\..+")
AWS_ARN = re.compile(r"arn:aws:apigateway:[^:]+:[^:]+:(path|action)/.+")
DEFAULT_TIMEOUT_MS = 29000
DRAFT4 = "http://json-schema.org/draft-04/schema#"

DEFAULT_MODELS = (
    ("Empty", "This is a default empty schema model",
     {"$schema": DRAFT4, "title": "Empty Schema", "type": "object"}),
    ("Error", "This is a default error schema model",
     {"$schema": DRAFT4, "title": "Error Schema", "type": "object",
      "properties": {"message": {"type": "string"}}}),
)


# RestApi ------------------------------------------------------------------------------------------
ENDPOINT_TYPES = ("PRIVATE", "EDGE", "REGIONAL")
IP_ADDRESS_TYPES = ("ipv4", "dualstack")
ONLY_DUALSTACK = "Only dualstack ipAddressType is supported for Private APIs."


def raise_problems(problems: list[str]) -> None:
    """Coral's ValidationException: every failed member constraint in one message."""
    if problems:
        count = "1 validation error" if len(problems) == 1 else f"{len(problems)} validation errors"
        raise ValidationError(f"{count} detected: " + "; ".join(problems))


def endpoint_problems(endpoint: dict[str, Any]) -> list[str]:
    """CreateRestApi's endpointConfiguration enums (AWS-recorded texts: types first, then ipAddressType)."""
    problems = []
    types = endpoint.get("types")
    if isinstance(types, list) and any(t not in ENDPOINT_TYPES for t in types):
        problems.append(f"Value '[{', '.join(map(str, types))}]' at 'createRestApiInput.endpointConfiguration.types' "
                        "failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum "
                        "value set: [PRIVATE, EDGE, REGIONAL]]")
    ip = endpoint.get("ipAddressType")
    if ip is not None and ip not in IP_ADDRESS_TYPES:
        problems.append(f"Value '{ip}' at 'createRestApiInput.endpointConfiguration.ipAddressType' failed to "
                        "satisfy constraint: Member must satisfy enum value set: [ipv4, dualstack]")
    return problems


def new_endpoint_configuration(endpoint: dict[str, Any]) -> dict[str, Any]:
    """One endpoint type (EDGE when none is sent); a private API is dualstack, the others ipv4 by default."""
    types = endpoint.get("types")
    if types is None:
        types = ["EDGE"]
    if not types:
        raise BadRequestException("REGIONAL Configuration and EDGE Configuration cannot be both DISABLED.")
    if len(types) > 1:
        raise BadRequestException("Cannot create an api with multiple Endpoint Types.")
    private = types == ["PRIVATE"]
    if private and endpoint.get("ipAddressType") == "ipv4":
        raise BadRequestException(ONLY_DUALSTACK)
    return {"types": list(types), "ipAddressType": endpoint.get("ipAddressType") or ("dualstack" if private
                                                                                     else "ipv4")}


def new_rest_api(body: dict[str, Any], api_id: str, root_id: str, created: int) -> dict[str, Any]:
    """AWS-recorded order (TestApiGatewayApiRestApi::test_create_rest_api_*): the enums, the description,
    the name, the compression size, then the endpoint types and the private API's ipAddressType."""
    endpoint = dict(body.get("endpointConfiguration") or {})
    raise_problems(endpoint_problems(endpoint))
    if body.get("description") == "":
        raise BadRequestException("Description cannot be an empty string")
    name = body.get("name")
    if not name:
        raise BadRequestException("Name cannot be empty")
    size = body.get("minimumCompressionSize")
    if size is not None and not 0 <= int(size) <= 10485760:
        raise BadRequestException("Invalid minimum compression size, must be between 0 and 10485760")
    endpoint_configuration = new_endpoint_configuration(endpoint)
    api: dict[str, Any] = {"id": api_id, "name": str(name), "createdDate": created}
    for key in ("description", "version", "minimumCompressionSize", "policy"):
        if body.get(key) is not None:
            api[key] = body[key]
    if body.get("binaryMediaTypes"):
        api["binaryMediaTypes"] = list(body["binaryMediaTypes"])
    api["apiKeySource"] = body.get("apiKeySource") or "HEADER"
    api["endpointConfiguration"] = endpoint_configuration
    api["disableExecuteApiEndpoint"] = bool(body.get("disableExecuteApiEndpoint", False))
    api["rootResourceId"] = root_id
    if body.get("tags"):
        api["tags"] = dict(body["tags"])
    return api


def render_rest_api(api: dict[str, Any], with_tags: bool = False) -> dict[str, Any]:
    """CreateRestApi and the GetRestApis items leave out `tags`; Get/Update/PutRestApi show `{}`."""
    out = copy.deepcopy(api)
    if with_tags:
        out.setdefault("tags", {})
    elif not out.get("tags"):
        out.pop("tags", None)
    return out


# Resources and methods ----------------------------------------------------------------------------
def check_path_part(part: Any) -> str:
    if not isinstance(part, str) or not PATH_PART.fullmatch(part):
        raise BadRequestException(
            "Resource's path part only allow a-zA-Z0-9._-: and curly braces at the beginning and the end "
            "and an optional plus sign before the closing brace.")
    return part


def is_variable(part: str | None) -> bool:
    return bool(part) and part.startswith("{")  # type: ignore[union-attr]


def is_greedy(part: str | None) -> bool:
    return bool(part) and part.endswith("+}")  # type: ignore[union-attr]


def render_resource(resource: dict[str, Any], embed: bool) -> dict[str, Any]:
    """Without embed, methods show as empty stubs `{"GET": {}}`; a resource without any has no key."""
    out = {k: v for k, v in resource.items() if k != "resourceMethods"}
    methods = resource.get("resourceMethods") or {}
    if methods:
        out["resourceMethods"] = ({verb: copy.deepcopy(m) for verb, m in methods.items()} if embed
                                  else {verb: {} for verb in methods})
    return out


def check_http_method(verb: str) -> str:
    if verb not in HTTP_METHODS:
        raise BadRequestException("Invalid HttpMethod specified. Valid options are "
                                  "GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY")
    return verb


def new_method(verb: str, body: dict[str, Any]) -> dict[str, Any]:
    auth = body.get("authorizationType") or "NONE"
    if auth in ("CUSTOM", "COGNITO_USER_POOLS") and not body.get("authorizerId"):
        raise BadRequestException("Invalid authorizer ID specified. Setting the authorization type to CUSTOM "
                                  "or COGNITO_USER_POOLS requires a valid authorizer.")
    params = body.get("requestParameters")
    if params:
        check_method_parameter_names(params)
        check_unique_parameter_names(params)
    method: dict[str, Any] = {"httpMethod": verb, "authorizationType": auth,
                              "apiKeyRequired": bool(body.get("apiKeyRequired", False))}
    for key in ("requestParameters", "requestModels"):
        if body.get(key):
            method[key] = dict(body[key])
    for key in ("requestValidatorId", "operationName", "authorizerId"):
        if body.get(key):
            method[key] = body[key]
    if body.get("authorizationScopes"):
        method["authorizationScopes"] = list(body["authorizationScopes"])
    return method


def check_method_parameter_names(params: dict[str, Any]) -> None:
    """Each key is method.request.{path|querystring|header|multivaluequerystring|multivalueheader}.{name}
    (AWS-recorded text: TestApigatewayIntegration::test_put_integration_request_parameter_bool_type)."""
    bad = [key for key in params if not METHOD_PARAMETER.fullmatch(str(key))]
    if bad:
        errors = ", ".join(f"Invalid mapping expression specified: {key}" for key in bad)
        raise BadRequestException(f"Invalid mapping expression specified: Validation Result: warnings : [], "
                                  f"errors : [{errors}]")


def check_unique_parameter_names(params: dict[str, Any]) -> None:
    names = [key.rsplit(".", 1)[-1] for key in params]
    if len(names) != len(set(names)):
        raise BadRequestException("Parameter names must be unique across querystring, header and path")


def render_method(method: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(method)


def status_code_problems(code: str) -> list[str]:
    """AWS's complaint about a status code outside [1-5]\\d\\d, as one of a ValidationException's list."""
    if STATUS_CODE.fullmatch(code):
        return []
    return [f"Value '{code}' at 'statusCode' failed to satisfy constraint: Member must satisfy regular expression "
            "pattern: [1-5]\\d\\d"]


def check_status_code(code: str) -> str:
    problems = status_code_problems(code)
    if problems:
        raise ValidationError(f"1 validation error detected: {problems[0]}")
    return code


def new_method_response(code: str, body: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {"statusCode": code}
    for key in ("responseParameters", "responseModels"):
        if body.get(key) is not None:   # AWS echoes them even when sent empty
            response[key] = dict(body[key])
    return response


# Integrations -------------------------------------------------------------------------------------
def check_integration_type(body: dict[str, Any]) -> None:
    """The request's shape, checked before anything is looked up (AWS-recorded: a bad type on a
    method that does not exist is this ValidationException, not a 404)."""
    kind = body.get("type")
    if kind not in INTEGRATION_TYPES:
        raise ValidationError(f"1 validation error detected: Value '{kind}' at 'putIntegrationInput.type' failed "
                              "to satisfy constraint: Member must satisfy enum value set: "
                              "[HTTP, MOCK, AWS_PROXY, HTTP_PROXY, AWS]")


def check_integration(body: dict[str, Any]) -> None:
    """PutIntegration's rules, with AWS's texts: the one set, also applied to every integration an
    OpenAPI import brings (reference 13.4). Raises ValidationError / BadRequestException."""
    check_integration_type(body)
    kind = str(body.get("type"))
    if kind != "MOCK" and not (body.get("integrationHttpMethod") or body.get("httpMethod")):
        raise BadRequestException("Enumeration value for HttpMethod must be non-empty")
    check_uri(kind, body.get("uri"))
    passthrough = body.get("passthroughBehavior")
    if passthrough is not None and passthrough not in PASSTHROUGH:
        raise BadRequestException(f"Invalid passthrough behavior specified: {passthrough}")
    integration_timeout_ms(body)


def integration_timeout_ms(body: dict[str, Any]) -> int:
    """`timeoutInMillis`, 29000 when absent; at least 50 (AWS allows more than 29000 since June 2024,
    reference 1.5)."""
    raw = body.get("timeoutInMillis")
    if raw is None:
        return DEFAULT_TIMEOUT_MS
    try:
        timeout = int(raw)
    except (TypeError, ValueError):
        timeout = -1
    if isinstance(raw, bool) or timeout < 50:
        raise BadRequestException("Timeout should be between 50 ms and 29000 ms")
    return timeout


def new_integration(body: dict[str, Any], resource_id: str, region: str) -> dict[str, Any]:
    check_integration(body)
    kind = body["type"]
    http_method = body.get("integrationHttpMethod") or body.get("httpMethod")
    uri = body.get("uri")
    out: dict[str, Any] = {"type": kind}
    if http_method and kind != "MOCK":   # AWS-recorded (test_import_with_http_method_integration): a MOCK
        out["httpMethod"] = str(http_method)  # integration keeps no httpMethod, and echoes no uri
    if uri and kind != "MOCK":
        out["uri"] = uri
    if kind in ("HTTP", "HTTP_PROXY"):
        out["connectionType"] = body.get("connectionType") or "INTERNET"
    out.update(_optional_members(body))
    out["passthroughBehavior"] = body.get("passthroughBehavior") or "WHEN_NO_MATCH"
    out["timeoutInMillis"] = integration_timeout_ms(body)
    out["cacheNamespace"] = body.get("cacheNamespace") or resource_id
    out["cacheKeyParameters"] = list(body.get("cacheKeyParameters") or [])
    return out


def _optional_members(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("requestParameters", "requestTemplates"):
        if body.get(key) is not None:  # AWS stores a template of "" as null
            out[key] = {k: (None if v in (None, "") else v) for k, v in body[key].items()}
    for key in ("credentials", "contentHandling", "connectionId", "tlsConfig"):
        if body.get(key) is not None:
            out[key] = body[key]
    return out


def check_uri(kind: str, uri: Any) -> None:
    if kind in ("AWS", "AWS_PROXY"):
        check_aws_uri(kind, uri)
    elif kind in ("HTTP", "HTTP_PROXY") and not re.match(r"https?://", str(uri or "")):
        raise BadRequestException("Invalid HTTP endpoint specified for URI")


def check_aws_uri(kind: str, uri: Any) -> None:
    if not isinstance(uri, str) or not uri.startswith("arn:"):
        raise BadRequestException("Invalid ARN specified in the request")
    if not AWS_ARN.fullmatch(uri):
        raise BadRequestException("AWS ARN for integration must contain path or action")
    service = uri.split(":")[4]
    if kind == "AWS_PROXY" and service not in ("lambda", "firehose"):
        raise BadRequestException("Integrations of type 'AWS_PROXY' currently only supports Lambda function "
                                  "and Firehose stream invocations.")


def check_template_values(templates: Any) -> None:
    """Mapping templates are strings: AWS's deserializer refuses anything else before any rule is
    checked (AWS-recorded text for a number)."""
    for value in templates.values() if isinstance(templates, dict) else ():
        if isinstance(value, bool):   # AWS-recorded (test_put_integration_request_parameter_bool_type)
            raise SerializationException("class java.lang.Boolean can not be converted to an String")
        if isinstance(value, int | float):
            raise SerializationException("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not "
                                         "be converted to an String")
        if value is not None and not isinstance(value, str):
            raise SerializationException(f"a mapping template must be a string, not {type(value).__name__}")


def new_integration_response(code: str, body: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {"statusCode": code}
    templates = body.get("responseTemplates")
    check_template_values(templates)
    if templates:
        for content_type in templates:
            if "/" not in content_type:
                raise BadRequestException("Validation Result: warnings : [], errors : [Invalid content type "
                                          f"specified: {content_type}]")
    for key in ("responseTemplates", "responseParameters"):
        if body.get(key) is not None:
            response[key] = {k: (None if v in (None, "") else v) for k, v in body[key].items()}
    for key in ("selectionPattern", "contentHandling"):
        if body.get(key) is not None:
            response[key] = body[key]
    return response


# Validators, models, deployments, stages ----------------------------------------------------------
def new_validator(body: dict[str, Any], validator_id: str) -> dict[str, Any]:
    return {"id": validator_id, "name": str(body.get("name") or ""),
            "validateRequestBody": bool(body.get("validateRequestBody", False)),
            "validateRequestParameters": bool(body.get("validateRequestParameters", False))}


def new_model(body: dict[str, Any], model_id: str) -> dict[str, Any]:
    model: dict[str, Any] = {"id": model_id, "name": body["name"], "contentType": body.get("contentType") or
                             "application/json"}
    if body.get("description"):
        model["description"] = body["description"]
    model["schema"] = body["schema"]
    return model


def default_models(new_id: Any) -> dict[str, dict[str, Any]]:
    return {name: {"id": new_id(), "name": name, "contentType": "application/json", "description": description,
                   "schema": json.dumps(schema)} for name, description, schema in DEFAULT_MODELS}


def render_deployment(deployment: dict[str, Any], api_summary: bool = False) -> dict[str, Any]:
    """`apiSummary` ({path: {verb: {authorizationType, apiKeyRequired}}}) only with embed=apisummary;
    it comes from the deployment's frozen copy, so it shows what the deployment serves."""
    out = {k: v for k, v in deployment.items() if k in ("id", "description", "createdDate")}
    if api_summary:
        out["apiSummary"] = {
            r["path"]: {verb: {"authorizationType": m.get("authorizationType", "NONE"),
                               "apiKeyRequired": bool(m.get("apiKeyRequired"))}
                        for verb, m in r["resourceMethods"].items()}
            for r in deployment["snapshot"]["resources"] if r.get("resourceMethods")}
    return out


def new_stage(name: str, deployment_id: str, body: dict[str, Any], created: int) -> dict[str, Any]:
    stage: dict[str, Any] = {"stageName": name, "deploymentId": deployment_id, "createdDate": created,
                             "lastUpdatedDate": created, "cacheClusterEnabled": bool(body.get("cacheClusterEnabled")),
                             "cacheClusterStatus": "NOT_AVAILABLE", "methodSettings": {},
                             "tracingEnabled": bool(body.get("tracingEnabled"))}
    for key in ("description", "documentationVersion", "cacheClusterSize"):
        if body.get(key):
            stage[key] = body[key]
    if body.get("variables"):
        stage["variables"] = dict(body["variables"])
    return stage
