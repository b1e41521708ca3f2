"""OpenAPI 2.0 (Swagger) and 3.0 documents -> the calls ImportRestApi / PutRestApi make. Pure: no I/O.

``parse_openapi(document, mode=, fail_on_warnings=, base_path=)`` reads a JSON or YAML document and
answers an ``ImportedApi``: the RestApi fields, the models, the request validators and one
``ImportedResource`` per path, each method holding the bodies of PutMethod, PutMethodResponse,
PutIntegration and PutIntegrationResponse in the shapes boto3's ``apigateway`` client sends. The
management service applies them (creating missing parent resources, mapping validator names to ids,
and substituting ``REST_API_ID_PLACEHOLDER`` in model schemas with ``bind_rest_api_id``); merge versus
overwrite is its business too, ``mode`` only has to be a valid value here.

A broken document raises ``OpenApiImportError`` (400 BadRequestException) with AWS's text:
- not JSON/YAML, not a mapping, or neither ``swagger: "2.0"`` nor ``openapi: 3.x`` ->
  ``Invalid OpenAPI input.`` (AWS-recorded: LocalStack import snapshot ``test_import_api_bad_file``);
- errors -> ``Errors found during import:\\n\\t<error>\\n\\t<error>`` where an error is, for example,
  ``Unable to put integration on 'GET' for resource at path '/x': <PutIntegration's own text>``;
- warnings with ``fail_on_warnings`` -> ``Warnings found during import:\\n\\t<warning>...``.
Without ``fail_on_warnings`` the warnings come back in ``ImportedApi.warnings`` (AWS returns them as
the ``warnings`` member of the RestApi). Every extension Lambdalite cannot honour (authorizers,
gateway responses, resource policies, documentation, HTTP-API-only extensions) is one warning.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml

from ...errors import BadRequestException

__all__ = [
    "MODEL_URL_PREFIX",
    "REST_API_ID_PLACEHOLDER",
    "ImportedApi",
    "ImportedMethod",
    "ImportedResource",
    "OpenApiImportError",
    "bind_rest_api_id",
    "load_document",
    "parse_openapi",
]

# Models refer to each other by absolute URL, as on AWS (AWS-recorded: LocalStack import snapshot
# test_import_swagger_api/get-models). The API id is unknown while parsing: the service substitutes it.
REST_API_ID_PLACEHOLDER = "{restapi_id}"
MODEL_URL_PREFIX = f"https://apigateway.amazonaws.com/restapis/{REST_API_ID_PLACEHOLDER}/models/"

INVALID_INPUT = "Invalid OpenAPI input."
ANY_METHOD_KEY = "x-amazon-apigateway-any-method"
X_INTEGRATION = "x-amazon-apigateway-integration"
X_VALIDATORS = "x-amazon-apigateway-request-validators"
X_VALIDATOR = "x-amazon-apigateway-request-validator"
X_AUTHORIZER = "x-amazon-apigateway-authorizer"
JSON = "application/json"

_VERBS = ("get", "put", "post", "delete", "options", "head", "patch")
_PATH_ITEM_FIELDS = frozenset({"parameters", "summary", "description", "servers", "$ref"})
_INTEGRATION_TYPES = ("AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK")
_PASSTHROUGH = ("WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER")
_INTEGRATION_KEYS = frozenset(
    {"type", "httpMethod", "uri", "credentials", "requestParameters", "requestTemplates", "passthroughBehavior",
     "contentHandling", "timeoutInMillis", "cacheNamespace", "cacheKeyParameters", "responses",
     "connectionType", "connectionId", "tlsConfig"}
)  # fmt: skip
_COMPONENT_KEYS = frozenset(
    {"schemas", "responses", "parameters", "examples", "requestBodies", "headers", "securitySchemes", "links",
     "callbacks"}
)  # fmt: skip
# Top-level extensions this module turns into data, and the one that only marks an export's format.
_HANDLED_EXTENSIONS = frozenset(
    {"x-amazon-apigateway-binary-media-types", "x-amazon-apigateway-api-key-source",
     "x-amazon-apigateway-minimum-compression-size", "x-amazon-apigateway-endpoint-configuration",
     X_VALIDATORS, X_VALIDATOR, "x-amazon-apigateway-importexport-version"}
)  # fmt: skip
_UNSUPPORTED_REASONS = {
    "x-amazon-apigateway-gateway-responses": "custom gateway responses are not supported; the default ones are used",
    "x-amazon-apigateway-policy": "resource policies are not supported; the API is open to every caller",
    "x-amazon-apigateway-documentation": "documentation parts are not stored",
    "x-amazon-apigateway-cors": "it configures HTTP APIs (v2) only",
    "x-amazon-apigateway-integrations": "reusable integrations belong to HTTP APIs (v2) only",
}
_OPERATION_EXTENSIONS = frozenset({X_INTEGRATION, X_VALIDATOR, "x-amazon-apigateway-auth"})
_MAX_NODES = 500_000  # YAML aliases can make a small document huge; refuse it instead of expanding it


class OpenApiImportError(BadRequestException):
    """A document ImportRestApi / PutRestApi refuses: 400 BadRequestException with AWS's message."""


@dataclass(frozen=True)
class ImportedMethod:
    http_method: str  # "GET", ..., "ANY"
    method: dict[str, Any]  # PutMethod body; requestValidatorName is a name, the service maps it to an id
    method_responses: dict[str, dict[str, Any]]  # status -> PutMethodResponse body
    integration: dict[str, Any] | None  # PutIntegration body, None when the operation has none
    integration_responses: dict[str, dict[str, Any]]  # status -> PutIntegrationResponse body


@dataclass(frozen=True)
class ImportedResource:
    path: str  # full path after the basepath rule; the service creates missing parents
    methods: dict[str, ImportedMethod]


@dataclass(frozen=True)
class ImportedApi:
    name: str
    description: str | None
    version: str | None
    binary_media_types: list[str]
    api_key_source: str | None
    minimum_compression_size: int | None
    endpoint_types: list[str] | None
    models: list[dict[str, Any]]  # CreateModel bodies; schema is JSON text holding REST_API_ID_PLACEHOLDER
    validators: list[dict[str, Any]]  # CreateRequestValidator bodies
    default_validator: str | None
    resources: list[ImportedResource]
    warnings: list[str]


def bind_rest_api_id(schema: str, rest_api_id: str) -> str:
    """A model schema from ``ImportedApi.models`` with its model URLs pointing at ``rest_api_id``."""
    return schema.replace(MODEL_URL_PREFIX, MODEL_URL_PREFIX.replace(REST_API_ID_PLACEHOLDER, rest_api_id))


def parse_openapi(
    document: bytes | str, *, mode: str = "overwrite", fail_on_warnings: bool = False, base_path: str | None = None
) -> ImportedApi:
    """Parse an OpenAPI 2.0/3.0 document (JSON or YAML) the way ImportRestApi / PutRestApi read it.

    ``base_path`` is the ``basepath`` import parameter: ``ignore`` (default), ``prepend`` or ``split``.
    """
    _check_choice("mode", mode, ("import", "merge", "overwrite"))
    base_mode = base_path or "ignore"
    _check_choice("basepath", base_mode, ("ignore", "prepend", "split"))
    doc = load_document(document)
    importer = _Importer(doc, _spec_version(doc))
    api = importer.run(_apply_base_mode(importer.document_base_path(), base_mode))
    if importer.errors:
        raise OpenApiImportError("Errors found during import:\n\t" + "\n\t".join(importer.errors))
    if fail_on_warnings and api.warnings:
        raise OpenApiImportError("Warnings found during import:\n\t" + "\n\t".join(api.warnings))
    return api


# ---------------------------------------------------------------------------------------- loading


def load_document(document: bytes | str) -> dict[str, Any]:
    """The document as plain JSON data (string keys, no dates); ``Invalid OpenAPI input.`` otherwise."""
    try:
        text = document.decode("utf-8-sig") if isinstance(document, bytes) else document
        try:
            data = json.loads(text)
        except ValueError:
            data = yaml.safe_load(text)
        plain = _plain(data, [_MAX_NODES], set())
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError, _TooLarge):
        raise OpenApiImportError(INVALID_INPUT) from None
    if not isinstance(plain, dict):
        raise OpenApiImportError(INVALID_INPUT)
    return plain


class _TooLarge(Exception):
    pass


def _plain(value: Any, budget: list[int], active: set[int]) -> Any:
    """JSON-like copy: YAML's int keys become strings (``200:``), dates become ISO text, cycles are refused."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(value, dict | list):
        if id(value) in active:  # a YAML alias that contains itself
            raise _TooLarge
        active.add(id(value))
        try:
            if isinstance(value, dict):
                return {_key(k): _plain(v, budget, active) for k, v in value.items()}
            return [_plain(v, budget, active) for v in value]
        finally:
            active.discard(id(value))
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _key(key: Any) -> str:
    if isinstance(key, bool):  # YAML 1.1 reads a bare `on:` or `yes:` key as a boolean
        return str(key).lower()
    return key.isoformat() if isinstance(key, datetime.date) else str(key)


def _spec_version(doc: dict[str, Any]) -> int:
    if str(doc.get("swagger")) == "2.0":
        return 2
    if str(doc.get("openapi", "")).startswith("3."):
        return 3
    raise OpenApiImportError(INVALID_INPUT)


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise OpenApiImportError(f"Invalid {name} specified: {value}. Must be one of: [{', '.join(allowed)}]")


# -------------------------------------------------------------------------------------- base path


def _apply_base_mode(base: str, mode: str) -> str:
    """The prefix every path gets: ignore drops the base path, prepend keeps it, split drops its first part."""
    if mode == "prepend":
        return base
    if mode == "split":
        rest = base.strip("/").partition("/")[2]
        return f"/{rest}" if rest else ""
    return ""


def _clean_base(raw: str) -> str:
    stripped = raw.strip().strip("/")
    return f"/{stripped}" if stripped else ""


def _server_base_path(servers: Any) -> str:
    """OAS 3: a ``basePath`` server variable wins, even when the URL does not use it (AWS docs); else the URL path."""
    candidates = [s for s in servers if isinstance(s, dict)] if isinstance(servers, list) else []
    for server in candidates:
        variable = _dict(server.get("variables")).get("basePath")
        if isinstance(variable, dict):
            return str(variable.get("default") or "")
    for server in candidates:
        url = str(server.get("url") or "")
        for name, variable in _dict(server.get("variables")).items():
            url = url.replace("{" + name + "}", str(_dict(variable).get("default", "")))
        if path := urlsplit(url).path:
            return path
    return ""


# --------------------------------------------------------------------------------------- importer


class _Importer:
    """One pass over one document; collects errors and warnings in document order."""

    def __init__(self, doc: dict[str, Any], version: int) -> None:
        self.doc = doc
        self.version = version
        self.errors: list[str] = []
        self.warnings: list[str] = []
        components = _dict(doc.get("components"))
        self.components = components
        self.model_sources = _dict(doc.get("definitions") if version == 2 else components.get("schemas"))
        self.schemes = _dict(doc.get("securityDefinitions") if version == 2 else components.get("securitySchemes"))
        self.validator_names: set[str] = set()
        self.variable_children: dict[str, str] = {}  # parent path -> its one variable path part

    def document_base_path(self) -> str:
        if self.version == 2:
            return _clean_base(str(self.doc.get("basePath") or ""))
        return _clean_base(_server_base_path(self.doc.get("servers")))

    def run(self, prefix: str) -> ImportedApi:
        info = _dict(self.doc.get("info"))
        name = info.get("title")
        if not isinstance(name, str | int | float) or name == "":
            self.errors.append("Parse issue: attribute info.title is missing")
        self._check_top_level()
        validators = self._validators()
        default_validator = self._validator_ref(self.doc.get(X_VALIDATOR), "the API")
        models = self._models()
        compression, endpoint_types = self._minimum_compression_size(), self._endpoint_types()
        resources = self._resources(prefix, default_validator)
        description, version = info.get("description"), info.get("version")
        return ImportedApi(
            name=str(name or ""),
            description=str(description) if description not in (None, "") else None,
            version=str(version) if version not in (None, "") else None,
            binary_media_types=_strings(self.doc.get("x-amazon-apigateway-binary-media-types")),
            api_key_source=_upper(self.doc.get("x-amazon-apigateway-api-key-source")),
            minimum_compression_size=compression,
            endpoint_types=endpoint_types,
            models=models,
            validators=validators,
            default_validator=default_validator,
            resources=resources,
            warnings=self.warnings,
        )

    # ---- top level

    def _check_top_level(self) -> None:
        for key in self.doc:
            if key.startswith("x-amazon-apigateway-") and key not in _HANDLED_EXTENSIONS:
                self._unsupported(key, _UNSUPPORTED_REASONS.get(key, "this extension is not supported"))
        if self.version == 3:
            for key in self.components:
                if key == "x-amazon-apigateway-integrations":
                    self._unsupported(f"components.{key}", _UNSUPPORTED_REASONS[key])
                elif key not in _COMPONENT_KEYS and not key.startswith("x-"):
                    # swagger-parser's wording, which AWS's importer reports (Terraform's fail_on_warnings test)
                    self.warnings.append(f"Parse issue: attribute components.{key} is unexpected")
        for scheme_name, scheme in self.schemes.items():
            if X_AUTHORIZER in _dict(scheme):
                self._unsupported(
                    f"{X_AUTHORIZER} '{scheme_name}'",
                    "Lambda and Cognito authorizers are not supported; methods using it are imported "
                    "with authorizationType NONE",
                )
        if "paths" not in self.doc:
            self.warnings.append("Parse issue: attribute paths is missing")

    def _unsupported(self, what: str, reason: str) -> None:
        self.warnings.append(f"{what} is not supported by Lambdalite and was ignored: {reason}")

    def _minimum_compression_size(self) -> int | None:
        raw = self.doc.get("x-amazon-apigateway-minimum-compression-size")
        if raw is None:
            return None
        if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= 10485760:
            return raw
        self.errors.append("Invalid minimum compression size, must be between 0 and 10485760")
        return None

    def _endpoint_types(self) -> list[str] | None:
        config = self.doc.get("x-amazon-apigateway-endpoint-configuration")
        if not isinstance(config, dict):
            return None
        for key in config:
            if key != "types":
                self._unsupported(f"x-amazon-apigateway-endpoint-configuration.{key}", "only types is kept")
        types = [t.upper() for t in _strings(config.get("types"))]
        return types or None

    def _validators(self) -> list[dict[str, Any]]:
        out = []
        for name, raw in _dict(self.doc.get(X_VALIDATORS)).items():
            spec = _dict(raw)
            out.append(
                {
                    "name": name,
                    "validateRequestBody": spec.get("validateRequestBody") is True,
                    "validateRequestParameters": spec.get("validateRequestParameters") is True,
                }
            )
            self.validator_names.add(name)
        return out

    def _validator_ref(self, name: Any, where: str) -> str | None:
        if name is None:
            return None
        if str(name) in self.validator_names:
            return str(name)
        self.warnings.append(f"Request validator '{name}' used by {where} is not defined in {X_VALIDATORS}; ignored")
        return None

    # ---- models

    def _models(self) -> list[dict[str, Any]]:
        section = "definitions" if self.version == 2 else "components.schemas"
        models = []
        for name, schema in self.model_sources.items():
            if not re.fullmatch(r"[A-Za-z0-9]+", name):
                # AWS's text, as its importer reported it (api-platform/core#3193)
                self.errors.append(f"Unable to create model for '{name}': Model name must be alphanumeric: {name}")
                continue
            if not isinstance(schema, dict):
                self.warnings.append(f"Parse issue: attribute {section}.{name} is not of type `object`")
                continue
            model = {"name": name, "contentType": JSON, "schema": json.dumps(self._absolute_refs(schema, name))}
            if isinstance(schema.get("description"), str):
                model["description"] = schema["description"]
            models.append(model)
        return models

    def _absolute_refs(self, value: Any, model: str) -> Any:
        """A schema whose references to other models are the absolute model URLs API Gateway stores."""
        if isinstance(value, list):
            return [self._absolute_refs(v, model) for v in value]
        if not isinstance(value, dict):
            return value
        out = {k: self._absolute_refs(v, model) for k, v in value.items()}
        ref = value.get("$ref")
        if isinstance(ref, str):
            target = self._model_of_ref(ref, f"model {model}")
            if target is not None:
                out["$ref"] = MODEL_URL_PREFIX + target
        return out

    def _model_of_ref(self, ref: str, where: str) -> str | None:
        prefix = "#/definitions/" if self.version == 2 else "#/components/schemas/"
        if not ref.startswith(prefix) or "/" in ref[len(prefix) :]:
            self.warnings.append(f"Parse issue: {where}: reference {ref} is not a model; kept as is")
            return None
        name = _unescape(ref[len(prefix) :])
        if name not in self.model_sources:
            self.warnings.append(f"Parse issue: attribute {where}.schema.{ref} is missing")
            return None
        return name

    def _schema_model(self, schema: Any, where: str) -> str | None:
        """The model name a request or response schema refers to; inline schemas get no model (as on AWS)."""
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            return self._model_of_ref(schema["$ref"], where)
        return None

    # ---- references

    def _resolve(self, value: Any, where: str) -> dict[str, Any] | None:
        """Follow local ``$ref`` chains (parameters, responses, request bodies, path items)."""
        seen: set[str] = set()
        while isinstance(value, dict) and isinstance(value.get("$ref"), str):
            ref = value["$ref"]
            if not ref.startswith("#/") or ref in seen:
                self.warnings.append(f"Parse issue: {where}: reference {ref} cannot be resolved; ignored")
                return None
            seen.add(ref)
            value = _pointer(self.doc, ref)
            if value is None:
                self.warnings.append(f"Parse issue: attribute {where}.{ref} is missing")
                return None
        return value if isinstance(value, dict) else None

    # ---- resources and methods

    def _resources(self, prefix: str, default_validator: str | None) -> list[ImportedResource]:
        paths = self.doc.get("paths")
        if paths is not None and not isinstance(paths, dict):
            self.errors.append("Parse issue: attribute paths is not of type `object`")
            return []
        resources: dict[str, dict[str, ImportedMethod]] = {}
        for doc_path, raw_item in _dict(paths).items():
            if not doc_path.startswith("/"):
                self.warnings.append(f"Parse issue: attribute paths. Resource {doc_path} should start with /")
                continue
            path = _join(prefix, doc_path)
            if not self._valid_path(path):
                continue
            item = self._resolve(raw_item, f"paths.'{doc_path}'") or {}
            methods = resources.setdefault(path, {})
            methods.update(self._path_methods(path, doc_path, item, default_validator))
        return [ImportedResource(path, methods) for path, methods in resources.items()]

    def _valid_path(self, path: str) -> bool:
        parts = [p for p in path.split("/") if p]
        for index, part in enumerate(parts):
            parent = "/" + "/".join(parts[:index])
            here = parent.rstrip("/") + "/" + part
            if part.endswith("+}") and index != len(parts) - 1:
                # CreateResource's texts (AWS-recorded: api test_create_proxy_resource_validation)
                self.errors.append(
                    f"Unable to create resource at path '{path}': "
                    f"Cannot create a child of a resource with a greedy path variable: {part}"
                )
                return False
            if part.startswith("{") and self.variable_children.setdefault(parent, part) != part:
                sibling = self.variable_children[parent]
                self.errors.append(
                    f"Unable to create resource at path '{here}': "
                    f"A sibling ({sibling}) of this resource already has a variable path part -- only one is allowed"
                )
                return False
        return True

    def _path_methods(
        self, path: str, doc_path: str, item: dict[str, Any], default_validator: str | None
    ) -> dict[str, ImportedMethod]:
        shared = _list(item.get("parameters"))
        methods: dict[str, ImportedMethod] = {}
        for key, operation in item.items():
            if key in _PATH_ITEM_FIELDS or (key.startswith("x-") and key != ANY_METHOD_KEY):
                if key.startswith("x-amazon-apigateway-"):
                    self._unsupported(f"{key} on path '{doc_path}'", "this extension is not supported")
                continue
            verb = "ANY" if key == ANY_METHOD_KEY else key.upper()
            if key != ANY_METHOD_KEY and key.lower() not in _VERBS:
                self.warnings.append(f"Method {verb} on path '{doc_path}' is not supported by API Gateway; ignored")
                continue
            if isinstance(operation, dict):
                context = _Operation(path, doc_path, verb, operation, shared)
                methods[verb] = self._method(context, default_validator)
        return methods

    def _method(self, op: _Operation, default_validator: str | None) -> ImportedMethod:
        parameters, models = self._request_parameters(op)
        body: dict[str, Any] = {"authorizationType": "NONE", "apiKeyRequired": False}
        body.update(self._security(op.spec))
        if isinstance(op.spec.get("operationId"), str):
            body["operationName"] = op.spec["operationId"]
        if parameters:
            body["requestParameters"] = parameters
        if models:
            body["requestModels"] = models
        validator = op.spec.get(X_VALIDATOR, default_validator)
        where = f"resource '{op.path}' and method '{op.verb}'"
        if X_VALIDATOR in op.spec:
            validator = self._validator_ref(validator, where)
        if validator:
            body["requestValidatorName"] = validator
        self._check_operation_extensions(op)
        integration, integration_responses = self._integration(op)
        return ImportedMethod(op.verb, body, self._method_responses(op), integration, integration_responses)

    def _check_operation_extensions(self, op: _Operation) -> None:
        for key in op.spec:
            if key.startswith("x-amazon-apigateway-") and key not in _OPERATION_EXTENSIONS:
                self._unsupported(f"{key} on resource '{op.path}' and method '{op.verb}'", "not supported")

    def _security(self, spec: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        auth_type = _upper(_dict(spec.get("x-amazon-apigateway-auth")).get("type"))
        if auth_type in ("NONE", "AWS_IAM"):
            out["authorizationType"] = auth_type
        requirements = spec.get("security", self.doc.get("security"))
        for requirement in _list(requirements):
            for scheme_name in _dict(requirement):
                scheme = _dict(self.schemes.get(scheme_name))
                if X_AUTHORIZER in scheme:
                    continue  # warned about once, at the top level
                if scheme.get("x-amazon-apigateway-authtype") == "awsSigv4":
                    out["authorizationType"] = "AWS_IAM"
                elif scheme.get("type") == "apiKey" and str(scheme.get("name", "")).lower() == "x-api-key":
                    # an API key scheme without an authorizer marks the method as needing a key
                    # (AWS-recorded: LocalStack import snapshot, openapi.spec.tf.json)
                    out["apiKeyRequired"] = True
        return out

    def _request_parameters(self, op: _Operation) -> tuple[dict[str, bool], dict[str, str]]:
        parameters: dict[str, bool] = {}
        models: dict[str, str] = {}
        for param in self._merged_parameters(op):
            location, name = param.get("in"), param.get("name")
            if location in ("query", "header", "path") and isinstance(name, str):
                kind = "querystring" if location == "query" else location
                # path parameters are always required: a path cannot match without them
                parameters[f"method.request.{kind}.{name}"] = location == "path" or param.get("required") is True
            elif location == "body":
                model = self._schema_model(param.get("schema"), op.where("parameters.body"))
                models.update(dict.fromkeys(self._media_types(op.spec, "consumes"), model) if model else {})
        for part in op.path.split("/"):
            # AWS adds the resource's path variables even when the document does not declare them
            # (AWS-recorded: LocalStack import snapshot, /echo/{data} in openapi.spec.global-auth.json)
            if part.startswith("{") and part.endswith("}") and not part.endswith("+}"):
                parameters.setdefault(f"method.request.path.{part[1:-1]}", True)
        if self.version == 3:
            models.update(self._request_body_models(op))
        return parameters, models

    def _merged_parameters(self, op: _Operation) -> list[dict[str, Any]]:
        """Path-level parameters, overridden by the operation's own ones of the same name and location."""
        merged: dict[tuple[Any, Any], dict[str, Any]] = {}
        for raw in [*op.shared_parameters, *_list(op.spec.get("parameters"))]:
            param = self._resolve(raw, op.where("parameters"))
            if param is not None:
                merged[(param.get("in"), param.get("name"))] = param
        return list(merged.values())

    def _request_body_models(self, op: _Operation) -> dict[str, str]:
        request_body = self._resolve(op.spec.get("requestBody"), op.where("requestBody")) or {}
        models = {}
        for media_type, content in _dict(request_body.get("content")).items():
            model = self._schema_model(_dict(content).get("schema"), op.where("requestBody.content"))
            if model:
                models[media_type] = model
        return models

    def _media_types(self, spec: dict[str, Any], key: str) -> list[str]:
        return _strings(spec.get(key)) or _strings(self.doc.get(key)) or [JSON]

    def _method_responses(self, op: _Operation) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for status, raw in _dict(op.spec.get("responses")).items():
            response = self._resolve(raw, op.where(f"responses.{status}")) or {}
            if not re.fullmatch(r"[1-5]\d\d", status):
                self.warnings.append(
                    f"Method response '{status}' of resource '{op.path}' and method '{op.verb}' ignored: "
                    "API Gateway status codes match [1-5]\\d\\d"
                )
                continue
            body: dict[str, Any] = {}
            headers = _dict(response.get("headers"))
            if headers:
                body["responseParameters"] = {f"method.response.header.{h}": False for h in headers}
            models = self._response_models(op, status, response)
            if models:
                body["responseModels"] = models
            out[status] = body
        return out

    def _response_models(self, op: _Operation, status: str, response: dict[str, Any]) -> dict[str, str]:
        if self.version == 2:
            model = self._schema_model(response.get("schema"), op.where(f"responses.{status}"))
            return dict.fromkeys(self._media_types(op.spec, "produces"), model) if model else {}
        models = {}
        for media_type, content in _dict(response.get("content")).items():
            model = self._schema_model(_dict(content).get("schema"), op.where(f"responses.{status}.content"))
            if model:
                models[media_type] = model
        return models

    # ---- integration

    def _integration(self, op: _Operation) -> tuple[dict[str, Any] | None, dict[str, dict[str, Any]]]:
        spec = op.spec.get(X_INTEGRATION)
        if spec is None:
            return None, {}  # a method without integration imports as is; calling it answers 500
        spec = _dict(spec)
        builder = _IntegrationBuilder(op, spec)
        integration, responses = builder.build(), builder.responses()
        self.errors.extend(builder.errors)
        self.warnings.extend(builder.warnings)
        for key in spec:
            if key not in _INTEGRATION_KEYS:
                self._unsupported(f"{X_INTEGRATION}.{key} on resource '{op.path}' and method '{op.verb}'", "ignored")
        return integration, responses


@dataclass(frozen=True)
class _Operation:
    path: str  # the resource path after the basepath rule (what AWS's messages name)
    doc_path: str  # the key under `paths`
    verb: str
    spec: dict[str, Any]
    shared_parameters: list[Any]

    def where(self, field: str) -> str:
        return f"paths.'{self.doc_path}'({self.verb.lower()}).{field}"


class _IntegrationBuilder:
    """x-amazon-apigateway-integration -> PutIntegration and PutIntegrationResponse bodies."""

    def __init__(self, op: _Operation, spec: dict[str, Any]) -> None:
        self.op = op
        self.spec = spec
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def fail(self, text: str) -> None:
        # AWS's wrapper around PutIntegration's own message (CloudFormation reports; Testlio/lambda-tools#56)
        where = f"'{self.op.verb}' for resource at path '{self.op.path}'"
        self.errors.append(f"Unable to put integration on {where}: {text}")

    def build(self) -> dict[str, Any] | None:
        kind = _upper(self.spec.get("type")) or ""
        if kind not in _INTEGRATION_TYPES:
            self.fail(f"Invalid integration type specified: {self.spec.get('type')}")
            return None
        body: dict[str, Any] = {"type": kind}
        self._http_method(kind, body)
        uri = self.spec.get("uri")
        if kind != "MOCK" and (problem := _uri_problem(kind, str(uri or ""))):
            self.fail(problem)
        if uri is not None:
            body["uri"] = str(uri)
        self._copy_optional(body)
        body["passthroughBehavior"] = self._passthrough()
        body["timeoutInMillis"] = self._timeout()
        body["cacheKeyParameters"] = _strings(self.spec.get("cacheKeyParameters"))
        if kind in ("HTTP", "HTTP_PROXY"):
            body.setdefault("connectionType", "INTERNET")  # AWS-recorded: import test_import_swagger_api
        return body

    def _http_method(self, kind: str, body: dict[str, Any]) -> None:
        method = self.spec.get("httpMethod")
        if not method and kind == "AWS_PROXY":
            method = "POST"  # Lambda proxy integrations only ever call with POST
        if method:
            body["integrationHttpMethod"] = str(method).upper()
        elif kind != "MOCK":
            self.fail("Enumeration value for HttpMethod must be non-empty")  # AWS-recorded: integ snapshot

    def _copy_optional(self, body: dict[str, Any]) -> None:
        for key in ("credentials", "cacheNamespace", "connectionId"):
            if isinstance(self.spec.get(key), str):
                body[key] = self.spec[key]
        for key in ("contentHandling", "connectionType"):
            if value := _upper(self.spec.get(key)):
                body[key] = value
        if isinstance(self.spec.get("tlsConfig"), dict):
            body["tlsConfig"] = self.spec["tlsConfig"]
        for key in ("requestParameters", "requestTemplates"):
            if (mapping := self.string_map(key, self.spec.get(key))) is not None:
                body[key] = mapping

    def string_map(self, field: str, raw: Any) -> dict[str, str] | None:
        """A map of strings; other values are dropped with AWS's warning (AWS-recorded: import oas30 srv-url)."""
        if not isinstance(raw, dict):
            return None
        out = {}
        for key, value in raw.items():
            if isinstance(value, str):
                out[key] = value
            else:
                self.warnings.append(
                    f"Invalid format for '{field}'. Expected type string for property '{key}' of resource "
                    f"'{self.op.path}' and method '{self.op.verb}' but got '{_text(value)}'"
                )
        return out

    def _passthrough(self) -> str:
        value = _upper(self.spec.get("passthroughBehavior")) or "WHEN_NO_MATCH"
        if value not in _PASSTHROUGH:
            self.fail(f"Invalid passthrough behavior specified: {self.spec.get('passthroughBehavior')}")
        return value

    def _timeout(self) -> int:
        raw = self.spec.get("timeoutInMillis", 29000)
        try:
            timeout = int(raw)
        except (TypeError, ValueError):
            timeout = -1
        if isinstance(raw, bool) or not 50 <= timeout <= 29000:
            self.fail("Timeout should be between 50 ms and 29000 ms")  # AWS's text, as CloudFormation reports it
        return timeout

    def responses(self) -> dict[str, dict[str, Any]]:
        """Keyed by status code; in the document the KEY is the selection pattern and ``default`` means none."""
        out: dict[str, dict[str, Any]] = {}
        for pattern, raw in _dict(self.spec.get("responses")).items():
            spec = _dict(raw)
            status = _text(spec.get("statusCode", 200))  # YAML documents may write 200, AWS stores "200"
            body: dict[str, Any] = {}
            if pattern != "default":
                body["selectionPattern"] = pattern
            for key in ("responseParameters", "responseTemplates"):
                if (mapping := self.string_map(key, spec.get(key))) is not None:
                    body[key] = mapping
            if value := _upper(spec.get("contentHandling")):
                body["contentHandling"] = value
            if status in out:
                self.warnings.append(
                    f"Integration responses of resource '{self.op.path}' and method '{self.op.verb}' both use "
                    f"status code {status}; the one for pattern '{pattern}' was kept"
                )
            out[status] = body
        return out


_PROXY_TARGETS = "Lambda function and Firehose stream"


def _uri_problem(kind: str, uri: str) -> str | None:
    """PutIntegration's check of the URI, with its texts (AWS-recorded: integ test_put_integration_validation)."""
    if kind in ("HTTP", "HTTP_PROXY"):
        # `https://${stageVariables.host}` is accepted at put time (AWS-recorded)
        return None if re.match(r"https?://[^/\s]", uri, re.IGNORECASE) else "Invalid HTTP endpoint specified for URI"
    parts = uri.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return "Invalid ARN specified in the request"
    service, resource = parts[4], parts[5]
    if not resource.startswith(("path", "action")):
        return "AWS ARN for integration must contain path or action"
    if kind == "AWS_PROXY" and (service != "lambda" or not resource.startswith("path/2015-03-31/functions/")):
        return f"Integrations of type 'AWS_PROXY' currently only supports {_PROXY_TARGETS} invocations."
    return None


# ---------------------------------------------------------------------------------------- helpers


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    items: Iterable[Any] = [value] if isinstance(value, str) else _list(value)
    return [str(v) for v in items if isinstance(v, str | int | float)]


def _upper(value: Any) -> str | None:
    return value.upper() if isinstance(value, str) and value else None


def _text(value: Any) -> str:
    """A value as AWS prints it in messages: booleans lower case, numbers plain."""
    return value if isinstance(value, str) else json.dumps(value)


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _pointer(doc: dict[str, Any], ref: str) -> Any:
    value: Any = doc
    for token in ref[2:].split("/"):
        if not isinstance(value, dict):
            return None
        value = value.get(_unescape(token))
    return value


def _join(prefix: str, path: str) -> str:
    joined = "/" + "/".join(p for p in (prefix + path).split("/") if p)
    return joined
