"""HTTP APIs' authorizers on the request path: JWT (checked with PyJWT, the one module that imports it)
and Lambda authorizers (payload format 2.0, simple or IAM-policy answers).

JWT, as API Gateway v2 checks it: the token from the identity source (a leading `Bearer ` dropped);
its header's `alg` one of the asymmetric algorithms (never `none`, never a shared secret) and its `kid`
a key of the issuer's JWKS (`{issuer}/.well-known/openid-configuration` -> `jwks_uri`, which may be
an `http://` URL on loopback or a `file://` path); signature, `iss`, `exp` (required), `nbf`; `aud` or
`client_id` one of the configured audiences; the route's scopes (any one of them in `scope`/`scp`).
Failures are 401 `{"message":"Unauthorized"}` with a `www-authenticate` header saying why; missing
scopes are 403 `{"message":"Forbidden"}`. Claims reach the integration as strings in
`requestContext.authorizer.jwt.claims`, scopes in `.jwt.scopes`.

JWKS are fetched off the event loop and kept per issuer; an unknown `kid` fetches again at most every
`REFETCH_S`. Lambda decisions are cached by identity for the authorizer's TTL on the server clock.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import PyJWK, PyJWKSet

from ..httpapi import RouteAuth
from .policy import ALLOW, evaluate, parse_decision

ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512")
REFETCH_S = 10.0
FETCH_TIMEOUT_S = 5.0


class AuthRefused(Exception):
    """An answer instead of the integration: status, message, extra headers; `reason` for the log."""

    def __init__(self, status: int, message: str, reason: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(reason)
        self.status, self.message, self.reason, self.headers = status, message, reason, list(headers)


def unauthorized(description: str) -> AuthRefused:
    return AuthRefused(401, "Unauthorized", description, [(
        "www-authenticate", f'Bearer scope="" error="invalid_token" error_description="{description}"')])


def identity_values(sources: Sequence[str], headers: Mapping[str, str], query: Mapping[str, str],
                    variables: Mapping[str, str], context: Mapping[str, Any]) -> list[str] | None:
    """`$request.header.X`, `$request.querystring.x`, `$stageVariables.x`, `$context.x`; None when one is
    missing or empty. `headers` has lower-case names."""
    values = []
    for source in sources:
        value: Any = None
        if source.startswith("$request.header."):
            value = headers.get(source.removeprefix("$request.header.").lower())
        elif source.startswith("$request.querystring."):
            value = query.get(source.removeprefix("$request.querystring."))
        elif source.startswith("$stageVariables."):
            value = variables.get(source.removeprefix("$stageVariables."))
        elif source.startswith("$context."):
            value = context
            for part in source.removeprefix("$context.").split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
        if not value or isinstance(value, Mapping):
            return None
        values.append(str(value))
    return values


def fetch_jwks(issuer: str) -> dict[str, PyJWK]:
    """The issuer's signing keys by kid (blocking: run on a worker thread)."""
    with urllib.request.urlopen(issuer.rstrip("/") + "/.well-known/openid-configuration",  # noqa: S310
                                timeout=FETCH_TIMEOUT_S) as answer:
        config = json.load(answer)
    with urllib.request.urlopen(str(config["jwks_uri"]), timeout=FETCH_TIMEOUT_S) as answer:  # noqa: S310
        keys = PyJWKSet.from_dict(json.load(answer)).keys
    return {str(k.key_id): k for k in keys if k.key_id}


@dataclass
class _Keys:
    keys: dict[str, PyJWK]
    fetched: float


class JwtChecker:
    def __init__(self, fetch: Callable[[str], dict[str, PyJWK]] = fetch_jwks) -> None:
        self.fetch = fetch
        self._issuers: dict[str, _Keys] = {}

    async def _key(self, issuer: str, kid: str) -> PyJWK | None:
        held = self._issuers.get(issuer)
        if held is not None and (kid in held.keys or time.monotonic() - held.fetched < REFETCH_S):
            return held.keys.get(kid)
        try:
            keys = await asyncio.to_thread(self.fetch, issuer)
        except (OSError, ValueError, KeyError, jwt.PyJWTError) as e:
            raise unauthorized(f"the issuer's signing keys could not be fetched: {e}") from None
        self._issuers[issuer] = _Keys(keys, time.monotonic())
        return keys.get(kid)

    async def check(self, auth: RouteAuth, token: str) -> dict[str, Any]:
        """`requestContext.authorizer` for a good token; AuthRefused (401, or 403 for scopes) otherwise."""
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise unauthorized("the token is not a JWT") from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise unauthorized(f"the token's algorithm {alg} is not accepted")
        key = await self._key(auth.issuer, str(header.get("kid")))
        if key is None:
            raise unauthorized(f"no signing key of the issuer has kid {header.get('kid')}")
        try:
            claims: dict[str, Any] = jwt.decode(token, key=key, algorithms=[str(alg)], issuer=auth.issuer,
                                                options={"require": ["exp", "iss"], "verify_aud": False})
        except jwt.ExpiredSignatureError:
            raise unauthorized("the token has expired") from None
        except jwt.InvalidIssuerError:
            raise unauthorized("the token does not have a valid issuer") from None
        except jwt.PyJWTError as e:
            raise unauthorized(f"the token is not valid: {e}") from None
        audiences = claims.get("aud")
        given = set(audiences if isinstance(audiences, list) else [audiences]) | {claims.get("client_id")}
        if auth.audience and not given & set(auth.audience):
            raise unauthorized("the token does not have a valid audience")
        scopes = _scopes(claims)
        if auth.scopes and not set(auth.scopes) & set(scopes):
            raise AuthRefused(403, "Forbidden", "the token has none of the route's scopes")
        return {"jwt": {"claims": {k: v if isinstance(v, str) else json.dumps(v) for k, v in claims.items()},
                        "scopes": scopes or None}}


def _scopes(claims: Mapping[str, Any]) -> list[str]:
    raw = claims.get("scope", claims.get("scp"))
    if isinstance(raw, str):
        return raw.split()
    return [str(s) for s in raw] if isinstance(raw, list) else []


def lambda_event(event: Mapping[str, Any], route_arn: str, identity: list[str]) -> dict[str, Any]:
    """A payload 2.0 Lambda authorizer's input: the request's 2.0 event without its body, `type`,
    `routeArn` and `identitySource` (reference 7.2)."""
    out = {k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")}
    out.update({"version": "2.0", "type": "REQUEST", "routeArn": route_arn, "identitySource": identity})
    return out


def lambda_decision(auth: RouteAuth, body: bytes, route_arn: str) -> dict[str, Any]:
    """`requestContext.authorizer` from the function's answer: simple (`isAuthorized`, `context`) or an IAM
    policy; AuthRefused 403 when it says no, 500 when it is not an answer."""
    if auth.simple:
        try:
            answer = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise AuthRefused(500, "Internal Server Error", "the authorizer's answer is not JSON") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("isAuthorized"), bool):
            raise AuthRefused(500, "Internal Server Error", "the authorizer's answer has no boolean isAuthorized")
        if not answer["isAuthorized"]:
            raise AuthRefused(403, "Forbidden", "the authorizer answered isAuthorized false")
        context = answer.get("context")
        return {"lambda": context if isinstance(context, dict) else None}
    try:
        decision = parse_decision(body)
    except Exception as e:  # noqa: BLE001 - AuthorizerConfigurationError: its reason for the log
        raise AuthRefused(500, "Internal Server Error", str(e)) from None
    if evaluate(decision.statements, route_arn) != ALLOW:
        raise AuthRefused(403, "Forbidden", f"the authorizer's policy does not allow {route_arn}")
    return {"lambda": dict(decision.context) or None, "principalId": decision.principal_id}
