"""The API Gateway data plane through the real server: APIs built with boto3, called with requests.

One test per feature of issue 11 ("What a user can do" 3 and 4, "Bad input"); AWS's behaviour from
reference apigateway-sam.md sections 1-5 and the traps of section 12. All tests share the session
server and two functions (`tool`, the guide's `addfive`); every API and stage name is unique, since
other modules deploy stages such as `PRD` in several APIs of the same server.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import ROLE, Server, boto_client, unique, zip_of

ACCOUNT = "000000000000"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "addfive"
GUIDE_TEMPLATE = "{\"num\": \"$input.params('num')\"}"
MISSING_TOKEN = {"message": "Missing Authentication Token"}
INTERNAL = {"message": "Internal server error"}

# One function for every Lambda integration. Proxy: the instructions are the JSON request body;
# non-proxy: the event itself. No instruction: echo the event (as a proxy answer under proxy).
TOOL = '''
import json, time

def handler(event, context):
    proxy = isinstance(event, dict) and "requestContext" in event
    spec = event
    if proxy:
        body = event.get("body") or ""
        spec = json.loads(body) if body.startswith("{") else {}
    if not isinstance(spec, dict):
        spec = {}
    time.sleep(spec.get("sleep", 0))
    if "raise" in spec:
        raise LookupError(spec["raise"])
    if "return" in spec:
        return spec["return"]
    return {"statusCode": 200, "body": json.dumps(event)} if proxy else event
'''


def lambda_uri(function: str) -> str:
    return (f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
            f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}/invocations")


@dataclass(frozen=True)
class Functions:
    tool: str
    addfive: str


@pytest.fixture(scope="module")
def gw(server: Server):  # type: ignore[no-untyped-def]
    return boto_client(server.base, "apigateway")


@pytest.fixture(scope="module")
def functions(server: Server) -> Functions:
    lam = boto_client(server.base)
    names = Functions(unique("tool"), unique("addfive"))
    lam.create_function(FunctionName=names.tool, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zip_of(TOOL)}, Timeout=5)
    guide = (EXAMPLES / "lambda_function.py").read_text()
    lam.create_function(FunctionName=names.addfive, Runtime="python3.11", Role=ROLE,
                        Handler="lambda_function.lambda_handler",
                        Code={"ZipFile": zip_of(guide, "lambda_function.py")})
    for name in (names.tool, names.addfive):
        lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    return names


@dataclass
class Api:
    """A REST API under construction: resources by path, created on first mention."""

    gw: Any
    base: str
    id: str
    resources: dict[str, str] = field(default_factory=dict)
    stage: str = ""
    deployment: str = ""

    @classmethod
    def create(cls, gw: Any, server: Server, **kwargs: Any) -> Api:
        api_id = gw.create_rest_api(name=unique("dataplane"), **kwargs)["id"]
        root = gw.get_resources(restApiId=api_id)["items"][0]["id"]
        return cls(gw, server.base, api_id, {"/": root})

    def resource(self, path: str) -> str:
        if path not in self.resources:
            parent, _, part = path.rpartition("/")
            self.resources[path] = self.gw.create_resource(
                restApiId=self.id, parentId=self.resource(parent or "/"), pathPart=part)["id"]
        return self.resources[path]

    def key(self, path: str, verb: str) -> dict[str, str]:
        return {"restApiId": self.id, "resourceId": self.resource(path), "httpMethod": verb}

    def method(self, path: str, verb: str, integration: dict[str, Any],
               responses: dict[str, dict[str, Any]] | None = None, **method: Any) -> None:
        """PutMethod + PutIntegration + a method and integration response per status code."""
        key = self.key(path, verb)
        self.gw.put_method(**key, authorizationType="NONE", **method)
        self.gw.put_integration(**key, **integration)
        if "uri" in integration:
            self.permit(integration["uri"])
        for status, response in (responses or {}).items():
            headers = {target: False for target in response.get("responseParameters", {})}
            self.gw.put_method_response(**key, statusCode=status, responseParameters=headers)
            self.gw.put_integration_response(**key, statusCode=status, **response)

    def permit(self, uri: str) -> None:
        """Let this API invoke the integration's function, as the console does when one picks it."""
        found = re.search(r"function:([A-Za-z0-9_-]+)(?::([A-Za-z0-9_$-]+))?/invocations", uri)
        if found is None:
            return   # a stage variable picks the function: the test permits each itself
        permit(self.base, self.id, found[1], found[2])

    def proxy(self, path: str, verb: str, function: str, **integration: Any) -> None:
        self.method(path, verb, {"type": "AWS_PROXY", "integrationHttpMethod": "POST", "uri": lambda_uri(function),
                                 **integration})

    def mock(self, path: str, verb: str, template: str, **method: Any) -> None:
        """A MOCK answering 200 with the response template `template`."""
        self.method(path, verb, {"type": "MOCK", "requestTemplates": {"application/json": '{"statusCode": 200}'}},
                    {"200": {"responseTemplates": {"application/json": template}}}, **method)

    def deploy(self, stage: str | None = None) -> dict[str, Any]:
        """CreateDeployment by raw HTTP (so the `warnings` member is visible), pointing `stage` at it."""
        self.stage = stage or self.stage or unique("st")
        r = requests.post(f"{self.base}/restapis/{self.id}/deployments", json={"stageName": self.stage}, timeout=10)
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        self.deployment = out["id"]
        return out

    def url(self, path: str = "/") -> str:
        """The short URL `/{stage}/...`."""
        return f"{self.base}/{self.stage}{path}"

    def full_url(self, path: str = "/") -> str:
        return f"{self.base}/restapis/{self.id}/{self.stage}/_user_request_{path}"


def permit(base: str, api_id: str, function: str, qualifier: str | None = None) -> None:
    """add_permission for API `api_id` on `function` (or its alias/version `qualifier`)."""
    from botocore.exceptions import ClientError
    lam = boto_client(base)
    extra = {"Qualifier": qualifier} if qualifier else {}
    try:
        lam.add_permission(FunctionName=function, StatementId=f"apigw-{api_id}", Action="lambda:InvokeFunction",
                           Principal="apigateway.amazonaws.com",
                           SourceArn=f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/*", **extra)
    except ClientError as e:   # already permitted, or no such function (its integration answers 500 anyway)
        if e.response["Error"]["Code"] not in ("ResourceConflictException", "ResourceNotFoundException"):
            raise


def assert_gateway_error(r: requests.Response, status: int, body: dict[str, Any], error_type: str) -> None:
    assert (r.status_code, r.json()) == (status, body), r.text
    assert r.headers["x-amzn-ErrorType"] == error_type
    assert r.headers["Content-Type"] == "application/json"
    assert re.fullmatch(r"[0-9a-f-]{36}", r.headers["x-amzn-RequestId"])


def raw_request(url: str, method: str = "GET", headers: Sequence[tuple[str, str]] = (),
                body: bytes | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request exactly as written (repeated headers, untouched path): status, headers, body."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        conn.putrequest(method, parts.path + (f"?{parts.query}" if parts.query else ""), skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def echo(url: str, method: str = "GET", headers: Sequence[tuple[str, str]] = (),
         body: bytes | None = None) -> dict[str, Any]:
    """The proxy event the `tool` function received, as it echoes it back."""
    status, _, out = raw_request(url, method, headers, body)
    assert status == 200, out
    event: dict[str, Any] = json.loads(out)
    return event


def still_serving(api: Api, path: str = "/ok") -> None:
    """After a bad case: the server answers the same stage's healthy route."""
    r = requests.get(api.url(path), timeout=10)
    assert r.status_code == 200, r.text


ROUTE_TEMPLATE = ('{"resource": "$context.resourcePath", "verb": "$context.httpMethod", '
                  "\"id\": \"$input.params('id')\", \"proxy\": \"$input.params('proxy')\"}")


def route(api: Api, method: str, path: str) -> dict[str, str] | int:
    """Which resource served `method path` (its template echoes it), or the error status."""
    r = requests.request(method, api.url(path), timeout=10)
    if r.status_code != 200:
        assert r.json() == MISSING_TOKEN and r.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
        return r.status_code
    out: dict[str, str] = r.json()
    return out


# ---- routing ------------------------------------------------------------------------------------

def test_path_parameters_greedy_proxy_and_most_specific_first(server: Server, gw: Any) -> None:
    api = Api.create(gw, server)
    for path in ("/items", "/items/{id}", "/items/special", "/items/{id}/{proxy+}", "/{proxy+}"):
        api.mock(path, "ANY" if "proxy" in path else "GET", ROUTE_TEMPLATE)
    api.deploy()
    assert route(api, "GET", "/items") == {"resource": "/items", "verb": "GET", "id": "", "proxy": ""}
    assert route(api, "GET", "/items/42") == {"resource": "/items/{id}", "verb": "GET", "id": "42", "proxy": ""}
    assert route(api, "GET", "/items/special")["resource"] == "/items/special"  # type: ignore[index]
    assert route(api, "GET", "/items/42/a/b/c") == {
        "resource": "/items/{id}/{proxy+}", "verb": "GET", "id": "42", "proxy": "a/b/c"}
    assert route(api, "PATCH", "/else/where") == {
        "resource": "/{proxy+}", "verb": "PATCH", "id": "", "proxy": "else/where"}
    assert route(api, "GET", "/") == 403  # {proxy+} needs one segment; the root has no method


def test_any_stands_for_the_seven_verbs_and_a_concrete_verb_wins(server: Server, gw: Any) -> None:
    api = Api.create(gw, server)
    api.mock("/thing", "ANY", '{"by": "ANY", "verb": "$context.httpMethod"}')
    api.mock("/thing", "POST", '{"by": "POST", "verb": "$context.httpMethod"}')
    api.mock("/get-only", "GET", '{"by": "GET"}')
    api.deploy()
    for verb in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS"):
        r = requests.request(verb, api.url("/thing"), timeout=10)
        assert (r.status_code, r.json()) == (200, {"by": "ANY", "verb": verb})
    assert requests.post(api.url("/thing"), timeout=10).json() == {"by": "POST", "verb": "POST"}
    assert requests.head(api.url("/thing"), timeout=10).status_code == 200
    # No HEAD-for-GET, no automatic OPTIONS (trap 2).
    assert requests.head(api.url("/get-only"), timeout=10).status_code == 403
    assert route(api, "OPTIONS", "/get-only") == 403


def test_resolution_is_on_the_resource_and_method_pair(server: Server, gw: Any) -> None:
    # The AWS-validated trees of reference 1.2 rule 4.
    api = Api.create(gw, server)
    api.mock("/test", "POST", ROUTE_TEMPLATE)
    api.mock("/test/any", "ANY", ROUTE_TEMPLATE)
    api.mock("/{proxy+}", "OPTIONS", ROUTE_TEMPLATE)
    api.mock("/jobs/{id}", "GET", ROUTE_TEMPLATE)   # /jobs itself is a method-less intermediate resource
    api.deploy()
    assert route(api, "OPTIONS", "/test")["resource"] == "/{proxy+}"  # type: ignore[index]
    assert route(api, "POST", "/test")["resource"] == "/test"  # type: ignore[index]
    assert route(api, "OPTIONS", "/test/any")["resource"] == "/test/any"  # type: ignore[index]
    assert route(api, "GET", "/test/any")["resource"] == "/test/any"  # type: ignore[index]
    assert route(api, "GET", "/jobs/reboot") == {"resource": "/jobs/{id}", "verb": "GET", "id": "reboot", "proxy": ""}
    assert route(api, "OPTIONS", "/jobs")["resource"] == "/{proxy+}"  # type: ignore[index]
    assert route(api, "GET", "/jobs") == 403
    assert route(api, "GET", "/test") == 403


def test_trailing_slash_and_raw_paths(server: Server, gw: Any, functions: Functions) -> None:
    api = Api.create(gw, server)
    api.proxy("/hello", "GET", functions.tool)
    api.proxy("/files/{proxy+}", "ANY", functions.tool)
    api.deploy()
    event = echo(api.url("/hello/"))
    assert (event["resource"], event["path"], event["pathParameters"]) == ("/hello", "/hello/", None)
    event = echo(api.url("/files/a//b/"))  # double slashes kept, the trailing slash off the greedy value
    assert (event["path"], event["pathParameters"]) == ("/files/a//b/", {"proxy": "a//b"})
    event = echo(api.url("/files/test%2Balias@x.com?q=a%2Bb+c"))  # the path stays encoded, the query not
    assert event["path"] == "/files/test%2Balias@x.com"
    assert event["pathParameters"] == {"proxy": "test%2Balias@x.com"}
    assert event["queryStringParameters"] == {"q": "a+b c"}


def test_no_route_wrong_verb_and_unknown_stage_are_403_missing_authentication_token(server: Server, gw: Any) -> None:
    api = Api.create(gw, server)
    api.mock("/known", "GET", '{"known": true}')
    api.deploy()
    assert requests.get(api.url("/known"), timeout=10).json() == {"known": True}
    token = "MissingAuthenticationTokenException"
    for method, url in [("GET", api.url("/unknown")),
                        ("POST", api.url("/known")),
                        ("GET", api.url("/")),
                        ("GET", api.full_url("/unknown")),
                        ("GET", f"{server.base}/restapis/{api.id}/{unique('nostage')}/_user_request_/known"),
                        ("GET", f"{server.base}/restapis/nosuchapi0/{api.stage}/_user_request_/known"),
                        ("GET", f"{server.base}/{unique('nostage')}/known"),
                        ("DELETE", f"{server.base}/")]:
        r = requests.request(method, url, timeout=10)
        assert_gateway_error(r, 403, MISSING_TOKEN, token)
        assert r.text == '{"message":"Missing Authentication Token"}'  # AWS's bytes: no space (reference 1.4)


def test_full_and_short_urls_and_a_stage_name_in_two_apis(server: Server, gw: Any) -> None:
    first, second = Api.create(gw, server), Api.create(gw, server)
    first.mock("/who", "GET", '{"api": "first"}')
    first.mock("/", "GET", '{"root": "$context.resourcePath"}')
    second.mock("/who", "GET", '{"api": "second"}')
    first.deploy()
    assert requests.get(first.url("/who"), timeout=10).json() == {"api": "first"}
    assert requests.get(first.full_url("/who"), timeout=10).json() == {"api": "first"}
    for root in (first.url(""), first.url("/"), first.full_url(""), first.full_url("/")):
        assert requests.get(root, timeout=10).json() == {"root": "/"}, root
    second.deploy(first.stage)
    assert requests.get(second.full_url("/who"), timeout=10).json() == {"api": "second"}
    assert requests.get(first.full_url("/who"), timeout=10).json() == {"api": "first"}
    # The short URL that worked keeps working: it stays the first API's (issue 22, item 5).
    assert requests.get(first.url("/who"), timeout=10).json() == {"api": "first"}
    first.deploy()   # a new deployment to the same stage keeps it too
    assert requests.get(first.url("/who"), timeout=10).json() == {"api": "first"}
    gw.delete_stage(restApiId=second.id, stageName=second.stage)
    assert requests.get(first.url("/who"), timeout=10).json() == {"api": "first"}
    assert requests.get(second.full_url("/who"), timeout=10).status_code == 403
    second.deploy(first.stage)
    gw.delete_rest_api(restApiId=first.id)   # the owner goes: the short form passes to the other
    assert requests.get(first.url("/who"), timeout=10).json() == {"api": "second"}
    assert requests.get(first.full_url("/who"), timeout=10).status_code == 403
    gw.delete_rest_api(restApiId=second.id)
    assert_gateway_error(requests.get(second.url("/who"), timeout=10), 403, MISSING_TOKEN,
                         "MissingAuthenticationTokenException")


# ---- AWS_PROXY ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def proxy_api(server: Server, gw: Any, functions: Functions) -> Api:
    """Lambda proxy routes over `tool`; binary media type image/png."""
    api = Api.create(gw, server, binaryMediaTypes=["image/png"])
    api.proxy("/items/{id}", "ANY", functions.tool)
    api.proxy("/answer", "POST", functions.tool)
    api.mock("/ok", "GET", '{"ok": true}')
    api.deploy()
    return api


def test_the_proxy_event_in_full(proxy_api: Api, gw: Any) -> None:
    api = proxy_api
    headers = [("Content-Type", "application/json"), ("X-Trace", "one"), ("X-Trace", "two"),
               ("tEsT-HEADeR", "v"), ("user-agent", "curl/8.5.0"), ("Accept", "*/*")]
    before = int(time.time() * 1000)
    status, answer_headers, raw = raw_request(api.url("/items/42?tag=a&flag&tag=b&q=x%2By"), "POST", headers,
                                              b'{"name": "widget"}')
    assert status == 200, raw
    event = json.loads(raw)
    assert set(event) == {"resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
                          "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext",
                          "body", "isBase64Encoded"}
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/items/{id}", "/items/42", "POST")
    host = urlsplit(api.base).netloc
    assert event["headers"] == {"Host": host, "Content-Type": "application/json", "X-Trace": "two",
                                "tEsT-HEADeR": "v", "User-Agent": "curl/8.5.0", "Accept": "*/*"}
    assert event["multiValueHeaders"] == {"Host": [host], "Content-Type": ["application/json"],
                                          "X-Trace": ["one", "two"], "tEsT-HEADeR": ["v"],
                                          "User-Agent": ["curl/8.5.0"], "Accept": ["*/*"]}
    assert event["queryStringParameters"] == {"tag": "b", "flag": "", "q": "x+y"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "flag": [""], "q": ["x+y"]}
    assert event["pathParameters"] == {"id": "42"}
    assert event["stageVariables"] is None
    assert (event["body"], event["isBase64Encoded"]) == ('{"name": "widget"}', False)
    context = event["requestContext"]
    assert set(context) == {"resourceId", "resourcePath", "httpMethod", "extendedRequestId", "requestTime", "path",
                            "accountId", "protocol", "stage", "domainPrefix", "requestTimeEpoch", "requestId",
                            "identity", "domainName", "deploymentId", "apiId"}  # no authorizer without one
    assert context["resourceId"] == api.resources["/items/{id}"]
    assert (context["resourcePath"], context["httpMethod"], context["path"]) == (
        "/items/{id}", "POST", f"/{api.stage}/items/42")
    assert (context["accountId"], context["protocol"], context["stage"]) == (ACCOUNT, "HTTP/1.1", api.stage)
    assert (context["apiId"], context["deploymentId"], context["domainName"]) == (api.id, api.deployment, host)
    assert context["domainPrefix"] == "127"
    assert context["requestId"] == dict(answer_headers)["x-amzn-requestid"]
    assert before <= context["requestTimeEpoch"] <= int(time.time() * 1000)
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", context["requestTime"])
    assert isinstance(context["extendedRequestId"], str) and context["extendedRequestId"]
    identity = context["identity"]
    assert (identity["sourceIp"], identity["userAgent"]) == ("127.0.0.1", "curl/8.5.0")
    assert {k: v for k, v in identity.items() if k not in ("sourceIp", "userAgent")} == dict.fromkeys(
        ("cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller", "principalOrgId", "accessKey",
         "cognitoAuthenticationType", "cognitoAuthenticationProvider", "userArn", "user"))
    # The full URL gives the same event; a bare GET has null query maps and a null body.
    event = echo(api.full_url("/items/7"))
    assert (event["resource"], event["path"], event["requestContext"]["path"]) == (
        "/items/{id}", "/items/7", f"/{api.stage}/items/7")
    assert (event["queryStringParameters"], event["multiValueQueryStringParameters"]) == (None, None)
    assert (event["body"], event["isBase64Encoded"], event["httpMethod"]) == (None, False, "GET")


def test_stage_variables_reach_the_event_without_a_new_deployment(server: Server, gw: Any,
                                                                 functions: Functions) -> None:
    # Variables belong to the stage, not to the deployment (reference 1.3): no redeployment needed.
    api = Api.create(gw, server)
    api.proxy("/vars", "GET", functions.tool)
    api.deploy()
    assert echo(api.url("/vars"))["stageVariables"] is None
    gw.update_stage(restApiId=api.id, stageName=api.stage, patchOperations=[
        {"op": "replace", "path": "/variables/color", "value": "blue"}])
    assert echo(api.url("/vars"))["stageVariables"] == {"color": "blue"}
    assert gw.get_stage(restApiId=api.id, stageName=api.stage)["deploymentId"] == api.deployment


def test_a_stage_variable_in_the_integration_uri_picks_the_function_per_stage(server: Server, gw: Any,
                                                                             functions: Functions) -> None:
    """`${stageVariables.fn}` in the Lambda URI is resolved when the stage is compiled (CreateDeployment,
    CreateStage, UpdateStage), not per request: two stages of one deployment call two functions."""
    api = Api.create(gw, server)
    api.proxy("/who", "GET", "${stageVariables.fn}")
    api.deploy()
    for function in (functions.tool, functions.addfive):   # each function a stage may pick lets the API in
        permit(server.base, api.id, function)
    gw.update_stage(restApiId=api.id, stageName=api.stage, patchOperations=[
        {"op": "replace", "path": "/variables/fn", "value": functions.tool}])
    assert echo(api.full_url("/who"))["resource"] == "/who"            # the tool echoes the proxy event
    other = unique("other")
    gw.create_stage(restApiId=api.id, stageName=other, deploymentId=api.deployment,
                    variables={"fn": functions.addfive})
    r = requests.get(f"{server.base}/restapis/{api.id}/{other}/_user_request_/who", timeout=10)
    assert_gateway_error(r, 502, INTERNAL, "InternalServerErrorException")   # addfive's answer is no proxy answer
    gw.update_stage(restApiId=api.id, stageName=api.stage, patchOperations=[
        {"op": "remove", "path": "/variables/fn"}])
    r = requests.get(api.full_url("/who"), timeout=10)                 # no such function now: 500
    assert_gateway_error(r, 500, INTERNAL, "InternalServerErrorException")


def test_binary_request_bodies_arrive_base64(proxy_api: Api) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    event = echo(proxy_api.url("/items/1"), "POST", [("Content-Type", "image/png")], png)
    assert (event["body"], event["isBase64Encoded"]) == (base64.b64encode(png).decode(), True)
    event = echo(proxy_api.url("/items/1"), "POST", [("Content-Type", "text/plain")], "caf\u00e9".encode())
    assert (event["body"], event["isBase64Encoded"]) == ("caf\u00e9", False)


def answer(api: Api, returned: Any, accept: str | None = None) -> requests.Response:
    """What the client gets when the proxy function returns `returned`."""
    headers = {"Accept": accept} if accept else {}
    return requests.post(api.url("/answer"), json={"return": returned}, headers=headers, timeout=10)


def test_proxy_response_rules(proxy_api: Api) -> None:
    r = answer(proxy_api, {"statusCode": 201, "headers": {"X-Flag": True, "Content-Type": "text/plain"},
                           "multiValueHeaders": {"Set-Cookie": ["a=1; Path=/", "b=2; Path=/"]}, "body": "hi"})
    assert (r.status_code, r.text, r.headers["Content-Type"], r.headers["X-Flag"]) == (201, "hi", "text/plain", "true")
    assert r.raw.headers.getlist("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert re.fullmatch(r"[0-9a-f-]{36}", r.headers["x-amzn-RequestId"])
    r = answer(proxy_api, {"statusCode": "202"})
    assert (r.status_code, r.text, r.headers["Content-Type"]) == (202, "", "application/json")
    r = answer(proxy_api, {"headers": {"test-multi": "value-solo"},
                           "multiValueHeaders": {"test-multi": ["value-multi"]}, "body": "<p>not json</p>"})
    assert (r.status_code, r.text, r.headers["test-multi"]) == (200, "<p>not json</p>", "value-multi, value-solo")
    assert r.headers["Content-Type"] == "application/json"  # the default even for a body that is not JSON
    r = answer(proxy_api, {"statusCode": 200, "headers": None, "body": None})
    assert (r.status_code, r.text) == (200, "")
    # The function's Date, Server, Content-Length and Connection go out renamed, never doubled (trap 30).
    r = answer(proxy_api, {"headers": {"Server": "mine", "Date": "then", "Content-Length": "999"}, "body": "abc"})
    assert (r.status_code, r.text, r.headers["Content-Length"]) == (200, "abc", "3")
    assert r.headers["x-amzn-Remapped-Server"] == "mine" and "mine" not in r.headers["Server"]
    assert (r.headers["x-amzn-Remapped-Date"], r.headers["x-amzn-Remapped-Content-Length"]) == ("then", "999")
    assert "then" not in r.headers["Date"]


def test_base64_bodies_are_decoded_only_for_a_binary_accept(proxy_api: Api) -> None:
    returned = {"statusCode": 200, "headers": {"Content-Type": "image/png"}, "body": "dGVzdC1kYXRh",
                "isBase64Encoded": True}
    assert answer(proxy_api, returned, accept="image/png").content == b"test-data"
    assert answer(proxy_api, returned, accept="image/png, text/html").content == b"test-data"
    assert answer(proxy_api, returned, accept="text/html, image/png").text == "dGVzdC1kYXRh"  # only the first counts
    assert answer(proxy_api, returned).text == "dGVzdC1kYXRh"
    assert answer(proxy_api, {**returned, "isBase64Encoded": False}, accept="image/png").text == "dGVzdC1kYXRh"


@pytest.mark.parametrize("returned", [
    "justAString",                                   # not a JSON object (AWS-validated)
    ["a", "list"],
    7,
    None,
    {"statusCode": 200, "wrongValue": "value"},      # an extra top-level key (AWS-validated)
    {"statusCode": "test"},                          # a non-numeric status (AWS-validated)
    {"multiValueHeaders": {"a": "not-a-list"}},      # AWS-validated
    {"statusCode": 200, "body": {"an": "object"}},   # a body that is not a string
    {"statusCode": 200, "cookies": ["a=1"]},         # a 2.0-only member
])
def test_malformed_proxy_answers_are_502(proxy_api: Api, returned: Any) -> None:
    assert_gateway_error(answer(proxy_api, returned), 502, INTERNAL, "InternalServerErrorException")
    still_serving(proxy_api)


def test_a_proxy_answer_without_status_code_is_200(proxy_api: Api) -> None:
    r = answer(proxy_api, {"headers": {"X-Only": "headers"}})
    assert (r.status_code, r.headers["X-Only"], r.text) == (200, "headers", "")


def test_a_raising_proxy_function_is_502(proxy_api: Api) -> None:
    r = requests.post(proxy_api.url("/answer"), json={"raise": "boom"}, timeout=10)
    assert_gateway_error(r, 502, INTERNAL, "InternalServerErrorException")
    assert r.text == '{"message": "Internal server error"}'
    assert "boom" not in r.text
    still_serving(proxy_api)


# ---- AWS (non-proxy) ----------------------------------------------------------------------------

def test_the_guides_api(server: Server, gw: Any, functions: Functions) -> None:
    api = Api.create(gw, server)
    api.method("/addfive", "GET", {"type": "AWS", "integrationHttpMethod": "POST", "uri": lambda_uri(functions.addfive),
                                   "requestTemplates": {"application/json": GUIDE_TEMPLATE},
                                   "passthroughBehavior": "WHEN_NO_TEMPLATES"},
               {"200": {}}, requestParameters={"method.request.querystring.num": False})
    api.deploy()
    assert requests.get(api.url("/addfive"), params={"num": "5"}, timeout=10).text == "10"
    r = requests.get(api.url("/addfive"), params={"num": "test"}, timeout=10)
    assert (r.status_code, r.text, r.headers["Content-Type"]) == (200, "0", "application/json")
    assert requests.get(api.url("/addfive"), timeout=10).text == "0"  # no validator: no num is fine
    assert requests.get(api.full_url("/addfive"), params={"num": "-7"}, timeout=10).text == "-2"


def aws_integration(function: str, **extra: Any) -> dict[str, Any]:
    return {"type": "AWS", "integrationHttpMethod": "POST", "uri": lambda_uri(function), **extra}


@pytest.fixture(scope="module")
def custom_api(server: Server, gw: Any, functions: Functions) -> Api:
    """Non-proxy Lambda routes over `tool` (which echoes the event it gets)."""
    api = Api.create(gw, server)
    json_only = {"application/json": '{"via": "template"}'}
    api.method("/select", "POST", aws_integration(functions.tool, requestTemplates={
        "application/json": "{\"kind\": \"json\", \"v\": $input.json('$.v')}",
        "application/xml": '{"kind": "xml", "raw": "$util.escapeJavaScript($input.body)"}'}), {"200": {}})
    for path, behaviour, templates in [("/match", "WHEN_NO_MATCH", json_only),
                                       ("/templates", "WHEN_NO_TEMPLATES", json_only),
                                       ("/never", "NEVER", json_only),
                                       ("/bare-templates", "WHEN_NO_TEMPLATES", {}),
                                       ("/bare-never", "NEVER", {})]:
        integration = aws_integration(functions.tool, passthroughBehavior=behaviour)
        if templates:
            integration["requestTemplates"] = templates
        api.method(path, "POST", integration, {"200": {}})
    api.method("/errors", "POST", aws_integration(functions.tool), {
        "200": {},
        "404": {"selectionPattern": ".*not found.*",
                "responseTemplates": {"application/json": "{\"error\": \"$input.path('$.errorMessage')\"}"},
                "responseParameters": {"method.response.header.X-Static": "'value'",
                                       "method.response.header.X-Type": "integration.response.body.errorType"}},
        "400": {"selectionPattern": "Bad.*"}})
    api.method("/no-default", "POST", aws_integration(functions.tool), {"404": {"selectionPattern": ".*not found.*"}})
    api.method("/override", "POST", aws_integration(functions.tool), {"200": {"responseTemplates": {
        "application/json": '#set($context.responseOverride.status = 418)'
                            '#set($context.responseOverride.header.X-Over = "yes")'
                            '{"got": $input.json(\'$.n\')}'}}})
    api.mock("/ok", "GET", '{"ok": true}')
    api.deploy()
    return api


def post(api: Api, path: str, body: str | bytes = b"", content_type: str | None = None) -> requests.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    return requests.post(api.url(path), data=body, headers=headers, timeout=10)


def test_request_template_selected_by_content_type(custom_api: Api) -> None:
    assert post(custom_api, "/select", '{"v": [1]}', "application/json").json() == {"kind": "json", "v": [1]}
    assert post(custom_api, "/select", '{"v": 2}', "application/json; charset=utf-8").json() == {
        "kind": "json", "v": 2}
    assert post(custom_api, "/select", '{"v": 3}').json() == {"kind": "json", "v": 3}  # none means JSON
    assert post(custom_api, "/select", "<v a=\"1\"/>", "application/xml").json() == {
        "kind": "xml", "raw": "<v a=\"1\"/>"}
    # No template for text/plain, WHEN_NO_MATCH (the default): the body goes through untransformed.
    assert post(custom_api, "/select", '{"plain": true}', "text/plain").json() == {"plain": True}


@pytest.mark.parametrize(("path", "json_answer", "plain_answer"), [
    ("/match", {"via": "template"}, {"via": "passthrough"}),
    ("/templates", {"via": "template"}, 415),
    ("/never", {"via": "template"}, 415),
    ("/bare-templates", {"via": "passthrough"}, {"via": "passthrough"}),
    ("/bare-never", 415, 415),
])
def test_passthrough_behaviours(custom_api: Api, path: str, json_answer: Any, plain_answer: Any) -> None:
    for content_type, expected in (("application/json", json_answer), ("text/plain", plain_answer)):
        r = post(custom_api, path, '{"via": "passthrough"}', content_type)
        if expected == 415:
            assert (r.status_code, r.json()) == (415, {"message": "Unsupported Media Type"}), (content_type, r.text)
            assert r.headers["x-amzn-ErrorType"]
        else:
            assert (r.status_code, r.json()) == (200, expected), (content_type, r.text)


def test_integration_responses_selected_by_the_lambda_error_message(custom_api: Api) -> None:
    r = post(custom_api, "/errors", '{"return": {"ok": 1}}')
    assert (r.status_code, r.json()) == (200, {"ok": 1})
    assert "X-Static" not in r.headers
    r = post(custom_api, "/errors", '{"raise": "Item 7 not found"}')
    assert (r.status_code, r.json()) == (404, {"error": "Item 7 not found"})
    assert (r.headers["X-Static"], r.headers["X-Type"], r.headers["Content-Type"]) == (
        "value", "LookupError", "application/json")
    assert post(custom_api, "/errors", '{"raise": "Bad input"}').status_code == 400
    # Whole-string match: "Really Bad input" is not "Bad.*"; then the default answers with the error as body.
    r = post(custom_api, "/errors", '{"raise": "Really Bad input"}')
    assert r.status_code == 200
    assert r.json()["errorMessage"] == "Really Bad input" and r.json()["errorType"] == "LookupError"
    # Nothing matches and there is no default response: a configuration error.
    assert post(custom_api, "/no-default", '{"raise": "Item 8 not found"}').status_code == 404
    assert_gateway_error(post(custom_api, "/no-default", '{"return": 1}'), 500, INTERNAL,
                         "InternalServerErrorException")


def test_response_override_status_and_header(custom_api: Api) -> None:
    r = post(custom_api, "/override", '{"n": 5}')
    assert (r.status_code, r.json(), r.headers["X-Over"]) == (418, {"got": 5}, "yes")


# ---- validation ---------------------------------------------------------------------------------

def test_method_request_validation_with_a_validator_and_none_without(server: Server, gw: Any) -> None:
    api = Api.create(gw, server)
    schema = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object", "required": ["name"],
              "properties": {"name": {"type": "string"}}}
    gw.create_model(restApiId=api.id, name="Thing", contentType="application/json", schema=json.dumps(schema))
    both = gw.create_request_validator(restApiId=api.id, name="both", validateRequestParameters=True,
                                       validateRequestBody=True)["id"]
    params = gw.create_request_validator(restApiId=api.id, name="params", validateRequestParameters=True)["id"]
    declared = {"requestParameters": {"method.request.querystring.q": True, "method.request.header.X-Key": True},
                "requestModels": {"application/json": "Thing"}}
    api.mock("/validated", "POST", '{"passed": true}', requestValidatorId=both, **declared)
    api.mock("/params-only", "POST", '{"passed": true}', requestValidatorId=params, **declared)
    api.mock("/unvalidated", "POST", '{"passed": true}', **declared)
    api.deploy()

    def call(path: str, query: str = "", key: str | None = None, body: str = "{}") -> requests.Response:
        headers = {"Content-Type": "application/json", **({"x-key": key} if key is not None else {})}
        return requests.post(api.url(path) + query, data=body, headers=headers, timeout=10)

    assert_gateway_error(call("/validated"), 400, {"message": "Missing required request parameters: [X-Key, q]"},
                         "BadRequestException")
    assert call("/validated", "?q=", "k").json() == {"message": "Missing required request parameters: [q]"}
    assert call("/validated", "?q=1", "").json() == {"message": "Missing required request parameters: [X-Key]"}
    for bad in ('{"name": 5}', "{}", "not json", "[]"):
        assert_gateway_error(call("/validated", "?q=1", "k", bad), 400, {"message": "Invalid request body"},
                             "BadRequestException")
    assert call("/validated", "?q=1", "k", '{"name": "a"}').json() == {"passed": True}
    assert call("/params-only", "?q=1", "k", "not json").json() == {"passed": True}
    assert call("/params-only").json()["message"].startswith("Missing required request parameters")
    assert call("/unvalidated", body="not json").json() == {"passed": True}


# ---- MOCK ---------------------------------------------------------------------------------------

def test_mock_status_from_the_request_template_and_response_templates(server: Server, gw: Any) -> None:
    api = Api.create(gw, server)
    request_template = ("#if($input.params('code') == \"404\"){\"statusCode\": 404}"
                        "#else{statusCode: 200}#end")  # the second form is what CDK and SAM write
    api.method("/mock", "GET", {"type": "MOCK", "requestTemplates": {"application/json": request_template}}, {
        "200": {"responseTemplates": {"application/json": "{\"hello\": \"$input.params('who')\"}",
                                      "text/plain": "hello $input.params('who')"},
                "responseParameters": {"method.response.header.Access-Control-Allow-Origin": "'*'"}},
        "404": {"selectionPattern": "404", "responseTemplates": {"text/plain": "nobody home"}}})
    api.deploy()
    r = requests.get(api.url("/mock"), params={"who": "world"}, timeout=10)
    assert (r.status_code, r.json(), r.headers["Access-Control-Allow-Origin"]) == (200, {"hello": "world"}, "*")
    assert "X-Amzn-Trace-Id" not in r.headers
    r = requests.get(api.url("/mock"), params={"who": "you"}, headers={"Accept": "text/plain"}, timeout=10)
    assert (r.status_code, r.text, r.headers["Content-Type"]) == (200, "hello you", "text/plain")
    r = requests.get(api.url("/mock"), params={"code": "404"}, timeout=10)
    assert (r.status_code, r.text, r.headers["Content-Type"]) == (404, "nobody home", "text/plain")


# ---- broken configurations ----------------------------------------------------------------------

def test_a_vtl_syntax_error_warns_at_deployment_and_answers_500(server: Server, gw: Any, functions: Functions) -> None:
    api = Api.create(gw, server)
    broken = '{"num": #if($input.params("num")}'
    api.method("/broken", "GET", aws_integration(functions.tool, requestTemplates={"application/json": broken}),
               {"200": {}})
    api.mock("/broken-response", "GET", '{"a": #if($input.params("a"))1}')  # no #end
    api.mock("/ok", "GET", '{"ok": true}')
    deployment = api.deploy()
    assert len(deployment["warnings"]) == 2, deployment
    assert any("GET /broken " in w for w in deployment["warnings"])
    for path in ("/broken", "/broken-response"):
        assert_gateway_error(requests.get(api.url(path), timeout=10), 500, INTERNAL, "InternalServerErrorException")
        still_serving(api)


def test_an_integration_to_a_missing_function_answers_500(server: Server, gw: Any) -> None:
    api = Api.create(gw, server)
    ghost = unique("ghost")
    api.proxy("/ghost", "GET", ghost)  # accepted, as on AWS
    api.method("/ghost-custom", "GET", aws_integration(ghost), {"200": {}})
    api.mock("/ok", "GET", '{"ok": true}')
    api.deploy()
    for path in ("/ghost", "/ghost-custom"):
        assert_gateway_error(requests.get(api.url(path), timeout=10), 500, INTERNAL, "InternalServerErrorException")
        still_serving(api)


def test_a_lambda_integration_method_other_than_post_answers_500(server: Server, gw: Any,
                                                                 functions: Functions) -> None:
    api = Api.create(gw, server)
    api.proxy("/get-integration", "GET", functions.tool, integrationHttpMethod="GET")  # AWS-validated: 500
    api.mock("/ok", "GET", '{"ok": true}')
    api.deploy()
    assert_gateway_error(requests.get(api.url("/get-integration"), timeout=10), 500, INTERNAL,
                         "InternalServerErrorException")
    still_serving(api)


def test_an_integration_timeout_is_504(server: Server, gw: Any, functions: Functions) -> None:
    api = Api.create(gw, server)
    api.proxy("/slow", "POST", functions.tool, timeoutInMillis=300)
    api.method("/slow-custom", "POST", aws_integration(functions.tool, timeoutInMillis=300), {"200": {}})
    api.proxy("/fast", "POST", functions.tool)
    api.mock("/ok", "GET", '{"ok": true}')
    api.deploy()
    started = time.monotonic()
    for path in ("/slow", "/slow-custom"):
        r = requests.post(api.url(path), json={"sleep": 0.8, "return": {"statusCode": 200}}, timeout=10)
        assert_gateway_error(r, 504, {"message": "Endpoint request timed out"}, r.headers["x-amzn-ErrorType"])
        assert r.text == '{"message": "Endpoint request timed out"}'
        still_serving(api)
    assert time.monotonic() - started < 1.2   # answered at the integration timeout, not the function's end
    time.sleep(max(0.0, started + 1.8 - time.monotonic()))  # the abandoned invocations are over by now
    for n in range(4):   # instances freed after an abandoned call answer their own invocation
        r = requests.post(api.url("/fast"), json={"return": {"statusCode": 200, "body": f"quick {n}"}}, timeout=10)
        assert (r.status_code, r.text) == (200, f"quick {n}")
    # the abandoned invocations are still on record (written in batches: poll briefly)
    deadline = time.monotonic() + 5
    while True:
        records = requests.get(f"{server.base}/_lambdalite/invocations", params={"function": functions.tool},
                               timeout=10).json()["invocations"]
        if sum(r["errorType"] == "Caller.Abandoned" for r in records) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert sum(r["errorType"] == "Caller.Abandoned" for r in records) >= 2


def test_a_deployment_is_a_snapshot_of_what_is_served(server: Server, gw: Any) -> None:
    api = Api.create(gw, server)
    api.mock("/version", "GET", '{"version": 1}')
    api.deploy()
    assert requests.get(api.url("/version"), timeout=10).json() == {"version": 1}
    gw.put_integration_response(**api.key("/version", "GET"), statusCode="200",
                                responseTemplates={"application/json": '{"version": 2}'})
    api.mock("/added", "GET", '{"added": true}')
    assert requests.get(api.url("/version"), timeout=10).json() == {"version": 1}
    assert requests.get(api.url("/added"), timeout=10).status_code == 403
    api.deploy()
    assert requests.get(api.url("/version"), timeout=10).json() == {"version": 2}
    assert requests.get(api.url("/added"), timeout=10).json() == {"added": True}
    gw.delete_method(**api.key("/version", "GET"))
    assert requests.get(api.url("/version"), timeout=10).json() == {"version": 2}
    api.deploy()
    assert requests.get(api.url("/version"), timeout=10).status_code == 403


def test_request_time_failures_answer_500_with_one_log_line_and_no_traceback(server: Server, gw: Any,
                                                                              functions: Functions) -> None:
    api = Api.create(gw, server)
    api.mock("/bad-render", "GET", "$util.parseJson('this is not JSON')")   # fails while rendering
    api.method("/no-response", "GET", aws_integration(functions.addfive),   # no integration response matches
               {"200": {"selectionPattern": "never.*"}})
    api.mock("/ok", "GET", '{"ok": true}')
    api.deploy()
    log_before = len(server.log())
    for path in ("/bad-render", "/no-response", "/bad-render"):
        assert_gateway_error(requests.get(api.url(path), timeout=10), 500, INTERNAL, "InternalServerErrorException")
        still_serving(api)
    written = server.log()[log_before:]
    lines = [line for line in written.splitlines() if api.id in line]
    assert len(lines) == 3, written
    assert "parseJson" in lines[0] and "GET /bad-render" in lines[0]
    assert "no default output mapping" in lines[1] and "GET /no-response" in lines[1]
    assert "Traceback" not in written and "unexpected" not in written


def test_a_throttled_lambda_answers_500_as_api_gateway_does(server: Server, gw: Any) -> None:
    """API Gateway does not pass Lambda's 429 on: proxy or not, the caller gets 500 Internal server
    error (re:Post "API Gateway proxy integration does not forward Lambda throttling (HTTP 429) to
    client"; Stack Overflow 36363280), and the server log says which function was throttled."""
    lam = boto_client(server.base)
    name = unique("throttled")
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zip_of(TOOL)})
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    api = Api.create(gw, server)
    api.proxy("/proxied", "GET", name)
    api.method("/custom", "GET", aws_integration(name), {"200": {}})
    api.mock("/ok", "GET", '{"ok": true}')
    api.deploy()
    log_before = len(server.log())
    for path in ("/proxied", "/custom"):
        assert_gateway_error(requests.get(api.url(path), timeout=10), 500, INTERNAL, "InternalServerErrorException")
        still_serving(api)
    lines = [line for line in server.log()[log_before:].splitlines() if api.id in line]
    assert len(lines) == 2 and all("ReservedFunctionConcurrentInvocationLimitExceeded" in line for line in lines), lines
    lam.delete_function_concurrency(FunctionName=name)
    assert requests.get(api.url("/proxied"), timeout=10).status_code != 500
    lam.delete_function(FunctionName=name)


# ---- execution logs (issue 20) -----------------------------------------------------------------

def execution_log(server: Server, api: Api, wanted: str) -> list[str]:
    """The stage's execution log lines (boto3's logs client), once `wanted` is among them."""
    logs = boto_client(server.base, "logs")
    group = f"API-Gateway-Execution-Logs_{api.id}/{api.stage}"
    deadline = time.monotonic() + 10
    while True:
        try:
            lines = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
        except Exception:  # noqa: BLE001 - the group appears with its first line
            lines = []
        if any(wanted in line for line in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_the_execution_log_says_why_a_proxy_answer_was_502(server: Server, gw: Any, functions: Functions) -> None:
    api = Api.create(gw, server)
    api.proxy("/answer", "POST", functions.tool)
    api.deploy()
    r = requests.post(api.url("/answer"), json={"return": {"statusCode": 200, "wrongValue": 1}}, timeout=10)
    assert r.status_code == 502 and "wrongValue" not in r.text     # the caller learns nothing more, as on AWS
    request_id = r.headers["x-amzn-RequestId"]
    lines = execution_log(server, api, "Method completed with status: 502")
    assert f"({request_id}) Execution failed due to configuration error: Malformed Lambda proxy response: " \
           "unexpected keys in the function's answer: wrongValue" in lines
    assert f"({request_id}) Method completed with status: 502" in lines
    r = requests.post(api.url("/answer"), json={"raise": "boom"}, timeout=10)
    lines = execution_log(server, api, "boom")
    assert any("Lambda execution failed with status 200 due to customer function error: LookupError: boom" in line
               for line in lines)
    assert requests.post(api.url("/answer"), json={"return": {"body": "ok"}}, timeout=10).status_code == 200
    assert len([line for line in execution_log(server, api, "x") if "Method completed" in line]) == 2  # ERROR level

    from tests.integration.test_cli import cli
    done = cli(server, "logs", "--api", api.id, "--stage", api.stage)
    assert done.returncode == 0 and "Malformed Lambda proxy response" in done.stdout
    assert cli(server, "logs", "--api", api.id, "--stage", "nope").returncode == 2
    assert cli(server, "logs", "--api", api.id).returncode == 2


def test_at_info_level_every_request_is_traced_with_data_trace_bodies(server: Server, gw: Any,
                                                                      functions: Functions) -> None:
    api = Api.create(gw, server)
    api.method("/addfive", "GET", {"type": "AWS", "integrationHttpMethod": "POST", "uri": lambda_uri(functions.addfive),
                                   "requestTemplates": {"application/json": GUIDE_TEMPLATE}},
               {"200": {}})
    api.deploy()
    gw.update_stage(restApiId=api.id, stageName=api.stage, patchOperations=[
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
        {"op": "replace", "path": "/*/*/logging/dataTrace", "value": "true"}])
    r = requests.get(api.url("/addfive"), params={"num": "5"}, timeout=10)
    assert r.text == "10"
    request_id = r.headers["x-amzn-RequestId"]
    lines = [line.removeprefix(f"({request_id}) ") for line in execution_log(server, api, "status: 200")
             if line.startswith(f"({request_id})")]
    assert lines[0] == f"Starting execution for request: {request_id}"
    assert "HTTP Method: GET, Resource Path: /addfive" in lines
    assert "Method request query string: {num=5}" in lines
    assert 'Endpoint request body after transformations: {"num": "5"}' in lines
    assert "Endpoint response body before transformations: 10" in lines
    assert any(line.startswith("Received response. Status: 200, Integration latency: ") for line in lines)
    assert lines[-2:] == ["Successfully completed execution", "Method completed with status: 200"]
    gw.update_stage(restApiId=api.id, stageName=api.stage, patchOperations=[
        {"op": "replace", "path": "/*/*/logging/loglevel", "value": "OFF"}])
    r = requests.get(api.url("/nothing-here"), timeout=10)
    assert r.status_code == 403
    assert not [line for line in execution_log(server, api, "never") if r.headers["x-amzn-RequestId"] in line]


def test_a_body_over_lambdas_6_mb_is_502_and_the_function_is_not_called(server: Server, gw: Any,
                                                                          functions: Functions) -> None:
    api = Api.create(gw, server)
    api.proxy("/answer", "POST", functions.tool)
    api.deploy()
    before = len(requests.get(f"{server.base}/_lambdalite/invocations", params={"function": functions.tool,
                                                                              "limit": 1000}, timeout=10).json()
                 ["invocations"])
    r = requests.post(api.url("/answer"), data=b"x" * (7 * 1024 * 1024), timeout=60)   # under API Gateway's 10 MB
    assert_gateway_error(r, 502, INTERNAL, "InternalServerErrorException")
    after = requests.get(f"{server.base}/_lambdalite/invocations", params={"function": functions.tool, "limit": 1000},
                         timeout=10).json()["invocations"]
    assert len(after) == before
    assert any("over Lambda's 6291456-byte limit" in line for line in execution_log(server, api, "6291456"))


def test_a_stage_with_access_log_settings_writes_a_line_per_request(server: Server, gw: Any) -> None:
    api = Api.create(gw, server)
    api.mock("/ok", "GET", '{"ok": true}')
    api.deploy()
    group = unique("/rest/access")
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    gw.update_stage(restApiId=api.id, stageName=api.stage, patchOperations=[
        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": arn},
        {"op": "replace", "path": "/accessLogSettings/format",
         "value": "$context.requestId $context.httpMethod $context.resourcePath $context.status "
                  "$context.responseLength \"$context.error.message\""}])
    ok = requests.get(api.url("/ok"), timeout=10)
    missing = requests.get(api.url("/nowhere"), timeout=10)
    assert (ok.status_code, missing.status_code) == (200, 403)
    events = boto_client(server.base, "logs").filter_log_events(logGroupName=group)["events"]
    assert [e["message"] for e in events] == [
        f'{ok.headers["x-amzn-RequestId"]} GET /ok 200 {len(ok.content)} "-"',
        f'{missing.headers["x-amzn-RequestId"]} GET - 403 {len(missing.content)} "Missing Authentication Token"']
    # turned off: no more lines
    gw.update_stage(restApiId=api.id, stageName=api.stage,
                    patchOperations=[{"op": "remove", "path": "/accessLogSettings"}])
    requests.get(api.url("/ok"), timeout=10)
    assert len(boto_client(server.base, "logs").filter_log_events(logGroupName=group)["events"]) == 2


def test_api_gateway_may_invoke_only_with_the_functions_permission(server: Server, gw: Any,
                                                                    functions: Functions) -> None:
    """Issue 24 item 4: the function's resource policy decides, as on AWS. Without a permission, with
    one for another API, or after it is removed: 500, and the execution log says why."""
    api_id = gw.create_rest_api(name=unique("guarded"))["id"]
    api = Api(gw, server.base, api_id, {"/": gw.get_resources(restApiId=api_id)["items"][0]["id"]})
    key = api.key("/items/{id}", "GET")
    gw.put_method(**key, authorizationType="NONE")
    gw.put_integration(**key, type="AWS_PROXY", integrationHttpMethod="POST", uri=lambda_uri(functions.tool))
    api.deploy()
    lam = boto_client(server.base)
    arn = f"arn:aws:execute-api:us-east-1:000000000000:{api_id}"
    assert_gateway_error(requests.get(api.url("/items/1"), timeout=10), 500, INTERNAL, "InternalServerErrorException")
    logs = boto_client(server.base, "logs")
    lines = [e["message"] for e in logs.filter_log_events(
        logGroupName=f"API-Gateway-Execution-Logs_{api_id}/{api.stage}")["events"]]
    assert any("Execution failed due to configuration error: Invalid permissions on Lambda function" in line
               for line in lines)

    sid = unique("p")
    lam.add_permission(FunctionName=functions.tool, StatementId=sid, Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com", SourceArn="arn:aws:execute-api:us-east-1:000000000000:"
                                                                        "otherapi01/*/GET/items/*")
    assert requests.get(api.url("/items/1"), timeout=10).status_code == 500          # another API's ARN
    lam.remove_permission(FunctionName=functions.tool, StatementId=sid)
    lam.add_permission(FunctionName=functions.tool, StatementId=sid, Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com", SourceArn=f"{arn}/*/POST/items/*")
    assert requests.get(api.url("/items/1"), timeout=10).status_code == 500          # another method
    lam.remove_permission(FunctionName=functions.tool, StatementId=sid)
    lam.add_permission(FunctionName=functions.tool, StatementId=sid, Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com", SourceArn=f"{arn}/*/GET/items/*")   # as SAM writes it
    assert requests.get(api.url("/items/1"), timeout=10).status_code == 200
    lam.remove_permission(FunctionName=functions.tool, StatementId=sid)
    assert requests.get(api.url("/items/1"), timeout=10).status_code == 500          # taken back: at once
    lam.add_permission(FunctionName=functions.tool, StatementId=sid, Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com")   # no SourceArn: any API may
    assert requests.get(api.url("/items/1"), timeout=10).status_code == 200
    lam.remove_permission(FunctionName=functions.tool, StatementId=sid)
