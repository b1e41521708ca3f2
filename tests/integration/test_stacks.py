"""Stacks end to end: `lambdalite deploy` of SAM templates against a real server, CloudFormation's
DescribeStacks through boto3 and the AWS CLI, saved test events, updates, rollbacks and removal."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import Server, boto_client, create_function, unique
from tests.integration.test_cli import cli

ROOT = Path(__file__).resolve().parents[2]
ADDFIVE = ROOT / "examples" / "addfive"
SAM_HELLO = ROOT / "tests" / "fixtures" / "sam-hello"
AWS = str(Path(sys.executable).with_name("aws"))

COUNTER = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: two functions behind the implicit API
Globals:
  Function:
    Runtime: python3.11
    Handler: app.handler
Resources:
  First:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: first/
      Events:
        Get: {Type: Api, Properties: {Path: /first, Method: get}}
%(second)s
Outputs:
  FirstUrl:
    Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/Prod/first"
"""
SECOND = """\
  Second:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: second/
      Events:
        Get: {Type: Api, Properties: {Path: /second, Method: get}}
"""
HANDLER = """\
def handler(event, context):
    return {"statusCode": 200, "body": %r}
"""


@pytest.fixture(scope="module")
def stack_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of this module's own: the guide's stack names its function `addfive`."""
    srv = Server(tmp_path_factory.mktemp("stacks-home")).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def addfive(stack_server: Server) -> Server:
    done = cli(stack_server, "deploy", str(ADDFIVE), "--stack-name", "addfive")
    assert done.returncode == 0, done.stderr + done.stdout
    return stack_server


def cloudformation(server: Server):  # type: ignore[no-untyped-def]
    return boto_client(server.base, "cloudformation")


def last_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


def write_counter(folder: Path, first: str, second: str | None, extra: str = "") -> Path:
    """The counter project: First (and Second) answering their text through the implicit API."""
    for name, text in (("first", first), ("second", second)):
        if text is not None:
            (folder / name).mkdir(parents=True, exist_ok=True)
            (folder / name / "app.py").write_text(HANDLER % text)
    (folder / "template.yaml").write_text(COUNTER % {"second": (SECOND if second is not None else "") + extra})
    return folder


# -- the guide ------------------------------------------------------------------------------------

def test_deploy_prints_stage_urls_and_outputs(stack_server: Server) -> None:
    done = cli(stack_server, "deploy", str(ADDFIVE), "--stack-name", "addfive")
    assert done.returncode == 0, done.stderr
    assert "deploying stack addfive" in done.stdout
    assert f"{stack_server.base}/PRD/" in done.stdout
    assert f"{stack_server.base}/PRD/addfive" in done.stdout      # the Output, rewritten
    assert "execute-api" not in done.stdout


def test_guide_requests_line_gives_10(addfive: Server) -> None:
    assert requests.get(f"{addfive.base}/PRD/addfive", params={"num": "5"}, timeout=30).text == "10"
    assert requests.get(f"{addfive.base}/PRD/addfive", params={"num": "test"}, timeout=30).text == "0"


def test_saved_test_events_from_the_events_folder(addfive: Server) -> None:
    done = cli(addfive, "test", "addfive", "test_1")
    assert (done.returncode, last_line(done.stdout)) == (0, "20"), done.stderr
    done = cli(addfive, "test", "addfive", "test_2", "--log")
    assert (done.returncode, last_line(done.stdout)) == (0, "0"), done.stderr
    assert "REPORT RequestId" in done.stdout
    done = cli(addfive, "test", "AddFiveFunction", "test_1")   # the template's logical id
    assert (done.returncode, last_line(done.stdout)) == (0, "20"), done.stderr


def test_save_a_test_event_then_run_it(addfive: Server, tmp_path: Path) -> None:
    done = cli(addfive, "test", "addfive", "--save", "big", "--event", '{"num": "100"}')
    assert done.returncode == 0, done.stderr
    assert last_line(cli(addfive, "test", "addfive", "big").stdout) == "105"
    (tmp_path / "e.json").write_text('{"num": "1"}')
    assert cli(addfive, "test", "addfive", "--save", "one", "-e", str(tmp_path / "e.json")).returncode == 0
    assert last_line(cli(addfive, "test", "addfive", "one").stdout) == "6"
    done = cli(addfive, "test", "addfive", "nope")
    assert done.returncode == 3 and "test_1" in done.stderr


def test_boto3_invoke(addfive: Server) -> None:
    lam = boto_client(addfive.base)
    assert lam.invoke(FunctionName="addfive", Payload=b'{"num": "15"}')["Payload"].read() == b"20"


def test_describe_stacks_with_boto3(addfive: Server) -> None:
    stack = cloudformation(addfive).describe_stacks(StackName="addfive")["Stacks"][0]
    assert stack["StackName"] == "addfive" and stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    assert stack["StackId"].startswith("arn:aws:cloudformation:us-east-1:000000000000:stack/addfive/")
    outputs = {o["OutputKey"]: o for o in stack["Outputs"]}
    url = outputs["AddFiveApiUrl"]["OutputValue"]
    assert url == f"{addfive.base}/PRD/addfive"
    assert outputs["AddFiveApiUrl"]["Description"]
    assert requests.get(url, params={"num": "5"}, timeout=30).text == "10"
    assert outputs["AddFiveFunctionArn"]["OutputValue"] == "arn:aws:lambda:us-east-1:000000000000:function:addfive"
    resources = cloudformation(addfive).describe_stack_resources(StackName="addfive")["StackResources"]
    assert {"AddFiveFunction", "AddFiveApi"} <= {r["LogicalResourceId"] for r in resources}
    names = [s["StackName"] for s in cloudformation(addfive).list_stacks()["StackSummaries"]]
    assert "addfive" in names


def test_describe_a_missing_stack(addfive: Server) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        cloudformation(addfive).describe_stacks(StackName="no-such-stack")
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    assert caught.value.response["Error"]["Message"] == "Stack with id no-such-stack does not exist"


def test_describe_stacks_with_the_aws_cli(addfive: Server) -> None:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run([AWS, "cloudformation", "describe-stacks", "--endpoint-url", addfive.base,
                           "--stack-name", "addfive"], capture_output=True, text=True, env=env, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    stack = json.loads(done.stdout)["Stacks"][0]
    assert stack["StackName"] == "addfive"
    assert f"{addfive.base}/PRD/addfive" in [o["OutputValue"] for o in stack["Outputs"]]


def test_unchanged_redeploy_is_a_no_op(addfive: Server) -> None:
    done = cli(addfive, "deploy", str(ADDFIVE), "--stack-name", "addfive")
    assert done.returncode == 0, done.stderr
    assert "(unchanged)" in done.stdout and "uploading" not in done.stdout


def test_a_redeploy_restores_what_was_changed_by_hand(addfive: Server) -> None:
    lam = boto_client(addfive.base)
    lam.update_function_configuration(FunctionName="addfive", Timeout=42)
    lam.get_waiter("function_updated_v2").wait(FunctionName="addfive", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    done = cli(addfive, "deploy", str(ADDFIVE), "--stack-name", "addfive")
    assert done.returncode == 0, done.stderr
    assert "(unchanged)" not in done.stdout
    assert lam.get_function_configuration(FunctionName="addfive")["Timeout"] == 3
    again = cli(addfive, "deploy", str(ADDFIVE), "--stack-name", "addfive")
    assert "(unchanged)" in again.stdout


def test_a_posted_form_without_action_is_api_traffic(addfive: Server) -> None:
    answer = requests.post(addfive.base + "/", data={"num": "5"}, timeout=30)
    assert "DescribeStacksResponse" not in answer.text and answer.status_code in (403, 404)


# -- updates, removals, failures ------------------------------------------------------------------

def test_update_remove_and_failed_deploys_keep_the_stack_serving(stack_server: Server, tmp_path: Path) -> None:
    project = write_counter(tmp_path / "counter", "one", "two")
    done = cli(stack_server, "deploy", str(project))
    assert done.returncode == 0, done.stderr + done.stdout
    assert "CREATE_COMPLETE" in done.stdout
    get = lambda path: requests.get(f"{stack_server.base}/Prod/{path}", timeout=30)  # noqa: E731
    assert (get("first").text, get("second").text) == ("one", "two")

    write_counter(project, "uno", "two")                                  # a changed redeploy
    done = cli(stack_server, "deploy", str(project))
    assert done.returncode == 0 and "UPDATE_COMPLETE" in done.stdout, done.stderr
    assert "uploading first" in done.stdout and "uploading second" not in done.stdout
    assert get("first").text == "uno"

    shutil.rmtree(project / "second")                                     # a resource removed
    write_counter(project, "uno", None)
    done = cli(stack_server, "deploy", str(project))
    assert done.returncode == 0, done.stderr
    names = {f["FunctionName"] for f in boto_client(stack_server.base).list_functions()["Functions"]}
    assert "counter-First" in names and "counter-Second" not in names
    assert get("second").status_code != 200 and get("first").text == "uno"

    bad_ref = COUNTER % {"second": ""} + "  Broken:\n    Value: !GetAtt Missing.Arn\n"
    (project / "template.yaml").write_text(bad_ref)                      # a bad reference
    done = cli(stack_server, "deploy", str(project))
    assert done.returncode == 1 and "Missing" in done.stderr and "Broken" in done.stderr, done.stderr
    assert get("first").text == "uno"

    write_counter(project, "uno", None).joinpath("template.yaml").write_text(
        (COUNTER % {"second": ""}).replace("CodeUri: first/", "CodeUri: nowhere/"))  # a CodeUri not there
    done = cli(stack_server, "deploy", str(project))
    assert done.returncode == 1 and "First" in done.stderr and "nowhere" in done.stderr, done.stderr
    assert get("first").text == "uno"

    bad_permission = ("  Allow:\n    Type: AWS::Lambda::Permission\n    Properties:\n"
                      "      Action: lambda:InvokeFunction\n      FunctionName: no-such-function\n"
                      "      Principal: apigateway.amazonaws.com\n")
    write_counter(project, "tres", None, extra=bad_permission)           # fails after First was updated
    done = cli(stack_server, "deploy", str(project))
    assert done.returncode == 1 and "Allow" in done.stderr, done.stderr + done.stdout
    assert get("first").text == "uno"                                     # rolled back
    stack = cloudformation(stack_server).describe_stacks(StackName="counter")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["FirstUrl"] == \
        f"{stack_server.base}/Prod/first"

    done = cli(stack_server, "rm", "--stack", "counter")
    assert done.returncode == 0, done.stderr
    assert get("first").status_code != 200
    names = {f["FunctionName"] for f in boto_client(stack_server.base).list_functions()["Functions"]}
    assert "counter-First" not in names
    assert "counter" not in [s["StackName"] for s in cloudformation(stack_server).list_stacks()["StackSummaries"]]


def test_failed_first_create_leaves_no_stack(stack_server: Server, tmp_path: Path) -> None:
    project = write_counter(tmp_path / "never", "x", None)
    (project / "template.yaml").write_text(COUNTER % {"second": ""} + "  Bad:\n    Value: !Ref Nowhere\n")
    done = cli(stack_server, "deploy", str(project))
    assert done.returncode == 1 and "Nowhere" in done.stderr
    assert "never" not in [s["StackName"] for s in cloudformation(stack_server).list_stacks()["StackSummaries"]]


def test_missing_template_is_a_usage_error(stack_server: Server, tmp_path: Path) -> None:
    done = cli(stack_server, "deploy", str(tmp_path))
    assert done.returncode == 2 and "template.yaml" in done.stderr


def test_ls_shows_stacks(addfive: Server) -> None:
    done = cli(addfive, "ls")
    assert done.returncode == 0
    assert "STACK" in done.stdout and "AddFiveFunction=addfive" in done.stdout


# -- SAM's hello world, tested the way its own integration test does -------------------------------

def test_sam_hello_world_integration_test(stack_server: Server, tmp_path: Path) -> None:
    project = tmp_path / "sam-app"
    shutil.copytree(SAM_HELLO, project)
    done = cli(stack_server, "deploy", str(project))
    assert done.returncode == 0, done.stderr + done.stdout

    # tests/integration/test_api_gateway.py of `sam init`'s hello world, with the endpoint given
    stack_name = "sam-app"
    client = cloudformation(stack_server)
    response = client.describe_stacks(StackName=stack_name)
    stacks = response["Stacks"]
    stack_outputs = stacks[0]["Outputs"]
    api_outputs = [output for output in stack_outputs if output["OutputKey"] == "HelloWorldApi"]
    assert api_outputs, f"Cannot find output HelloWorldApi in stack {stack_name}"
    api_endpoint = api_outputs[0]["OutputValue"]
    response = requests.get(api_endpoint, timeout=30)
    assert response.status_code == 200
    assert response.json() == {"message": "hello world"}

    done = cli(stack_server, "test", "HelloWorldFunction", "event")
    assert done.returncode == 0, done.stderr
    assert json.loads(last_line(done.stdout))["statusCode"] == 200


# -- code uploads and restarts ---------------------------------------------------------------------

def test_code_endpoints_check_hash_and_archive(stack_server: Server) -> None:
    import hashlib

    from tests.conftest import zip_of

    data = zip_of("X = 1")
    digest = hashlib.sha256(data).hexdigest()
    url = f"{stack_server.base}/_lambdalite/code"
    assert requests.post(url + "?missing", json={"hashes": [digest]}, timeout=30).json() == {"missing": [digest]}
    wrong = requests.put(f"{url}/{'0' * 64}", data=data, timeout=30)
    assert wrong.status_code == 400 and "changed in transit" in wrong.json()["message"]
    not_zip = requests.put(f"{url}/{hashlib.sha256(b'nope').hexdigest()}", data=b"nope", timeout=30)
    assert not_zip.status_code == 400
    assert requests.put(f"{url}/{digest}", data=data, timeout=30).status_code == 200
    assert requests.post(url + "?missing", json={"hashes": [digest]}, timeout=30).json() == {"missing": []}
    bad = requests.post(url + "?missing", json={"hashes": ["xyz"]}, timeout=30)
    assert bad.status_code == 400 and bad.headers["x-amzn-ErrorType"] == "ValidationException"


def test_stacks_survive_a_restart_and_redeploy_as_no_op(own_server: Server) -> None:
    own_server.start()
    assert cli(own_server, "deploy", str(ADDFIVE), "--stack-name", "addfive").returncode == 0
    own_server.restart()
    done = cli(own_server, "deploy", str(ADDFIVE), "--stack-name", "addfive")
    assert done.returncode == 0 and "(unchanged)" in done.stdout, done.stderr
    assert requests.get(f"{own_server.base}/PRD/addfive", params={"num": "5"}, timeout=30).text == "10"
    assert last_line(cli(own_server, "test", "addfive", "test_1").stdout) == "20"


def test_saved_test_events_go_with_their_function(stack_server: Server) -> None:
    lam = boto_client(stack_server.base)
    source = "def handler(event, context):\n    return event\n"
    create_function(lam, "evt-owner", source)
    assert cli(stack_server, "test", "evt-owner", "--save", "mine", "--event", '{"a": 1}').returncode == 0
    assert last_line(cli(stack_server, "test", "evt-owner", "mine").stdout) == '{"a": 1}'
    lam.delete_function(FunctionName="evt-owner")
    create_function(lam, "evt-owner", source)   # a new function of the same name starts without them
    done = cli(stack_server, "test", "evt-owner", "mine")
    assert done.returncode == 3, done.stdout


def big_template(functions: int) -> str:
    """A template whose planning takes a second or more (SAM expands every function and its API
    event); it ends with an Output that cannot resolve, so nothing is applied."""
    lines = ["Transform: AWS::Serverless-2016-10-31", "Resources:"]
    for i in range(functions):
        lines += [f"  Fn{i}:", "    Type: AWS::Serverless::Function", "    Properties:",
                  '      InlineCode: "def handler(e, c):\\n    return 1\\n"', "      Handler: index.handler",
                  "      Runtime: python3.11", "      Events:",
                  f"        Get: {{Type: Api, Properties: {{Path: /f{i}, Method: get}}}}"]
    return "\n".join([*lines, "Outputs:", "  Broken:", "    Value: !GetAtt Nope.Arn", ""])


def test_warm_invokes_answer_while_a_deploy_plans(server: Server) -> None:
    from lambdalite import Client
    from lambdalite.errors import StackRejected

    lam = boto_client(server.base)
    name = unique("warm")
    create_function(lam, name, "def handler(event, context):\n    return 'warm'\n")
    assert lam.invoke(FunctionName=name)["Payload"].read() == b'"warm"'
    deployed: dict[str, object] = {}

    def deploy() -> None:
        try:
            with Client(server.base) as client:
                client.deploy_stack(unique("big"), big_template(200))
        except StackRejected as e:
            deployed["problems"] = e.problems
        deployed["at"] = time.monotonic()

    planning = threading.Thread(target=deploy)
    planning.start()
    time.sleep(0.3)   # the request is in; the server is planning
    answered = []
    for _ in range(5):
        started = time.monotonic()
        assert lam.invoke(FunctionName=name)["Payload"].read() == b'"warm"'
        answered.append((time.monotonic(), time.monotonic() - started))
    planning.join(60)
    assert any("Nope" in p for p in deployed["problems"])  # type: ignore[attr-defined]
    assert answered[-1][0] < deployed["at"], (answered, deployed["at"])   # all five before the plan was done
    assert max(took for _, took in answered) < 0.5, answered


DEPS_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Pinned:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: %(name)s
      CodeUri: fn/
      Handler: app.handler
      Runtime: python3.11
      Events:
        Get: {Type: Api, Properties: {Path: /six, Method: get}}
"""
SIX_PROXY = """\
import six
def handler(event, context):
    return {"statusCode": 200, "body": six.__version__}
"""


def sam_project(root: Path, name: str, requirements: str) -> Path:
    (root / "fn").mkdir(parents=True)
    (root / "template.yaml").write_text(DEPS_TEMPLATE % {"name": name})
    (root / "fn" / "app.py").write_text(SIX_PROXY)
    (root / "fn" / "requirements.txt").write_text(requirements)
    return root


def test_a_code_folders_requirements_txt_is_built_at_deploy(stack_server: Server, tmp_path: Path) -> None:
    name = unique("sam-deps")
    project = sam_project(tmp_path / "app", name, "six==1.16.0\n")
    done = cli(stack_server, "deploy", str(project), "--stack-name", name)
    assert done.returncode == 0, done.stderr + done.stdout
    assert boto_client(stack_server.base).invoke(FunctionName=name)["Payload"].read() == \
        b'{"statusCode": 200, "body": "1.16.0"}'
    started = time.monotonic()
    again = cli(stack_server, "deploy", str(project), "--stack-name", name)
    assert again.returncode == 0 and "(unchanged)" in again.stdout
    assert time.monotonic() - started < 5


def test_a_deploy_whose_requirements_cannot_be_built_prints_the_installers_error(stack_server: Server,
                                                                                tmp_path: Path) -> None:
    name = unique("sam-bad")
    project = sam_project(tmp_path / "app", name, "no-such-package-lambdalite-deploy==1.0\n")
    done = cli(stack_server, "deploy", str(project), "--stack-name", name)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"function {name} failed to become ready" in done.stderr
    assert "no-such-package-lambdalite-deploy" in done.stderr
    assert f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}" in \
        cli(stack_server, "invoke", name).stderr                       # nothing was left behind


IRIS = ROOT / "examples" / "iris"


def test_the_iris_model_is_served_from_the_example(stack_server: Server) -> None:
    done = cli(stack_server, "deploy", str(IRIS), "--stack-name", "iris")
    assert done.returncode == 0, done.stdout + done.stderr
    stack = cloudformation(stack_server).describe_stacks(StackName="iris")["Stacks"][0]
    url = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["PredictUrl"]   # other stacks have Prod too
    answer = requests.post(url, json={"features": [5.1, 3.5, 1.4, 0.2]}, timeout=120)
    assert answer.status_code == 200 and answer.json()["class"] == "setosa"
    assert set(answer.json()["probabilities"]) == {"setosa", "versicolor", "virginica"}
    query = {"sepal_length": "6.7", "sepal_width": "3.0", "petal_length": "5.2", "petal_width": "2.3"}
    assert requests.get(url, params=query, timeout=60).json()["class"] == "virginica"   # the mapping template
    bad = requests.get(url, params={"sepal_length": "x"}, timeout=60)
    assert bad.status_code == 400 and "could not convert" in bad.json()["error"]
    assert requests.post(url, json={"features": [1, 2]}, timeout=60).status_code == 400
    assert last_line(cli(stack_server, "test", "iris", "virginica").stdout).startswith('{"class": "virginica"')
    started = time.monotonic()
    again = cli(stack_server, "deploy", str(IRIS), "--stack-name", "iris")
    assert again.returncode == 0 and "(unchanged)" in again.stdout
    assert time.monotonic() - started < 5


def test_deploy_refuses_a_zip_over_the_servers_limit_before_uploading_it(own_server: Server, tmp_path: Path) -> None:
    own_server.extra = ("--max-zip-mb", "1")
    own_server.start()
    project = sam_project(tmp_path / "app", unique("huge"), "")
    (project / "fn" / "noise.txt").write_text(os.urandom(1_500_000).hex())   # does not compress below 1 MB
    done = cli(own_server, "deploy", str(project), "--stack-name", "huge")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "CodeUri fn: its zip is" in done.stderr and "--max-zip-mb" in done.stderr
    assert "uploading" not in done.stdout
    assert requests.post(f"{own_server.base}/_lambdalite/code?missing", json={"hashes": []}, timeout=10).ok
    assert list((own_server.home / "blobs").iterdir()) == []            # nothing was uploaded


def outputs_of(server: Server, stack: str) -> dict[str, str]:
    described = cloudformation(server).describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}


def test_a_fastapi_app_behind_mangum_deploys_unchanged(stack_server: Server, tmp_path: Path) -> None:
    project = tmp_path / "fastapi-app"
    shutil.copytree(ROOT / "tests" / "fixtures" / "sam-fastapi", project)
    done = cli(stack_server, "deploy", str(project), "--stack-name", "fastapi-app")
    assert done.returncode == 0, done.stdout + done.stderr
    base = outputs_of(stack_server, "fastapi-app")["ApiUrl"].rstrip("/")
    assert requests.get(base + "/", timeout=60).json() == {"message": "hello from fastapi"}
    assert requests.get(base + "/items/7", params={"q": "tea"}, timeout=60).json() == {"item_id": 7, "q": "tea"}
    created = requests.post(base + "/items", json={"name": "pot", "price": 10}, timeout=60)
    assert created.json() == {"name": "pot", "price_with_tax": 12.0}
    assert requests.get(base + "/items/not-a-number", timeout=60).status_code == 422   # FastAPI's own validation
    assert requests.get(base + "/nowhere", timeout=60).status_code == 404


def test_a_powertools_event_handler_deploys_unchanged(stack_server: Server, tmp_path: Path) -> None:
    project = tmp_path / "powertools-app"
    shutil.copytree(ROOT / "tests" / "fixtures" / "sam-powertools", project)
    done = cli(stack_server, "deploy", str(project), "--stack-name", "powertools-app")
    assert done.returncode == 0, done.stdout + done.stderr
    orders = outputs_of(stack_server, "powertools-app")["OrdersApi"]
    assert requests.get(orders + "/42", timeout=60).json() == {"order_id": "42", "item": "tea"}
    missing = requests.get(orders + "/7", timeout=60)
    assert missing.status_code == 404 and "order 7 not found" in missing.text
    created = requests.post(orders, json={"order_id": 9, "item": "cake"}, timeout=60)
    assert (created.status_code, created.json()) == (201, {"created": 9})


def test_a_sam_layer_is_built_published_and_replaced(stack_server: Server, tmp_path: Path) -> None:
    project = tmp_path / "layered"
    shutil.copytree(ROOT / "tests" / "fixtures" / "sam-layer", project)
    done = cli(stack_server, "deploy", str(project), "--stack-name", "layered")
    assert done.returncode == 0, done.stdout + done.stderr
    lam = boto_client(stack_server.base)
    first = outputs_of(stack_server, "layered")["LayerArn"]
    assert first.endswith(":layer:CommonLayer:1")
    # the layer's python/ folder, and its requirements.txt built as `sam build` would (Metadata BuildMethod)
    assert json.loads(lam.invoke(FunctionName="uses-layer")["Payload"].read()) == {
        "greet": "hello from the layer", "six": "1.15.0"}
    assert cli(stack_server, "deploy", str(project), "--stack-name", "layered").stdout.count("(unchanged)") == 1
    (project / "layer" / "python" / "greeting.py").write_text("def greet():\n    return 'v2'\n")
    assert cli(stack_server, "deploy", str(project), "--stack-name", "layered").returncode == 0
    second = outputs_of(stack_server, "layered")["LayerArn"]
    assert second.endswith(":layer:CommonLayer:2")
    assert json.loads(lam.invoke(FunctionName="uses-layer")["Payload"].read())["greet"] == "v2"
    versions = [v["Version"] for v in lam.list_layer_versions(LayerName="CommonLayer")["LayerVersions"]]
    assert versions == [2]                                      # RetentionPolicy: Delete removed version 1
    assert cli(stack_server, "rm", "--stack", "layered").returncode == 0
    assert lam.list_layer_versions(LayerName="CommonLayer")["LayerVersions"] == []


RESERVED = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Capped:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: app.handler
      CodeUri: capped/
%s"""


def test_reserved_concurrent_executions_is_applied_changed_and_rolled_back(stack_server: Server,
                                                                           tmp_path: Path) -> None:
    project = tmp_path / "reserved"
    (project / "capped").mkdir(parents=True)
    (project / "capped" / "app.py").write_text(HANDLER % "capped")
    lam = boto_client(stack_server.base)

    def deploy(reserved: str) -> subprocess.CompletedProcess[str]:
        line = f"      ReservedConcurrentExecutions: {reserved}\n" if reserved else ""
        (project / "template.yaml").write_text(RESERVED % line)
        return cli(stack_server, "deploy", str(project))

    def reserved_now() -> int | None:
        return lam.get_function_concurrency(FunctionName="reserved-Capped").get("ReservedConcurrentExecutions")

    done = deploy("3")
    assert done.returncode == 0, done.stderr + done.stdout
    assert reserved_now() == 3 and "ReservedConcurrentExecutions" not in done.stdout   # not listed as ignored
    done = deploy("0")
    assert done.returncode == 0, done.stderr
    code = None
    try:
        lam.invoke(FunctionName="reserved-Capped", Payload=b"{}")
    except Exception as e:   # noqa: BLE001 - the ClientError's code is what is checked
        code = e.response["Reason"]  # type: ignore[attr-defined]
    assert code == "ReservedFunctionConcurrentInvocationLimitExceeded"

    done = deploy("-2")                                       # refused while planning: nothing changes
    assert done.returncode == 1 and "ReservedConcurrentExecutions must be a whole number" in done.stderr
    assert reserved_now() == 0
    done = deploy("100000")                                   # refused by the account's rule: rolled back
    assert done.returncode == 1 and "below its minimum value" in done.stderr, done.stderr
    assert reserved_now() == 0
    done = deploy("")                                         # the property removed: no reservation
    assert done.returncode == 0, done.stderr
    assert reserved_now() is None
    assert cli(stack_server, "rm", "--stack", "reserved").returncode == 0


PUBLISHED = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Model:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: model/
      Handler: app.handler
      Runtime: python3.11
%(extra)s      Events:
        Get: {Type: Api, Properties: {Path: /predict, Method: get}}
Outputs:
  Url:
    Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/Prod/predict"
%(outputs)s"""
MODEL_HANDLER = """\
import os
def handler(event, context):
    return {"statusCode": 200, "body": %r + " " + context.function_version + " "
            + os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"]}
"""


def test_auto_publish_alias_publishes_on_change_moves_the_alias_and_keeps_old_versions(
        stack_server: Server, tmp_path: Path) -> None:
    project = tmp_path / "published"
    (project / "model").mkdir(parents=True)
    lam = boto_client(stack_server.base)

    def deploy(model: str, extra: str = "      AutoPublishAlias: live\n",
               outputs: str = "  Version:\n    Value: !Ref Model.Version\n") -> subprocess.CompletedProcess[str]:
        (project / "model" / "app.py").write_text(MODEL_HANDLER % model)
        (project / "template.yaml").write_text(PUBLISHED % {"extra": extra, "outputs": outputs})
        return cli(stack_server, "deploy", str(project))

    def served() -> str:
        return requests.get(outputs_of(stack_server, "published")["Url"], timeout=30).text

    arn = "arn:aws:lambda:us-east-1:000000000000:function:published-Model"
    done = deploy("champion")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "ignored" not in done.stdout + done.stderr
    assert served() == "champion 1 on-demand"                      # the API calls the alias
    assert lam.get_alias(FunctionName="published-Model", Name="live")["FunctionVersion"] == "1"
    assert outputs_of(stack_server, "published")["Version"] == f"{arn}:1"
    policy = json.loads(lam.get_policy(FunctionName="published-Model", Qualifier="live")["Policy"])
    assert policy["Statement"][0]["Principal"] == {"Service": "apigateway.amazonaws.com"}

    assert deploy("champion").returncode == 0                      # unchanged: nothing new published
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName="published-Model")["Versions"]] \
        == ["$LATEST", "1"]

    done = deploy("challenger")                                     # new code: version 2, the alias moves
    assert done.returncode == 0, done.stderr
    assert served() == "challenger 2 on-demand"
    assert outputs_of(stack_server, "published")["Version"] == f"{arn}:2"
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName="published-Model")["Versions"]]
    assert versions == ["$LATEST", "1", "2"]                        # SAM's versions are retained
    assert json.loads(lam.invoke(FunctionName="published-Model", Qualifier="1")["Payload"].read())["body"] \
        .startswith("champion")                                      # ready for a rollback by hand

    provisioned = "      AutoPublishAlias: live\n      ProvisionedConcurrencyConfig:\n" \
                  "        ProvisionedConcurrentExecutions: 1\n"
    done = deploy("challenger", provisioned)
    assert done.returncode == 0, done.stderr
    config = lam.get_provisioned_concurrency_config(FunctionName="published-Model", Qualifier="live")
    assert config["Status"] == "READY"                              # the deploy waited for it
    assert served() == "challenger 2 provisioned-concurrency"

    done = deploy("challenger", "", "")                              # AutoPublishAlias removed
    assert done.returncode == 0, done.stderr
    assert served() == "challenger $LATEST on-demand"
    code = None
    try:
        lam.get_alias(FunctionName="published-Model", Name="live")
    except Exception as e:   # noqa: BLE001 - the ClientError's code is what is checked
        code = e.response["Error"]["Code"]  # type: ignore[attr-defined]
    assert code == "ResourceNotFoundException"
    assert len(lam.list_versions_by_function(FunctionName="published-Model")["Versions"]) == 3
    assert cli(stack_server, "rm", "--stack", "published").returncode == 0


def test_a_deploy_whose_provisioned_instances_fail_init_rolls_the_alias_back(stack_server: Server,
                                                                              tmp_path: Path) -> None:
    project = tmp_path / "provfail"
    (project / "model").mkdir(parents=True)
    lam = boto_client(stack_server.base)

    def deploy(source: str, extra: str) -> subprocess.CompletedProcess[str]:
        (project / "model" / "app.py").write_text(source)
        (project / "template.yaml").write_text(PUBLISHED % {"extra": extra, "outputs": ""})
        return cli(stack_server, "deploy", str(project))

    assert deploy(MODEL_HANDLER % "good", "      AutoPublishAlias: live\n").returncode == 0
    broken = "import os\nif os.environ['AWS_LAMBDA_INITIALIZATION_TYPE'] != 'on-demand':\n" \
             "    raise RuntimeError('cannot load the model')\n" + MODEL_HANDLER % "bad"
    done = deploy(broken, "      AutoPublishAlias: live\n      ProvisionedConcurrencyConfig:\n"
                          "        ProvisionedConcurrentExecutions: 1\n")
    assert done.returncode == 1 and "cannot load the model" in done.stderr, done.stderr
    assert lam.get_alias(FunctionName="provfail-Model", Name="live")["FunctionVersion"] == "1"
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName="provfail-Model")["Versions"]] \
        == ["$LATEST", "1"]                                          # the new version went with the rollback
    assert requests.get(outputs_of(stack_server, "provfail")["Url"], timeout=30).text == "good 1 on-demand"
    assert cli(stack_server, "rm", "--stack", "provfail").returncode == 0


def test_the_champion_challenger_example_works_as_its_readme_says(stack_server: Server) -> None:
    example = ROOT / "examples" / "champion-challenger"
    done = cli(stack_server, "deploy", str(example), "--stack-name", "cc")
    assert done.returncode == 0, done.stderr + done.stdout
    done = cli(stack_server, "deploy", str(example), "--stack-name", "cc", "--parameter-overrides", "Model=forest")
    assert done.returncode == 0, done.stderr + done.stdout
    lam = boto_client(stack_server.base)
    assert lam.get_alias(FunctionName="classifier", Name="live")["FunctionVersion"] == "2"
    url = outputs_of(stack_server, "cc")["ClassifyUrl"]
    send = [sys.executable, str(example / "send.py"), url, "--count", "100"]
    assert cli(stack_server, "alias", "classifier", "live", "--version", "1", "--weight", "2=0.1").returncode == 0
    counts = subprocess.run(send, capture_output=True, text=True, check=True, timeout=120).stdout
    seen = dict(part.split(": ") for part in counts.strip().split(", "))
    assert set(seen) == {"logistic", "forest"} and 70 <= int(seen["logistic"]) <= 99, counts
    done = cli(stack_server, "alias", "classifier", "live", "--version", "1", "--shadow", "2", "--compare",
               "body.class")
    assert done.returncode == 0, done.stderr
    assert subprocess.run(send, capture_output=True, text=True, check=True, timeout=120).stdout.strip() \
        == "logistic: 100"                                           # callers see the champion only
    deadline = time.monotonic() + 30
    while (shadow := requests.get(f"{stack_server.base}/_lambdalite/traffic",
                                  params={"function": "classifier", "alias": "live"}, timeout=10).json()["shadow"]) \
            is None or shadow["ran"] + shadow["dropped"] < 100:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert shadow["compare"] == "body.class" and shadow["ran"] >= 50
    assert 0.5 < shadow["agreement"] < 1.0 and shadow["samples"]   # the models mostly agree, not always
    done = cli(stack_server, "traffic", "classifier", "live")
    assert "comparing body.class" in done.stdout and '{"features": [' in done.stdout
    assert cli(stack_server, "rm", "--stack", "cc").returncode == 0


def test_a_shadow_named_in_the_template_shadows_the_alias(stack_server: Server, tmp_path: Path) -> None:
    project = tmp_path / "shadowed"
    (project / "model").mkdir(parents=True)
    lam = boto_client(stack_server.base)

    def deploy(model: str, metadata: str = "") -> subprocess.CompletedProcess[str]:
        (project / "model" / "app.py").write_text(MODEL_HANDLER % model)
        template = PUBLISHED % {"extra": "      AutoPublishAlias: live\n", "outputs": ""}
        template = template.replace("    Type: AWS::Serverless::Function\n",
                                    "    Type: AWS::Serverless::Function\n" + metadata)
        (project / "template.yaml").write_text(template)
        return cli(stack_server, "deploy", str(project))

    assert deploy("one").returncode == 0
    assert deploy("two").returncode == 0
    done = deploy("two", "    Metadata:\n      Lambdalite: {ShadowVersion: '1', ShadowCompare: statusCode}\n")
    assert done.returncode == 0, done.stderr + done.stdout
    view = requests.get(f"{stack_server.base}/_lambdalite/traffic",
                        params={"function": "shadowed-Model", "alias": "live"}, timeout=10).json()
    assert (view["aliasVersion"], view["shadowVersion"], view["shadowCompare"]) == ("2", "1", "statusCode")
    bad = deploy("two", "    Metadata:\n      Lambdalite: {ShadowVersion: latest}\n")
    assert bad.returncode == 1 and "ShadowVersion must be a version number" in bad.stderr
    assert lam.get_alias(FunctionName="shadowed-Model", Name="live")["FunctionVersion"] == "2"
    assert cli(stack_server, "rm", "--stack", "shadowed").returncode == 0


def test_the_montecarlo_example_estimates_pi_the_same_at_any_concurrency(stack_server: Server) -> None:
    example = ROOT / "examples" / "montecarlo"
    done = cli(stack_server, "deploy", str(example))
    assert done.returncode == 0, done.stderr + done.stdout
    runs = [subprocess.run([sys.executable, str(example / "run.py"), "--endpoint", stack_server.base, "--chunks", "8",
                            "--samples", "2000", *extra], capture_output=True, text=True, timeout=120)
            for extra in ((), ("--concurrency", "1"))]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    estimates = [r.stdout.split("pi = ")[1].split()[0] for r in runs]
    assert estimates[0] == estimates[1] and 2.9 < float(estimates[0]) < 3.4
    assert "API + requests: pi = " + estimates[0] in runs[0].stdout   # the guide's way agrees
    assert cli(stack_server, "rm", "--stack", "montecarlo").returncode == 0


def test_a_monthly_budget_named_in_the_template_caps_the_function(stack_server: Server, tmp_path: Path) -> None:
    project = tmp_path / "budgeted"
    project.mkdir()
    (project / "app.py").write_text("def handler(event, context):\n    return 1\n")

    def deploy(budget: str) -> subprocess.CompletedProcess[str]:
        (project / "template.yaml").write_text(
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  Capped:\n    Type: AWS::Serverless::Function\n"
            f"    Metadata:\n      Lambdalite: {{MonthlyBudget: {budget}}}\n"
            "    Properties: {FunctionName: budgeted-fn, CodeUri: ., Handler: app.handler, Runtime: python3.11}\n")
        return cli(stack_server, "deploy", str(project))

    done = deploy("0.50")
    assert done.returncode == 0, done.stderr + done.stdout

    def budget() -> float | None:
        listing = requests.get(f"{stack_server.base}/_lambdalite/budgets", timeout=10).json()["budgets"]
        return next((b["monthlyBudget"] for b in listing if b["function"] == "budgeted-fn"), None)
    assert budget() == 0.5
    bad = deploy("-1")
    assert bad.returncode == 1 and "MonthlyBudget" in bad.stderr and "0 or more dollars" in bad.stderr
    assert budget() == 0.5
    assert deploy("0").returncode == 0
    lam = boto_client(stack_server.base)
    refused = requests.post(f"{stack_server.base}/2015-03-31/functions/budgeted-fn/invocations", data=b"{}",
                            timeout=30)
    assert refused.status_code == 429 and refused.json()["Reason"] == "BudgetExceeded"
    assert lam.get_function(FunctionName="budgeted-fn")["Configuration"]["FunctionName"] == "budgeted-fn"
    assert cli(stack_server, "rm", "--stack", "budgeted").returncode == 0
    assert budget() is None   # gone with the function


def test_a_second_sam_app_with_the_same_stage_leaves_the_first_apps_url_working(own_server: Server,
                                                                                  tmp_path: Path) -> None:
    own_server.start()
    urls = {}
    for name in ("first-app", "second-app"):
        project = tmp_path / name
        shutil.copytree(SAM_HELLO, project)
        done = cli(own_server, "deploy", str(project))
        assert done.returncode == 0, done.stderr + done.stdout
        stack = cloudformation(own_server).describe_stacks(StackName=name)["Stacks"][0]
        urls[name] = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["HelloWorldApi"]
        if name == "second-app":
            assert "keeps the short URL /Prod/" in done.stderr + done.stdout
    assert urls["first-app"] == f"{own_server.base}/Prod/hello/"              # both have SAM's stage Prod:
    assert "/restapis/" in urls["second-app"] and urls["second-app"].endswith("/Prod/_user_request_/hello/")
    for url in urls.values():                                                 # the first keeps the short form
        assert requests.get(url, timeout=30).json() == {"message": "hello world"}
    assert cli(own_server, "rm", "--stack", "first-app").returncode == 0
    stack = cloudformation(own_server).describe_stacks(StackName="second-app")["Stacks"][0]
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["HelloWorldApi"] == \
        f"{own_server.base}/Prod/hello/"                                       # its owner gone, it passes on


COOKIE_ROUTE = '''

from fastapi import Cookie, Response


@app.get("/cookie")
def cookie(response: Response, session: str | None = Cookie(default=None)):
    response.set_cookie("seen", "yes")
    return {"session": session}
'''


def test_a_fastapi_app_behind_mangum_on_an_http_api(stack_server: Server, tmp_path: Path) -> None:
    project = tmp_path / "fastapi-http"
    shutil.copytree(ROOT / "tests" / "fixtures" / "sam-fastapi", project)
    template = (project / "template.yaml").read_text()
    template = template.replace("Type: Api", "Type: HttpApi").replace("${ServerlessRestApi}", "${ServerlessHttpApi}")
    (project / "template.yaml").write_text(template.replace('/Prod/"', '/"'))
    main = project / "app" / "main.py"
    main.write_text(main.read_text().replace('handler = Mangum(app, lifespan="off")', "")
                    + COOKIE_ROUTE + '\nhandler = Mangum(app, lifespan="off")\n')
    done = cli(stack_server, "deploy", str(project), "--stack-name", "fastapi-http")
    assert done.returncode == 0, done.stdout + done.stderr
    base = outputs_of(stack_server, "fastapi-http")["ApiUrl"].rstrip("/")
    assert requests.get(base + "/", timeout=60).json() == {"message": "hello from fastapi"}
    assert requests.get(base + "/items/7", params={"q": "tea"}, timeout=60).json() == {"item_id": 7, "q": "tea"}
    created = requests.post(base + "/items", json={"name": "pot", "price": 10}, timeout=60)
    assert created.json() == {"name": "pot", "price_with_tax": 12.0}
    assert requests.get(base + "/items/not-a-number", timeout=60).status_code == 422
    r = requests.get(base + "/cookie", cookies={"session": "abc"}, timeout=60)
    assert r.json() == {"session": "abc"} and r.cookies.get("seen") == "yes"
    assert cli(stack_server, "rm", "--stack", "fastapi-http").returncode == 0
