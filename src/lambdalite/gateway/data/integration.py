"""Non-proxy (``AWS``) and ``MOCK`` integrations: the pure rules around the templates.

Request side (reference 3.1, trap 23): which request template serves a Content-Type, or
passthrough, or 415. Response side (3.3, traps 21-22): which integration response a Lambda
``errorMessage`` (or, for other backends, the status) selects — Java ``matches`` semantics, i.e.
the WHOLE value; the default response when no pattern matches, and 500 when there is none; the
response template for the client's ``Accept``; ``responseParameters`` header mappings. MOCK: the
status written in the rendered request template (3.4, trap 29).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ...errors import IntegrationConfigurationError, JsonPathError, UnsupportedMediaType
from . import patterns
from .vtl import MISSING, jsonpath_find

__all__ = [
    "PASSTHROUGH",
    "Passthrough",
    "lambda_error_message",
    "map_response_parameters",
    "mock_status_code",
    "response_content_type",
    "select_integration_response",
    "select_request_template",
    "select_response_template",
]

_DEFAULT_CONTENT_TYPE = "application/json"


class Passthrough(enum.Enum):
    PASSTHROUGH = "PASSTHROUGH"


PASSTHROUGH = Passthrough.PASSTHROUGH


def _media_type(value: str) -> str:
    return value.split(";")[0].strip().lower()


def _template_key(templates: Mapping[str, Any], content_type: str) -> str | None:
    if content_type in templates:
        return content_type
    wanted = _media_type(content_type)
    for key in templates:
        if _media_type(key) == wanted:
            return key
    return "$default" if "$default" in templates else None


def select_request_template(
    templates: Mapping[str, Any] | None, content_type: str | None, passthrough: str | None
) -> str | Passthrough:
    """The ``requestTemplates`` key to render, ``PASSTHROUGH``, or raise ``UnsupportedMediaType``.

    A request without Content-Type is taken as ``application/json``. WHEN_NO_MATCH (the default)
    passes any unmatched body through; WHEN_NO_TEMPLATES only when there are no templates at all;
    NEVER never does.
    """
    templates = templates or {}
    key = _template_key(templates, content_type or _DEFAULT_CONTENT_TYPE)
    if key is not None:
        return key
    behaviour = (passthrough or "WHEN_NO_MATCH").upper()
    if behaviour == "NEVER" or (behaviour == "WHEN_NO_TEMPLATES" and templates):
        raise UnsupportedMediaType(f"no request template for {content_type or _DEFAULT_CONTENT_TYPE}")
    return PASSTHROUGH


def lambda_error_message(payload: bytes, function_error: bool) -> str | None:
    """The selection value of a Lambda non-proxy call: the ``errorMessage`` of a function error."""
    if not function_error:
        return None
    try:
        data = json.loads(payload)
    except ValueError:
        return ""
    message = data.get("errorMessage") if isinstance(data, dict) else None
    return message if isinstance(message, str) else ""


def _matches(pattern: str, value: str) -> bool:
    """A user's selectionPattern, on an engine that cannot be stalled (`patterns`)."""
    return patterns.fullmatch(pattern, value, dotall=True)


def _status_of(key: str, response: Mapping[str, Any]) -> int:
    try:
        return int(response.get("statusCode") or key)
    except ValueError:
        raise IntegrationConfigurationError(f"integration response status {key!r} is not a number") from None


def select_integration_response(
    responses: Mapping[str, Mapping[str, Any]] | None, selection_value: str | None
) -> tuple[int, Mapping[str, Any]]:
    """(status, integration response) chosen for a Lambda ``errorMessage`` or a backend status.

    Patterns must match the whole value (a success has no message: only ``.*`` can catch it);
    among several matches the longest pattern wins, then definition order (AWS's tie-break is
    UNCONFIRMED; the recorded case is consistent with it). No match and no default: 500.
    """
    value = selection_value or ""
    matched: list[tuple[int, int, str]] = []
    default: str | None = None
    for order, (key, response) in enumerate((responses or {}).items()):
        pattern = response.get("selectionPattern")
        if not pattern:
            default = key if default is None else default
        elif _matches(str(pattern), value):
            matched.append((-len(str(pattern)), order, key))
    chosen = min(matched)[2] if matched else default
    if chosen is None or responses is None:
        raise IntegrationConfigurationError("No match for output mapping and no default output mapping configured")
    return _status_of(chosen, responses[chosen]), responses[chosen]


def select_response_template(templates: Mapping[str, Any] | None, accept: str | None) -> str | None:
    """The ``responseTemplates`` key for the client's Accept, else application/json, else the first."""
    if not templates:
        return None
    for media in (accept or "").split(","):
        if media.strip() and (key := _template_key_exact(templates, media)) is not None:
            return key
    if _DEFAULT_CONTENT_TYPE in templates:
        return _DEFAULT_CONTENT_TYPE
    return next(iter(templates))


def _template_key_exact(templates: Mapping[str, Any], media: str) -> str | None:
    wanted = _media_type(media)
    return next((key for key in templates if _media_type(key) == wanted), None)


def response_content_type(template_key: str | None, headers: Mapping[str, str]) -> str:
    """The answer's Content-Type: a mapped header, else the template's media type, else JSON."""
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value
    return template_key if template_key and template_key != "$default" else _DEFAULT_CONTENT_TYPE


def _header(headers: Iterable[tuple[str, str]], name: str) -> list[str]:
    exact = [v for k, v in headers if k == name]
    return exact or [v for k, v in headers if k.lower() == name.lower()]


def _text(value: Any) -> str | None:
    if value is None or value is MISSING:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _body_path(body: bytes, path: str) -> Any:
    try:
        document = json.loads(body) if body.strip() else {}
    except ValueError:
        return MISSING
    return _find(document, path)


def _find(document: Any, path: str) -> Any:
    """JSONPath, descending into JSON text found on the way (a Lambda errorMessage holding JSON)."""
    try:
        found = jsonpath_find(document, path)
    except JsonPathError:
        return MISSING
    if found is not MISSING:
        return found
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = jsonpath_find(document, ".".join(parts[:cut])) if _simple(parts[:cut]) else MISSING
        if isinstance(head, str):
            try:
                return _find(json.loads(head), ".".join(parts[cut:]))
            except ValueError:
                return MISSING
    return MISSING


def _simple(parts: list[str]) -> bool:
    return all(part and "[" not in part and "]" not in part for part in parts)


def _mapped_value(
    expression: str,
    headers: list[tuple[str, str]],
    body: bytes,
    context: Mapping[str, Any],
    stage_variables: Mapping[str, str],
) -> str | None:
    if len(expression) >= 2 and expression.startswith("'") and expression.endswith("'"):
        return expression[1:-1]
    if expression == "integration.response.body":
        return body.decode("utf-8", errors="replace")
    prefix, _, rest = expression.partition(".")
    if prefix == "stageVariables":
        return stage_variables.get(rest)
    if prefix == "context":
        return _text(_find(dict(context), rest))
    if expression.startswith("integration.response.body."):
        return _text(_body_path(body, expression.removeprefix("integration.response.body.")))
    if expression.startswith("integration.response.header."):
        values = _header(headers, expression.removeprefix("integration.response.header."))
        return values[-1] if values else None
    if expression.startswith("integration.response.multivalueheader."):
        values = _header(headers, expression.removeprefix("integration.response.multivalueheader."))
        return ",".join(values) if values else None
    return None


def map_response_parameters(
    response_parameters: Mapping[str, str] | None,
    *,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    context: Mapping[str, Any] | None = None,
    stage_variables: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``method.response.header.X`` <- ``'static'`` / ``integration.response.header.Y`` /
    ``integration.response.multivalueheader.Y`` / ``integration.response.body[.path]`` /
    ``context.*`` / ``stageVariables.*``. A mapping whose source is absent sets no header.
    """
    header_list = list(headers)
    out: dict[str, str] = {}
    for target, expression in (response_parameters or {}).items():
        if not target.startswith("method.response.header."):
            continue
        value = _mapped_value(str(expression), header_list, body, context or {}, stage_variables or {})
        if value is not None:
            out[target.removeprefix("method.response.header.")] = value
    return out


_MOCK_STATUS = re.compile(r"""["']?statusCode["']?\s*:\s*(-?\d+)\s*[,}]""")


def mock_status_code(rendered_template: str) -> int:
    """The status a MOCK integration answers: ``statusCode`` of the rendered request template.

    AWS also accepts the non-JSON ``{statusCode: 200}`` that CDK and SAM generate. An absent or
    non-integer status is a configuration error (500).
    """
    try:
        data = json.loads(rendered_template)
        status = data.get("statusCode") if isinstance(data, dict) else None
    except ValueError:
        found = _MOCK_STATUS.search(rendered_template)
        status = int(found[1]) if found else None
    if isinstance(status, bool) or not isinstance(status, int):
        raise IntegrationConfigurationError("Unable to parse statusCode from the MOCK request template")
    return status
