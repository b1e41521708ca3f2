"""One pass over an OpenAPI document: the top level, request validators, resources and their
methods (parameters, request models, method responses, security), each operation's integration
handed to `integration.IntegrationBuilder`. Errors and warnings are collected in document order. Pure."""

from __future__ import annotations

import re
from typing import Any

from .document import clean_base, dict_of, join_path, list_of, server_base_path, strings, upper
from .integration import IntegrationBuilder
from .model import (
    ANY_METHOD_KEY,
    COMPONENT_KEYS,
    HANDLED_EXTENSIONS,
    INTEGRATION_KEYS,
    JSON,
    OPERATION_EXTENSIONS,
    PATH_ITEM_FIELDS,
    UNSUPPORTED_REASONS,
    VERBS,
    X_AUTHORIZER,
    X_INTEGRATION,
    X_VALIDATOR,
    X_VALIDATORS,
    ImportedApi,
    ImportedMethod,
    ImportedResource,
    Operation,
)
from .schemas import Schemas


class Importer(Schemas):
    """One pass over one document; collects errors and warnings in document order."""

    def __init__(self, doc: dict[str, Any], version: int) -> None:
        self.doc = doc
        self.version = version
        self.errors: list[str] = []
        self.warnings: list[str] = []
        components = dict_of(doc.get("components"))
        self.components = components
        self.model_sources = dict_of(doc.get("definitions") if version == 2 else components.get("schemas"))
        self.schemes = dict_of(doc.get("securityDefinitions") if version == 2 else components.get("securitySchemes"))
        self.validator_names: set[str] = set()
        self.variable_children: dict[str, str] = {}  # parent path -> its one variable path part

    def document_base_path(self) -> str:
        if self.version == 2:
            return clean_base(str(self.doc.get("basePath") or ""))
        return clean_base(server_base_path(self.doc.get("servers")))

    def run(self, prefix: str) -> ImportedApi:
        info = dict_of(self.doc.get("info"))
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
            binary_media_types=strings(self.doc.get("x-amazon-apigateway-binary-media-types")),
            api_key_source=upper(self.doc.get("x-amazon-apigateway-api-key-source")),
            minimum_compression_size=compression,
            endpoint_types=endpoint_types,
            models=models,
            validators=validators,
            default_validator=default_validator,
            resources=resources,
            warnings=self.warnings,
            authorizers=self._authorizers(),
        )

    def _authorizers(self) -> list[dict[str, Any]]:
        """CreateAuthorizer bodies of the Lambda authorizers among the security schemes: the scheme's name,
        `type` token|request, and for a TOKEN one the header the scheme names (`in: header`)."""
        out = []
        for scheme_name, scheme in self.schemes.items():
            spec = dict_of(dict_of(scheme).get(X_AUTHORIZER))
            kind = upper(spec.get("type"))
            if kind not in ("TOKEN", "REQUEST"):
                continue
            body: dict[str, Any] = {"name": scheme_name, "type": kind,
                                    "authorizerResultTtlInSeconds": spec.get("authorizerResultTtlInSeconds", 300)}
            for key in ("authorizerUri", "identityValidationExpression", "authorizerCredentials"):
                if spec.get(key):
                    body[key] = str(spec[key])
            header = dict_of(scheme).get("name")
            source = spec.get("identitySource") or (f"method.request.header.{header}" if header else None)
            if source:
                body["identitySource"] = str(source)
            body["authType"] = str(dict_of(scheme).get("x-amazon-apigateway-authtype") or "custom")
            out.append(body)
        return out

    # ---- top level

    def _check_top_level(self) -> None:
        for key in self.doc:
            if key.startswith("x-amazon-apigateway-") and key not in HANDLED_EXTENSIONS:
                self._unsupported(key, UNSUPPORTED_REASONS.get(key, "this extension is not supported"))
        if self.version == 3:
            for key in self.components:
                if key == "x-amazon-apigateway-integrations":
                    self._unsupported(f"components.{key}", UNSUPPORTED_REASONS[key])
                elif key not in COMPONENT_KEYS and not key.startswith("x-"):
                    # swagger-parser's wording, which AWS's importer reports (Terraform's fail_on_warnings test)
                    self.warnings.append(f"Parse issue: attribute components.{key} is unexpected")
        for scheme_name, scheme in self.schemes.items():
            kind = upper(dict_of(dict_of(scheme).get(X_AUTHORIZER)).get("type"))
            if X_AUTHORIZER in dict_of(scheme) and kind not in ("TOKEN", "REQUEST"):
                self._unsupported(
                    f"{X_AUTHORIZER} '{scheme_name}'",
                    "Cognito authorizers are not supported; methods using it are imported "
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
        types = [t.upper() for t in strings(config.get("types"))]
        return types or None

    def _validators(self) -> list[dict[str, Any]]:
        out = []
        for name, raw in dict_of(self.doc.get(X_VALIDATORS)).items():
            spec = dict_of(raw)
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

    # ---- resources and methods

    def _resources(self, prefix: str, default_validator: str | None) -> list[ImportedResource]:
        paths = self.doc.get("paths")
        if paths is not None and not isinstance(paths, dict):
            self.errors.append("Parse issue: attribute paths is not of type `object`")
            return []
        resources: dict[str, dict[str, ImportedMethod]] = {}
        for doc_path, raw_item in dict_of(paths).items():
            if not doc_path.startswith("/"):
                self.warnings.append(f"Parse issue: attribute paths. Resource {doc_path} should start with /")
                continue
            path = join_path(prefix, doc_path)
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
        shared = list_of(item.get("parameters"))
        methods: dict[str, ImportedMethod] = {}
        for key, operation in item.items():
            if key in PATH_ITEM_FIELDS or (key.startswith("x-") and key != ANY_METHOD_KEY):
                if key.startswith("x-amazon-apigateway-"):
                    self._unsupported(f"{key} on path '{doc_path}'", "this extension is not supported")
                continue
            verb = "ANY" if key == ANY_METHOD_KEY else key.upper()
            if key != ANY_METHOD_KEY and key.lower() not in VERBS:
                self.warnings.append(f"Method {verb} on path '{doc_path}' is not supported by API Gateway; ignored")
                continue
            if isinstance(operation, dict):
                context = Operation(path, doc_path, verb, operation, shared)
                methods[verb] = self._method(context, default_validator)
        return methods

    def _method(self, op: Operation, default_validator: str | None) -> ImportedMethod:
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

    def _check_operation_extensions(self, op: Operation) -> None:
        for key in op.spec:
            if key.startswith("x-amazon-apigateway-") and key not in OPERATION_EXTENSIONS:
                self._unsupported(f"{key} on resource '{op.path}' and method '{op.verb}'", "not supported")

    def _security(self, spec: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        auth_type = upper(dict_of(spec.get("x-amazon-apigateway-auth")).get("type"))
        if auth_type in ("NONE", "AWS_IAM"):
            out["authorizationType"] = auth_type
        requirements = spec.get("security", self.doc.get("security"))
        for requirement in list_of(requirements):
            for scheme_name in dict_of(requirement):
                scheme = dict_of(self.schemes.get(scheme_name))
                if X_AUTHORIZER in scheme:
                    if upper(dict_of(scheme[X_AUTHORIZER]).get("type")) in ("TOKEN", "REQUEST"):
                        out["authorizationType"] = "CUSTOM"
                        out["authorizerName"] = scheme_name   # its id once the import made it (importer)
                    continue  # a Cognito one: warned about once, at the top level
                if scheme.get("x-amazon-apigateway-authtype") == "awsSigv4":
                    out["authorizationType"] = "AWS_IAM"
                elif scheme.get("type") == "apiKey" and str(scheme.get("name", "")).lower() == "x-api-key":
                    # an API key scheme without an authorizer marks the method as needing a key
                    # (AWS-recorded: LocalStack import snapshot, openapi.spec.tf.json)
                    out["apiKeyRequired"] = True
        return out

    def _request_parameters(self, op: Operation) -> tuple[dict[str, bool], dict[str, str]]:
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

    def _merged_parameters(self, op: Operation) -> list[dict[str, Any]]:
        """Path-level parameters, overridden by the operation's own ones of the same name and location."""
        merged: dict[tuple[Any, Any], dict[str, Any]] = {}
        for raw in [*op.shared_parameters, *list_of(op.spec.get("parameters"))]:
            param = self._resolve(raw, op.where("parameters"))
            if param is not None:
                merged[(param.get("in"), param.get("name"))] = param
        return list(merged.values())

    def _request_body_models(self, op: Operation) -> dict[str, str]:
        request_body = self._resolve(op.spec.get("requestBody"), op.where("requestBody")) or {}
        models = {}
        for media_type, content in dict_of(request_body.get("content")).items():
            model = self._schema_model(dict_of(content).get("schema"), op.where("requestBody.content"))
            if model:
                models[media_type] = model
        return models

    def _media_types(self, spec: dict[str, Any], key: str) -> list[str]:
        return strings(spec.get(key)) or strings(self.doc.get(key)) or [JSON]

    def _method_responses(self, op: Operation) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for status, raw in dict_of(op.spec.get("responses")).items():
            response = self._resolve(raw, op.where(f"responses.{status}")) or {}
            if not re.fullmatch(r"[1-5]\d\d", status):
                self.warnings.append(
                    f"Method response '{status}' of resource '{op.path}' and method '{op.verb}' ignored: "
                    "API Gateway status codes match [1-5]\\d\\d"
                )
                continue
            body: dict[str, Any] = {}
            headers = dict_of(response.get("headers"))
            if headers:
                body["responseParameters"] = {f"method.response.header.{h}": False for h in headers}
            models = self._response_models(op, status, response)
            if models:
                body["responseModels"] = models
            out[status] = body
        return out

    def _response_models(self, op: Operation, status: str, response: dict[str, Any]) -> dict[str, str]:
        if self.version == 2:
            model = self._schema_model(response.get("schema"), op.where(f"responses.{status}"))
            return dict.fromkeys(self._media_types(op.spec, "produces"), model) if model else {}
        models = {}
        for media_type, content in dict_of(response.get("content")).items():
            model = self._schema_model(dict_of(content).get("schema"), op.where(f"responses.{status}.content"))
            if model:
                models[media_type] = model
        return models

    # ---- integration

    def _integration(self, op: Operation) -> tuple[dict[str, Any] | None, dict[str, dict[str, Any]]]:
        spec = op.spec.get(X_INTEGRATION)
        if spec is None:
            return None, {}  # a method without integration imports as is; calling it answers 500
        spec = dict_of(spec)
        builder = IntegrationBuilder(op, spec)
        integration, responses = builder.build(), builder.responses()
        self.errors.extend(builder.errors)
        self.warnings.extend(builder.warnings)
        for key in spec:
            if key not in INTEGRATION_KEYS:
                self._unsupported(f"{X_INTEGRATION}.{key} on resource '{op.path}' and method '{op.verb}'", "ignored")
        return integration, responses
