"""Deployments frozen, and the stages the data plane serves: immutable snapshots, built off the hot path.

A deployment copies the API's resources (each with its methods fully embedded: method, method
responses, integration, integration responses), request validators, models, authorizers and binary media types
at the moment it is created; later edits of the API never reach it. Every mapping template of the
copy is compiled once here (`vtl.compile_template`); a syntax error is a deployment warning, not a
refusal, as on AWS, and that template is simply absent from `DeployedStage.templates` (the data plane
answers 500 for it).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..errors import TemplateSyntaxError
from . import accesslog
from .data.vtl import CompiledTemplate, compile_template

log = logging.getLogger("lambdalite.gateway")


@dataclass(frozen=True)
class DeployedStage:
    """What one stage of one API serves. Never mutated: a change publishes a new one.

    `resources` is in GetResources shape with `resourceMethods` fully embedded (method +
    `methodIntegration` with `integrationResponses` + `methodResponses`), as frozen in deployment
    `deployment_id`; `validators` by id, `models` by name (`schema` is the JSON text), `templates`
    maps a template's text to its compiled form (texts that failed to compile are left out).
    """

    api_id: str
    api_name: str
    stage_name: str
    deployment_id: str
    variables: dict[str, str]
    resources: list[dict[str, Any]]
    validators: dict[str, dict[str, Any]]
    models: dict[str, dict[str, Any]]
    binary_media_types: list[str]
    templates: Mapping[str, CompiledTemplate] = field(default_factory=dict)
    created: float = 0.0           # the stage's createdDate: the oldest stage of a name owns its short URL
    logging_level: str = "ERROR"   # execution logs: OFF, ERROR (failed requests) or INFO (every request)
    data_trace: bool = False       # INFO with bodies and headers
    access_log: tuple[str, str] | None = None   # accessLogSettings: (log group, format)
    authorizers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)   # as deployed, by id
    api_key_source: str = "HEADER"   # HEADER (x-api-key) or AUTHORIZER (its usageIdentifierKey)


def freeze(document: dict[str, Any]) -> dict[str, Any]:
    """The part of an API a deployment keeps (deep copies: the document goes on changing)."""
    api = document["api"]
    return {
        "resources": [copy.deepcopy(r) for r in document["resources"].values()],
        "validators": copy.deepcopy(document["validators"]),
        "models": copy.deepcopy(document["models"]),
        "binaryMediaTypes": list(api.get("binaryMediaTypes") or []),
        "authorizers": copy.deepcopy(document.get("authorizers") or {}),
    }


def templates_of(frozen: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(where, content type, text) of every request and response template in a frozen deployment."""
    for resource in frozen["resources"]:
        for verb, method in (resource.get("resourceMethods") or {}).items():
            integration = method.get("methodIntegration") or {}
            where = f"{verb} {resource['path']}"
            for content_type, text in (integration.get("requestTemplates") or {}).items():
                if text:
                    yield f"{where} integration request", content_type, text
            for code, response in (integration.get("integrationResponses") or {}).items():
                for content_type, text in (response.get("responseTemplates") or {}).items():
                    if text:
                        yield f"{where} integration response {code}", content_type, text


def compile_templates(frozen: dict[str, Any]) -> tuple[dict[str, CompiledTemplate], list[str]]:
    """Each distinct template text compiled once; the failures as warnings (AWS accepts them)."""
    compiled: dict[str, CompiledTemplate] = {}
    failed: dict[str, str] = {}
    warnings: list[str] = []
    for where, content_type, text in templates_of(frozen):
        if text not in compiled and text not in failed:
            try:
                compiled[text] = compile_template(text)
            except TemplateSyntaxError as e:
                failed[text] = str(e)
        if text in failed:
            warnings.append(f"Invalid mapping template for {where} ({content_type}): {failed[text]}. The "
                            "deployment was created; a request that uses this template is answered with 500.")
    return compiled, warnings


def deployed_stage(document: dict[str, Any], stage: dict[str, Any],
                   templates: Mapping[str, CompiledTemplate]) -> DeployedStage:
    frozen = document["deployments"][stage["deploymentId"]]["snapshot"]
    level, data_trace = logging_settings(stage)
    return DeployedStage(
        api_id=document["api"]["id"], api_name=document["api"]["name"], stage_name=stage["stageName"],
        deployment_id=stage["deploymentId"], variables=dict(stage.get("variables") or {}),
        resources=frozen["resources"], validators=frozen["validators"], models=frozen["models"],
        binary_media_types=frozen["binaryMediaTypes"], templates=MappingProxyType(dict(templates)),
        logging_level=level, data_trace=data_trace, created=float(stage.get("createdDate") or 0),
        access_log=access_log_of(stage), authorizers=frozen.get("authorizers") or {},
        api_key_source=str(document["api"].get("apiKeySource") or "HEADER"),
    )


def access_log_of(stage: dict[str, Any]) -> tuple[str, str] | None:
    """The stage's access log (group, format); None when off or when its settings cannot be used
    (UpdateStage checks them; a stage stored before it did logs nothing)."""
    try:
        return accesslog.settings_of(stage.get("accessLogSettings"))
    except ValueError:
        return None


def logging_settings(stage: dict[str, Any]) -> tuple[str, bool]:
    """The stage's execution logging (method settings `*/*`): its level and whether bodies are traced.
    Unlike AWS (off until a CloudWatch role is set), a stage logs its failed requests by default."""
    settings = (stage.get("methodSettings") or {}).get("*/*") or {}
    level = str(settings.get("loggingLevel") or "ERROR").upper()
    return (level if level in ("OFF", "ERROR", "INFO") else "ERROR"), bool(settings.get("dataTraceEnabled"))
