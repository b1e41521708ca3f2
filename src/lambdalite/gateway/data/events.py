"""Lambda proxy integration, payload format 1.0: the event in, the response out.

Pure. ``proxy_event_v1`` builds the event from a request the HTTP adapter has parsed;
``parse_proxy_response`` reads the function's answer under REST's strict rules (reference 5.1,
5.2, traps 9-19). ``request_context_v1`` is the ``$context`` map shared with mapping templates.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from ...errors import ProxyResponseError

__all__ = [
    "GatewayRequest",
    "InvocationInfo",
    "ProxyResponse",
    "format_request_time",
    "group_headers",
    "header_value",
    "media_type_is_binary",
    "parse_proxy_response",
    "parse_query",
    "proxy_event_v1",
    "request_context_v1",
]

# Hop-by-hop and framing headers API Gateway does not forward to the integration.
_DROPPED_HEADERS = frozenset({"connection", "content-length", "expect", "te", "transfer-encoding", "upgrade"})
# API Gateway sits behind CloudFront, which title-cases these two.
_TITLE_CASED_HEADERS = frozenset({"authorization", "user-agent"})
_REMAPPED_HEADERS = frozenset({"connection", "content-length", "date", "server"})
_RESPONSE_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_IDENTITY_NULL_KEYS = (
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "principalOrgId",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "user",
)


@dataclass(frozen=True, slots=True)
class GatewayRequest:
    """A request as the data plane received it, stage already stripped from ``path``. The query
    string is parsed once, here: the event, templates and validation all read ``query``."""

    http_method: str
    path: str  # raw (not percent-decoded), trailing slash kept
    headers: tuple[tuple[str, str], ...] = ()  # in arrival order, the client's casing
    query_string: str = ""  # raw, without "?"
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    query: Mapping[str, str] = field(init=False)              # decoded; the last value wins
    multi_query: Mapping[str, list[str]] = field(init=False)  # decoded; every value in order

    def __post_init__(self) -> None:
        single, multi = parse_query(self.query_string) if self.query_string else ({}, {})
        object.__setattr__(self, "query", single)
        object.__setattr__(self, "multi_query", multi)


@dataclass(frozen=True, slots=True)
class InvocationInfo:
    """What the gateway knows about this call besides the request itself."""

    api_id: str
    stage: str
    request_id: str
    extended_request_id: str
    request_time_epoch_ms: int
    resource_id: str
    resource_path: str
    account_id: str = "000000000000"
    deployment_id: str | None = None
    stage_variables: Mapping[str, str] | None = None
    operation_name: str | None = None
    extra_context: Mapping[str, Any] = field(default_factory=dict)
    identity_extra: Mapping[str, Any] = field(default_factory=dict)   # apiKey, apiKeyId of a keyed method


def amended(info: InvocationInfo, extra_context: Mapping[str, Any] | None = None,
            identity_extra: Mapping[str, Any] | None = None) -> InvocationInfo:
    """`info` with another `extra_context` or `identity_extra`: built positionally, since
    dataclasses.replace costs ~8 us, more than a cached authorizer decision is allowed to (issue 25)."""
    return InvocationInfo(info.api_id, info.stage, info.request_id, info.extended_request_id,
                          info.request_time_epoch_ms, info.resource_id, info.resource_path, info.account_id,
                          info.deployment_id, info.stage_variables, info.operation_name,
                          info.extra_context if extra_context is None else extra_context,
                          info.identity_extra if identity_extra is None else identity_extra)


@dataclass(frozen=True, slots=True)
class ProxyResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def header_value(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The last value of a header, looked up case-insensitively."""
    wanted, found = name.lower(), None
    for key, value in headers:
        if key.lower() == wanted:
            found = value
    return found


def group_headers(headers: Iterable[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(headers, multiValueHeaders) as the v1 event has them: the last value wins in the first."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for raw_name, value in headers:
        lower = raw_name.lower()
        if lower in _DROPPED_HEADERS:
            continue
        name = names.setdefault(lower, raw_name.title() if lower in _TITLE_CASED_HEADERS else raw_name)
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def parse_query(query_string: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Decoded (single, multi) query parameters; the single map keeps the LAST value (AWS)."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def format_request_time(epoch_ms: int) -> str:
    """CLF time as ``$context.requestTime`` has it: ``24/Jul/2026:10:15:30 +0000`` (locale-free).

    It changes once a second, so the last second's text is kept (the data plane asks per request)."""
    second = epoch_ms // 1000
    if _last_time[0] != second:
        moment = datetime.fromtimestamp(second, tz=UTC)
        _last_time[:] = [second, f"{moment.day:02d}/{_MONTHS[moment.month - 1]}/{moment.year}:{moment:%H:%M:%S} +0000"]
    return str(_last_time[1])


_last_time: list[int | str] = [-1, ""]


def media_type_is_binary(content_type: str | None, binary_media_types: Iterable[str]) -> bool:
    """Whether a media type (first one of a list, parameters ignored) matches ``binaryMediaTypes``."""
    if not content_type:
        return False
    kind = content_type.split(",")[0].split(";")[0].strip().lower()
    if kind.count("/") != 1:
        return False
    major = kind.split("/")[0]
    for pattern in binary_media_types:
        wanted = pattern.split(";")[0].strip().lower()
        if wanted in ("*/*", kind) or (wanted.endswith("/*") and wanted[:-2] == major):
            return True
    return False


def request_context_v1(request: GatewayRequest, info: InvocationInfo) -> dict[str, Any]:
    """The v1 ``requestContext`` (= ``$context``); no ``authorizer`` key without an authorizer."""
    host = header_value(request.headers, "host") or ""
    identity: dict[str, Any] = dict.fromkeys(_IDENTITY_NULL_KEYS)
    identity["sourceIp"] = request.source_ip
    identity["userAgent"] = header_value(request.headers, "user-agent")
    identity.update(info.identity_extra)
    context: dict[str, Any] = {
        "resourceId": info.resource_id,
        "resourcePath": info.resource_path,
        "httpMethod": request.http_method.upper(),
        "extendedRequestId": info.extended_request_id,
        "requestTime": format_request_time(info.request_time_epoch_ms),
        "path": f"/{info.stage}{request.path}",
        "accountId": info.account_id,
        "protocol": request.protocol,
        "stage": info.stage,
        "domainPrefix": host.split(".")[0].split(":")[0],
        "requestTimeEpoch": info.request_time_epoch_ms,
        "requestId": info.request_id,
        "identity": identity,
        "domainName": host,
        "deploymentId": info.deployment_id,
        "apiId": info.api_id,
    }
    if info.operation_name:
        context["operationName"] = info.operation_name
    context.update(info.extra_context)
    return context


def _event_body(request: GatewayRequest, binary_media_types: Iterable[str]) -> tuple[str | None, bool]:
    if not request.body:
        return None, False  # API Gateway sends null, not ""
    if media_type_is_binary(header_value(request.headers, "content-type"), binary_media_types):
        return base64.b64encode(request.body).decode("ascii"), True
    try:
        return request.body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(request.body).decode("ascii"), True


def proxy_event_v1(
    request: GatewayRequest,
    info: InvocationInfo,
    path_parameters: Mapping[str, str],
    binary_media_types: Iterable[str] = (),
) -> dict[str, Any]:
    """The payload format 1.0 event; absent parts are ``null`` exactly where AWS puts null."""
    headers, multi_headers = group_headers(request.headers)
    query, multi_query = request.query, request.multi_query
    body, is_base64 = _event_body(request, binary_media_types)
    return {
        "resource": info.resource_path,
        "path": request.path,
        "httpMethod": request.http_method.upper(),
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": dict(query) or None,
        "multiValueQueryStringParameters": {k: list(v) for k, v in multi_query.items()} or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": dict(info.stage_variables) if info.stage_variables else None,
        "requestContext": request_context_v1(request, info),
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _status(value: Any) -> int:
    if value is None:
        return 200
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ProxyResponseError(f"statusCode must be an integer, got {value!r}")
    try:
        status = int(value)
    except ValueError:
        raise ProxyResponseError(f"statusCode must be an integer, got {value!r}") from None
    if not 100 <= status <= 599:
        raise ProxyResponseError(f"statusCode {status} is out of range")
    return status


def _header_text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    raise ProxyResponseError(f"header {name!r} must be a string or a boolean, got {value!r}")


def _headers(single: Any, multi: Any) -> list[tuple[str, str]]:
    if single is not None and not isinstance(single, dict):
        raise ProxyResponseError("headers must be an object")
    if multi is not None and not isinstance(multi, dict):
        raise ProxyResponseError("multiValueHeaders must be an object")
    singles = {str(k): _header_text(k, v) for k, v in (single or {}).items()}
    out: list[tuple[str, str]] = []
    for name, values in (multi or {}).items():
        if not isinstance(values, list):
            raise ProxyResponseError(f"multiValueHeaders {name!r} must be a list")
        out.extend((name, _header_text(name, value)) for value in values)
        # Same name in both maps: AWS sends the multi values, then the single one, in the multi casing.
        for key in [k for k in singles if k.lower() == name.lower()]:
            out.append((name, singles.pop(key)))
    out = [(_remapped(name), value) for name, value in [*singles.items(), *out]]
    if not any(name.lower() == "content-type" for name, _ in out):
        out.insert(0, ("Content-Type", "application/json"))
    return out


def _remapped(name: str) -> str:
    """API Gateway sends its own Date, Server, Content-Length and Connection; the function's go out
    renamed ``x-amzn-Remapped-{Name}`` (trap 30), never doubled."""
    return f"x-amzn-Remapped-{name}" if name.lower() in _REMAPPED_HEADERS else name


def _body(payload: dict[str, Any], decode_base64: bool) -> bytes:
    body = payload.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise ProxyResponseError("body must be a string")
    if decode_base64 and payload.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ProxyResponseError("body is not valid base64", status=500) from None
    return body.encode("utf-8")


def parse_proxy_response(
    payload: bytes, binary_media_types: Iterable[str] = (), accept: str | None = None
) -> ProxyResponse:
    """Read a function's proxy answer; raise ``ProxyResponseError`` (502) when it is malformed.

    The base64 ``body`` is decoded only when the client's first ``Accept`` type matches
    ``binaryMediaTypes``; otherwise the base64 text itself is returned (AWS-recorded).
    """
    try:
        data = json.loads(payload) if payload.strip() else None
    except (ValueError, UnicodeDecodeError):
        raise ProxyResponseError("the function's answer is not JSON") from None
    if not isinstance(data, dict):
        raise ProxyResponseError("the function's answer is not a JSON object")
    unknown = sorted(set(data) - _RESPONSE_KEYS)
    if unknown:
        raise ProxyResponseError(f"unexpected keys in the function's answer: {', '.join(unknown)}")
    if data.get("isBase64Encoded") not in (None, True, False):
        raise ProxyResponseError("isBase64Encoded must be a boolean")
    status = _status(data.get("statusCode"))
    headers = _headers(data.get("headers"), data.get("multiValueHeaders"))
    body = _body(data, media_type_is_binary(accept, binary_media_types))
    return ProxyResponse(status, headers, body)
