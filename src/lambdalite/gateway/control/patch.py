"""Patch operations (the body of every Update* call), applied to plain dicts: pure, no I/O.

`{"patchOperations": [{"op": "replace", "path": "/description", "value": "x"}]}`. Values are always
strings on the wire (`"true"`, `"10"`); a `/` inside a path segment is written `~1` and `~` is `~0`
(JSON-pointer escaping). Each object accepts only some paths and ops, and AWS's error texts differ
per object (two spaces after "path" in some of them, a long list in the stage's): they are copied as
recorded in LocalStack's AWS snapshots (reference section 13.5).

Every `apply_*` mutates the dict it is given: the service hands it a copy and keeps the original
when anything raises, so a refused patch changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ...errors import BadRequestException, NotFoundException, ValidationError

OPS = ("add", "remove", "move", "test", "replace", "copy")
Op = Mapping[str, Any]
Converter = Callable[[Any], Any]

# AWS's own list, missing commas included (common TestStages::test_create_update_stages/error-update-doc-version).
STAGE_PATHS = (
    "[/deploymentId, /description, /cacheClusterEnabled, /cacheClusterSize, /clientCertificateId, /accessLogSettings, "
    "/accessLogSettings/destinationArn, /accessLogSettings/format, /{resourcePath}/{httpMethod}/metrics/enabled, "
    "/{resourcePath}/{httpMethod}/logging/dataTrace, /{resourcePath}/{httpMethod}/logging/loglevel, "
    "/{resourcePath}/{httpMethod}/throttling/burstLimit/{resourcePath}/{httpMethod}/throttling/rateLimit"
    "/{resourcePath}/{httpMethod}/caching/ttlInSeconds, /{resourcePath}/{httpMethod}/caching/enabled, "
    "/{resourcePath}/{httpMethod}/caching/dataEncrypted, "
    "/{resourcePath}/{httpMethod}/caching/requireAuthorizationForCacheControl, "
    "/{resourcePath}/{httpMethod}/caching/unauthorizedCacheControlHeaderStrategy, /*/*/metrics/enabled, "
    "/*/*/logging/dataTrace, /*/*/logging/loglevel, /*/*/throttling/burstLimit /*/*/throttling/rateLimit "
    "/*/*/caching/ttlInSeconds, /*/*/caching/enabled, /*/*/caching/dataEncrypted, "
    "/*/*/caching/requireAuthorizationForCacheControl, /*/*/caching/unauthorizedCacheControlHeaderStrategy, "
    "/variables/{variable_name}, /tracingEnabled]")

# method settings: the path's last two segments -> (field, converter); defaults filled on first write
METHOD_SETTINGS: dict[str, tuple[str, Converter]] = {}
SETTING_DEFAULTS: dict[str, Any] = {
    "metricsEnabled": False, "dataTraceEnabled": False, "throttlingBurstLimit": 5000,
    "throttlingRateLimit": 10000.0, "cachingEnabled": False, "cacheTtlInSeconds": 300,
    "cacheDataEncrypted": False, "requireAuthorizationForCacheControl": True,
    "unauthorizedCacheControlHeaderStrategy": "SUCCEED_WITH_RESPONSE_HEADER",
}
VARIABLE_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
VARIABLE_VALUE = re.compile(r"[A-Za-z0-9\-._~:/?#&=,]{1,512}")


def split_path(path: str) -> list[str]:
    """'/requestModels/application~1json' -> ['requestModels', 'application/json']."""
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def check_ops(ops: Iterable[Op], input_name: str, also: Iterable[str] = ()) -> list[Op]:
    """Coral's enum check on every op first, all failures in one message (as AWS answers); `also`:
    the request's other members' failures, listed after the ops' (AWS-recorded order)."""
    ops = list(ops)
    bad = [f"Value '{op.get('op')}' at '{input_name}.patchOperations.{i}.member.op' failed to satisfy "
           f"constraint: Member must satisfy enum value set: [add, remove, move, test, replace, copy]"
           for i, op in enumerate(ops, 1) if op.get("op") not in OPS]
    bad += also
    if bad:
        count = "1 validation error" if len(bad) == 1 else f"{len(bad)} validation errors"
        raise ValidationError(f"{count} detected: " + "; ".join(bad))
    return ops


def to_bool(value: Any) -> bool:
    return str(value).lower() == "true"


def to_int(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise BadRequestException(f"Invalid value '{value}': an integer is expected") from None


def to_float(value: Any) -> float:
    try:
        return float(str(value))
    except ValueError:
        raise BadRequestException(f"Invalid value '{value}': a number is expected") from None


def patch_map_entry(obj: dict[str, Any], field: str, name: str, op: str, value: Any,
                    convert: Converter = str, missing: str | None = None) -> None:
    """add/replace/remove one entry of a map member; an emptied map disappears (AWS's rendering).
    With `missing`, a remove or replace of an entry that is not there is that 404 (AWS-recorded for
    method responses); add creates it."""
    entries = dict(obj.get(field) or {})
    if op in ("remove", "replace") and name not in entries and missing:
        raise NotFoundException(missing)
    if op == "remove":
        entries.pop(name, None)
    elif op in ("add", "replace"):
        entries[name] = convert(value)
    else:
        raise BadRequestException("Invalid patch operation specified. Must be 'add'|'remove'|'replace'")
    if entries:
        obj[field] = entries
    else:
        obj.pop(field, None)


def set_scalar(obj: dict[str, Any], field: str, op: str, value: Any, convert: Converter = str) -> None:
    """replace sets the member; remove (or a replace with no value) drops it."""
    if op == "remove" or (op == "replace" and value is None):
        obj.pop(field, None)
    elif op in ("replace", "add"):
        obj[field] = convert(value)
    else:
        raise BadRequestException("Invalid patch operation specified. Must be one of: [replace]")


# RestApi ------------------------------------------------------------------------------------------
def apply_rest_api(api: dict[str, Any], ops: Iterable[Op]) -> None:
    for op in check_ops(ops, "updateRestApiInput"):
        kind, path, value = op["op"], str(op.get("path")), op.get("value")
        parts = split_path(path)
        if parts[:1] == ["binaryMediaTypes"] and len(parts) == 2:
            _patch_binary_media_types(api, kind, parts[1], value)
        elif path == "/minimumCompressionSize":
            _patch_compression(api, kind, value)
        elif path in ("/name", "/description", "/version", "/apiKeySource"):
            set_scalar(api, path[1:], kind, value)
        elif parts[:1] == ["endpointConfiguration"]:
            _patch_endpoint(api, kind, path, value)
        elif path == "/disableExecuteApiEndpoint":
            api["disableExecuteApiEndpoint"] = to_bool(value)
        elif path == "/policy":
            set_scalar(api, "policy", kind, value)
        else:
            raise BadRequestException(f"Invalid patch path {path}")


def _patch_binary_media_types(api: dict[str, Any], kind: str, name: str, value: Any) -> None:
    # a list patched like a map: add appends (`-` is the literal string "-"); replace removes the old
    # entry and appends the new one (AWS-recorded: test_update_rest_api_operation_add_remove)
    types = list(api.get("binaryMediaTypes") or [])
    if kind == "add" and name not in types:
        types.append(name)
    elif kind == "replace" and name in types:
        types.remove(name)
        types.append(str(value))
    elif kind == "remove" and name in types:
        types.remove(name)
    if types:
        api["binaryMediaTypes"] = types
    else:
        api.pop("binaryMediaTypes", None)


def _patch_compression(api: dict[str, Any], kind: str, value: Any) -> None:
    if kind != "replace":
        raise BadRequestException("Invalid patch operation specified. Must be one of: [replace]")
    if value in (None, ""):
        api.pop("minimumCompressionSize", None)
        return
    try:
        size = int(str(value))
    except ValueError:
        size = -1   # AWS-recorded: a non-number gets the range's text
    if not 0 <= size <= 10485760:
        raise BadRequestException("Invalid minimum compression size, must be between 0 and 10485760")
    api["minimumCompressionSize"] = size


def _patch_endpoint(api: dict[str, Any], kind: str, path: str, value: Any) -> None:
    """replace of /endpointConfiguration/types/{i} or /ipAddressType; AWS-recorded texts
    (TestApiGatewayApiRestApi::test_update_rest_api_ip_address_type). A private API is dualstack."""
    endpoint = dict(api.get("endpointConfiguration") or {"types": ["EDGE"], "ipAddressType": "ipv4"})
    parts = split_path(path)
    if path == "/endpointConfiguration/ipAddressType":
        if kind != "replace":
            raise BadRequestException("Invalid patch operation specified. Must be one of: [replace]")
        if value not in ("ipv4", "dualstack"):
            raise BadRequestException("ipAddressType must be either ipv4 or dualstack.")
        if value == "ipv4" and "PRIVATE" in endpoint.get("types", []):
            raise BadRequestException("Only dualstack ipAddressType is supported for Private APIs.")
        endpoint["ipAddressType"] = value
    elif len(parts) == 3 and parts[1] == "types" and parts[2].isdigit():
        if kind != "replace":
            raise BadRequestException("Invalid patch operation specified. Must be 'add'|'remove'|'replace'")
        if value not in ("REGIONAL", "EDGE", "PRIVATE"):
            raise BadRequestException("Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE")
        types = list(endpoint.get("types") or ["EDGE"])
        index = min(int(parts[2]), len(types) - 1)
        types[index] = str(value)
        endpoint["types"] = types
        if value == "PRIVATE":
            endpoint["ipAddressType"] = "dualstack"
    else:
        raise BadRequestException(f"Invalid patch path {path}")
    api["endpointConfiguration"] = endpoint


# Method -------------------------------------------------------------------------------------------
METHOD_SCALARS: dict[str, Converter] = {
    "/operationName": str, "/apiKeyRequired": to_bool, "/authorizationType": str, "/authorizerId": str,
    "/requestValidatorId": str,
}


NO_AUTHORIZER = ("Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS "
                 "requires a valid authorizer.")


def apply_method(method: dict[str, Any], ops: Iterable[Op], has_model: Callable[[str], bool],
                 has_validator: Callable[[str], bool],
                 has_authorizer: Callable[[str], bool] = lambda _id: False) -> None:
    """AWS-recorded (TestApiGatewayApiMethod::test_update_method_validation): the method's own members
    take only replace; an authorizer type needs an authorizer that exists (Lambdalite has none: authorizers
    are not built), and an authorizerId on a method of another type is dropped."""
    auth_touched = False
    for op in check_ops(ops, "updateMethodInput"):
        kind, path, value = op["op"], str(op.get("path")), op.get("value")
        parts = split_path(path)
        if len(parts) == 2 and parts[0] == "requestParameters":
            patch_map_entry(method, "requestParameters", parts[1], kind, value, to_bool)
        elif len(parts) == 2 and parts[0] == "requestModels":
            if kind != "remove" and not has_model(str(value)):
                raise BadRequestException(f"Invalid model identifier specified: {value}")
            patch_map_entry(method, "requestModels", parts[1], kind, value)
        elif path in METHOD_SCALARS:
            if kind != "replace":
                raise BadRequestException("Invalid patch operation specified. Must be one of: [replace]")
            if path == "/requestValidatorId" and value and not has_validator(str(value)):
                raise BadRequestException("Invalid Request Validator identifier specified")
            auth_touched = auth_touched or path in ("/authorizationType", "/authorizerId")
            set_scalar(method, path[1:], kind, value, METHOD_SCALARS[path])
        else:
            raise BadRequestException(f"Invalid patch path {path}")
    if auth_touched:
        _check_authorizer(method, has_authorizer)


def _check_authorizer(method: dict[str, Any], has_authorizer: Callable[[str], bool]) -> None:
    if method.get("authorizationType") not in ("CUSTOM", "COGNITO_USER_POOLS"):
        method.pop("authorizerId", None)
    elif not has_authorizer(str(method.get("authorizerId") or "")):
        raise BadRequestException(NO_AUTHORIZER)


def apply_method_response(response: dict[str, Any], ops: Iterable[Op]) -> None:
    for op in check_ops(ops, "updateMethodResponseInput"):
        kind, path, value = op["op"], str(op.get("path")), op.get("value")
        parts = split_path(path)
        if len(parts) == 2 and parts[0] == "responseParameters":
            patch_map_entry(response, "responseParameters", parts[1], kind, value, to_bool,
                            missing="Invalid parameter name specified")
        elif len(parts) == 2 and parts[0] == "responseModels":
            patch_map_entry(response, "responseModels", parts[1], kind, value,
                            missing="Content-Type specified was not found")
        else:
            raise BadRequestException(f"Invalid patch path {path}")


# Integration and integration responses ------------------------------------------------------------
INTEGRATION_SCALARS: dict[str, Converter] = {
    "/uri": str, "/httpMethod": str, "/passthroughBehavior": str, "/timeoutInMillis": to_int,
    "/contentHandling": str, "/connectionId": str, "/connectionType": str, "/credentials": str,
    "/cacheNamespace": str,
}


def apply_integration(integration: dict[str, Any], ops: Iterable[Op]) -> None:
    for op in check_ops(ops, "updateIntegrationInput"):
        kind, path, value = op["op"], str(op.get("path")), op.get("value")
        parts = split_path(path)
        if len(parts) == 2 and parts[0] in ("requestTemplates", "requestParameters"):
            patch_map_entry(integration, parts[0], parts[1], kind, value, _template_value)
        elif len(parts) == 2 and parts[0] == "cacheKeyParameters":
            keys = [k for k in integration.get("cacheKeyParameters") or [] if k != parts[1]]
            integration["cacheKeyParameters"] = keys + ([parts[1]] if kind == "add" else [])
        elif path in INTEGRATION_SCALARS:
            set_scalar(integration, path[1:], kind, value, INTEGRATION_SCALARS[path])
        else:
            raise BadRequestException(f"Invalid patch path {path}")


def apply_integration_response(response: dict[str, Any], ops: Iterable[Op]) -> None:
    for op in check_ops(ops, "updateIntegrationResponseInput"):
        kind, path, value = op["op"], str(op.get("path")), op.get("value")
        parts = split_path(path)
        if len(parts) == 2 and parts[0] in ("responseTemplates", "responseParameters"):
            patch_map_entry(response, parts[0], parts[1], kind, value, _template_value)
        elif path in ("/selectionPattern", "/contentHandling"):
            set_scalar(response, path[1:], kind, value)
        else:
            raise BadRequestException(f"Invalid patch path {path}")


def _template_value(value: Any) -> Any:
    return None if value in (None, "") else str(value)  # AWS stores "" as null


# RequestValidator and Model -----------------------------------------------------------------------
def apply_validator(validator: dict[str, Any], ops: Iterable[Op]) -> None:
    for op in check_ops(ops, "updateRequestValidatorInput"):
        kind, path, value = op["op"], str(op.get("path")), op.get("value")
        if kind != "replace":
            raise BadRequestException(f"Invalid patch path  '{path}' specified for op '{kind}'. "
                                      "Please choose supported operations")
        if path == "/name":
            if not str(value or "").strip():
                raise BadRequestException("Request Validator name cannot be blank")
            validator["name"] = str(value)
        elif path in ("/validateRequestBody", "/validateRequestParameters"):
            validator[path[1:]] = to_bool(value)  # a replace without a value sets false
        else:
            raise BadRequestException(f"Invalid patch path  '{path}' specified for op 'replace'. Must be one "
                                      "of: [/name, /validateRequestParameters, /validateRequestBody]")


def apply_model(model: dict[str, Any], ops: Iterable[Op], check_schema: Callable[[str], None]) -> None:
    for op in check_ops(ops, "updateModelInput"):
        kind, path, value = op["op"], str(op.get("path")), op.get("value")
        if kind != "replace":
            raise BadRequestException(f"Invalid patch path  '{path}' specified for op '{kind}'. "
                                      "Please choose supported operations")
        if path == "/description":
            set_scalar(model, "description", kind, value or None)
        elif path == "/schema":
            check_schema(str(value or ""))
            model["schema"] = str(value)
        else:
            raise BadRequestException(f"Invalid patch path  '{path}' specified for op 'replace'. Must be one "
                                      "of: [/description, /schema]")


# Stage ----------------------------------------------------------------------------------------------
def _setting(field: str, convert: Converter) -> tuple[str, Converter]:
    return field, convert


METHOD_SETTINGS.update({
    "metrics/enabled": _setting("metricsEnabled", to_bool),
    "logging/dataTrace": _setting("dataTraceEnabled", to_bool),
    "logging/loglevel": _setting("loggingLevel", str),
    "throttling/burstLimit": _setting("throttlingBurstLimit", to_int),
    "throttling/rateLimit": _setting("throttlingRateLimit", to_float),
    "caching/enabled": _setting("cachingEnabled", to_bool),
    "caching/ttlInSeconds": _setting("cacheTtlInSeconds", to_int),
    "caching/dataEncrypted": _setting("cacheDataEncrypted", to_bool),
    "caching/requireAuthorizationForCacheControl": _setting("requireAuthorizationForCacheControl", to_bool),
    "caching/unauthorizedCacheControlHeaderStrategy": _setting("unauthorizedCacheControlHeaderStrategy", str),
})
STAGE_SCALARS: dict[str, Converter] = {
    "/description": str, "/tracingEnabled": to_bool, "/cacheClusterEnabled": to_bool,
    "/cacheClusterSize": str, "/clientCertificateId": str, "/documentationVersion": str,
}


def apply_stage(stage: dict[str, Any], ops: Iterable[Op], has_deployment: Callable[[str], bool]) -> None:
    for op in check_ops(ops, "updateStageInput"):
        kind, path, value = op["op"], str(op.get("path")), op.get("value")
        parts = split_path(path)
        if len(parts) == 2 and parts[0] == "variables":
            _patch_variable(stage, kind, parts[1], value)
        elif path == "/deploymentId":
            if kind != "replace" or not has_deployment(str(value)):
                raise BadRequestException(f"Deployment id {value} does not exist for this REST API")
            stage["deploymentId"] = str(value)
        elif path in STAGE_SCALARS and path != "/documentationVersion":
            set_scalar(stage, path[1:], kind, value, STAGE_SCALARS[path])
        elif parts[:1] == ["accessLogSettings"] and (kind != "remove" or len(parts) == 1):
            _patch_access_log(stage, kind, parts[1:], value)
        elif not _patch_method_setting(stage, kind, path, value):
            raise BadRequestException(f"Invalid method setting path: {path}. Must be one of: {STAGE_PATHS}")


def _patch_variable(stage: dict[str, Any], kind: str, name: str, value: Any) -> None:
    if not VARIABLE_NAME.fullmatch(name):
        raise BadRequestException(f"Stage variable name '{name}' is not valid: use 1 to 64 letters, digits "
                                  "or underscores")
    if kind != "remove" and not VARIABLE_VALUE.fullmatch(str(value or "")):
        raise BadRequestException(f"Stage variable value '{value}' of '{name}' is not valid: use 1 to 512 of "
                                  "the characters A-Z a-z 0-9 - . _ ~ : / ? # & = ,")
    patch_map_entry(stage, "variables", name, kind, value)


def _patch_access_log(stage: dict[str, Any], kind: str, rest: list[str], value: Any) -> None:
    """AWS-recorded (TestApiGatewayStage::test_stage_access_log_settings[_validation]): add/replace of
    /accessLogSettings/destinationArn or /format, remove of /accessLogSettings as a whole (a remove of
    one of its members is read as a method setting's, and refused as such)."""
    if kind == "remove":
        stage.pop("accessLogSettings", None)
        return
    if kind not in ("add", "replace") or rest not in (["destinationArn"], ["format"]):
        raise BadRequestException("Invalid accessLogSettings path. Must be one of : "
                                  "[/accessLogSettings/destinationArn, /accessLogSettings/format]")
    if not value:
        raise BadRequestException("Access Log value must not be empty")
    stage["accessLogSettings"] = {**(stage.get("accessLogSettings") or {}), rest[0]: str(value)}


def _patch_method_setting(stage: dict[str, Any], kind: str, path: str, value: Any) -> bool:
    """`/{resourcePath}/{httpMethod}/area/setting` (resource path `~1`-escaped) or `/*/*/...`. A new
    method's settings start from the stage's `*/*` ones (AWS-recorded: common TestStages)."""
    raw = path.split("/")[1:]
    settings = dict(stage.get("methodSettings") or {})
    if kind == "remove" and len(raw) == 2:
        key = _setting_key(raw)
        if key not in settings:   # AWS's text, trailing space included (TestStages::test_update_stage_remove_wildcard)
            raise BadRequestException(f"Cannot remove method setting {key} because there is no method setting "
                                      "for this method ")
        del settings[key]
        stage["methodSettings"] = settings
        return True
    if len(raw) != 4 or "/".join(raw[2:]) not in METHOD_SETTINGS or kind != "replace":
        return False
    key = _setting_key(raw)
    field, convert = METHOD_SETTINGS["/".join(raw[2:])]
    entry = {**SETTING_DEFAULTS, **settings.get("*/*", {}), **settings.get(key, {})}
    entry[field] = convert(value)
    settings[key] = entry
    stage["methodSettings"] = settings
    return True


def _setting_key(raw: list[str]) -> str:
    resource = raw[0].replace("~1", "/").replace("~0", "~").lstrip("/")
    return f"{resource}/{raw[1]}"


def check_variables(variables: Mapping[str, Any]) -> None:
    """Stage variables as CreateStage/CreateDeployment send them: AWS's name and value patterns."""
    for name, value in variables.items():
        _patch_variable({}, "add", str(name), value)
