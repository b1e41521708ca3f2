"""The guide's API Gateway console steps with boto3, then the guide's `requests` line.

    python examples/addfive/build_api.py [--endpoint http://127.0.0.1:9000]

Creates (or updates) the `addfive` function, then a REST API `addfive-api` with a resource
`/addfive`, a GET method that declares the query string `num`, a non-proxy Lambda integration whose
mapping template puts `num` into the event, a default integration response, and a deployment to
stage `PRD` (the console also grants API Gateway permission to invoke the function: AddPermission).
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

import boto3
import requests

HERE = Path(__file__).resolve().parent
REGION = "us-east-1"
TEMPLATE = """{"num": "$input.params('num')"}"""


def clients(endpoint: str):  # type: ignore[no-untyped-def]
    kw = {"endpoint_url": endpoint, "region_name": REGION, "aws_access_key_id": "test",
          "aws_secret_access_key": "test"}
    return boto3.client("lambda", **kw), boto3.client("apigateway", **kw)


def create_function(lam) -> str:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(HERE / "lambda_function.py", "lambda_function.py")
    try:
        lam.create_function(FunctionName="addfive", Runtime="python3.11", Handler="lambda_function.lambda_handler",
                            Role="arn:aws:iam::000000000000:role/lambda-role", Code={"ZipFile": buf.getvalue()})
    except lam.exceptions.ResourceConflictException:
        pass  # already there: keep it
    lam.get_waiter("function_active_v2").wait(FunctionName="addfive")
    return str(lam.get_function(FunctionName="addfive")["Configuration"]["FunctionArn"])


def build_api(apigw, lam, function_arn: str, stage: str = "PRD") -> str:  # type: ignore[no-untyped-def]
    api_id = apigw.create_rest_api(name="addfive-api")["id"]
    account = function_arn.split(":")[4]
    lam.add_permission(FunctionName=function_arn, StatementId=f"apigateway-{api_id}",
                       Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:{REGION}:{account}:{api_id}/*/GET/addfive")
    root = next(r["id"] for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
    resource = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="addfive")["id"]
    # Method Request: declare the query string `num` (not required, as in the guide).
    apigw.put_method(restApiId=api_id, resourceId=resource, httpMethod="GET", authorizationType="NONE",
                     requestParameters={"method.request.querystring.num": False})
    # Integration Request: Lambda, non-proxy, with the mapping template that builds the event.
    uri = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    apigw.put_integration(restApiId=api_id, resourceId=resource, httpMethod="GET", type="AWS",
                          integrationHttpMethod="POST", uri=uri, requestTemplates={"application/json": TEMPLATE},
                          passthroughBehavior="WHEN_NO_TEMPLATES")
    apigw.put_method_response(restApiId=api_id, resourceId=resource, httpMethod="GET", statusCode="200")
    apigw.put_integration_response(restApiId=api_id, resourceId=resource, httpMethod="GET", statusCode="200")
    apigw.create_deployment(restApiId=api_id, stageName=stage)
    return str(api_id)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", default="http://127.0.0.1:9000")
    args = parser.parse_args()
    lam, apigw = clients(args.endpoint)
    existing = [a["id"] for a in apigw.get_rest_apis()["items"] if a["name"] == "addfive-api"]
    api_id = existing[0] if existing else build_api(apigw, lam, create_function(lam))
    print(f"deployed {api_id} to stage PRD: {args.endpoint}/PRD/addfive")
    # The guide's line, against this server instead of execute-api.amazonaws.com:
    resp = requests.get(f"{args.endpoint}/PRD/addfive", params={"num": "5"})
    print(repr(resp.text))   # '10'
    if resp.status_code != 200:
        raise SystemExit(f"GET /PRD/addfive answered {resp.status_code}: {resp.text}")


if __name__ == "__main__":
    main()
