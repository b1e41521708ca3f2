"""The IAM action and resource a management or invoke request is for, as IAM names them.

Lambda's operations by method and path (`lambda:InvokeFunction` on the function's ARN, qualified
when the call names a version or alias); API Gateway's management APIs by method
(`apigateway:GET` on `arn:aws:apigateway:{region}::{path}`, IAM's own scheme for them); CloudWatch
Logs, CloudWatch and CloudFormation by operation name on `*`; Lambdalite's own endpoints as
`lambdalite:{METHOD}`. A Lambda path not in the table is `lambda:Unknown`, which only `lambda:*`
(or `*`) allows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class Request:
    method: str
    path: str                  # percent-decoded, as the ASGI scope has it
    query: str                 # the raw query string
    headers: dict[str, str]    # lower-cased names
    body: bytes


_NAME = r"(?P<name>[^/]+)"
# (method, path after the dated prefix's "functions") -> operation; the resource is the function's
_FUNCTION_OPS: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(p), op) for m, p, op in [
        ("POST", rf"/2015-03-31/functions/{_NAME}/invocations", "InvokeFunction"),
        ("POST", rf"/2014-11-13/functions/{_NAME}/invoke-async/?", "InvokeAsync"),
        ("GET", rf"/2015-03-31/functions/{_NAME}/?", "GetFunction"),
        ("DELETE", rf"/2015-03-31/functions/{_NAME}/?", "DeleteFunction"),
        ("PUT", rf"/2015-03-31/functions/{_NAME}/code/?", "UpdateFunctionCode"),
        ("GET", rf"/2015-03-31/functions/{_NAME}/configuration/?", "GetFunctionConfiguration"),
        ("PUT", rf"/2015-03-31/functions/{_NAME}/configuration/?", "UpdateFunctionConfiguration"),
        ("POST", rf"/2015-03-31/functions/{_NAME}/versions/?", "PublishVersion"),
        ("GET", rf"/2015-03-31/functions/{_NAME}/versions/?", "ListVersionsByFunction"),
        ("POST", rf"/2015-03-31/functions/{_NAME}/aliases/?", "CreateAlias"),
        ("GET", rf"/2015-03-31/functions/{_NAME}/aliases/?", "ListAliases"),
        ("GET", rf"/2015-03-31/functions/{_NAME}/aliases/[^/]+/?", "GetAlias"),
        ("PUT", rf"/2015-03-31/functions/{_NAME}/aliases/[^/]+/?", "UpdateAlias"),
        ("DELETE", rf"/2015-03-31/functions/{_NAME}/aliases/[^/]+/?", "DeleteAlias"),
        ("POST", rf"/2015-03-31/functions/{_NAME}/policy/?", "AddPermission"),
        ("GET", rf"/2015-03-31/functions/{_NAME}/policy/?", "GetPolicy"),
        ("DELETE", rf"/2015-03-31/functions/{_NAME}/policy/[^/]+/?", "RemovePermission"),
        ("PUT", rf"/20\d\d-\d\d-\d\d/functions/{_NAME}/concurrency/?", "PutFunctionConcurrency"),
        ("GET", rf"/20\d\d-\d\d-\d\d/functions/{_NAME}/concurrency/?", "GetFunctionConcurrency"),
        ("DELETE", rf"/20\d\d-\d\d-\d\d/functions/{_NAME}/concurrency/?", "DeleteFunctionConcurrency"),
        ("PUT", rf"/2019-09-25/functions/{_NAME}/event-invoke-config/?", "PutFunctionEventInvokeConfig"),
        ("POST", rf"/2019-09-25/functions/{_NAME}/event-invoke-config/?", "UpdateFunctionEventInvokeConfig"),
        ("GET", rf"/2019-09-25/functions/{_NAME}/event-invoke-config/?", "GetFunctionEventInvokeConfig"),
        ("DELETE", rf"/2019-09-25/functions/{_NAME}/event-invoke-config/?", "DeleteFunctionEventInvokeConfig"),
        ("GET", rf"/2019-09-25/functions/{_NAME}/event-invoke-config/list/?", "ListFunctionEventInvokeConfigs"),
        ("PUT", rf"/2019-09-30/functions/{_NAME}/provisioned-concurrency/?", "PutProvisionedConcurrencyConfig"),
        ("GET", rf"/2019-09-30/functions/{_NAME}/provisioned-concurrency/?", "GetProvisionedConcurrencyConfig"),
        ("DELETE", rf"/2019-09-30/functions/{_NAME}/provisioned-concurrency/?",
         "DeleteProvisionedConcurrencyConfig"),
    ]
]
_OTHER_OPS: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(p), op) for m, p, op in [
        ("GET", r"/2015-03-31/functions/?", "ListFunctions"),
        ("POST", r"/2015-03-31/functions/?", "CreateFunction"),
        ("GET", r"/2016-08-19/account-settings/?", "GetAccountSettings"),
        ("GET", r"/2017-03-31/tags/.+", "ListTags"),
        ("POST", r"/2017-03-31/tags/.+", "TagResource"),
        ("DELETE", r"/2017-03-31/tags/.+", "UntagResource"),
        ("GET", r"/2018-10-31/layers/?", "ListLayers"),
        ("GET", r"/2018-10-31/layers/[^/]+/versions/?", "ListLayerVersions"),
        ("POST", r"/2018-10-31/layers/[^/]+/versions/?", "PublishLayerVersion"),
        ("GET", r"/2018-10-31/layers/[^/]+/versions/[^/]+/?", "GetLayerVersion"),
        ("DELETE", r"/2018-10-31/layers/[^/]+/versions/[^/]+/?", "DeleteLayerVersion"),
        ("POST", r"/2018-10-31/layers/[^/]+/versions/[^/]+/policy/?", "AddLayerVersionPermission"),
        ("GET", r"/2018-10-31/layers/[^/]+/versions/[^/]+/policy/?", "GetLayerVersionPolicy"),
        ("DELETE", r"/2018-10-31/layers/[^/]+/versions/[^/]+/policy/[^/]+/?", "RemoveLayerVersionPermission"),
    ]
]
_LAMBDA_PREFIX = re.compile(r"/20\d\d-\d\d-\d\d/")


def action_of(request: Request, region: str, account: str) -> tuple[str, str]:
    """(IAM action, resource ARN) of a management or invoke request."""
    path, method = request.path, request.method
    if _LAMBDA_PREFIX.match(path):
        return _lambda(request, region, account)
    if path.startswith("/_lambdalite/"):
        return f"lambdalite:{method}", f"arn:aws:lambdalite:{region}:{account}:{path}"
    if path.startswith("/v2/"):
        return f"apigateway:{method}", f"arn:aws:apigateway:{region}::{path[3:]}"
    if path != "/":
        return f"apigateway:{method}", f"arn:aws:apigateway:{region}::{path}"
    target = request.headers.get("x-amz-target", "")
    if target:
        service = "logs" if target.startswith("Logs_") else "cloudwatch"
        return f"{service}:{target.rpartition('.')[2]}", "*"
    form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
    service = "cloudformation" if "/cloudformation/" in request.headers.get("authorization", "") else "cloudwatch"
    return f"{service}:{form.get('Action', 'Unknown')}", "*"


def _lambda(request: Request, region: str, account: str) -> tuple[str, str]:
    path, method = request.path, request.method
    for op_method, pattern, op in _FUNCTION_OPS:
        m = pattern.fullmatch(path) if op_method == method else None
        if m is not None:
            qualifier = dict(parse_qsl(request.query)).get("Qualifier") if request.query else None
            return f"lambda:{op}", function_arn(m.group("name"), qualifier, region, account)
    for op_method, pattern, op in _OTHER_OPS:
        if op_method == method and pattern.fullmatch(path):
            if op == "CreateFunction":
                return f"lambda:{op}", function_arn(_field(request.body, "FunctionName"), None, region, account)
            return f"lambda:{op}", "*"
    return "lambda:Unknown", "*"


def function_arn(name: str, qualifier: str | None, region: str, account: str) -> str:
    """The ARN IAM judges a call on `name` (a name, a partial or a full ARN) by."""
    if name.startswith("arn:"):
        arn = name
    elif ":" in name and name.split(":")[0].isdigit():   # 123456789012:function:name
        arn = f"arn:aws:lambda:{region}:{name.split(':', 1)[0]}:{name.split(':', 1)[1]}"
    elif ":" in name:   # name:qualifier
        arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    else:
        arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier and arn.count(":") == 6 else arn


def _field(body: bytes, name: str) -> str:
    try:
        data: Any = json.loads(body or b"{}")
    except ValueError:
        return "*"
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else "*"
