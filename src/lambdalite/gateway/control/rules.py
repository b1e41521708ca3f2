"""The rules of the REST API model: lookups that raise AWS's 404s, and the checks of a change. Pure.

Each function takes the API's document (see `service.py`) and raises AWS's error with its text
(reference apigateway-sam.md 13.4); none of them writes anything.
"""

from __future__ import annotations

import re
from typing import Any

from ...errors import BadRequestException, ConflictException, NotFoundException
from ..data.validation import check_model_schema as problem_of
from . import shapes

Document = dict[str, Any]
STAGE_NAME = re.compile(r"[A-Za-z0-9_\-]{1,128}")
DATED_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}")
RESERVED_STAGES = {"restapis": "the API Gateway management API",
                   "_lambdalite": "Lambdalite's own endpoints (health, logs, console)",
                   "v2": "the API Gateway v2 management API",
                   "httpapis": "HTTP APIs' long URLs",
                   "apikeys": "API Gateway's API keys (management API)",
                   "usageplans": "API Gateway's usage plans (management API)"}
NO_RESOURCE = "Invalid Resource identifier specified"
NO_METHOD = "Invalid Method identifier specified"
NO_INTEGRATION = "Invalid Integration identifier specified"
NO_STATUS = "Invalid Response status code specified"
NO_VALIDATOR = "Invalid Request Validator identifier specified"


# lookups (each raises AWS's 404) --------------------------------------------------------------------
def resource_of(doc: Document, resource_id: str) -> dict[str, Any]:
    resource: dict[str, Any] | None = doc["resources"].get(resource_id)
    if resource is None:
        raise NotFoundException(NO_RESOURCE)
    return resource


def method_of(doc: Document, resource_id: str, verb: str) -> dict[str, Any]:
    method: dict[str, Any] | None = (resource_of(doc, resource_id).get("resourceMethods") or {}).get(verb)
    if method is None:
        raise NotFoundException(NO_METHOD)
    return method


def integration_of(doc: Document, resource_id: str, verb: str) -> dict[str, Any]:
    integration: dict[str, Any] | None = method_of(doc, resource_id, verb).get("methodIntegration")
    if integration is None:
        raise NotFoundException(NO_INTEGRATION)
    return integration


def entry_of(entries: dict[str, Any] | None, key: str, missing: str) -> dict[str, Any]:
    entry: dict[str, Any] | None = (entries or {}).get(key)
    if entry is None:
        raise NotFoundException(missing)
    return entry


def drop_entry(owner: dict[str, Any], field: str, key: str) -> None:
    """Remove one entry of a map member; the member disappears once empty (AWS's rendering)."""
    del owner[field][key]
    if not owner[field]:
        del owner[field]


def validator_of(doc: Document, validator_id: str) -> dict[str, Any]:
    return entry_of(doc["validators"], validator_id, NO_VALIDATOR)


def no_model(name: str) -> str:
    return f"Invalid model name specified: {name}"


def model_of(doc: Document, name: str) -> dict[str, Any]:
    return entry_of(doc["models"], name, no_model(name))


def deployment_of(doc: Document, deployment_id: str) -> dict[str, Any]:
    return entry_of(doc["deployments"], deployment_id, "Invalid Deployment identifier specified")


def stage_of(doc: Document, name: str) -> dict[str, Any]:
    return entry_of(doc["stages"], name, "Invalid Stage identifier specified")


# rules -----------------------------------------------------------------------------------------------
def check_child(doc: Document, parent: dict[str, Any], part: str, moving: str | None = None) -> None:
    if shapes.is_greedy(parent.get("pathPart")):
        raise BadRequestException(f"Cannot create a child of a resource with a greedy path variable: "
                                  f"{parent['pathPart']}")
    siblings = [r for r in doc["resources"].values() if r.get("parentId") == parent["id"] and r["id"] != moving]
    for sibling in siblings:
        if sibling["pathPart"] == part:
            raise ConflictException(f"Another resource with the same parent already has this name: {part}")
    if shapes.is_variable(part):
        for sibling in siblings:
            if shapes.is_variable(sibling["pathPart"]):
                raise BadRequestException(f"A sibling ({sibling['pathPart']}) of this resource already has a "
                                          "variable path part -- only one is allowed")


def check_method_references(doc: Document, method: dict[str, Any]) -> None:
    validator = method.get("requestValidatorId")
    if validator and validator not in doc["validators"]:
        raise BadRequestException("Invalid Request Validator identifier specified")
    for model in (method.get("requestModels") or {}).values():
        if model not in doc["models"]:
            raise BadRequestException(f"Invalid model identifier specified: {model}")
    if method.get("authorizationType") in ("CUSTOM", "COGNITO_USER_POOLS") and \
            method.get("authorizerId") not in (doc.get("authorizers") or {}):
        raise BadRequestException("Invalid authorizer ID specified. Setting the authorization type to CUSTOM or "
                                  "COGNITO_USER_POOLS requires a valid authorizer.")


def check_deployable(doc: Document) -> None:
    methods = [(r, verb, m) for r in doc["resources"].values()
               for verb, m in (r.get("resourceMethods") or {}).items()]
    if not methods:
        raise BadRequestException("The REST API doesn't contain any methods")
    for _resource, _verb, method in methods:
        if "methodIntegration" not in method:
            raise BadRequestException("No integration defined for method")


def check_stage_name(name: str) -> None:
    """AWS's pattern, plus the names whose short URL would be a path the platform owns."""
    reason = RESERVED_STAGES.get(name)
    if reason is None and DATED_PREFIX.fullmatch(name):
        reason = "the dated prefixes of the Lambda API"
    if reason is not None:
        raise BadRequestException(
            f"Stage name '{name}' is reserved in Lambdalite: the path /{name}/ on this server belongs to "
            f"{reason}, so the stage's URL /{name}/... could not be served. Choose another stage name.")
    if not STAGE_NAME.fullmatch(name):
        raise BadRequestException("Stage name only allows a-zA-Z0-9_- and must be 1 to 128 characters long")


def check_model_schema(schema: Any) -> None:
    """The schema text must be JSON and a valid JSON Schema draft 4 document (AWS's texts)."""
    problem = problem_of(schema if isinstance(schema, str) else None)
    if problem is not None:
        raise BadRequestException(problem)


def update_resource(doc: Document, resource: dict[str, Any], op: dict[str, Any]) -> None:
    """UpdateResource: only `replace` of /pathPart or /parentId (AWS's texts, two spaces and all)."""
    kind, path, value = op["op"], str(op.get("path")), op.get("value")
    if kind != "replace":
        raise BadRequestException(f"Invalid patch path  '{path}' specified for op '{kind}'. Please choose "
                                  "supported operations")
    if path not in ("/parentId", "/pathPart"):
        raise BadRequestException(f"Invalid patch path  '{path}' specified for op 'replace'. Must be one of: "
                                  "[/parentId, /pathPart]")
    if "parentId" not in resource:
        raise BadRequestException(f"Root resource cannot update its {path[1:]}.")
    if path == "/pathPart":
        parent, part = doc["resources"][resource["parentId"]], shapes.check_path_part(value)
    else:
        parent, part = resource_of(doc, str(value)), resource["pathPart"]
        walk: dict[str, Any] | None = parent
        while walk is not None:
            if walk["id"] == resource["id"]:
                raise BadRequestException("Resources cannot be cyclical.")
            walk = doc["resources"].get(walk.get("parentId", ""))
    check_child(doc, parent, part, moving=resource["id"])
    resource["parentId"], resource["pathPart"] = parent["id"], part
    recompute_paths(doc)


def recompute_paths(doc: Document) -> None:
    """Every resource's `path` from its parents' (after a move or a rename)."""
    resources = doc["resources"]

    def path_of(resource: dict[str, Any]) -> str:
        if "parentId" not in resource:
            return "/"
        return f"{path_of(resources[resource['parentId']]).rstrip('/')}/{resource['pathPart']}"

    for resource in resources.values():
        resource["path"] = path_of(resource)
