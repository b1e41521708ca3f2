"""Authorizers of a REST API (`/restapis/{id}/authorizers`): their wire shape, checks and patches. Pure.

An Authorizer: `{id, name, type: TOKEN|REQUEST|COGNITO_USER_POOLS, authorizerUri, identitySource,
identityValidationExpression?, authorizerResultTtlInSeconds (300 by default), authType?,
authorizerCredentials?, providerARNs?}` (botocore's model). They live in the API's document under
`authorizers` and are frozen into each deployment; COGNITO_USER_POOLS ones are stored and answered
500 when used (not built). Texts AWS did not record for us are marked UNCONFIRMED.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ...errors import BadRequestException, NotFoundException, ValidationError
from . import patch

TYPES = ("TOKEN", "REQUEST", "COGNITO_USER_POOLS")
NO_AUTHORIZER = "Invalid Authorizer identifier specified"
MAX_TTL = 3600
SCALARS = ("/name", "/type", "/authorizerUri", "/identitySource", "/identityValidationExpression",
           "/authorizerResultTtlInSeconds", "/authorizerCredentials", "/authType")


def new_authorizer(body: Mapping[str, Any], authorizer_id: str) -> dict[str, Any]:
    authorizer: dict[str, Any] = {"id": authorizer_id}
    for key in ("name", "type", "authorizerUri", "identitySource", "identityValidationExpression", "authType",
                "authorizerCredentials"):
        if body.get(key) not in (None, ""):
            authorizer[key] = str(body[key])
    if body.get("providerARNs"):
        authorizer["providerARNs"] = [str(a) for a in body["providerARNs"]]
    authorizer["authorizerResultTtlInSeconds"] = body.get("authorizerResultTtlInSeconds", 300)
    check(authorizer)
    return authorizer


def check(authorizer: dict[str, Any]) -> None:
    """The whole authorizer's consistency, after a create or a patch."""
    kind = authorizer.get("type")
    if kind not in TYPES:
        raise ValidationError(f"1 validation error detected: Value '{kind}' at 'createAuthorizerInput.type' failed "
                              "to satisfy constraint: Member must satisfy enum value set: [TOKEN, REQUEST, "
                              "COGNITO_USER_POOLS]")
    if not authorizer.get("name"):
        raise BadRequestException("Authorizer name must be non-empty")   # UNCONFIRMED
    ttl = patch.to_int(authorizer.get("authorizerResultTtlInSeconds"))
    if not 0 <= ttl <= MAX_TTL:
        raise BadRequestException(f"Invalid authorizer TTL specified: {ttl}. It must be between 0 and 3600 seconds")
    authorizer["authorizerResultTtlInSeconds"] = ttl
    if kind == "COGNITO_USER_POOLS":
        if not authorizer.get("providerARNs"):
            raise BadRequestException("ProviderARNs need to be specified for COGNITO_USER_POOLS authorizers")
        return
    if not authorizer.get("authorizerUri"):
        raise BadRequestException(f"Authorizer URI is required for a {kind} authorizer")   # UNCONFIRMED
    _check_sources(authorizer, str(kind), ttl)


def _check_sources(authorizer: dict[str, Any], kind: str, ttl: int) -> None:
    sources = [s.strip() for s in str(authorizer.get("identitySource") or "").split(",") if s.strip()]
    if kind == "TOKEN" and (len(sources) != 1 or not sources[0].startswith("method.request.header.")):
        raise BadRequestException("Invalid identity source specified: a TOKEN authorizer takes one "
                                  "method.request.header.{name}")   # UNCONFIRMED
    if kind == "REQUEST" and not sources and ttl > 0:
        raise BadRequestException("Identity source is required when caching is enabled")   # UNCONFIRMED
    expression = authorizer.get("identityValidationExpression")
    if expression:
        try:
            re.compile(expression)
        except re.error as e:
            raise BadRequestException(f"Invalid identityValidationExpression: {e}") from None


def apply(authorizer: dict[str, Any], ops: Iterable[Mapping[str, Any]]) -> None:
    """UpdateAuthorizer: `replace` of its scalars; `add`/`remove` of `/providerARNs/{arn}`."""
    for op in patch.check_ops(ops, "updateAuthorizerInput"):
        kind, path, value = op["op"], str(op.get("path")), op.get("value")
        if path in SCALARS and kind == "replace":
            patch.set_scalar(authorizer, path[1:], kind, value if value != "" else None)
        elif path.startswith("/providerARNs") and kind in ("add", "remove"):
            arns = [a for a in authorizer.get("providerARNs") or [] if a != value]
            authorizer["providerARNs"] = arns + ([str(value)] if kind == "add" else [])
        else:
            raise BadRequestException(f"Invalid patch path  '{path}' specified for op '{kind}'. Must be one "
                                      f"of: [{', '.join(SCALARS)}, /providerARNs]")   # UNCONFIRMED list
    authorizer.setdefault("authorizerResultTtlInSeconds", 300)
    check(authorizer)


def authorizer_of(doc: Mapping[str, Any], authorizer_id: str) -> dict[str, Any]:
    found = (doc.get("authorizers") or {}).get(authorizer_id)
    if found is None:
        raise NotFoundException(NO_AUTHORIZER)
    return dict(found)


def users_of(doc: Mapping[str, Any], authorizer_id: str) -> list[str]:
    """`{path}/{VERB}` of every method that uses the authorizer."""
    return [f"{r['path']}/{verb}" for r in doc["resources"].values()
            for verb, m in (r.get("resourceMethods") or {}).items() if m.get("authorizerId") == authorizer_id]
