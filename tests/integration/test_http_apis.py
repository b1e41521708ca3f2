"""HTTP APIs (API Gateway v2) through the real server: a SAM app with HttpApi events deployed with the
CLI, called at its Outputs URL with requests, read with boto3's apigatewayv2 client."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import Server, boto_client, error_of
from tests.integration.test_cli import cli

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: %(name)s-echo
      CodeUri: app/
      Handler: app.handler
      Runtime: python3.11
      Events:
        Item:
          Type: HttpApi
          Properties: {Path: "/items/{id}", Method: GET}
        Anything:
          Type: HttpApi
          Properties: {Path: "/{proxy+}", Method: ANY}
        Old:
          Type: HttpApi
          Properties: {Path: /old, Method: GET, PayloadFormatVersion: "1.0"}
Outputs:
  Url:
    Value: !Sub "https://${ServerlessHttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"
"""
APP = """
import json
import shutil
def handler(event, context):
    query = (event.get("queryStringParameters") or {})
    if "say" in query:
        return query["say"]                      # a bare string: a 200 JSON answer
    if "fail" in query:
        raise ValueError("asked to")
    if "bad" in query:
        return {"statusCode": "nope"}
    if "unjsonable" in query:
        return {"statusCode": 200, "body": {1, 2}}   # a set: the runtime cannot serialise it
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "cookies": ["a=1", "b=2"],
            "body": json.dumps(event)}
"""


def deploy(server: Server, tmp_path: Path, name: str) -> str:
    project = tmp_path / name
    (project / "app").mkdir(parents=True)
    (project / "template.yaml").write_text(TEMPLATE % {"name": name})
    (project / "app" / "app.py").write_text(APP)
    done = cli(server, "deploy", str(project))
    assert done.returncode == 0, done.stderr + done.stdout
    stack = boto_client(server.base, "cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    return str({o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["Url"])


def let_api_gateway_in(lam: Any, function: str, source_arn: str | None = None) -> None:
    """add_permission for API Gateway (any API of this account, or `source_arn`), as the console does."""
    lam.add_permission(FunctionName=function, StatementId="apigateway", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com",
                       SourceArn=source_arn or "arn:aws:execute-api:us-east-1:000000000000:*")


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    srv = Server(tmp_path_factory.mktemp("http-home")).start()
    yield srv
    srv.stop()


def test_the_outputs_url_serves_payload_2_0(http_server: Server, tmp_path: Path) -> None:
    url = deploy(http_server, tmp_path, "shop")
    assert url == http_server.base + "/"          # the first HTTP API with a $default stage holds the root
    r = requests.get(url + "items/42", params=[("tag", "a"), ("tag", "b")], timeout=30,
                     headers={"Cookie": "sid=abc; theme=dark", "X-Trace": "one"})
    assert r.status_code == 200 and r.headers["apigw-requestid"]
    assert r.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    event = r.json()
    assert (event["version"], event["routeKey"], event["rawPath"]) == ("2.0", "GET /items/{id}", "/items/42")
    assert event["pathParameters"] == {"id": "42"} and event["queryStringParameters"] == {"tag": "a,b"}
    assert event["rawQueryString"] == "tag=a&tag=b" and event["cookies"] == ["sid=abc", "theme=dark"]
    assert event["headers"]["x-trace"] == "one" and "cookie" not in event["headers"]
    assert event["requestContext"]["stage"] == "$default" and event["requestContext"]["http"]["method"] == "GET"
    assert "body" not in event and "stageVariables" not in event

    posted = requests.post(url + "orders/7", json={"qty": 2}, timeout=30).json()
    assert posted["routeKey"] == "ANY /{proxy+}" and posted["pathParameters"] == {"proxy": "orders/7"}
    assert json.loads(posted["body"]) == {"qty": 2} and posted["isBase64Encoded"] is False

    old = requests.get(url + "old", timeout=30)
    assert old.status_code == 200 and old.json()["version"] == "1.0" and old.json()["resource"] == "GET /old"


def test_what_http_apis_answer_themselves(http_server: Server, tmp_path: Path) -> None:
    url = deploy(http_server, tmp_path, "answers")   # a second API: served at its long form
    assert "/httpapis/" in url and url.endswith("/$default/_user_request_/")
    assert requests.get(url + "x", params={"say": "hello"}, timeout=30).text == "hello"
    r = requests.get(url + "x", params={"fail": "1"}, timeout=30)
    assert (r.status_code, r.text) == (500, '{"message":"Internal Server Error"}')
    r = requests.get(url + "x", params={"bad": "1"}, timeout=30)
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})
    r = requests.get(url + "x", params={"unjsonable": "1"}, timeout=30)
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})
    r = requests.get(url, timeout=30)   # no route for / ({proxy+} needs a segment) and no $default route
    assert (r.status_code, r.text) == (404, '{"message":"Not Found"}')
    r = requests.get(url.replace("/$default/", "/nostage/") + "x", timeout=30)
    assert r.status_code == 404


def test_an_older_http_root_keeps_the_paths_it_answers_from_a_newer_rest_short_form(
        http_server: Server, tmp_path: Path) -> None:
    """The HTTP root (shop, with `ANY /{proxy+}`) is older than addfive's stage PRD: `/PRD/addfive` is
    the HTTP API's, as it was before addfive came; addfive answers at its full form, and deploy says so."""
    deploy(http_server, tmp_path, "shop")
    done = cli(http_server, "deploy", str(ROOT / "examples" / "addfive"))
    assert done.returncode == 0, done.stderr
    assert "/restapis/" in done.stdout and "belongs to HTTP API" in done.stdout + done.stderr
    r = requests.get(f"{http_server.base}/PRD/addfive", params={"num": "5"}, timeout=30)
    assert r.json()["routeKey"] == "ANY /{proxy+}"
    stack = boto_client(http_server.base, "cloudformation").describe_stacks(StackName="addfive")["Stacks"][0]
    url = next(o["OutputValue"] for o in stack["Outputs"] if "/restapis/" in o["OutputValue"])
    assert requests.get(url, params={"num": "5"}, timeout=30).text == "10"
    assert requests.get(f"{http_server.base}/_lambdalite/health", timeout=30).json()["status"] == "ok"
    listed = cli(http_server, "apis")
    assert listed.returncode == 0 and url.split("/addfive")[0] in listed.stdout
    assert f"{http_server.base}/PRD/" not in listed.stdout
    assert cli(http_server, "rm", "--stack", "addfive").returncode == 0


def test_an_older_rest_short_form_keeps_its_paths_from_a_newer_http_root(own_server: Server, tmp_path: Path) -> None:
    own_server.start()
    done = cli(own_server, "deploy", str(ROOT / "examples" / "addfive"))
    assert done.returncode == 0, done.stderr
    url = deploy(own_server, tmp_path, "shop")
    assert url == own_server.base + "/"       # the root is the HTTP API's all the same
    assert requests.get(f"{own_server.base}/PRD/addfive", params={"num": "5"}, timeout=30).text == "10"
    assert requests.get(f"{own_server.base}/items/1", timeout=30).json()["routeKey"] == "GET /items/{id}"
    assert requests.get(f"{own_server.base}/other/1", timeout=30).json()["routeKey"] == "ANY /{proxy+}"


def test_the_apigatewayv2_client_reads_them(http_server: Server, tmp_path: Path) -> None:
    deploy(http_server, tmp_path, "shop")
    v2 = boto_client(http_server.base, "apigatewayv2")
    apis = {a["Name"]: a for a in v2.get_apis()["Items"]}
    api = apis["shop"]
    assert api["ProtocolType"] == "HTTP" and api["RouteSelectionExpression"] == "${request.method} ${request.path}"
    assert v2.get_api(ApiId=api["ApiId"])["ApiId"] == api["ApiId"]
    routes = {r["RouteKey"]: r for r in v2.get_routes(ApiId=api["ApiId"])["Items"]}
    assert set(routes) == {"GET /items/{id}", "ANY /{proxy+}", "GET /old"}
    integrations = {i["IntegrationId"]: i for i in v2.get_integrations(ApiId=api["ApiId"])["Items"]}
    target = integrations[routes["GET /old"]["Target"].removeprefix("integrations/")]
    assert (target["IntegrationType"], target["PayloadFormatVersion"]) == ("AWS_PROXY", "1.0")
    (stage,) = v2.get_stages(ApiId=api["ApiId"])["Items"]
    assert stage["StageName"] == "$default" and stage["AutoDeploy"] is True
    code, status, _ = error_of(v2.get_api, ApiId="nosuchapi0")
    assert (code, status) == ("NotFoundException", 404)
    code, status, message = error_of(v2.create_api, Name="x", ProtocolType="WEBSOCKET", RouteSelectionExpression="x")
    assert (code, status) == ("BadRequestException", 400) and "not built yet" in message


def test_a_stack_removed_takes_its_api_and_the_root_passes_on(own_server: Server, tmp_path: Path) -> None:
    own_server.start()
    first = deploy(own_server, tmp_path, "one")
    second = deploy(own_server, tmp_path, "two")
    assert first == own_server.base + "/" and "/httpapis/" in second
    assert cli(own_server, "rm", "--stack", "one").returncode == 0
    stack = boto_client(own_server.base, "cloudformation").describe_stacks(StackName="two")["Stacks"][0]
    assert stack["Outputs"][0]["OutputValue"] == own_server.base + "/"
    assert requests.get(own_server.base + "/items/3", timeout=30).json()["routeKey"] == "GET /items/{id}"
    own_server.restart()   # kept in the store
    assert requests.get(own_server.base + "/items/3", timeout=30).status_code == 200
    v2 = boto_client(own_server.base, "apigatewayv2")
    (api,) = v2.get_apis()["Items"]
    v2.delete_api(ApiId=api["ApiId"])
    assert v2.get_apis()["Items"] == []
    r = requests.get(own_server.base + "/items/3", timeout=30)
    assert r.status_code == 403   # the REST data plane's answer again: Missing Authentication Token


def test_a_definition_that_cannot_be_served_fails_the_deploy(own_server: Server, tmp_path: Path) -> None:
    own_server.start()
    project = tmp_path / "bad"
    project.mkdir()
    (project / "template.yaml").write_text("""\
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Body:
        openapi: 3.0.1
        paths:
          /x:
            get:
              x-amazon-apigateway-integration: {type: http_proxy, uri: "https://example.com"}
""")
    done = subprocess.run([str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "lambdalite"), "deploy",
                           str(project)], capture_output=True, text=True,
                          env={"LAMBDALITE_ENDPOINT": own_server.base, "PATH": "/usr/bin:/bin"}, timeout=120)
    assert done.returncode == 1 and "http_proxy is not supported yet" in done.stderr
    assert boto_client(own_server.base, "apigatewayv2").get_apis()["Items"] == []


STAGED = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      StageName: dev
      StageVariables: {color: blue}
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: staged-echo
      CodeUri: app/
      Handler: app.handler
      Runtime: python3.11
      Events:
        Item:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: "/items/{id}", Method: GET}
Outputs:
  Url:
    Value: !Sub "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/dev/"
"""


def test_a_named_stage_and_the_host_header_that_names_an_api(own_server: Server, tmp_path: Path) -> None:
    own_server.start()
    project = tmp_path / "staged"
    (project / "app").mkdir(parents=True)
    (project / "template.yaml").write_text(STAGED)
    (project / "app" / "app.py").write_text(APP)
    done = cli(own_server, "deploy", str(project))
    assert done.returncode == 0, done.stderr + done.stdout
    stack = boto_client(own_server.base, "cloudformation").describe_stacks(StackName="staged")["Stacks"][0]
    url = stack["Outputs"][0]["OutputValue"]
    api_id = boto_client(own_server.base, "apigatewayv2").get_apis()["Items"][0]["ApiId"]
    assert url == f"{own_server.base}/httpapis/{api_id}/dev/_user_request_/"   # a named stage: its long form
    event = requests.get(url + "items/9", timeout=30).json()
    assert event["rawPath"] == "/dev/items/9" and event["requestContext"]["stage"] == "dev"
    assert event["stageVariables"] == {"color": "blue"}
    host = {"Host": f"{api_id}.execute-api.localhost:{own_server.port}"}
    event = requests.get(f"{own_server.base}/dev/items/9", headers=host, timeout=30).json()
    assert event["rawPath"] == "/dev/items/9" and event["pathParameters"] == {"id": "9"}
    r = requests.get(f"{own_server.base}/items/9", headers=host, timeout=30)   # no $default stage
    assert (r.status_code, r.json()) == (404, {"message": "Not Found"})
    done = cli(own_server, "deploy", str(ROOT / "examples" / "addfive"))
    assert done.returncode == 0, done.stderr
    rest_id = boto_client(own_server.base, "apigateway").get_rest_apis()["items"][0]["id"]
    r = requests.get(f"{own_server.base}/PRD/addfive", params={"num": "1"}, timeout=30,
                     headers={"Host": f"{rest_id}.execute-api.localhost"})
    assert r.text == "6"


def test_the_addfive_http_example(own_server: Server) -> None:
    own_server.start()
    done = cli(own_server, "deploy", str(ROOT / "examples" / "addfive-http"))
    assert done.returncode == 0, done.stderr
    assert requests.get(own_server.base + "/addfive", params={"num": "5"}, timeout=30).text == "10"
    assert requests.get(own_server.base + "/addfive", params={"num": "test"}, timeout=30).text == "0"
    stack = boto_client(own_server.base, "cloudformation").describe_stacks(StackName="addfive-http")["Stacks"][0]
    assert stack["Outputs"][0]["OutputValue"] == own_server.base + "/addfive"


CORS_THROTTLED = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration:
        AllowOrigins: ["https://shop.example"]
        AllowMethods: [GET, POST]
        AllowHeaders: [content-type]
        ExposeHeaders: [x-total]
        MaxAge: 600
      DefaultRouteSettings: {ThrottlingBurstLimit: 2, ThrottlingRateLimit: 1}
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: cors-echo
      CodeUri: app/
      Handler: app.handler
      Runtime: python3.11
      Events:
        Item:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: "/items/{id}", Method: GET}
"""
CORS_APP = """
def handler(event, context):
    return {"statusCode": 200, "headers": {"access-control-allow-origin": "*", "x-total": "3"}, "body": "ok"}
"""


def test_cors_preflights_and_headers_and_throttling_on_the_server_clock(clocked: Server, tmp_path: Path) -> None:
    from tests.conftest import advance
    project = tmp_path / "cors"
    (project / "app").mkdir(parents=True)
    (project / "template.yaml").write_text(CORS_THROTTLED)
    (project / "app" / "app.py").write_text(CORS_APP)
    done = cli(clocked, "deploy", str(project))
    assert done.returncode == 0, done.stderr + done.stdout
    url = clocked.base + "/items/1"
    preflight = {"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
    r = requests.options(url, headers=preflight, timeout=30)
    assert r.status_code == 204 and r.headers["access-control-allow-origin"] == "https://shop.example"
    assert r.headers["access-control-allow-methods"] == "GET,POST" and r.headers["access-control-max-age"] == "600"
    assert r.headers["access-control-allow-headers"] == "content-type"
    for refused in ({**preflight, "Origin": "https://evil.example"}, {**preflight, "Access-Control-Request-Method":
                                                                     "DELETE"}):
        r = requests.options(url, headers=refused, timeout=30)   # not allowed: no CORS headers
        assert r.status_code == 204 and "access-control-allow-origin" not in r.headers
    advance(clocked, 10)   # the preflights took no tokens; start full anyway
    r = requests.get(url, headers={"Origin": "https://shop.example"}, timeout=30)
    assert r.text == "ok" and r.headers["access-control-allow-origin"] == "https://shop.example"   # not the "*"
    assert r.headers["access-control-expose-headers"] == "x-total"
    r = requests.get(url, headers={"Origin": "https://evil.example"}, timeout=30)
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    r = requests.get(url, timeout=30)   # burst 2 spent
    assert (r.status_code, r.json()) == (429, {"message": "Too Many Requests"})
    advance(clocked, 1)   # one token back per second
    assert requests.get(url, timeout=30).status_code == 200
    assert requests.get(url, timeout=30).status_code == 429


def test_the_management_api_builds_an_http_api_by_hand(own_server: Server) -> None:
    own_server.start()
    lam = boto_client(own_server.base)
    from tests.conftest import create_function
    create_function(lam, "by-hand", APP)
    arn = lam.get_function(FunctionName="by-hand")["Configuration"]["FunctionArn"]
    let_api_gateway_in(lam, "by-hand")
    v2 = boto_client(own_server.base, "apigatewayv2")
    quick = v2.create_api(Name="quick", ProtocolType="HTTP", Target=arn)   # quick create: $default route + stage
    assert requests.get(own_server.base + "/anything", params={"say": "hi"}, timeout=30).text == "hi"
    assert [s["StageName"] for s in v2.get_stages(ApiId=quick["ApiId"])["Items"]] == ["$default"]

    api = v2.create_api(Name="manual", ProtocolType="HTTP")
    api_id = api["ApiId"]
    integration = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn,
                                        PayloadFormatVersion="2.0")
    target = f"integrations/{integration['IntegrationId']}"
    route = v2.create_route(ApiId=api_id, RouteKey="GET /things/{id}", Target=target)
    v2.create_stage(ApiId=api_id, StageName="live", AutoDeploy=True, StageVariables={"v": "1"})
    url = f"{own_server.base}/httpapis/{api_id}/live/_user_request_/things/5"
    event = requests.get(url, timeout=30).json()
    assert event["routeKey"] == "GET /things/{id}" and event["stageVariables"] == {"v": "1"}
    v2.update_route(ApiId=api_id, RouteId=route["RouteId"], RouteKey="GET /stuff/{id}")
    assert requests.get(url, timeout=30).status_code == 404
    v2.update_stage(ApiId=api_id, StageName="live", StageVariables={"v": "2"})
    event = requests.get(url.replace("/things/", "/stuff/"), timeout=30).json()
    assert event["stageVariables"] == {"v": "2"}
    deployment = v2.create_deployment(ApiId=api_id, StageName="live")
    assert deployment["DeploymentStatus"] == "DEPLOYED" and deployment["AutoDeployed"] is False
    made = v2.get_deployments(ApiId=api_id)["Items"]   # the stage auto-deployed each change before
    assert made[-1]["DeploymentId"] == deployment["DeploymentId"] and len(made) == 3
    assert all(d["AutoDeployed"] and d["Description"] == "Automatic deployment triggered by changes to the Api "
               "configuration" for d in made[:-1])

    # bad input, in API Gateway's codes; nothing changes
    before = v2.get_routes(ApiId=api_id)["Items"]
    for key in ("GET stuff", "FETCH /x", ""):
        assert error_of(v2.create_route, ApiId=api_id, RouteKey=key, Target=target)[:2] == \
            ("BadRequestException", 400)
    code, status, message = error_of(v2.create_route, ApiId=api_id, RouteKey="GET /stuff/{id}", Target=target)
    assert (code, status) == ("ConflictException", 409) and "already exists" in message
    assert error_of(v2.create_route, ApiId=api_id, RouteKey="GET /z", Target="integrations/nope")[1] == 400
    assert error_of(v2.create_stage, ApiId=api_id, StageName="live")[:2] == ("ConflictException", 409)
    assert error_of(v2.create_stage, ApiId=api_id, StageName="bad name!")[:2] == ("BadRequestException", 400)
    for reserved in ("_lambdalite", "v2", "httpapis", "restapis"):   # paths the platform owns
        code, status, message = error_of(v2.create_stage, ApiId=api_id, StageName=reserved)
        assert (code, status) == ("BadRequestException", 400) and "reserved" in message
    assert error_of(v2.create_integration, ApiId=api_id, IntegrationType="HTTP_PROXY",
                    IntegrationUri="https://example.com", PayloadFormatVersion="1.0")[:2] == \
        ("BadRequestException", 400)
    assert error_of(v2.delete_integration, ApiId=api_id, IntegrationId=integration["IntegrationId"])[1] == 409
    assert error_of(v2.get_route, ApiId=api_id, RouteId="nope")[:2] == ("NotFoundException", 404)
    assert v2.get_routes(ApiId=api_id)["Items"] == before

    # an integration to a function that is not there: accepted, and answered 500 when called
    missing = v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", PayloadFormatVersion="2.0",
                                    IntegrationUri=arn.replace("by-hand", "no-such-function"))
    v2.create_route(ApiId=api_id, RouteKey="GET /gone", Target=f"integrations/{missing['IntegrationId']}")
    r = requests.get(f"{own_server.base}/httpapis/{api_id}/live/_user_request_/gone", timeout=30)
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})

    imported = v2.import_api(Body=json.dumps({"openapi": "3.0.1", "info": {"title": "imported"}, "paths": {
        "/ping": {"get": {"x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": arn,
                                                               "payloadFormatVersion": "2.0"}}}}}))
    assert imported["Name"] == "imported"
    assert [r["RouteKey"] for r in v2.get_routes(ApiId=imported["ApiId"])["Items"]] == ["GET /ping"]
    assert error_of(v2.import_api, Body="swagger: '2.0'")[:2] == ("BadRequestException", 400)
    v2.delete_route(ApiId=api_id, RouteId=route["RouteId"])
    v2.delete_stage(ApiId=api_id, StageName="live")
    assert requests.get(url.replace("/things/", "/stuff/"), timeout=30).status_code == 404


def test_an_http_api_body_over_lambdas_6_mb_is_refused_before_the_function(http_server: Server,
                                                                            tmp_path: Path) -> None:
    url = deploy(http_server, tmp_path, "shop")
    r = requests.post(url + "orders/1", data=b"x" * (7 * 1024 * 1024), timeout=60,
                      headers={"Content-Type": "text/plain"})
    assert (r.status_code, r.json()) == (500, {"message": "Internal Server Error"})
    assert requests.post(url + "orders/1", data=b"x" * 1024, timeout=60).status_code == 200
    r = requests.post(url + "orders/1", data=b"x" * (10 * 1024 * 1024 + 1), timeout=60)   # over HTTP APIs' 10 MB
    assert (r.status_code, r.json()) == (413, {"message": "Request Entity Too Large"})


def test_lambdalite_apis_lists_http_apis_and_their_urls(http_server: Server, tmp_path: Path) -> None:
    root = deploy(http_server, tmp_path, "shop")
    done = cli(http_server, "apis")
    assert done.returncode == 0, done.stderr
    api_id = next(a["ApiId"] for a in boto_client(http_server.base, "apigatewayv2").get_apis()["Items"]
                  if a["Name"] == "shop")
    lines = [line for line in done.stdout.splitlines() if line.startswith(api_id)]
    assert any(line.rstrip().endswith(root) for line in lines) and "shop (HTTP)" in lines[0]
    assert any(f"/httpapis/{api_id}/$default/_user_request_/" in line for line in lines)


def test_sam_hello_world_on_an_http_api_passes_its_own_integration_test(own_server: Server, tmp_path: Path) -> None:
    """`sam init`'s hello world with its event switched to `Type: HttpApi`. Its Outputs must then name
    the implicit `ServerlessHttpApi` (there is no `ServerlessRestApi` any more) and its `$default`
    stage, as a user switching it on AWS writes them; everything else is the template as written."""
    own_server.start()
    project = tmp_path / "sam-app"
    shutil.copytree(ROOT / "tests" / "fixtures" / "sam-hello", project)
    template = (project / "template.yaml").read_text()
    assert "Type: Api " in template and "${ServerlessRestApi}" in template
    template = template.replace("Type: Api ", "Type: HttpApi ").replace(
        "${ServerlessRestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/Prod/hello/",
        "${ServerlessHttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/hello")
    (project / "template.yaml").write_text(template)
    done = cli(own_server, "deploy", str(project))
    assert done.returncode == 0, done.stderr + done.stdout

    # tests/integration/test_api_gateway.py of `sam init`'s hello world, with the endpoint given
    stack_name = "sam-app"
    client = boto_client(own_server.base, "cloudformation")
    response = client.describe_stacks(StackName=stack_name)
    stacks = response["Stacks"]
    stack_outputs = stacks[0]["Outputs"]
    api_outputs = [output for output in stack_outputs if output["OutputKey"] == "HelloWorldApi"]
    assert api_outputs, f"Cannot find output HelloWorldApi in stack {stack_name}"
    api_endpoint = api_outputs[0]["OutputValue"]
    assert api_endpoint == own_server.base + "/hello"
    response = requests.get(api_endpoint, timeout=30)
    assert response.status_code == 200
    assert response.json() == {"message": "hello world"}
    assert requests.post(api_endpoint, timeout=30).status_code == 404   # the route is GET /hello only


def test_a_stage_serves_its_deployment_a_snapshot_of_the_routes(own_server: Server) -> None:
    """Without AutoDeploy a stage serves nothing until it is deployed, and then only what its deployment
    copied: later changes wait for the next CreateDeployment; pointing it at an older one rolls back."""
    own_server.start()
    lam = boto_client(own_server.base)
    from tests.conftest import create_function
    create_function(lam, "snap", APP)
    arn = lam.get_function(FunctionName="snap")["Configuration"]["FunctionArn"]
    let_api_gateway_in(lam, "snap")
    v2 = boto_client(own_server.base, "apigatewayv2")
    api_id = v2.create_api(Name="snapshots", ProtocolType="HTTP")["ApiId"]
    target = "integrations/" + v2.create_integration(ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn,
                                                     PayloadFormatVersion="2.0")["IntegrationId"]
    v2.create_route(ApiId=api_id, RouteKey="GET /one", Target=target)
    v2.create_stage(ApiId=api_id, StageName="manual")
    base = f"{own_server.base}/httpapis/{api_id}/manual/_user_request_"
    assert requests.get(base + "/one", timeout=30).status_code == 404     # nothing deployed yet
    first = v2.create_deployment(ApiId=api_id, StageName="manual")["DeploymentId"]
    assert v2.get_stage(ApiId=api_id, StageName="manual")["DeploymentId"] == first
    assert requests.get(base + "/one", params={"say": "1"}, timeout=30).text == "1"

    v2.create_route(ApiId=api_id, RouteKey="GET /two", Target=target)
    assert requests.get(base + "/two", timeout=30).status_code == 404     # not deployed yet
    second = v2.create_deployment(ApiId=api_id, StageName="manual")["DeploymentId"]
    assert requests.get(base + "/two", params={"say": "2"}, timeout=30).text == "2"
    stage = v2.get_stage(ApiId=api_id, StageName="manual")
    assert stage["LastDeploymentStatusMessage"] == f"Successfully deployed stage with deployment ID '{second}'"

    v2.update_stage(ApiId=api_id, StageName="manual", DeploymentId=first)   # roll back
    assert requests.get(base + "/two", timeout=30).status_code == 404
    assert requests.get(base + "/one", params={"say": "1"}, timeout=30).text == "1"

    # a deployment in use stays; one that is not goes; unknown ones are named
    code, status, message = error_of(v2.delete_deployment, ApiId=api_id, DeploymentId=first)
    assert (code, status) == ("BadRequestException", 400) and "manual" in message
    v2.delete_deployment(ApiId=api_id, DeploymentId=second)
    assert [d["DeploymentId"] for d in v2.get_deployments(ApiId=api_id)["Items"]] == [first]
    assert error_of(v2.update_stage, ApiId=api_id, StageName="manual", DeploymentId="nope") == \
        ("NotFoundException", 404, "Invalid Deployment identifier specified nope")
    assert error_of(v2.create_stage, ApiId=api_id, StageName="other", DeploymentId="nope")[:2] == \
        ("NotFoundException", 404)
    assert v2.get_stage(ApiId=api_id, StageName="manual")["DeploymentId"] == first

    # deployments survive a restart, and so does what each stage serves
    own_server.stop()
    own_server.start()
    assert requests.get(base + "/one", params={"say": "1"}, timeout=30).text == "1"
    assert requests.get(base + "/two", timeout=30).status_code == 404


ROUTE_THROTTLED = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      DefaultRouteSettings: {ThrottlingBurstLimit: 5, ThrottlingRateLimit: 1}
      RouteSettings:
        "GET /slow": {ThrottlingBurstLimit: 1, ThrottlingRateLimit: 1}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: app/
      Handler: app.handler
      Runtime: python3.11
      Events:
        Slow: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /slow, Method: GET}}
        Fast: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: /fast, Method: GET}}
"""


def test_route_settings_throttle_one_route_on_its_own(clocked: Server, tmp_path: Path) -> None:
    from tests.conftest import advance
    project = tmp_path / "routes"
    (project / "app").mkdir(parents=True)
    (project / "template.yaml").write_text(ROUTE_THROTTLED)
    (project / "app" / "app.py").write_text(CORS_APP)
    done = cli(clocked, "deploy", str(project))
    assert done.returncode == 0, done.stderr + done.stdout
    assert requests.get(clocked.base + "/slow", timeout=30).status_code == 200
    assert requests.get(clocked.base + "/slow", timeout=30).status_code == 429    # its own burst of 1
    assert [requests.get(clocked.base + "/fast", timeout=30).status_code for _ in range(6)] == [200] * 5 + [429]
    advance(clocked, 1.0)
    assert requests.get(clocked.base + "/slow", timeout=30).status_code == 200
    v2 = boto_client(clocked.base, "apigatewayv2")
    api_id = v2.get_apis()["Items"][0]["ApiId"]
    stage = v2.get_stage(ApiId=api_id, StageName="$default")
    assert stage["RouteSettings"]["GET /slow"]["ThrottlingBurstLimit"] == 1
    # a route key the API does not have: AWS's 404 (as public CloudFormation/CDK failure reports quote
    # it); nothing changes
    assert error_of(v2.update_stage, ApiId=api_id, StageName="$default",
                    RouteSettings={"GET /nope": {"ThrottlingBurstLimit": 1}}) == \
        ("NotFoundException", 404, "Unable to find Route by key GET /nope within the provided RouteSettings")
    assert v2.get_stage(ApiId=api_id, StageName="$default")["RouteSettings"] == stage["RouteSettings"]


BY_HAND = """\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: %(name)s-fn
      Runtime: python3.11
      Handler: index.handler
      Role: arn:aws:iam::000000000000:role/lambda-role
      Code:
        ZipFile: |
          def handler(event, context):
              return {"route": event["routeKey"], "id": (event.get("pathParameters") or {}).get("id")}
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: %(name)s, ProtocolType: HTTP}
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !GetAtt Fn.Arn
      PayloadFormatVersion: "2.0"
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: "GET /items/{id}"
      Target: !Join [/, [integrations, !Ref Integration]]
  Deployment:
    Type: AWS::ApiGatewayV2::Deployment
    DependsOn: Route
    Properties: {ApiId: !Ref Api}
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: {ApiId: !Ref Api, StageName: live, DeploymentId: !Ref Deployment}
  Quick:
    Type: AWS::ApiGatewayV2::Api
    Properties: {Name: %(name)s-quick, ProtocolType: HTTP, Target: !GetAtt Fn.Arn}
  Permission:
    Type: AWS::Lambda::Permission
    Properties:
      Action: lambda:InvokeFunction
      FunctionName: !Ref Fn
      Principal: apigateway.amazonaws.com
      SourceArn: !Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/GET/items/*"
  QuickPermission:
    Type: AWS::Lambda::Permission
    Properties:
      Action: lambda:InvokeFunction
      FunctionName: !Ref Fn
      Principal: apigateway.amazonaws.com
      SourceArn: !Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Quick}/*"
Outputs:
  Url:
    Value: !Sub "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/live"
  QuickUrl:
    Value: !Sub "https://${Quick}.execute-api.${AWS::Region}.amazonaws.com/"
"""


def test_hand_written_routes_integrations_and_quick_create_in_a_template(own_server: Server, tmp_path: Path) -> None:
    own_server.start()
    project = tmp_path / "byhand"
    project.mkdir()
    (project / "template.yaml").write_text(BY_HAND % {"name": "byhand"})
    done = cli(own_server, "deploy", str(project))
    assert done.returncode == 0, done.stderr + done.stdout
    stack = boto_client(own_server.base, "cloudformation").describe_stacks(StackName="byhand")["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert "/httpapis/" in outputs["Url"] and outputs["Url"].endswith("/live/_user_request_")   # no slash added
    assert requests.get(outputs["Url"] + "/items/7", timeout=30).json() == {"route": "GET /items/{id}", "id": "7"}
    assert requests.get(outputs["Url"] + "/other", timeout=30).status_code == 404
    assert outputs["QuickUrl"] == own_server.base + "/"        # quick create's $default stage holds the root
    assert requests.get(outputs["QuickUrl"] + "any/path", timeout=30).json() == {"route": "$default", "id": None}

    # a Route whose Target is not an integration of its API fails the deploy, and nothing changes
    broken = (BY_HAND % {"name": "byhand"}).replace("!Join [/, [integrations, !Ref Integration]]", "integrations/nope")
    (project / "template.yaml").write_text(broken)
    done = cli(own_server, "deploy", str(project))
    assert done.returncode != 0 and "Target must be integrations/" in done.stderr + done.stdout
    assert requests.get(outputs["Url"] + "/items/8", timeout=30).json()["id"] == "8"


ACCESS_FORMAT = json.dumps({"requestId": "$context.requestId", "route": "$context.routeKey",
                            "status": "$context.status", "ip": "$context.identity.sourceIp",
                            "error": "$context.error.message", "integ": "$context.integrationStatus",
                            "len": "$context.responseLength"},
                           separators=(",", ":"))
ACCESS_LOGGED = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      AccessLogSettings:
        DestinationArn: arn:aws:logs:us-east-1:000000000000:log-group:/shop/access
        Format: '%(format)s'
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: app/
      Handler: app.handler
      Runtime: python3.11
      Events:
        Item: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: "/items/{id}", Method: GET}}
"""


def test_access_logs_of_an_http_api_stage(own_server: Server, tmp_path: Path) -> None:
    own_server.start()
    project = tmp_path / "logged"
    (project / "app").mkdir(parents=True)
    (project / "template.yaml").write_text(ACCESS_LOGGED % {"format": ACCESS_FORMAT})
    (project / "app" / "app.py").write_text(APP)
    done = cli(own_server, "deploy", str(project))
    assert done.returncode == 0, done.stderr + done.stdout
    ok = requests.get(own_server.base + "/items/1", params={"say": "hi"}, timeout=30)
    missing = requests.get(own_server.base + "/nowhere", timeout=30)
    failed = requests.get(own_server.base + "/items/2", params={"fail": "1"}, timeout=30)
    assert (ok.status_code, missing.status_code, failed.status_code) == (200, 404, 500)
    logs = boto_client(own_server.base, "logs")
    lines = [json.loads(e["message"]) for e in logs.filter_log_events(logGroupName="/shop/access")["events"]]
    assert [line["requestId"] for line in lines] == [r.headers["apigw-requestid"] for r in (ok, missing, failed)]
    assert lines[0] == {"requestId": lines[0]["requestId"], "route": "GET /items/{id}", "status": "200",
                        "ip": "127.0.0.1", "error": "-", "integ": "200", "len": str(len(ok.content))}
    assert (lines[1]["route"], lines[1]["status"], lines[1]["error"], lines[1]["integ"]) == \
        ("-", "404", "Not Found", "-")
    assert (lines[2]["status"], lines[2]["error"], lines[2]["integ"]) == ("500", "Internal Server Error", "200")

    # bad settings are refused, in API Gateway's code; the stage keeps its own
    v2 = boto_client(own_server.base, "apigatewayv2")
    api_id = v2.get_apis()["Items"][0]["ApiId"]
    before = v2.get_stage(ApiId=api_id, StageName="$default")["AccessLogSettings"]
    for bad in ({"DestinationArn": "arn:aws:s3:::bucket", "Format": "$context.requestId"},
                {"DestinationArn": "arn:aws:logs:us-east-1:000000000000:log-group:g", "Format": "$context.status"}):
        assert error_of(v2.update_stage, ApiId=api_id, StageName="$default", AccessLogSettings=bad)[:2] == \
            ("BadRequestException", 400)
    assert v2.get_stage(ApiId=api_id, StageName="$default")["AccessLogSettings"] == before
    # a template with a bad one fails the deploy, saying where
    (project / "template.yaml").write_text(ACCESS_LOGGED % {"format": ACCESS_FORMAT.replace("$context.requestId",
                                                                                          "$context.status")})
    done = cli(own_server, "deploy", str(project))
    assert done.returncode != 0 and "AccessLogSettings" in done.stderr + done.stdout


def test_an_http_api_may_invoke_only_with_the_functions_permission(own_server: Server) -> None:
    """Issue 24 item 4 for HTTP APIs: no permission, or one for another route, answers 500; the source
    ARN is `{api}/{stage}/{METHOD}{route path}` (`$default` for that route)."""
    own_server.start()
    lam = boto_client(own_server.base)
    from tests.conftest import create_function
    create_function(lam, "guarded", APP)
    arn = lam.get_function(FunctionName="guarded")["Configuration"]["FunctionArn"]
    v2 = boto_client(own_server.base, "apigatewayv2")
    api_id = v2.create_api(Name="guarded", ProtocolType="HTTP", Target=arn, RouteKey="GET /items/{id}")["ApiId"]
    url = own_server.base + "/items/1"
    assert (requests.get(url, timeout=30).status_code, requests.get(url, timeout=30).json()) == \
        (500, {"message": "Internal Server Error"})
    base_arn = f"arn:aws:execute-api:us-east-1:000000000000:{api_id}/$default"
    let_api_gateway_in(lam, "guarded", base_arn + "/POST/items/*")
    assert requests.get(url, timeout=30).status_code == 500
    lam.remove_permission(FunctionName="guarded", StatementId="apigateway")
    let_api_gateway_in(lam, "guarded", base_arn + "/GET/items/{id}")
    assert requests.get(url, params={"say": "ok"}, timeout=30).text == "ok"
