"""Method request validation (REST) and model schema checks: pure, AWS's exact messages.

Rules (reference section 2, trap 31): nothing is validated unless the method has a request
validator; required parameters must be present and non-blank, all missing names listed in ONE
message sorted by their full key (``header`` < ``path`` < ``querystring``); parameters are checked
before the body; the body is validated (JSON Schema draft 4) against the model for the request's
content type, else ``$default``, else the built-in ``Empty`` model; an empty body reads as ``{}``.
The only module that imports jsonschema. A model's `pattern`, `patternProperties` and the
`additionalProperties` they decide run on `patterns` (time-limited), not on Python's `re`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import referencing
import referencing.exceptions
from referencing.jsonschema import DRAFT4

from ...errors import RequestValidationError
from . import patterns

__all__ = [
    "EMPTY_MODEL_SCHEMA",
    "ERROR_MODEL_SCHEMA",
    "MODEL_REF_PREFIX",
    "MethodRequest",
    "ModelSet",
    "check_model_schema",
    "compile_models",
    "missing_parameters",
    "validate_request",
]

EMPTY_MODEL_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "Empty Schema",
    "type": "object",
}
ERROR_MODEL_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "Error Schema",
    "type": "object",
    "properties": {"message": {"type": "string"}},
}
# Models reference each other as https://apigateway.amazonaws.com/restapis/{apiId}/models/{Name}.
MODEL_REF_PREFIX = "https://apigateway.amazonaws.com/restapis/"

_NO_SCHEMA = "Model schema must have at least 1 property or array items defined"
_INVALID_SCHEMA = "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]"
_PARAMETER_LOCATIONS = ("header", "path", "querystring")


@dataclass(frozen=True, slots=True)
class MethodRequest:
    """The parts of a request that validation reads (query and path values already decoded)."""

    path_params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


def _pattern(validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]) -> Any:
    if validator.is_type(instance, "string") and not patterns.search(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _matched(schema: Mapping[str, Any], name: str) -> bool:
    return any(patterns.search(p, name) for p in schema.get("patternProperties") or {})


def _pattern_properties(validator: Any, given: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]) -> Any:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in given.items():
        for key, value in instance.items():
            if patterns.search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, given: Any, instance: Any, schema: Mapping[str, Any]) -> Any:
    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties") or {}
    extras = [key for key in instance if key not in known and not _matched(schema, key)]
    if validator.is_type(given, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], given, path=extra)
    elif not given and extras:
        yield jsonschema.ValidationError(f"Additional properties are not allowed ({', '.join(map(repr, extras))} "
                                         f"{'was' if len(extras) == 1 else 'were'} unexpected)")


# Draft 4 with users' patterns on the time-limited engine
_Draft4 = jsonschema.validators.extend(jsonschema.Draft4Validator, {
    "pattern": _pattern, "patternProperties": _pattern_properties, "additionalProperties": _additional_properties})


class ModelSet:
    """An API's models, compiled once per deployment (immutable): name -> draft 4 validator."""

    __slots__ = ("_registry", "_schemas", "_validators")

    def __init__(self, schemas: Mapping[str, Mapping[str, Any]]) -> None:
        self._schemas = {"Empty": EMPTY_MODEL_SCHEMA, "Error": ERROR_MODEL_SCHEMA, **schemas}
        self._registry: referencing.Registry[Any] = referencing.Registry(retrieve=self._retrieve)  # type: ignore[call-arg]
        self._validators = {
            name: _Draft4(schema, registry=self._registry) for name, schema in self._schemas.items()
        }

    def _retrieve(self, uri: str) -> referencing.Resource[Any]:
        name = uri.rstrip("/").rsplit("/", 1)[-1] if uri.startswith(MODEL_REF_PREFIX) else None
        if name is None or name not in self._schemas:
            raise referencing.exceptions.NoSuchResource(ref=uri)  # type: ignore[call-arg]
        return DRAFT4.create_resource(self._schemas[name])

    def is_valid(self, model_name: str, instance: Any) -> bool:
        validator = self._validators.get(model_name)
        if validator is None:
            return False  # a method naming a model the API lacks: nothing can satisfy it
        try:
            return bool(validator.is_valid(instance))
        except (referencing.exceptions.Unresolvable, jsonschema.exceptions.SchemaError):
            return False


def compile_models(models: Mapping[str, Mapping[str, Any] | str]) -> ModelSet:
    """Models by name, each a schema (dict) or its JSON text as CreateModel stores it."""
    schemas: dict[str, Mapping[str, Any]] = {}
    for name, schema in models.items():
        parsed = json.loads(schema) if isinstance(schema, str) else schema
        if isinstance(parsed, Mapping):
            schemas[name] = parsed
    return ModelSet(schemas)


def check_model_schema(schema_text: str | None) -> str | None:
    """CreateModel's check: None when acceptable, else AWS's BadRequestException message."""
    if schema_text is None or not schema_text.strip():
        return _NO_SCHEMA
    try:
        schema = json.loads(schema_text)
    except (ValueError, RecursionError):
        return _INVALID_SCHEMA
    if not isinstance(schema, dict):
        return _INVALID_SCHEMA
    try:
        jsonschema.Draft4Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError:
        return _INVALID_SCHEMA
    return None


def _present(value: str | None) -> bool:
    return value is not None and value.strip() != ""


def _lookup(request: MethodRequest, location: str, name: str) -> str | None:
    if location == "path":
        return request.path_params.get(name)
    if location == "querystring":
        return request.query.get(name)
    wanted = name.lower()  # HTTP header names are case-insensitive
    return next((v for k, v in request.headers.items() if k.lower() == wanted), None)


def missing_parameters(request_parameters: Mapping[str, Any] | None, request: MethodRequest) -> list[str]:
    """Names of required parameters absent or blank, in AWS's order (sorted by full key)."""
    missing: list[str] = []
    for key, required in sorted((request_parameters or {}).items()):
        parts = key.split(".", 3)
        if required is not True or len(parts) != 4 or parts[:2] != ["method", "request"]:
            continue
        location, name = parts[2], parts[3]
        if location in _PARAMETER_LOCATIONS and not _present(_lookup(request, location, name)):
            missing.append(name)
    return missing


def _content_type(request: MethodRequest) -> str:
    raw = _lookup(request, "header", "content-type") or "application/json"
    return raw.split(";")[0].strip().lower()


def _model_name(request_models: Mapping[str, str] | None, content_type: str) -> str:
    models = request_models or {}
    for key, name in models.items():
        if key.split(";")[0].strip().lower() == content_type:
            return name
    return models.get("$default", "Empty")


def _body_is_valid(method: Mapping[str, Any], models: ModelSet, request: MethodRequest) -> bool:
    try:
        instance = json.loads(request.body.decode("utf-8")) if request.body.strip() else {}
    except (UnicodeDecodeError, ValueError, RecursionError):   # nested too deeply is not a valid body either
        return False
    return models.is_valid(_model_name(method.get("requestModels"), _content_type(request)), instance)


def validate_request(
    method: Mapping[str, Any],
    validator: Mapping[str, Any] | None,
    models: ModelSet | Mapping[str, Mapping[str, Any] | str],
    request: MethodRequest,
) -> None:
    """Raise ``RequestValidationError`` with AWS's message when the validator rejects the request."""
    if not validator:
        return
    if validator.get("validateRequestParameters"):
        missing = missing_parameters(method.get("requestParameters"), request)
        if missing:
            message = f"Missing required request parameters: [{', '.join(missing)}]"
            raise RequestValidationError(message, "BAD_REQUEST_PARAMETERS")
    if validator.get("validateRequestBody"):
        model_set = models if isinstance(models, ModelSet) else compile_models(models)
        if not _body_is_valid(method, model_set, request):
            raise RequestValidationError("Invalid request body", "BAD_REQUEST_BODY")
