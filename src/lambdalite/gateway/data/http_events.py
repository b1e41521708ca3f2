"""HTTP APIs' Lambda proxy integration, payload format 2.0: the event in, the response out (pure;
reference/apigateway-sam.md 6.2 and 6.3)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from .events import format_request_time

# Bodies sent as text; any other content type arrives base64 (6.2: the exact rule is not confirmed).
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
              "application/x-www-form-urlencoded", "application/graphql")
_DROPPED = frozenset({"connection", "content-length", "expect", "te", "transfer-encoding", "upgrade"})


def is_text(content_type: str | None) -> bool:
    kind = (content_type or "").split(";")[0].strip().lower()
    return not kind or kind.startswith(TEXT_TYPES) or kind.endswith(("+json", "+xml"))


def event_v2(*, method: str, raw_path: str, raw_query: str, headers: Sequence[tuple[str, str]], body: bytes,
             route_key: str, path_parameters: Mapping[str, str], stage: str,
             stage_variables: Mapping[str, str], api_id: str, account: str, request_id: str, epoch_ms: int,
             source_ip: str, protocol: str, domain: str) -> dict[str, Any]:
    """The 2.0 event: header names lower-cased, repeats joined with commas, the cookie header moved
    into `cookies`; repeated query keys comma-joined; empty parts left out, never null."""
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower in _DROPPED:
            continue
        if lower == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        joined[lower] = f"{joined[lower]},{value}" if lower in joined else value
    query: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    event: dict[str, Any] = {"version": "2.0", "routeKey": route_key, "rawPath": raw_path,
                             "rawQueryString": raw_query}
    if cookies:
        event["cookies"] = cookies
    event["headers"] = joined
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": account, "apiId": api_id, "domainName": domain, "domainPrefix": domain.split(".")[0],
        "http": {"method": method, "path": raw_path, "protocol": protocol, "sourceIp": source_ip,
                 "userAgent": joined.get("user-agent", "")},
        "requestId": request_id, "routeKey": route_key, "stage": stage,
        "time": format_request_time(epoch_ms), "timeEpoch": epoch_ms}
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if stage_variables:
        event["stageVariables"] = dict(stage_variables)
    if body:
        text = is_text(joined.get("content-type"))
        event["body"] = body.decode("utf-8", errors="replace") if text else base64.b64encode(body).decode()
        event["isBase64Encoded"] = not text
    else:
        event["isBase64Encoded"] = False
    return event


class ResponseError(ValueError):
    """A 2.0 answer API Gateway cannot use (500 Internal Server Error)."""


def response_v2(payload: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) from the function's 2.0 answer (6.3): an object with `statusCode` is
    read as a response (`cookies` become Set-Cookie headers; unknown keys ignored); any other JSON
    value is the body of a 200 `application/json` answer (a bare string as its text)."""
    try:
        value = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise ResponseError("the function's answer is not JSON") from None
    if not isinstance(value, dict) or "statusCode" not in value:
        body = value if isinstance(value, str) else json.dumps(value)
        return 200, [("content-type", "application/json")], body.encode()
    status = value["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int | str) or not str(status).isdigit() \
            or not 100 <= int(status) <= 599:
        raise ResponseError(f"statusCode must be an HTTP status, not {status!r}")
    return int(status), _response_headers(value), _response_body(value)


def _response_headers(value: dict[str, Any]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    given = value.get("headers")
    given = {} if given is None else given
    if not isinstance(given, dict):
        raise ResponseError("headers must be an object")
    for name, header in given.items():
        if isinstance(header, dict | list):
            raise ResponseError(f"header {name!r} must be a string")
        headers.append((str(name), str(header).lower() if isinstance(header, bool) else str(header)))
    cookies = value.get("cookies")
    cookies = [] if cookies is None else cookies
    if not isinstance(cookies, list):
        raise ResponseError("cookies must be a list of strings")
    headers += [("set-cookie", str(c)) for c in cookies]
    if not any(n.lower() == "content-type" for n, _ in headers):
        headers.append(("content-type", "application/json"))
    return headers


def _response_body(value: dict[str, Any]) -> bytes:
    body = value.get("body")
    data = b"" if body is None else body.encode() if isinstance(body, str) else json.dumps(body).encode()
    if value.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise ResponseError("body is not valid base64") from None
    return data
