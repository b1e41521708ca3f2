"""HTTP APIs' authorizer checks (`gateway.data.http_auth`): identity sources, JWT rules with a JWKS
handed in (the fetch is the seam to the network), Lambda answers. Pure apart from PyJWT."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWK

from lambdalite.gateway.data.http_auth import AuthRefused, JwtChecker, identity_values, lambda_decision
from lambdalite.gateway.httpapi import RouteAuth

ISSUER = "https://issuer.example"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
JWK = PyJWK({**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key())), "kid": "k1", "alg": "RS256"})
AUTH = RouteAuth("JWT", "a1", ("$request.header.Authorization",), issuer=ISSUER, audience=("partners",),
                 scopes=("read",))


def token(kid: str = "k1", **claims: Any) -> str:
    payload = {"iss": ISSUER, "aud": "partners", "exp": int(time.time()) + 60, "scope": "read", **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, KEY, algorithm="RS256",
                      headers={"kid": kid})


def check(value: str, auth: RouteAuth = AUTH) -> dict[str, Any]:
    fetched: list[str] = []

    def fetch(issuer: str) -> dict[str, PyJWK]:
        fetched.append(issuer)
        return {"k1": JWK}
    return asyncio.run(JwtChecker(fetch).check(auth, value))


def test_a_good_token_gives_string_claims_and_scopes() -> None:
    out = check("Bearer " + token(n=3))
    assert out["jwt"]["claims"]["n"] == "3" and out["jwt"]["scopes"] == ["read"]
    assert check(token(aud=None, client_id="partners"))["jwt"]["claims"]["client_id"] == "partners"


@pytest.mark.parametrize("bad", [
    token(iss="https://other"), token(aud="strangers"), token(exp=int(time.time()) - 5), token(exp=None),
    token(kid="k9"), jwt.encode({"iss": ISSUER, "aud": "partners", "exp": int(time.time()) + 60}, "",
                                algorithm="none"), "not-a-jwt",
])
def test_bad_tokens_are_401(bad: str) -> None:
    with pytest.raises(AuthRefused) as refused:
        check(bad)
    assert (refused.value.status, refused.value.message) == (401, "Unauthorized")
    assert 'error="invalid_token"' in dict(refused.value.headers)["www-authenticate"]


def test_a_token_without_the_routes_scopes_is_403() -> None:
    with pytest.raises(AuthRefused) as refused:
        check(token(scope="write admin"))
    assert (refused.value.status, refused.value.message) == (403, "Forbidden")


def test_identity_sources() -> None:
    sources = ("$request.header.X-Token", "$request.querystring.q", "$stageVariables.v", "$context.stage")
    assert identity_values(sources, {"x-token": "t"}, {"q": "1"}, {"v": "2"}, {"stage": "live"}) == \
        ["t", "1", "2", "live"]
    assert identity_values(sources, {"x-token": ""}, {"q": "1"}, {"v": "2"}, {"stage": "live"}) is None


def test_lambda_answers() -> None:
    simple = RouteAuth("CUSTOM", "a", (), simple=True)
    assert lambda_decision(simple, b'{"isAuthorized": true, "context": {"u": 1}}', "arn") == {"lambda": {"u": 1}}
    for body, status in ((b'{"isAuthorized": false}', 403), (b'{"isAuthorized": "yes"}', 500), (b"[", 500)):
        with pytest.raises(AuthRefused) as refused:
            lambda_decision(simple, body, "arn")
        assert refused.value.status == status
    policy = RouteAuth("CUSTOM", "a", ())
    allow = json.dumps({"principalId": "p", "policyDocument": {"Statement": [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": "arn:*/GET/things"}]}}).encode()
    assert lambda_decision(policy, allow, "arn:x/live/GET/things")["principalId"] == "p"
    with pytest.raises(AuthRefused):
        lambda_decision(policy, allow, "arn:x/live/POST/things")
