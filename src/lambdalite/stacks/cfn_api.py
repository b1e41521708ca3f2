"""Plain-CloudFormation REST APIs (RestApi + Resource + Method) -> the equivalent OpenAPI 2.0 definition. Pure.

Every API of a plan is applied as one definition (PutRestApi mode=overwrite), whichever way the
template spelled it; this module writes the definition a RestApi built from `AWS::ApiGateway::Resource`
and `AWS::ApiGateway::Method` resources stands for, with `x-amazon-apigateway-integration` carrying
each method's Integration. Inputs are already resolved (no intrinsics left).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["BuiltDefinition", "build_definition"]

_LOCATIONS = {"querystring": "query", "header": "header", "path": "path"}
_INTEGRATION_FIELDS = {
    "IntegrationHttpMethod": "httpMethod", "Uri": "uri", "Credentials": "credentials",
    "RequestParameters": "requestParameters", "RequestTemplates": "requestTemplates",
    "ContentHandling": "contentHandling", "TimeoutInMillis": "timeoutInMillis",
    "CacheNamespace": "cacheNamespace", "CacheKeyParameters": "cacheKeyParameters",
    "ConnectionType": "connectionType", "ConnectionId": "connectionId",
}  # fmt: skip


@dataclass
class BuiltDefinition:
    definition: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def build_definition(
    name: str, root_id: str, resources: dict[str, dict[str, Any]], methods: list[tuple[str, dict[str, Any]]]
) -> BuiltDefinition:
    """`resources` maps each API resource's physical id to its properties (ParentId, PathPart);
    `methods` lists (logical id, properties) of the API's methods."""
    built = BuiltDefinition({"swagger": "2.0", "info": {"title": name, "version": "1.0"}, "paths": {}})
    paths = built.definition["paths"]
    for lid, props in methods:
        path = _path(str(props.get("ResourceId")), root_id, resources, set())
        verb = str(props.get("HttpMethod", "")).lower()
        if path is None:
            built.problems.append(f"method {lid}: ResourceId must be the API's RootResourceId or one of its "
                                  "AWS::ApiGateway::Resource (a loop or an unknown parent)")
            continue
        if not verb:
            built.problems.append(f"method {lid}: HttpMethod is required")
            continue
        key = "x-amazon-apigateway-any-method" if verb == "any" else verb
        paths.setdefault(path, {})[key] = _operation(lid, props, built)
    for resource_id in resources:
        path = _path(resource_id, root_id, resources, set())
        if path is not None:
            paths.setdefault(path, {})
    return built


def _path(resource_id: str, root_id: str, resources: dict[str, dict[str, Any]], seen: set[str]) -> str | None:
    if resource_id == root_id:
        return "/"
    props = resources.get(resource_id)
    if props is None or resource_id in seen:
        return None
    seen.add(resource_id)
    parent = _path(str(props.get("ParentId")), root_id, resources, seen)
    if parent is None:
        return None
    return parent.rstrip("/") + "/" + str(props.get("PathPart", ""))


def _operation(lid: str, props: dict[str, Any], built: BuiltDefinition) -> dict[str, Any]:
    operation: dict[str, Any] = {"responses": {}}
    for response in props.get("MethodResponses") or []:
        status = str(response.get("StatusCode"))
        headers = {key.rsplit(".", 1)[-1]: {"type": "string"}
                   for key in (response.get("ResponseParameters") or {})}
        operation["responses"][status] = {"description": f"{status} response", **({"headers": headers} if headers
                                                                                   else {})}
    parameters = [_parameter(key, bool(required)) for key, required in (props.get("RequestParameters") or {}).items()]
    if any(p is not None for p in parameters):
        operation["parameters"] = [p for p in parameters if p is not None]
    if props.get("ApiKeyRequired") in (True, "true"):
        operation["security"] = [{"api_key": []}]
        built.definition["securityDefinitions"] = {"api_key": {"type": "apiKey", "name": "x-api-key",
                                                               "in": "header"}}
    if str(props.get("AuthorizationType", "NONE")).upper() != "NONE":
        built.warnings.append(f"method {lid}: AuthorizationType {props['AuthorizationType']} is not enforced")
    integration = props.get("Integration")
    if isinstance(integration, dict):
        operation["x-amazon-apigateway-integration"] = _integration(integration)
    return operation


def _parameter(key: str, required: bool) -> dict[str, Any] | None:
    parts = key.split(".", 3)  # method.request.querystring.num
    if len(parts) != 4 or parts[2] not in _LOCATIONS:
        return None
    location = _LOCATIONS[parts[2]]
    return {"name": parts[3], "in": location, "required": required or location == "path", "type": "string"}


def _integration(props: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": str(props.get("Type", "")).lower()}
    for cfn_key, openapi_key in _INTEGRATION_FIELDS.items():
        if cfn_key in props:
            out[openapi_key] = props[cfn_key]
    if "PassthroughBehavior" in props:
        out["passthroughBehavior"] = str(props["PassthroughBehavior"]).lower()
    responses: dict[str, Any] = {}
    for response in props.get("IntegrationResponses") or []:
        entry: dict[str, Any] = {"statusCode": str(response.get("StatusCode"))}
        for cfn_key, openapi_key in (("ResponseParameters", "responseParameters"),
                                     ("ResponseTemplates", "responseTemplates"),
                                     ("ContentHandling", "contentHandling")):
            if cfn_key in response:
                entry[openapi_key] = response[cfn_key]
        responses[str(response.get("SelectionPattern") or "default")] = entry
    if responses:
        out["responses"] = responses
    return out
