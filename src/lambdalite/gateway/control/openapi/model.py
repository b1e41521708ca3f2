"""What reading an OpenAPI document produces: the PutMethod / PutIntegration / ... bodies per path,
the extension names, and the error a broken document raises. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ....errors import BadRequestException

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

VERBS = ("get", "put", "post", "delete", "options", "head", "patch")
PATH_ITEM_FIELDS = frozenset({"parameters", "summary", "description", "servers", "$ref"})
INTEGRATION_KEYS = frozenset(
    {"type", "httpMethod", "uri", "credentials", "requestParameters", "requestTemplates", "passthroughBehavior",
     "contentHandling", "timeoutInMillis", "cacheNamespace", "cacheKeyParameters", "responses",
     "connectionType", "connectionId", "tlsConfig"}
)  # fmt: skip
COMPONENT_KEYS = frozenset(
    {"schemas", "responses", "parameters", "examples", "requestBodies", "headers", "securitySchemes", "links",
     "callbacks"}
)  # fmt: skip
# Top-level extensions this module turns into data, and the one that only marks an export's format.
HANDLED_EXTENSIONS = frozenset(
    {"x-amazon-apigateway-binary-media-types", "x-amazon-apigateway-api-key-source",
     "x-amazon-apigateway-minimum-compression-size", "x-amazon-apigateway-endpoint-configuration",
     X_VALIDATORS, X_VALIDATOR, "x-amazon-apigateway-importexport-version"}
)  # fmt: skip
UNSUPPORTED_REASONS = {
    "x-amazon-apigateway-gateway-responses": "custom gateway responses are not supported; the default ones are used",
    "x-amazon-apigateway-policy": "resource policies are not supported; the API is open to every caller",
    "x-amazon-apigateway-documentation": "documentation parts are not stored",
    "x-amazon-apigateway-cors": "it configures HTTP APIs (v2) only",
    "x-amazon-apigateway-integrations": "reusable integrations belong to HTTP APIs (v2) only",
}
OPERATION_EXTENSIONS = frozenset({X_INTEGRATION, X_VALIDATOR, "x-amazon-apigateway-auth"})
MAX_NODES = 500_000  # YAML aliases can make a small document huge; refuse it instead of expanding it


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
    authorizers: list[dict[str, Any]] = field(default_factory=list)  # CreateAuthorizer bodies, named by scheme


def bind_rest_api_id(schema: str, rest_api_id: str) -> str:
    """A model schema from ``ImportedApi.models`` with its model URLs pointing at ``rest_api_id``."""
    return schema.replace(MODEL_URL_PREFIX, MODEL_URL_PREFIX.replace(REST_API_ID_PLACEHOLDER, rest_api_id))



@dataclass(frozen=True)
class Operation:
    path: str  # the resource path after the basepath rule (what AWS's messages name)
    doc_path: str  # the key under `paths`
    verb: str
    spec: dict[str, Any]
    shared_parameters: list[Any]

    def where(self, field: str) -> str:
        return f"paths.'{self.doc_path}'({self.verb.lower()}).{field}"

