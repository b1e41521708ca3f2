"""Authorizers of HTTP APIs (`/v2/apis/{id}/authorizers`): JWT and Lambda (REQUEST). Pure.

Wire shape (apigatewayv2, camelCase): `{authorizerId, name, authorizerType: JWT|REQUEST,
identitySource: [...], jwtConfiguration: {issuer, audience: [...]}, authorizerUri,
authorizerPayloadFormatVersion: 1.0|2.0, enableSimpleResponses, authorizerResultTtlInSeconds}`.
A route names one with `authorizationType` (JWT or CUSTOM), `authorizerId` and, for JWT,
`authorizationScopes`. Texts AWS did not record for us are marked UNCONFIRMED.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import BadRequestException

TYPES = ("JWT", "REQUEST")
FIELDS = ("name", "authorizerType", "identitySource", "jwtConfiguration", "authorizerUri",
          "authorizerPayloadFormatVersion", "enableSimpleResponses", "authorizerResultTtlInSeconds",
          "authorizerCredentialsArn")


def new_authorizer(body: Mapping[str, Any], authorizer_id: str) -> dict[str, Any]:
    authorizer: dict[str, Any] = {"authorizerId": authorizer_id}
    update_authorizer(authorizer, body)
    return authorizer


def update_authorizer(authorizer: dict[str, Any], body: Mapping[str, Any]) -> None:
    for key in FIELDS:
        if key in body and body[key] is not None:
            authorizer[key] = body[key]
    check(authorizer)


def check(authorizer: dict[str, Any]) -> None:
    kind = authorizer.get("authorizerType")
    if kind not in TYPES:
        raise BadRequestException(f"Invalid authorizer type {kind!r}: JWT or REQUEST")   # UNCONFIRMED
    if not authorizer.get("name"):
        raise BadRequestException("Invalid input: name is required")   # UNCONFIRMED
    sources = authorizer.get("identitySource")
    if isinstance(sources, str):
        sources = authorizer["identitySource"] = [s.strip() for s in sources.split(",") if s.strip()]
    if kind == "JWT":
        config = authorizer.get("jwtConfiguration")
        if not isinstance(config, dict) or not config.get("issuer"):
            raise BadRequestException("JwtConfiguration.Issuer is required for a JWT authorizer")   # UNCONFIRMED
        if not sources:
            authorizer["identitySource"] = ["$request.header.Authorization"]
        return
    _check_lambda(authorizer, sources)


def _check_lambda(authorizer: dict[str, Any], sources: Any) -> None:
    if not authorizer.get("authorizerUri"):
        raise BadRequestException("AuthorizerUri is required for a REQUEST authorizer")   # UNCONFIRMED
    version = authorizer.setdefault("authorizerPayloadFormatVersion", "2.0")
    if version not in ("1.0", "2.0"):
        raise BadRequestException("AuthorizerPayloadFormatVersion must be 1.0 or 2.0")
    if authorizer.get("enableSimpleResponses") and version != "2.0":
        raise BadRequestException("Simple responses are only for payload format version 2.0")
    ttl = int(authorizer.setdefault("authorizerResultTtlInSeconds", 0))
    if not 0 <= ttl <= 3600:
        raise BadRequestException("AuthorizerResultTtlInSeconds must be between 0 and 3600")
    if ttl > 0 and not sources:
        raise BadRequestException("Identity source is required when caching is enabled")   # UNCONFIRMED


def route_auth(route: Mapping[str, Any], authorizers: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """What a deployment keeps of a route's authorization: the authorizer (copied) and the scopes."""
    kind = route.get("authorizationType") or "NONE"
    if kind not in ("JWT", "CUSTOM"):
        return None
    authorizer = authorizers.get(str(route.get("authorizerId")))
    return {"type": kind, "authorizer": dict(authorizer) if authorizer is not None else None,
            "scopes": list(route.get("authorizationScopes") or [])}


def check_route(route: Mapping[str, Any], authorizers: Mapping[str, Mapping[str, Any]]) -> None:
    kind = route.get("authorizationType") or "NONE"
    if kind not in ("NONE", "JWT", "CUSTOM", "AWS_IAM"):
        raise BadRequestException(f"Invalid authorization type {kind!r}")   # UNCONFIRMED
    if kind in ("JWT", "CUSTOM"):
        authorizer = authorizers.get(str(route.get("authorizerId")))
        if authorizer is None:
            raise BadRequestException(f"Invalid authorizer id specified: {route.get('authorizerId')}")
        wanted = "JWT" if kind == "JWT" else "REQUEST"
        if authorizer.get("authorizerType") != wanted:
            raise BadRequestException(f"Route authorization type {kind} does not match the authorizer's type "
                                      f"{authorizer.get('authorizerType')}")
