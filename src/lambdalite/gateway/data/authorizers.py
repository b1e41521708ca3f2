"""Lambda authorizers (REST): compiled once per deployed stage, their identity read from a request,
their events built, and their decisions cached by identity on the server clock. Pure apart from the
cache's own dict; the data plane (`plane.py`) invokes the function.

TOKEN: the identity is one header (`method.request.header.Authorization`), optionally checked against
`identityValidationExpression` (a mismatch is 401 without invoking). REQUEST: any of headers, query
strings, stage variables and `$context` values, comma-separated; any missing is 401 without invoking
(with a TTL of 0 and no sources AWS invokes every time). The cache key is the identity's values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .policy import Decision

SOURCE = re.compile(r"method\.request\.(header|querystring|multivaluequerystring|multivalueheader)\.(.+)"
                    r"|stageVariables\.(.+)|context\.(.+)")
LAMBDA_URI = re.compile(r"arn:[^:]+:apigateway:[^:]+:lambda:path/2015-03-31/functions/(?P<function>.+)/invocations")
STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")
CACHE_LIMIT = 10_000   # decisions kept per server; past it the cache starts afresh
DEFAULT_TTL = 300


@dataclass(frozen=True, slots=True)
class CompiledAuthorizer:
    authorizer_id: str
    kind: str                                   # TOKEN | REQUEST
    function: str                               # the function ARN (stage variables put in)
    sources: tuple[tuple[str, str], ...]        # (header|querystring|stage|context, name)
    validation: re.Pattern[str] | None
    ttl_s: int
    problem: str | None = None                  # why it cannot be used (every request: 500)


def compile_authorizer(raw: Mapping[str, Any] | None, variables: Mapping[str, str]) -> CompiledAuthorizer:
    if raw is None:
        return CompiledAuthorizer("", "", "", (), None, 0, "the method's authorizer is not in the deployment")
    authorizer_id, kind = str(raw.get("id")), str(raw.get("type"))
    ttl = int(raw.get("authorizerResultTtlInSeconds", DEFAULT_TTL) or 0)
    if kind not in ("TOKEN", "REQUEST"):
        return CompiledAuthorizer(authorizer_id, kind, "", (), None, 0, f"{kind} authorizers are not built yet")
    uri = str(raw.get("authorizerUri") or "")
    if "${" in uri:
        uri = STAGE_VARIABLE.sub(lambda m: variables.get(m.group(1), ""), uri)
    found = LAMBDA_URI.fullmatch(uri)
    if found is None:
        return CompiledAuthorizer(authorizer_id, kind, "", (), None, 0, f"{uri} is not a Lambda function URI")
    sources = []
    for text in filter(None, (s.strip() for s in str(raw.get("identitySource") or "").split(","))):
        m = SOURCE.fullmatch(text)
        if m is None:
            return CompiledAuthorizer(authorizer_id, kind, "", (), None, 0, f"invalid identity source {text}")
        if m.group(1):
            sources.append(("header" if "header" in m.group(1) else "querystring", m.group(2)))
        else:
            sources.append(("stage", m.group(3)) if m.group(3) else ("context", m.group(4)))
    if kind == "TOKEN" and (len(sources) != 1 or sources[0][0] != "header"):
        return CompiledAuthorizer(authorizer_id, kind, "", (), None, 0, "a TOKEN authorizer needs one header source")
    expression = raw.get("identityValidationExpression")
    try:
        validation = re.compile(expression) if kind == "TOKEN" and expression else None
    except re.error:
        return CompiledAuthorizer(authorizer_id, kind, "", (), None, 0, f"invalid identityValidationExpression "
                                                                        f"{expression}")
    return CompiledAuthorizer(authorizer_id, kind, found.group("function"), tuple(sources), validation, ttl)


def identity_of(authorizer: CompiledAuthorizer, headers: Mapping[str, str], query: Mapping[str, str],
                variables: Mapping[str, str], context: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    """The identity's values in source order; None when one is missing or empty (401 without invoking).
    `headers` has lower-case names; `context` is needed only by `context.` sources."""
    values = []
    for kind, name in authorizer.sources:
        if kind == "header":
            value = headers.get(name.lower())
        elif kind == "querystring":
            value = query.get(name)
        elif kind == "stage":
            value = variables.get(name)
        else:
            value = _context_value(context or {}, name)
        if not value:
            return None
        values.append(value)
    if authorizer.validation is not None and not authorizer.validation.fullmatch(values[0]):
        return None
    return tuple(values)


def _context_value(context: Mapping[str, Any], dotted: str) -> str | None:
    value: Any = context
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return None if value is None or isinstance(value, Mapping) else str(value)


def method_arn(region: str, account: str, api_id: str, stage: str, verb: str, path: str) -> str:
    """`arn:aws:execute-api:{region}:{account}:{api}/{stage}/{VERB}/{path without its leading /}`: the
    concrete request path (reference 7.2)."""
    rest = path[1:] if path.startswith("/") else path
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{verb}/{rest}"


def token_event(token: str, arn: str) -> dict[str, Any]:
    return {"type": "TOKEN", "methodArn": arn, "authorizationToken": token}


def request_event(proxy_event: Mapping[str, Any], arn: str) -> dict[str, Any]:
    """The REQUEST authorizer's input: the proxy event's request parts (no body), `type` and `methodArn`."""
    event: dict[str, Any] = {"type": "REQUEST", "methodArn": arn}
    for key in ("resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
                "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext"):
        event[key] = proxy_event.get(key)
    return event


class DecisionCache:
    """(api, stage, authorizer, identity) -> (expiry on the server clock, decision)."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str, tuple[str, ...]], tuple[float, Decision]] = {}

    def get(self, key: tuple[str, str, str, tuple[str, ...]], now: float) -> Decision | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= now:
            del self._entries[key]
            return None
        return entry[1]

    def put(self, key: tuple[str, str, str, tuple[str, ...]], decision: Decision, ttl_s: int, now: float) -> None:
        if ttl_s <= 0:
            return
        if len(self._entries) >= CACHE_LIMIT:
            self._entries.clear()
        self._entries[key] = (now + ttl_s, decision)
