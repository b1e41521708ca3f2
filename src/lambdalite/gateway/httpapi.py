"""HTTP APIs (API Gateway v2), the pure parts shared by the control and data planes: route keys,
routes and integrations read from an OpenAPI 3 definition, route matching, and the snapshot of an API
that the data plane serves (reference/apigateway-sam.md section 6).

A route key is `"{METHOD} {path}"` (`GET /items/{id}`, `ANY /{proxy+}`) or `$default`. Matching
(6.1): a full match of path and method first (a literal segment beats a variable, a concrete method
beats `ANY`), then a greedy `{proxy+}` match (the longest literal part first), then `$default`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_ROUTE = "$default"
DEFAULT_STAGE = "$default"
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY")
LAMBDA_PATH = re.compile(r"arn:[^:]+:apigateway:[^:]+:lambda:path/2015-03-31/functions/(?P<function>.+)/invocations")
DEFAULT_TIMEOUT_MS = 30_000


class RouteKeyError(ValueError):
    """A route key that is not `$default` nor `METHOD /path`; the message is API Gateway's."""


def parse_route_key(key: str) -> tuple[str, str]:
    """(method, path) of a route key; ("", "") for `$default`."""
    if key == DEFAULT_ROUTE:
        return "", ""
    method, _, path = key.partition(" ")
    if method.upper() not in METHODS or not path.startswith("/") or " " in path:
        raise RouteKeyError(f"Unable to create route '{key}': the route key must be $default or "
                            "'{METHOD} /{path}' with a method of " + ", ".join(METHODS))
    return method.upper(), path


def function_of(uri: str) -> str:
    """The Lambda function an integration URI names (an apigateway `lambda:path` ARN or the
    function's own ARN); the URI as given otherwise."""
    found = LAMBDA_PATH.fullmatch(uri)
    return found.group("function") if found else uri


@dataclass(frozen=True)
class RouteAuth:
    """A route's authorizer as deployed: JWT (issuer, audiences, scopes the route needs) or a Lambda
    (REQUEST) authorizer (function, payload format, simple responses, TTL); `problem` when unusable."""

    kind: str                                   # JWT | CUSTOM
    authorizer_id: str
    identity_source: tuple[str, ...]            # "$request.header.Authorization", "$request.querystring.q", ...
    issuer: str = ""
    audience: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    function: str = ""
    payload_format: str = "2.0"
    simple: bool = False
    ttl_s: int = 0
    problem: str | None = None


def route_auth_of(raw: Mapping[str, Any] | None) -> RouteAuth | None:
    if not raw:
        return None
    authorizer = raw.get("authorizer")
    if not authorizer:
        return RouteAuth(str(raw.get("type")), "", (), problem="the route's authorizer does not exist")
    sources = authorizer.get("identitySource") or []
    config = authorizer.get("jwtConfiguration") or {}
    return RouteAuth(str(raw.get("type")), str(authorizer.get("authorizerId")),
                     tuple(sources if isinstance(sources, list) else [sources]),
                     issuer=str(config.get("issuer") or ""), audience=tuple(config.get("audience") or ()),
                     scopes=tuple(raw.get("scopes") or ()),
                     function=function_of(str(authorizer.get("authorizerUri") or "")),
                     payload_format=str(authorizer.get("authorizerPayloadFormatVersion") or "2.0"),
                     simple=bool(authorizer.get("enableSimpleResponses")),
                     ttl_s=int(authorizer.get("authorizerResultTtlInSeconds") or 0))


@dataclass(frozen=True)
class Integration:
    integration_id: str
    function: str                       # the function's ARN (or name)
    payload_format: str = "2.0"
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    auth: RouteAuth | None = None       # the route's authorizer (JWT or Lambda), as deployed


@dataclass(frozen=True)
class Deployed:
    """What one deployment serves: its routes and the API's CORS configuration when it was made.
    Never mutated; the data plane compiles each once."""

    deployment_id: str
    routes: tuple[tuple[str, Integration], ...]          # (route key, its integration)
    cors: Cors | None = None


@dataclass(frozen=True)
class HttpStage:
    """A stage as the data plane serves it: its deployment (None before the first: nothing is
    served) and its settings, which take effect at once as API Gateway's do."""

    name: str
    deployed: Deployed | None
    created: float = 0.0                                  # createdDate (the oldest $default holds the root)
    variables: Mapping[str, str] = field(default_factory=dict)
    throttle: tuple[int, float] | None = None             # DefaultRouteSettings: (burst, rate per s)
    route_throttles: Mapping[str, tuple[int, float]] = field(default_factory=dict)   # RouteSettings by key
    access_log: tuple[str, str] | None = None             # AccessLogSettings: (log group, format)


@dataclass(frozen=True)
class HttpApiSnapshot:
    """What one HTTP API serves: never mutated; a change publishes a new one."""

    api_id: str
    name: str
    created: float
    stages: Mapping[str, HttpStage] = field(default_factory=dict)


@dataclass(frozen=True)
class Cors:
    """An API's CorsConfiguration (6.4): API Gateway answers preflights itself and sets the CORS
    headers of every answer to an allowed origin, whatever the function sent."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> Cors:
        def names(key: str) -> tuple[str, ...]:
            value = config.get(key) or ()
            return tuple(str(v) for v in value) if isinstance(value, list | tuple) else (str(value),)
        age = config.get("maxAge")
        return cls(names("allowOrigins"), tuple(m.upper() for m in names("allowMethods")), names("allowHeaders"),
                   names("exposeHeaders"), int(age) if isinstance(age, int) and not isinstance(age, bool) else None,
                   config.get("allowCredentials") is True)

    def origin(self, origin: str | None) -> str | None:
        """The Access-Control-Allow-Origin for a request's Origin, or None when it is not allowed."""
        if not origin:
            return None
        if origin in self.allow_origins:
            return origin
        return "*" if "*" in self.allow_origins else None

    def preflight(self, origin: str | None, method: str | None) -> list[tuple[str, str]]:
        """The headers of the answer to a preflight (none when its origin or method is not allowed)."""
        allowed = self.origin(origin)
        if allowed is None or not method or (self.allow_methods and "*" not in self.allow_methods
                                             and method.upper() not in self.allow_methods):
            return []
        out = [("access-control-allow-origin", allowed)]
        if self.allow_methods:
            out.append(("access-control-allow-methods", ",".join(self.allow_methods)))
        if self.allow_headers:
            out.append(("access-control-allow-headers", ",".join(self.allow_headers)))
        if self.max_age is not None:
            out.append(("access-control-max-age", str(self.max_age)))
        if self.allow_credentials:
            out.append(("access-control-allow-credentials", "true"))
        return out

    def answer(self, origin: str | None) -> list[tuple[str, str]]:
        """The CORS headers of an answer to an allowed origin (they replace the function's own)."""
        allowed = self.origin(origin)
        if allowed is None:
            return []
        out = [("access-control-allow-origin", allowed)]
        if self.expose_headers:
            out.append(("access-control-expose-headers", ",".join(self.expose_headers)))
        if self.allow_credentials:
            out.append(("access-control-allow-credentials", "true"))
        return out


def camel_case(given: Any, what: str = "settings") -> dict[str, Any] | None:
    """A mapping of CloudFormation's PascalCase or OpenAPI's camelCase keys in apigatewayv2's wire
    shape (camelCase); None when there is none. ValueError naming `what` for one that is not a mapping."""
    if given is None:
        return None
    if not isinstance(given, Mapping):
        raise ValueError(f"{what} must be a mapping")
    return {key[0].lower() + key[1:]: value for key, value in given.items()}


def cors_config(given: Any) -> dict[str, Any] | None:
    """A CorsConfiguration in apigatewayv2's wire shape (`camel_case`)."""
    return camel_case(given, "CorsConfiguration (AllowOrigins, AllowMethods, ...)")


def routes_from_openapi(definition: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(route key, integration) for each operation of an OpenAPI 3 definition with an
    `x-amazon-apigateway-integration`; `x-amazon-apigateway-any-method` is ANY; the path `/$default`
    is the `$default` route (as SAM writes it). Raises ValueError naming what is wrong."""
    out: list[tuple[str, dict[str, Any]]] = []
    paths = definition.get("paths", {})
    if not isinstance(paths, Mapping):
        raise ValueError("paths must be an object")
    for path, operations in paths.items():
        if not isinstance(operations, Mapping):
            raise ValueError(f"paths.{path} must be an object")
        for verb, operation in operations.items():
            method = "ANY" if verb == "x-amazon-apigateway-any-method" else str(verb).upper()
            if method not in METHODS or not isinstance(operation, Mapping):
                continue   # parameters, summary, ...
            integration = operation.get("x-amazon-apigateway-integration")
            if not isinstance(integration, Mapping):
                raise ValueError(f"{method} {path}: no x-amazon-apigateway-integration (only Lambda proxy "
                                 "integrations are served here)")
            key = DEFAULT_ROUTE if path == "/$default" else f"{method} {path}"
            parse_route_key(key)
            security = operation.get("security", definition.get("security"))
            out.append((key, {**_integration(key, integration), "security": _security(security)}))
    keys = [k for k, _ in out]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise ValueError(f"Route key {duplicated[0]} is defined twice")
    return out


def _security(requirements: Any) -> list[tuple[str, list[str]]]:
    """An operation's `security`: (scheme name, scopes) of each requirement."""
    out = []
    for requirement in requirements if isinstance(requirements, list) else []:
        for name, scopes in (requirement.items() if isinstance(requirement, Mapping) else ()):
            out.append((str(name), [str(s) for s in scopes] if isinstance(scopes, list) else []))
    return out


def authorizers_from_openapi(definition: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """scheme name -> CreateAuthorizer body (camelCase) of each `x-amazon-apigateway-authorizer` of type
    jwt or request among `components.securitySchemes` (what SAM's HttpApi `Auth` writes)."""
    components = definition.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, Mapping) else None
    out = {}
    for name, scheme in (schemes.items() if isinstance(schemes, Mapping) else ()):
        spec = scheme.get("x-amazon-apigateway-authorizer") if isinstance(scheme, Mapping) else None
        if not isinstance(spec, Mapping) or str(spec.get("type")).lower() not in ("jwt", "request"):
            continue
        sources = spec.get("identitySource")
        body: dict[str, Any] = {"name": str(name), "authorizerType": str(spec["type"]).upper(),
                                "identitySource": [sources] if isinstance(sources, str) else list(sources or [])}
        for key in ("jwtConfiguration", "authorizerUri", "authorizerPayloadFormatVersion", "enableSimpleResponses",
                    "authorizerResultTtlInSeconds"):
            if spec.get(key) is not None:
                body[key] = spec[key]
        out[str(name)] = body
    return out


def _integration(key: str, integration: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(integration.get("type", "aws_proxy")).lower()
    if kind != "aws_proxy":
        raise ValueError(f"{key}: integration type {kind} is not supported yet (aws_proxy is)")
    version = str(integration.get("payloadFormatVersion", "2.0"))
    if version not in ("1.0", "2.0"):
        raise ValueError(f"{key}: payloadFormatVersion must be 1.0 or 2.0, not {version!r}")
    timeout = integration.get("timeoutInMillis", DEFAULT_TIMEOUT_MS)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 50 <= timeout <= 30_000:
        raise ValueError(f"{key}: timeoutInMillis must be 50 to 30000, not {timeout!r}")
    return {"integrationUri": str(integration.get("uri", "")), "payloadFormatVersion": version,
            "timeoutInMillis": timeout}


@dataclass(frozen=True)
class _Route:
    key: str
    method: str                 # "" for $default
    segments: tuple[str, ...]
    greedy: bool
    integration: Integration


@dataclass(frozen=True)
class RouteMatch:
    key: str
    integration: Integration
    path_parameters: dict[str, str]


class RouteTable:
    """An API's routes, compiled once; `match` is 6.1's priority."""

    def __init__(self, routes: Sequence[tuple[str, Integration]]) -> None:
        self._routes: list[_Route] = []
        self._default: Integration | None = None
        for key, integration in routes:
            method, path = parse_route_key(key)
            if not method:
                self._default = integration
                continue
            segments = tuple(s for s in path.split("/") if s)
            greedy = bool(segments) and segments[-1].startswith("{") and segments[-1].endswith("+}")
            self._routes.append(_Route(key, method, segments, greedy, integration))

    def match(self, method: str, path: str) -> RouteMatch | None:
        parts = [p for p in path.split("/") if p] if path != "/" else []
        best: tuple[tuple[int, ...], _Route, dict[str, str]] | None = None
        for route in self._routes:
            if route.method not in (method, "ANY"):
                continue
            found = _bind(route, parts)
            if found is None:
                continue
            rank = (1 if route.greedy else 0,
                    *(0 if not s.startswith("{") else 1 for s in route.segments),
                    -len(route.segments) if route.greedy else 0,
                    1 if route.method == "ANY" else 0)
            if best is None or rank < best[0]:
                best = (rank, route, found)
        if best is not None:
            return RouteMatch(best[1].key, best[1].integration, best[2])
        if self._default is not None:
            return RouteMatch(DEFAULT_ROUTE, self._default, {})
        return None


def _bind(route: _Route, parts: list[str]) -> dict[str, str] | None:
    segments = route.segments
    if route.greedy:
        if len(parts) < len(segments):
            return None
    elif len(parts) != len(segments):
        return None
    bound: dict[str, str] = {}
    for i, segment in enumerate(segments):
        if route.greedy and i == len(segments) - 1:
            bound[segment[1:-2]] = "/".join(parts[i:])
            return bound
        if segment.startswith("{") and segment.endswith("}"):
            bound[segment[1:-1]] = parts[i]
        elif segment != parts[i]:
            return None
    return bound


def claims_first_segment(routes: Sequence[tuple[str, Integration]], segment: str) -> bool:
    """Whether some route could answer a path whose first segment is `segment` (a REST short form
    `/{segment}/...`): the `$default` route, or a route whose first segment is that literal, a
    variable or greedy."""
    for key, _ in routes:
        if key == DEFAULT_ROUTE:
            return True
        first = next((s for s in parse_route_key(key)[1].split("/") if s), None)
        if first is not None and (first == segment or first.startswith("{")):
            return True
    return False
