"""SAM DeploymentPreference on a test-clock server: the alias shifts by CodeDeploy's schedule, a new
version that fails its share of calls (or a failing hook) rolls the whole update back by itself, and
`lambdalite deploy` shows each step; `--no-wait` returns at once."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import requests

from tests.conftest import Server, advance, boto_client
from tests.integration.test_cli import cli

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Model:
    Type: AWS::Serverless::Function
    Metadata:
      Lambdalite: {RollbackOnErrorRate: 0.2}
    Properties:
      FunctionName: canary-model
      CodeUri: model/
      Handler: app.handler
      Runtime: python3.11
      AutoPublishAlias: live
      DeploymentPreference:
        Type: %(type)s
%(hooks)s  PreTrafficCheck:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: canary-pretraffic
      CodeUri: hook/
      Handler: app.handler
      Runtime: python3.11
"""
MODEL = """\
CALLS = [0]
def handler(event, context):
    CALLS[0] += 1
    if %(fails)s and CALLS[0] %% 2:   # half of its calls
        raise RuntimeError("the new model is broken")
    return %(answer)r
"""
HOOK = """\
def handler(event, context):
    assert "DeploymentId" in event and "LifecycleEventHookExecutionId" in event
    return {"status": %(status)r}
"""



def write(project: Path, answer: str, fails: str = "False", kind: str = "Canary10Percent5Minutes",
          hooks: str = "", hook_status: str = "Succeeded") -> Path:
    (project / "model").mkdir(parents=True, exist_ok=True)
    (project / "hook").mkdir(parents=True, exist_ok=True)
    (project / "model" / "app.py").write_text(MODEL % {"fails": fails, "answer": answer})
    (project / "hook" / "app.py").write_text(HOOK % {"status": hook_status})
    (project / "template.yaml").write_text(TEMPLATE % {"type": kind, "hooks": hooks})
    return project



def progress(server: Server, stack: str) -> list[str]:
    return requests.get(f"{server.base}/_lambdalite/stacks/{stack}/progress", timeout=10).json()["lines"]


def wait_for_line(server: Server, stack: str, fragment: str) -> None:
    deadline = time.monotonic() + 60
    while not any(fragment in line for line in progress(server, stack)):
        assert time.monotonic() < deadline, progress(server, stack)
        time.sleep(0.05)


def deploy_in_background(server: Server, project: Path) -> tuple[threading.Thread, dict]:
    done: dict = {}

    def run() -> None:
        done["result"] = cli(server, "deploy", str(project), "--stack-name", "canary")
    thread = threading.Thread(target=run)
    thread.start()
    return thread, done


def calls(lam, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(n):
        answer = lam.invoke(FunctionName="canary-model", Qualifier="live")
        out.append(answer["ExecutedVersion"])
    return out


def test_a_canary_that_fails_rolls_back_by_itself_and_one_that_holds_completes(clocked: Server,
                                                                                tmp_path: Path) -> None:
    project = tmp_path / "canary"
    lam = boto_client(clocked.base)
    first = cli(clocked, "deploy", str(write(project, "v1")), "--stack-name", "canary")
    assert first.returncode == 0, first.stderr + first.stdout
    assert "ignored" not in first.stdout + first.stderr           # CodeDeploy's resources are understood
    assert lam.get_alias(FunctionName="canary-model", Name="live")["FunctionVersion"] == "1"

    thread, done = deploy_in_background(clocked, write(project, "v2", fails="True"))
    wait_for_line(clocked, "canary", "10% of the calls go to version 2")
    routing = lam.get_alias(FunctionName="canary-model", Name="live")["RoutingConfig"]
    assert routing == {"AdditionalVersionWeights": {"2": 0.1}}
    ran = calls(lam, 100)
    assert "2" in ran and ran.count("1") > 70                      # the canary gets its tenth
    advance(clocked, 300)                                           # the step's five minutes
    thread.join(60)
    result = done["result"]
    assert result.returncode == 1, result.stdout + result.stderr
    assert "version 2 failed" in result.stderr and "rolled back" in result.stderr
    assert "10% of the calls go to version 2 for 300 s" in result.stdout   # each step was shown
    alias = lam.get_alias(FunctionName="canary-model", Name="live")
    assert alias["FunctionVersion"] == "1" and "RoutingConfig" not in alias
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName="canary-model")["Versions"]] \
        == ["$LATEST", "1"]                                          # the update's version went with it
    assert json.loads(lam.invoke(FunctionName="canary-model")["Payload"].read()) == "v1"   # code restored
    stack = boto_client(clocked.base, "cloudformation").describe_stacks(StackName="canary")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE" and "version 2 failed" in stack["StackStatusReason"]

    thread, done = deploy_in_background(clocked, write(project, "v3"))
    wait_for_line(clocked, "canary", "10% of the calls go to version 3")
    assert set(calls(lam, 30)) <= {"1", "3"}
    advance(clocked, 300)
    thread.join(60)
    assert done["result"].returncode == 0, done["result"].stderr
    assert "all calls go to version 3" in done["result"].stdout
    assert lam.get_alias(FunctionName="canary-model", Name="live")["FunctionVersion"] == "3"
    stack = boto_client(clocked.base, "cloudformation").describe_stacks(StackName="canary")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"


def test_linear_steps_and_a_failing_pre_traffic_hook(clocked: Server, tmp_path: Path) -> None:
    project = tmp_path / "linear"
    lam = boto_client(clocked.base)
    hooks = "        Hooks:\n          PreTraffic: !Ref PreTrafficCheck\n"
    assert cli(clocked, "deploy", str(write(project, "v1", kind="Linear10PercentEvery1Minute", hooks=hooks)),
               "--stack-name", "canary").returncode == 0
    done = cli(clocked, "deploy", str(write(project, "v2", kind="Linear10PercentEvery1Minute", hooks=hooks,
                                            hook_status="Failed")), "--stack-name", "canary")
    assert done.returncode == 1 and "PreTraffic hook canary-pretraffic failed" in done.stderr, done.stderr
    assert lam.get_alias(FunctionName="canary-model", Name="live")["FunctionVersion"] == "1"

    thread, result = deploy_in_background(clocked, write(project, "v3", kind="Linear10PercentEvery1Minute",
                                                         hooks=hooks))
    for percent in range(10, 100, 10):
        wait_for_line(clocked, "canary", f"{percent}% of the calls go to version 3")
        advance(clocked, 60)
    thread.join(60)
    assert result["result"].returncode == 0, result["result"].stderr
    assert lam.get_alias(FunctionName="canary-model", Name="live")["FunctionVersion"] == "3"


def test_no_wait_returns_at_once_and_a_second_deploy_meanwhile_is_refused(clocked: Server, tmp_path: Path) -> None:
    project = tmp_path / "nowait"
    lam = boto_client(clocked.base)
    assert cli(clocked, "deploy", str(write(project, "v1")), "--stack-name", "canary").returncode == 0
    done = cli(clocked, "deploy", str(write(project, "v2")), "--stack-name", "canary", "--no-wait")
    assert done.returncode == 0 and "stack canary: UPDATE_IN_PROGRESS" in done.stdout, done.stdout + done.stderr
    wait_for_line(clocked, "canary", "10% of the calls go to version 2")
    again = cli(clocked, "deploy", str(write(project, "v3")), "--stack-name", "canary")
    assert again.returncode == 1 and "being deployed already" in again.stderr, again.stderr
    listed = cli(clocked, "ls")
    assert "UPDATE_IN_PROGRESS" in listed.stdout
    advance(clocked, 300)
    deadline = time.monotonic() + 30
    while lam.get_alias(FunctionName="canary-model", Name="live")["FunctionVersion"] != "2":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    stack = boto_client(clocked.base, "cloudformation").describe_stacks(StackName="canary")["Stacks"][0]
    assert stack["StackStatus"] in ("UPDATE_COMPLETE", "UPDATE_IN_PROGRESS")


def test_an_unknown_deployment_type_is_a_problem(clocked: Server, tmp_path: Path) -> None:
    done = cli(clocked, "deploy", str(write(tmp_path / "bad", "v1", kind="Sometimes50Percent")), "--stack-name",
               "canary")
    assert done.returncode == 1 and "Sometimes50Percent is not one of CodeDeploy's predefined" in done.stderr, \
        done.stdout + done.stderr
