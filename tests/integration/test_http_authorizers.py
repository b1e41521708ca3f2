"""HTTP APIs' authorizers (issue 25 item 3) through the real server, built with boto3's `apigatewayv2`:
JWT authorizers against an issuer served on loopback by the test (its openid-configuration and JWKS),
and Lambda authorizers with payload 2.0 and simple responses. Each bad JWT of the issue is a 401."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import Server, boto_client, create_function, error_of, unique
from tests.integration.test_http_apis import let_api_gateway_in

ECHO = '''
import json

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event["requestContext"].get("authorizer"))}
'''
SIMPLE = '''
def handler(event, context):
    token = (event.get("headers") or {}).get("x-token", "")
    if token == "raise":
        raise ValueError("boom")
    return {"isAuthorized": token == "open-sesame", "context": {"user": "ada", "route": event["routeArn"]}}
'''


class Issuer:
    """An OpenID issuer on loopback: `/.well-known/openid-configuration` and `/jwks.json` with key `k1`."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = issuer.jwks if self.path == "/jwks.json" else {"issuer": issuer.url,
                                                                      "jwks_uri": issuer.url + "/jwks.json"}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def token(self, kid: str = "k1", alg: str = "RS256", **claims: Any) -> str:
        payload = {"iss": self.url, "aud": "partners", "sub": "ada", "exp": int(time.time()) + 600,
                   "scope": "read write", **claims}
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, self.key, algorithm=alg, headers={"kid": kid})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    made = Issuer()
    yield made
    made.close()


def build(server: Server, authorizer: dict[str, Any], route: dict[str, Any], functions: dict[str, str]) -> str:
    """An HTTP API with GET /things behind `authorizer`, on an auto-deploying stage `live`; its URL."""
    lam = boto_client(server.base)
    for name, source in functions.items():
        create_function(lam, name, source)
        let_api_gateway_in(lam, name)
    arn = lam.get_function(FunctionName=next(iter(functions)))["Configuration"]["FunctionArn"]
    v2 = boto_client(server.base, "apigatewayv2")
    api_id = v2.create_api(Name=unique("authorized"), ProtocolType="HTTP")["ApiId"]
    made = v2.create_authorizer(ApiId=api_id, Name="auth", **authorizer)
    integration = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn,
                                        PayloadFormatVersion="2.0")
    v2.create_route(ApiId=api_id, RouteKey="GET /things", Target=f"integrations/{integration['IntegrationId']}",
                    AuthorizerId=made["AuthorizerId"], **route)
    v2.create_stage(ApiId=api_id, StageName="live", AutoDeploy=True)
    return f"{server.base}/httpapis/{api_id}/live/_user_request_/things"


def test_jwt_authorizer_checks_signature_issuer_audience_expiry_kid_algorithm_and_scopes(
        own_server: Server, issuer: Issuer) -> None:
    own_server.start()
    url = build(own_server, {"AuthorizerType": "JWT", "IdentitySource": ["$request.header.Authorization"],
                             "JwtConfiguration": {"Issuer": issuer.url, "Audience": ["partners"]}},
                {"AuthorizationType": "JWT", "AuthorizationScopes": ["read"]}, {unique("echo"): ECHO})
    good = requests.get(url, headers={"Authorization": "Bearer " + issuer.token()}, timeout=30)
    assert good.status_code == 200, good.text
    claims = good.json()["jwt"]
    assert (claims["claims"]["sub"], claims["claims"]["aud"], claims["scopes"]) == ("ada", "partners",
                                                                                    ["read", "write"])
    assert isinstance(claims["claims"]["exp"], str)
    missing = requests.get(url, timeout=30)
    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})
    bad = {
        "wrong issuer": issuer.token(iss="https://elsewhere.example"),
        "wrong audience": issuer.token(aud="strangers"),
        "expired": issuer.token(exp=int(time.time()) - 60),
        "unknown kid": issuer.token(kid="k2"),
        "algorithm none": jwt.encode({"iss": issuer.url, "aud": "partners", "exp": int(time.time()) + 600}, "",
                                     algorithm="none", headers={"kid": "k1"}),
        "shared secret": jwt.encode({"iss": issuer.url, "aud": "partners", "exp": int(time.time()) + 600},
                                    "secret-0123456789abcdef0123456789abcdef", algorithm="HS256",
                                    headers={"kid": "k1"}),
        "not a jwt": "garbage",
    }
    for why, token in bad.items():
        refused = requests.get(url, headers={"Authorization": token}, timeout=30)
        assert (refused.status_code, refused.json()) == (401, {"message": "Unauthorized"}), why
        assert "invalid_token" in refused.headers["www-authenticate"], why
    no_scope = requests.get(url, headers={"Authorization": issuer.token(scope="admin")}, timeout=30)
    assert (no_scope.status_code, no_scope.json()) == (403, {"message": "Forbidden"})


def test_lambda_authorizer_with_simple_responses(own_server: Server) -> None:
    own_server.start()
    echo, auth = unique("echo"), unique("simple")
    lam_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{auth}"
    uri = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{lam_arn}/invocations"
    url = build(own_server, {"AuthorizerType": "REQUEST", "IdentitySource": ["$request.header.x-token"],
                             "AuthorizerUri": uri, "AuthorizerPayloadFormatVersion": "2.0",
                             "EnableSimpleResponses": True, "AuthorizerResultTtlInSeconds": 0},
                {"AuthorizationType": "CUSTOM"}, {echo: ECHO, auth: SIMPLE})
    allowed = requests.get(url, headers={"x-token": "open-sesame"}, timeout=30)
    assert allowed.status_code == 200, allowed.text
    context = allowed.json()["lambda"]
    assert context["user"] == "ada" and context["route"].endswith("/live/GET/things")
    denied = requests.get(url, headers={"x-token": "wrong"}, timeout=30)
    assert (denied.status_code, denied.json()) == (403, {"message": "Forbidden"})
    missing = requests.get(url, timeout=30)
    assert (missing.status_code, missing.json()) == (401, {"message": "Unauthorized"})
    failed = requests.get(url, headers={"x-token": "raise"}, timeout=30)
    assert (failed.status_code, failed.json()) == (500, {"message": "Internal Server Error"})


def test_authorizer_management(own_server: Server, issuer: Issuer) -> None:
    own_server.start()
    v2 = boto_client(own_server.base, "apigatewayv2")
    api_id = v2.create_api(Name="m", ProtocolType="HTTP")["ApiId"]
    made = v2.create_authorizer(ApiId=api_id, Name="jwt", AuthorizerType="JWT",
                                IdentitySource=["$request.header.Authorization"],
                                JwtConfiguration={"Issuer": issuer.url, "Audience": ["a"]})
    assert made["AuthorizerType"] == "JWT" and made["JwtConfiguration"]["Audience"] == ["a"]
    assert [a["AuthorizerId"] for a in v2.get_authorizers(ApiId=api_id)["Items"]] == [made["AuthorizerId"]]
    updated = v2.update_authorizer(ApiId=api_id, AuthorizerId=made["AuthorizerId"], Name="renamed")
    assert v2.get_authorizer(ApiId=api_id, AuthorizerId=made["AuthorizerId"])["Name"] == updated["Name"] == "renamed"
    assert error_of(v2.create_authorizer, ApiId=api_id, Name="x", AuthorizerType="JWT",
                    IdentitySource=["$request.header.Authorization"])[:2] == ("BadRequestException", 400)
    v2.delete_authorizer(ApiId=api_id, AuthorizerId=made["AuthorizerId"])
    assert error_of(v2.get_authorizer, ApiId=api_id, AuthorizerId=made["AuthorizerId"])[:2] == (
        "NotFoundException", 404)


SAM_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            IdentitySource: $request.header.Authorization
            JwtConfiguration: {issuer: "%(issuer)s", audience: [partners]}
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Handler: app.handler
      Runtime: python3.11
      Events:
        Get:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /things, Method: get, Auth: {AuthorizationScopes: [read]}}
"""


def test_sam_http_api_auth_with_a_jwt_default_authorizer(own_server: Server, issuer: Issuer,
                                                         tmp_path: Any) -> None:
    from tests.integration.test_cli import cli
    own_server.start()
    (tmp_path / "echo").mkdir()
    (tmp_path / "echo" / "app.py").write_text(ECHO)
    (tmp_path / "template.yaml").write_text(SAM_TEMPLATE % {"issuer": issuer.url})
    done = cli(own_server, "deploy", str(tmp_path), "--stack-name", "jwt")
    assert done.returncode == 0, done.stdout + done.stderr
    url = f"{own_server.base}/things"
    assert requests.get(url, timeout=30).status_code == 401
    assert requests.get(url, headers={"Authorization": issuer.token(scope="admin")}, timeout=30).status_code == 403
    ok = requests.get(url, headers={"Authorization": issuer.token()}, timeout=30)
    assert ok.status_code == 200 and ok.json()["jwt"]["claims"]["sub"] == "ada"
