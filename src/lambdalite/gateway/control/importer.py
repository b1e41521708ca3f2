"""ImportRestApi / PutRestApi: an `openapi.ImportedApi` applied to a REST API document. No I/O.

`openapi.parse_openapi` reads the document (and raises AWS's texts for a broken one); this module
writes the result into the service's document the way the single calls would (PutMethod,
PutIntegration, ...), creating missing parent resources, mapping validator names to ids and binding
model URLs to the API id. `mode`: import (a new API), merge (the document's paths and methods
replace the same ones, everything else stays; binary media types are appended), overwrite (the
API becomes the document; resources on paths the document keeps keep their ids, UNCONFIRMED on AWS).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from . import shapes
from .authorizers import new_authorizer
from .openapi import ImportedApi, ImportedMethod, bind_rest_api_id, parse_openapi

Document = dict[str, Any]


def parse(document: bytes, query: Mapping[str, str], mode: str) -> ImportedApi:
    """The query parameters as boto3 sends them: `failonwarnings`, and `basepath` from `parameters`."""
    fail = str(query.get("failonwarnings", "")).lower() == "true"
    return parse_openapi(document, mode=mode, fail_on_warnings=fail, base_path=query.get("basepath") or None)


def api_fields(imported: ImportedApi, query: Mapping[str, str]) -> dict[str, Any]:
    """CreateRestApi's body for an imported document."""
    body: dict[str, Any] = {"name": imported.name or "imported"}
    if imported.description:
        body["description"] = imported.description
    if imported.version:
        body["version"] = imported.version
    if imported.binary_media_types:
        body["binaryMediaTypes"] = list(imported.binary_media_types)
    if imported.api_key_source:
        body["apiKeySource"] = imported.api_key_source
    if imported.minimum_compression_size is not None:
        body["minimumCompressionSize"] = imported.minimum_compression_size
    types = imported.endpoint_types or ([query["endpointConfigurationTypes"]]
                                        if query.get("endpointConfigurationTypes") else None)
    if types:
        body["endpointConfiguration"] = {"types": list(types)}
    return body


def apply_import(doc: Document, imported: ImportedApi, overwrite: bool, new_id: Callable[..., str],
                 region: str) -> None:
    _apply_api_fields(doc["api"], imported, overwrite)
    if overwrite:
        _clear(doc, {r.path for r in imported.resources})
    api_id = doc["api"]["id"]
    for model in imported.models:
        body = {**model, "schema": bind_rest_api_id(str(model.get("schema") or ""), api_id)}
        known = doc["models"].get(body["name"])
        model_id = known["id"] if known else new_id(taken={m["id"] for m in doc["models"].values()})
        doc["models"][body["name"]] = shapes.new_model(body, model_id)
    by_name = {v["name"]: v_id for v_id, v in doc["validators"].items()}
    for validator in imported.validators:
        validator_id = by_name.get(validator.get("name", "")) or new_id(taken=doc["validators"])
        doc["validators"][validator_id] = shapes.new_validator(validator, validator_id)
        by_name[doc["validators"][validator_id]["name"]] = validator_id
    authorizer_ids = _authorizers(doc, imported, new_id)
    for resource in imported.resources:
        target = ensure_path(doc, resource.path, new_id)
        for verb, method in resource.methods.items():
            target.setdefault("resourceMethods", {})[verb] = _method(method, target["id"], by_name, region,
                                                                     authorizer_ids)


def _authorizers(doc: Document, imported: ImportedApi, new_id: Callable[..., str]) -> dict[str, str]:
    """The document's Lambda authorizers (one of the same name is replaced, keeping its id): name -> id."""
    existing = doc.setdefault("authorizers", {})
    by_name = {a.get("name"): a_id for a_id, a in existing.items()}
    for body in imported.authorizers:
        authorizer_id = by_name.get(body["name"]) or new_id(taken=existing)
        existing[authorizer_id] = new_authorizer(body, authorizer_id)
        by_name[body["name"]] = authorizer_id
    return {str(name): a_id for name, a_id in by_name.items()}


def _apply_api_fields(api: dict[str, Any], imported: ImportedApi, overwrite: bool) -> None:
    api["name"] = imported.name or api["name"]
    for key, value in (("description", imported.description), ("version", imported.version)):
        if value:
            api[key] = value
        elif overwrite:
            api.pop(key, None)
    kept = [] if overwrite else list(api.get("binaryMediaTypes") or [])
    types = kept + [t for t in imported.binary_media_types if t not in kept]
    if types:
        api["binaryMediaTypes"] = types
    else:
        api.pop("binaryMediaTypes", None)


def _clear(doc: Document, kept_paths: set[str]) -> None:
    """overwrite: no methods, validators or non-default models; resources off the document's paths go."""
    root_id = doc["api"]["rootResourceId"]
    wanted = set(kept_paths)
    for path in kept_paths:  # the parents of a kept path stay too
        parts = path.strip("/").split("/")
        wanted |= {"/" + "/".join(parts[:i]) for i in range(1, len(parts))}
    doc["resources"] = {rid: {k: v for k, v in r.items() if k != "resourceMethods"}
                        for rid, r in doc["resources"].items() if rid == root_id or r["path"] in wanted}
    doc["validators"] = {}
    doc["models"] = {name: m for name, m in doc["models"].items() if name in ("Empty", "Error")}


def ensure_path(doc: Document, path: str, new_id: Callable[..., str]) -> dict[str, Any]:
    """The resource at `path`, creating it and any missing parent on the way."""
    by_path: dict[str, dict[str, Any]] = {r["path"]: r for r in doc["resources"].values()}
    current = by_path["/"]
    for part in [p for p in path.split("/") if p]:
        child_path = f"{current['path'].rstrip('/')}/{part}"
        child = by_path.get(child_path)
        if child is None:
            child_id = new_id(taken=doc["resources"])
            child = {"id": child_id, "parentId": current["id"], "pathPart": part, "path": child_path}
            doc["resources"][child_id] = by_path[child_path] = child
        current = child
    return current


def _method(imported: ImportedMethod, resource_id: str, validators: dict[str, str], region: str,
            authorizers: Mapping[str, str]) -> dict[str, Any]:
    body = dict(imported.method)
    name = body.pop("requestValidatorName", None)
    if name and name in validators:
        body["requestValidatorId"] = validators[name]
    authorizer = body.pop("authorizerName", None)
    if authorizer is not None:
        body["authorizerId"] = authorizers.get(authorizer)
    method = shapes.new_method(imported.http_method, body)
    if imported.method_responses:
        method["methodResponses"] = {code: shapes.new_method_response(code, r)
                                     for code, r in imported.method_responses.items()}
    if imported.integration is not None:
        integration = shapes.new_integration(imported.integration, resource_id, region)
        if imported.integration_responses:
            integration["integrationResponses"] = {code: shapes.new_integration_response(code, r)
                                                   for code, r in imported.integration_responses.items()}
        method["methodIntegration"] = integration
    return method
