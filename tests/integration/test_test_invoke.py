"""TestInvokeMethod (boto3 `test_invoke_method`): a method run as the API is now, undeployed, with the
execution log; what the console's Test form shows."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, boto_client, create_function, unique

ADDFIVE = "def handler(e, c):\n    try:\n        return int(e['num']) + 5\n    except Exception:\n        return 0\n"


def gateway(server: Server) -> Any:
    return boto3.client("apigateway", endpoint_url=server.base, region_name="us-east-1",
                        aws_access_key_id="t", aws_secret_access_key="t")


def guide_api(server: Server) -> tuple[Any, str, str]:
    lam, gw = boto_client(server.base), gateway(server)
    fn = unique("addfive")
    create_function(lam, fn, ADDFIVE)
    api = gw.create_rest_api(name=unique("guide"))["id"]
    root = gw.get_resources(restApiId=api)["items"][0]["id"]
    res = gw.create_resource(restApiId=api, parentId=root, pathPart="addfive")["id"]
    gw.put_method(restApiId=api, resourceId=res, httpMethod="GET", authorizationType="NONE",
                  requestParameters={"method.request.querystring.num": True})
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{fn}"
    gw.put_integration(restApiId=api, resourceId=res, httpMethod="GET", type="AWS", integrationHttpMethod="POST",
                       uri=f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn}/invocations",
                       requestTemplates={"application/json": '{"num": "$input.params(\'num\')"}'})
    gw.put_method_response(restApiId=api, resourceId=res, httpMethod="GET", statusCode="200")
    gw.put_integration_response(restApiId=api, resourceId=res, httpMethod="GET", statusCode="200", selectionPattern="")
    lam.add_permission(FunctionName=fn, StatementId="apigateway", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:us-east-1:000000000000:{api}/*/GET/addfive")
    return gw, api, res


def test_the_guides_method_is_tested_before_it_is_deployed(server: Server) -> None:
    gw, api, res = guide_api(server)
    out = gw.test_invoke_method(restApiId=api, resourceId=res, httpMethod="GET", pathWithQueryString="/addfive?num=5")
    assert (out["status"], out["body"]) == (200, "10")
    assert out["headers"]["Content-Type"] == "application/json"
    assert out["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert out["log"].startswith("Execution log for request ")
    assert 'Endpoint request body after transformations: {"num": "5"}' in out["log"]
    assert "Method completed with status: 200" in out["log"] and isinstance(out["latency"], int)
    assert gw.get_stages(restApiId=api)["item"] == []   # nothing was deployed
    bad = gw.test_invoke_method(restApiId=api, resourceId=res, httpMethod="GET", pathWithQueryString="/addfive?num=x")
    assert (bad["status"], bad["body"]) == (200, "0")


def test_a_failing_integration_is_the_answer_not_an_error(server: Server) -> None:
    gw, api, res = guide_api(server)
    gw.update_integration(restApiId=api, resourceId=res, httpMethod="GET", patchOperations=[
        {"op": "replace", "path": "/uri", "value": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                                                   "arn:aws:lambda:us-east-1:000000000000:function:nobody/invocations"}])
    out = gw.test_invoke_method(restApiId=api, resourceId=res, httpMethod="GET", pathWithQueryString="/addfive?num=5")
    assert out["status"] == 500 and "Internal server error" in out["body"]
    assert "Method completed with status: 500" in out["log"]


def test_an_unknown_method_or_api_is_not_found(server: Server) -> None:
    gw, api, res = guide_api(server)
    for kwargs in ({"restApiId": api, "resourceId": res, "httpMethod": "POST"},
                   {"restApiId": "nosuchapi0", "resourceId": res, "httpMethod": "GET"}):
        with pytest.raises(ClientError) as refused:
            gw.test_invoke_method(**kwargs)
        assert refused.value.response["Error"]["Code"] == "NotFoundException"
