"""Lambda authorizers of REST APIs (issue 25 item 2) through the real server, on a test clock (the
decision cache expires on it). The authorizer function answers according to the token and counts its
calls in its context (with an id of its instance), so a test can tell whether it was invoked.

AWS's behaviour: reference apigateway-sam.md 1.4 and 7.2; the 409 of CreateAuthorizer on an unknown
API is AWS-recorded (`test_apigateway_api.snapshot.json` TestApiGatewayApiAuthorizer).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.conftest import ROLE, Server, advance, boto_client, error_of, unique, zip_of
from tests.integration.test_gateway_dataplane import lambda_uri, permit

ECHO = '''
import json

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event["requestContext"])}
'''
# token "allow" / "deny" / "only-a" (allows GET /a only) / "raise" / "unauthorized" / "malformed" / "nested"
AUTHORIZER = '''
import uuid

INSTANCE, CALLS = uuid.uuid4().hex, 0

def handler(event, context):
    global CALLS
    CALLS += 1
    token = event.get("authorizationToken") or (event.get("queryStringParameters") or {}).get("token", "")
    if token == "raise":
        raise ValueError("boom")
    if token == "unauthorized":
        raise Exception("Unauthorized")
    if token == "malformed":
        return {"principalId": "x"}
    arn = event["methodArn"]
    resource = arn if token != "only-a" else arn.rsplit("/", 2)[0] + "/GET/a"
    effect = "Deny" if token == "deny" else "Allow"
    context = {"user": "ada", "level": 3, "admin": True, "instance": INSTANCE, "calls": CALLS}
    if token == "nested":
        context = {"bad": {"no": "objects"}}
    return {"principalId": "user-" + token, "usageIdentifierKey": "usage-key-0123456789abcdef",
            "policyDocument": {"Version": "2012-10-17",
                               "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}]},
            "context": context}
'''
DENY = {"Message": "User is not authorized to access this resource with an explicit deny"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("auth") / "home", extra=("--test-clock",))
    server.home.mkdir()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gw(srv: Server):  # type: ignore[no-untyped-def]
    return boto_client(srv.base, "apigateway")


class Functions:
    def __init__(self, srv: Server) -> None:
        lam = boto_client(srv.base)
        self.echo, self.authorizer = unique("echo"), unique("authorizer")
        lam.create_function(FunctionName=self.echo, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                            Code={"ZipFile": zip_of(ECHO)})
        lam.create_function(FunctionName=self.authorizer, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                            Code={"ZipFile": zip_of(AUTHORIZER)})
        for name in (self.echo, self.authorizer):
            lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1})


@pytest.fixture(scope="module")
def fns(srv: Server) -> Functions:
    return Functions(srv)


def call_of(answer: requests.Response) -> tuple[str, str]:
    """(the authorizer's instance, its count of calls) that made the decision behind an allowed answer."""
    assert answer.status_code == 200, answer.text
    authorizer = answer.json()["authorizer"]
    return authorizer["instance"], authorizer["calls"]


class Api:
    """A REST API with GET /a and GET /b behind one authorizer, deployed on `prod`."""

    def __init__(self, srv: Server, gw: Any, fns: Functions, permitted: bool = True, function: str | None = None,
                 **authorizer: Any) -> None:
        self.srv, self.gw = srv, gw
        self.id = gw.create_rest_api(name=unique("authorized"))["id"]
        root = gw.get_resources(restApiId=self.id)["items"][0]["id"]
        settings = {"name": "tokens", "type": "TOKEN", "identitySource": "method.request.header.Authorization",
                    "authorizerUri": lambda_uri(function or fns.authorizer), "authorizerResultTtlInSeconds": 0,
                    **authorizer}
        self.authorizer = gw.create_authorizer(restApiId=self.id, **settings)
        for part in ("a", "b"):
            res = gw.create_resource(restApiId=self.id, parentId=root, pathPart=part)["id"]
            gw.put_method(restApiId=self.id, resourceId=res, httpMethod="GET", authorizationType="CUSTOM",
                          authorizerId=self.authorizer["id"])
            gw.put_integration(restApiId=self.id, resourceId=res, httpMethod="GET", type="AWS_PROXY",
                               integrationHttpMethod="POST", uri=lambda_uri(fns.echo))
        permit(srv.base, self.id, fns.echo)
        if permitted:
            permit(srv.base, self.id, function or fns.authorizer)
        gw.create_deployment(restApiId=self.id, stageName="prod")

    def get(self, path: str = "a", token: str | None = None, **params: str) -> requests.Response:
        headers = {"Authorization": token} if token is not None else {}
        return requests.get(f"{self.srv.base}/restapis/{self.id}/prod/_user_request_/{path}", headers=headers,
                            params=params, timeout=30)


def assert_answer(r: requests.Response, status: int, body: dict[str, Any] | None, error_type: str) -> None:
    assert (r.status_code, r.json() if body is not None else r.text, r.headers.get("x-amzn-ErrorType")) == (
        status, body if body is not None else '{"message": null}', error_type), r.text


# management API -------------------------------------------------------------------------------------
def test_authorizer_lifecycle(gw: Any, srv: Server, fns: Functions) -> None:
    api = Api(srv, gw, fns, authorizerResultTtlInSeconds=300)
    made = api.authorizer
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert {k: made[k] for k in ("name", "type", "identitySource", "authorizerResultTtlInSeconds")} == {
        "name": "tokens", "type": "TOKEN", "identitySource": "method.request.header.Authorization",
        "authorizerResultTtlInSeconds": 300}
    assert gw.get_authorizer(restApiId=api.id, authorizerId=made["id"])["authorizerUri"] == made["authorizerUri"]
    assert [a["id"] for a in gw.get_authorizers(restApiId=api.id)["items"]] == [made["id"]]
    updated = gw.update_authorizer(restApiId=api.id, authorizerId=made["id"], patchOperations=[
        {"op": "replace", "path": "/authorizerResultTtlInSeconds", "value": "60"}])
    assert updated["authorizerResultTtlInSeconds"] == 60
    assert error_of(gw.get_authorizer, restApiId=api.id, authorizerId="nope00")[:2] == ("NotFoundException", 404)
    assert error_of(gw.delete_authorizer, restApiId=api.id, authorizerId=made["id"])[:2] == ("ConflictException", 409)
    # AWS-recorded (test_authorizer_crud_no_api): an unknown API is this 409 for CreateAuthorizer
    assert error_of(gw.create_authorizer, restApiId="nosuchapi1", name="x", type="TOKEN",
                    identitySource="method.request.header.Authorization", authorizerUri=made["authorizerUri"]) == (
        "ConflictException", 409, "Unable to complete operation due to concurrent modification. Please try again "
                                  "later.")
    root = gw.get_resources(restApiId=api.id)["items"][0]["id"]
    assert error_of(gw.put_method, restApiId=api.id, resourceId=root, httpMethod="POST", authorizationType="CUSTOM",
                    authorizerId="nope00")[:2] == ("BadRequestException", 400)


# TOKEN ----------------------------------------------------------------------------------------------
def test_a_token_authorizer_allows_denies_and_needs_a_token(gw: Any, srv: Server, fns: Functions) -> None:
    api = Api(srv, gw, fns)
    allowed = api.get(token="allow")
    assert allowed.status_code == 200, allowed.text
    got = allowed.json()["authorizer"]
    assert {k: got[k] for k in ("principalId", "user", "level", "admin")} == {
        "principalId": "user-allow", "user": "ada", "level": "3", "admin": "true"}
    assert isinstance(got["integrationLatency"], int) and isinstance(got["calls"], str)
    assert_answer(api.get(token="deny"), 403, DENY, "AccessDeniedException")
    assert_answer(api.get(), 401, {"message": "Unauthorized"}, "UnauthorizedException")
    assert_answer(api.get(token="unauthorized"), 401, {"message": "Unauthorized"}, "UnauthorizedException")


def test_a_token_failing_the_validation_expression_is_401_without_invoking(gw: Any, srv: Server,
                                                                          fns: Functions) -> None:
    api = Api(srv, gw, fns, identityValidationExpression="^allow$")
    instance, calls = call_of(api.get(token="allow"))
    assert_answer(api.get(token="allowed-not"), 401, {"message": "Unauthorized"}, "UnauthorizedException")
    assert call_of(api.get(token="allow")) == (instance, str(int(calls) + 1))   # one call between: none for the 401


def test_an_authorizer_that_fails_or_answers_no_policy_is_500(gw: Any, srv: Server, fns: Functions) -> None:
    api = Api(srv, gw, fns)
    for token in ("raise", "malformed", "nested"):
        assert_answer(api.get(token=token), 500, None, "AuthorizerConfigurationException")


def test_an_authorizer_function_missing_or_without_permission_is_500(gw: Any, srv: Server, fns: Functions) -> None:
    unpermitted = Api(srv, gw, fns, permitted=False)
    assert_answer(unpermitted.get(token="allow"), 500, None, "AuthorizerConfigurationException")
    missing = Api(srv, gw, fns, function=unique("gone"))
    assert_answer(missing.get(token="allow"), 500, None, "AuthorizerConfigurationException")


def test_decisions_are_cached_by_token_for_the_ttl_and_checked_per_method(gw: Any, srv: Server,
                                                                        fns: Functions) -> None:
    api = Api(srv, gw, fns, authorizerResultTtlInSeconds=300)
    first = call_of(api.get("a", token="only-a"))
    assert [call_of(api.get("a", token="only-a")) for _ in range(2)] == [first, first]   # cached: not called
    # the cached policy allows GET /a only: GET /b with the same token is refused without a new call
    assert_answer(api.get("b", token="only-a"), 403, {"Message": "User is not authorized to access this resource"},
                  "AccessDeniedException")
    assert call_of(api.get("a", token="only-a")) == first   # still the first decision: /b called nothing
    advance(srv, 301)
    assert call_of(api.get("a", token="only-a")) != first   # the TTL ran out on the server clock


# REQUEST --------------------------------------------------------------------------------------------
def test_a_request_authorizer_reads_its_sources_and_feeds_templates_and_keys(gw: Any, srv: Server,
                                                                            fns: Functions) -> None:
    api = Api(srv, gw, fns, type="REQUEST", identitySource="method.request.querystring.token",
              authorizerResultTtlInSeconds=60)
    assert_answer(api.get(), 401, {"message": "Unauthorized"}, "UnauthorizedException")
    got = requests.get(f"{srv.base}/restapis/{api.id}/prod/_user_request_/a", params={"token": "allow"}, timeout=30)
    assert got.status_code == 200 and got.json()["authorizer"]["principalId"] == "user-allow"
    denied = requests.get(f"{srv.base}/restapis/{api.id}/prod/_user_request_/a", params={"token": "deny"},
                          timeout=30)
    assert_answer(denied, 403, DENY, "AccessDeniedException")


def test_context_reaches_mapping_templates_and_the_key_can_come_from_the_authorizer(gw: Any, srv: Server,
                                                                                  fns: Functions) -> None:
    api = gw.create_rest_api(name=unique("ctx"), apiKeySource="AUTHORIZER")["id"]
    root = gw.get_resources(restApiId=api)["items"][0]["id"]
    authorizer = gw.create_authorizer(restApiId=api, name="t", type="TOKEN", authorizerResultTtlInSeconds=0,
                                      identitySource="method.request.header.Authorization",
                                      authorizerUri=lambda_uri(fns.authorizer))["id"]
    gw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="CUSTOM",
                  authorizerId=authorizer, apiKeyRequired=True)
    gw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK",
                       requestTemplates={"application/json": '{"statusCode": 200}'})
    gw.put_method_response(restApiId=api, resourceId=root, httpMethod="GET", statusCode="200")
    gw.put_integration_response(restApiId=api, resourceId=root, httpMethod="GET", statusCode="200",
                                responseTemplates={"application/json": '{"user": "$context.authorizer.user", '
                                                   '"principal": "$context.authorizer.principalId", '
                                                   '"key": "$context.identity.apiKeyId"}'})
    permit(srv.base, api, fns.authorizer)
    gw.create_deployment(restApiId=api, stageName="prod")
    target = f"{srv.base}/restapis/{api}/prod/_user_request_/"
    # the authorizer's usageIdentifierKey is no key yet: 403
    assert requests.get(target, headers={"Authorization": "allow"}, timeout=30).status_code == 403
    key = gw.create_api_key(name=unique("k"), enabled=True, value="usage-key-0123456789abcdef")
    plan = gw.create_usage_plan(name=unique("plan"), apiStages=[{"apiId": api, "stage": "prod"}])
    gw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    answer = requests.get(target, headers={"Authorization": "allow"}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert json.loads(answer.text) == {"user": "ada", "principal": "user-allow", "key": key["id"]}


def test_test_invoke_authorizer(gw: Any, srv: Server, fns: Functions) -> None:
    api = Api(srv, gw, fns)
    allowed = gw.test_invoke_authorizer(restApiId=api.id, authorizerId=api.authorizer["id"],
                                        headers={"Authorization": "allow"}, pathWithQueryString="/a")
    assert (allowed["clientStatus"], allowed["principalId"]) == (200, "user-allow")
    assert json.loads(allowed["policy"])["Statement"][0]["Effect"] == "Allow"
    missing = gw.test_invoke_authorizer(restApiId=api.id, authorizerId=api.authorizer["id"], headers={})
    assert missing["clientStatus"] == 401
