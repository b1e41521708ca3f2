"""SAM -> CloudFormation with aws-sam-translator, offline. Pure apart from the translator's own globals.

Before translating, what `sam package` would upload is rewritten the way `sam package` rewrites it:
each local `CodeUri` and layer `ContentUri` (and a plain function's or layer's local `Code`/`Content`
path) becomes `s3://lambdalite-code/<sha256>`,
the hex content hash of the zip the client sent; `Fn::Transform: AWS::Include` is replaced by the
document the client read at its `Location`; a local `DefinitionUri` becomes the `DefinitionBody` it
names (so the definition is in the template, like every other API's; SAM then also adds what it adds
to inline bodies, e.g. `Cors`). Templates without the SAM transform pass through the same rewrites
and no translation. The translator's errors become `Problems`, one per resource.
"""

from __future__ import annotations

import copy
import posixpath
from dataclasses import dataclass
from typing import Any

from ..errors import Problems

__all__ = ["CODE_BUCKET", "SAM_TRANSFORM", "ExpandedTemplate", "expand", "is_sam", "normalise_path"]

CODE_BUCKET = "lambdalite-code"
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
_PACKAGED = f"s3://{CODE_BUCKET}/"
_MISSING_CODE = "0" * 64  # stands in for code that was not sent, so translation can report its own problems
_MISSING_DEFINITION = {"swagger": "2.0", "info": {"title": "missing", "version": "1"}, "paths": {}}


@dataclass(frozen=True)
class ExpandedTemplate:
    template: dict[str, Any]     # CloudFormation, intrinsics unresolved
    code_paths: dict[str, str]   # function logical id -> its normalised local CodeUri (for events/*.json)
    problems: list[str]          # code or included files not sent: planning goes on to find the others


def normalise_path(path: str) -> str:
    """A local path as the client keys `code` and `includes`: `./src/` -> `src`, `.` -> `.`."""
    return posixpath.normpath(path.strip().replace("\\", "/"))


def is_sam(template: dict[str, Any]) -> bool:
    transform = template.get("Transform")
    names = transform if isinstance(transform, list) else [transform]
    return SAM_TRANSFORM in names


def expand(
    template: dict[str, Any],
    *,
    code: dict[str, str],
    includes: dict[str, Any],
    parameter_values: dict[str, Any],
    region: str,
) -> ExpandedTemplate:
    """The CloudFormation that `template` stands for; `parameter_values` includes the pseudo parameters.

    Missing code or included files are reported in `problems` (a stand-in fills their place so the
    rest of the template is still checked); a template SAM cannot translate raises `Problems`.
    """
    problems: list[str] = []
    document = _replace_includes(copy.deepcopy(template), includes, problems, ())
    code_paths = _package_code(document, code, problems)
    _inline_definition_uris(document, includes, problems)
    if is_sam(document):
        builds = {lid: r["Metadata"] for lid, r in _resources(document)
                  if r.get("Type") == "AWS::Serverless::LayerVersion" and isinstance(r.get("Metadata"), dict)
                  and "BuildMethod" in r["Metadata"]}
        try:
            document = _translate(document, parameter_values, region)
        except Problems as translated:
            raise Problems(problems + translated.problems) from None
        _keep_layer_metadata(document, builds)
    return ExpandedTemplate(document, code_paths, problems)


def _keep_layer_metadata(document: dict[str, Any], builds: dict[str, Any]) -> None:
    """SAM drops a LayerVersion's Metadata (`BuildMethod`, what `sam build` reads) and renames the layer
    `<LogicalId><10 hex of its content>`: put the Metadata back on the layer it made."""
    for lid, resource in _resources(document):
        if resource.get("Type") == "AWS::Lambda::LayerVersion":
            original = lid if lid in builds else lid[:-10]
            if original in builds:
                resource["Metadata"] = builds[original]


def _translate(document: dict[str, Any], parameter_values: dict[str, Any], region: str) -> dict[str, Any]:
    import boto3  # the translator's imports are slow (pydantic models): only templates that need it pay
    from samtranslator.model.exceptions import ExceptionWithMessage, InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    # An empty managed policy map: policy names SAM knows become ARNs by rule; nothing is looked up in IAM.
    translator = Translator({}, Parser(), boto_session=boto3.Session(region_name=region))
    try:
        result: dict[str, Any] = translator.translate(document, parameter_values=dict(parameter_values))
    except InvalidDocumentException as error:
        raise Problems([_cause_text(cause) for cause in error.causes]) from None
    except ExceptionWithMessage as error:
        raise Problems([f"SAM: {error.message}"]) from None
    finally:
        translator.metrics.publish()  # to its dummy publisher; unpublished metrics log a warning when collected
    return result


def _cause_text(cause: Any) -> str:
    # "Resource with id [F] is invalid. Runtime and Handler needs to be present ..." already names the resource.
    return str(getattr(cause, "message", cause))


# ------------------------------------------------------------------------------------------------ includes


def _replace_includes(value: Any, includes: dict[str, Any], problems: list[str], path: tuple[str, ...]) -> Any:
    if isinstance(value, list):
        return [_replace_includes(item, includes, problems, path) for item in value]
    if not isinstance(value, dict):
        return value
    transform = value.get("Fn::Transform") if len(value) == 1 else None
    if isinstance(transform, dict) and transform.get("Name") == "AWS::Include":
        location = (transform.get("Parameters") or {}).get("Location")
        found = _lookup(includes, location)
        if found is None:
            problems.append(f"{_where(path)}: AWS::Include of '{location}': no such file was sent beside the "
                            "template; check the Location (a path relative to the template)")
            return copy.deepcopy(_MISSING_DEFINITION) if path[-1:] in (("DefinitionBody",), ("Body",)) else {}
        return _replace_includes(copy.deepcopy(found), includes, problems, path)
    return {key: _replace_includes(item, includes, problems, (*path, str(key))) for key, item in value.items()}


def _lookup(includes: dict[str, Any], location: Any) -> Any:
    if not isinstance(location, str):
        return None
    if location in includes:
        return includes[location]
    return includes.get(normalise_path(location))


def _where(path: tuple[str, ...]) -> str:
    if len(path) >= 2 and path[0] == "Resources":
        return f"Resource {path[1]}"
    return path[0] if path else "Template"


def _inline_definition_uris(document: dict[str, Any], includes: dict[str, Any], problems: list[str]) -> None:
    apis = [(lid, r.setdefault("Properties", {})) for lid, r in _resources(document)
            if r.get("Type") == "AWS::Serverless::Api"]
    globals_api = (document.get("Globals") or {}).get("Api") if isinstance(document.get("Globals"), dict) else None
    if isinstance(globals_api, dict) and isinstance(globals_api.get("DefinitionUri"), str):
        # Globals may not hold a DefinitionBody: hand the global DefinitionUri to each API lacking its own.
        uri = globals_api.pop("DefinitionUri")
        for _, props in apis:
            if isinstance(props, dict) and "DefinitionBody" not in props:
                props.setdefault("DefinitionUri", uri)
    for where, props in ((f"Resource {lid}", p) for lid, p in apis):
        if not isinstance(props, dict) or not isinstance(props.get("DefinitionUri"), str):
            continue
        uri = props["DefinitionUri"]
        if uri.startswith("s3://"):
            problems.append(f"{where}: DefinitionUri {uri} is an S3 location; use a local file or DefinitionBody")
            continue
        found = _lookup(includes, uri)
        if found is None:
            problems.append(f"{where}: DefinitionUri '{uri}': no such file was sent beside the template")
            found = _MISSING_DEFINITION
        del props["DefinitionUri"]
        props["DefinitionBody"] = copy.deepcopy(found)


# ---------------------------------------------------------------------------------------------------- code


def _resources(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    resources = document.get("Resources")
    if not isinstance(resources, dict):
        return []
    return [(str(lid), r) for lid, r in resources.items() if isinstance(r, dict)]


def _package_code(document: dict[str, Any], code: dict[str, str], problems: list[str]) -> dict[str, str]:
    """Rewrite local code locations to content-hash S3 locations; answer function logical id -> local path."""
    code_paths: dict[str, str] = {}
    globals_fn = (document.get("Globals") or {}).get("Function") if isinstance(document.get("Globals"), dict) else None
    global_uri = globals_fn.get("CodeUri") if isinstance(globals_fn, dict) else None
    if isinstance(global_uri, str) and not global_uri.startswith("s3://"):
        globals_fn["CodeUri"] = _packaged(global_uri, code, problems, "Globals.Function")  # type: ignore[index]
    for lid, resource in _resources(document):
        props = resource.get("Properties")
        if not isinstance(props, dict):
            continue
        if resource.get("Type") == "AWS::Serverless::Function":
            uri = props.get("CodeUri")
            local = uri if isinstance(uri, str) and not uri.startswith("s3://") else None
            if local is not None:
                props["CodeUri"] = _packaged(local, code, problems, f"Resource {lid}")
            elif uri is None and "InlineCode" not in props and isinstance(global_uri, str):
                local = None if global_uri.startswith("s3://") else global_uri
            if local is not None:
                code_paths[lid] = normalise_path(local)
        elif resource.get("Type") in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            _package_layer(lid, props, code, problems)
        elif resource.get("Type") == "AWS::Lambda::Function" and isinstance(props.get("Code"), str):
            # `aws cloudformation package` accepts a local folder as a plain function's Code, too.
            local = props["Code"]
            key = _packaged(local, code, problems, f"Resource {lid}")[len(_PACKAGED):]
            props["Code"] = {"S3Bucket": CODE_BUCKET, "S3Key": key}
            code_paths[lid] = normalise_path(local)
    return code_paths


def _package_layer(lid: str, props: dict[str, Any], code: dict[str, str], problems: list[str]) -> None:
    uri = props.get("ContentUri")
    if isinstance(uri, str) and not uri.startswith("s3://"):   # AWS::Serverless::LayerVersion
        props["ContentUri"] = _packaged(uri, code, problems, f"Resource {lid}")
    elif isinstance(props.get("Content"), str):                 # AWS::Lambda::LayerVersion, packaged locally
        key = _packaged(props["Content"], code, problems, f"Resource {lid}")[len(_PACKAGED):]
        props["Content"] = {"S3Bucket": CODE_BUCKET, "S3Key": key}


def _packaged(local: str, code: dict[str, str], problems: list[str], where: str) -> str:
    digest = code.get(local) or code.get(normalise_path(local))
    if digest is None:
        problems.append(f"{where}: CodeUri '{local}' was not found: it must be a folder beside the template "
                        f"(relative to it), and the client zips and sends it")
        digest = _MISSING_CODE
    return _PACKAGED + digest
