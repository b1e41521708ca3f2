"""SAM `Auth` on an `AWS::Serverless::Api` (issue 25 items 1 and 2) deployed with `lambdalite deploy`:
`ApiKeyRequired` with a PER_API `UsagePlan` (the translator's ApiKey, UsagePlan and UsagePlanKey), and a
TOKEN `Authorizers` entry made the `DefaultAuthorizer` (its OpenAPI security scheme, and the
Lambda::Permission SAM adds for the authorizer function)."""

from __future__ import annotations

from pathlib import Path

import requests

from tests.conftest import Server, boto_client
from tests.integration.test_cli import cli

TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  PartnerApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      OpenApiVersion: '3.0.1'
      Auth:
        ApiKeyRequired: true
        UsagePlan:
          CreateUsagePlan: PER_API
          Quota: {Limit: 2, Period: DAY}
        DefaultAuthorizer: Tokens
        Authorizers:
          Tokens:
            FunctionArn: !GetAtt TokenFunction.Arn
            Identity: {Header: Authorization, ReauthorizeEvery: 0}
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello/
      Handler: app.handler
      Runtime: python3.11
      Events:
        Get:
          Type: Api
          Properties: {RestApiId: !Ref PartnerApi, Path: /hello, Method: get}
  TokenFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: token/
      Handler: app.handler
      Runtime: python3.11
"""
HELLO = '''
def handler(event, context):
    return {"statusCode": 200, "body": event["requestContext"]["authorizer"]["principalId"]}
'''
TOKEN = '''
def handler(event, context):
    effect = "Allow" if event["authorizationToken"] == "good" else "Deny"
    return {"principalId": "partner", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}]}}
'''


def project(root: Path) -> Path:
    for folder, source in (("hello", HELLO), ("token", TOKEN)):
        (root / folder).mkdir(parents=True)
        (root / folder / "app.py").write_text(source)
    (root / "template.yaml").write_text(TEMPLATE)
    return root


def test_sam_api_key_usage_plan_and_default_authorizer(own_server: Server, tmp_path: Path) -> None:
    own_server.start()
    folder = project(tmp_path / "partners")
    done = cli(own_server, "deploy", str(folder), "--stack-name", "partners")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "not supported yet, ignored" not in done.stdout, done.stdout
    gw = boto_client(own_server.base, "apigateway")
    keys = gw.get_api_keys(includeValues=True)["items"]
    assert len(keys) == 1 and keys[0]["enabled"] is True
    value = keys[0]["value"]
    plan = gw.get_usage_plans()["items"][0]
    assert plan["quota"] == {"limit": 2, "offset": 0, "period": "DAY"}
    url = f"{own_server.base}/prod/hello"
    assert requests.get(url, headers={"Authorization": "good"}, timeout=30).status_code == 403   # no key
    assert requests.get(url, headers={"x-api-key": value}, timeout=30).status_code == 401        # no token
    assert requests.get(url, headers={"x-api-key": value, "Authorization": "bad"}, timeout=30).status_code == 403
    ok = requests.get(url, headers={"x-api-key": value, "Authorization": "good"}, timeout=30)
    assert (ok.status_code, ok.text) == (200, "partner")
    over = requests.get(url, headers={"x-api-key": value, "Authorization": "good"}, timeout=30)
    assert over.status_code == 200
    limited = requests.get(url, headers={"x-api-key": value, "Authorization": "good"}, timeout=30)
    assert (limited.status_code, limited.json()) == (429, {"message": "Limit Exceeded"})
    # a redeploy keeps the key's value; deleting the stack takes the key and the plan along
    (folder / "hello" / "app.py").write_text(HELLO + "# changed\n")
    assert cli(own_server, "deploy", str(folder), "--stack-name", "partners").returncode == 0
    assert gw.get_api_keys(includeValues=True)["items"][0]["value"] == value
    assert requests.delete(f"{own_server.base}/_lambdalite/stacks/partners", timeout=60).status_code in (200, 204)
    assert gw.get_api_keys()["items"] == [] and gw.get_usage_plans()["items"] == []
