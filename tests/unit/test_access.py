"""IAM's evaluation of a role's statements, the actions requests are for, instance session keys."""

from __future__ import annotations

import pytest

from lambdalite.access import (
    DEFAULT_STATEMENTS,
    CredentialBook,
    Decision,
    Request,
    RolePolicy,
    action_of,
    decide,
    denial_message,
    role_statements,
)
from lambdalite.access.actions import function_arn

REGION, ACCOUNT = "us-east-1", "000000000000"
FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"


def allow(action: object, resource: object = "*", **extra: object) -> dict[str, object]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: object, resource: object = "*", **extra: object) -> dict[str, object]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


@pytest.mark.parametrize(("statements", "action", "resource", "want"), [
    ([], "lambda:InvokeFunction", FN + "a", Decision.IMPLICIT_DENY),
    ([allow("lambda:InvokeFunction")], "lambda:InvokeFunction", FN + "a", Decision.ALLOW),
    ([allow("lambda:invokefunction")], "lambda:InvokeFunction", FN + "a", Decision.ALLOW),   # actions: any case
    ([allow("lambda:Invoke*")], "lambda:InvokeAsync", FN + "a", Decision.ALLOW),
    ([allow("lambda:*")], "lambda:DeleteFunction", FN + "a", Decision.ALLOW),
    ([allow("*")], "apigateway:DELETE", "arn:aws:apigateway:us-east-1::/restapis/x", Decision.ALLOW),
    ([allow("lambda:Get?unction")], "lambda:GetFunction", FN + "a", Decision.ALLOW),
    ([allow("lambda:Get?unction")], "lambda:GetFFunction", FN + "a", Decision.IMPLICIT_DENY),
    ([allow("lambda:InvokeFunction", FN + "a")], "lambda:InvokeFunction", FN + "b", Decision.IMPLICIT_DENY),
    ([allow("lambda:InvokeFunction", FN + "a")], "lambda:InvokeFunction", FN + "a:live", Decision.IMPLICIT_DENY),
    ([allow("lambda:InvokeFunction", FN + "a*")], "lambda:InvokeFunction", FN + "a:live", Decision.ALLOW),
    ([allow("lambda:InvokeFunction", FN.upper() + "A")], "lambda:InvokeFunction", FN + "a", Decision.IMPLICIT_DENY),
    ([allow("lambda:InvokeFunction", [FN + "b", FN + "a"])], "lambda:InvokeFunction", FN + "a", Decision.ALLOW),
    ([allow(["lambda:GetFunction", "lambda:InvokeFunction"])], "lambda:InvokeFunction", FN + "a", Decision.ALLOW),
    ([allow("lambda:*"), deny("lambda:DeleteFunction")], "lambda:DeleteFunction", FN + "a", Decision.EXPLICIT_DENY),
    ([deny("lambda:DeleteFunction"), allow("lambda:*")], "lambda:DeleteFunction", FN + "a", Decision.EXPLICIT_DENY),
    ([allow("lambda:*"), deny("lambda:*", FN + "b")], "lambda:DeleteFunction", FN + "a", Decision.ALLOW),
    ([{"Effect": "Allow", "NotAction": "lambda:DeleteFunction", "Resource": "*"}], "lambda:GetFunction", FN + "a",
     Decision.ALLOW),
    ([{"Effect": "Allow", "NotAction": "lambda:DeleteFunction", "Resource": "*"}], "lambda:DeleteFunction", FN + "a",
     Decision.IMPLICIT_DENY),
    ([{"Effect": "Allow", "Action": "lambda:*", "NotResource": FN + "a"}], "lambda:GetFunction", FN + "a",
     Decision.IMPLICIT_DENY),
    ([{"Effect": "Allow", "Action": "lambda:*", "NotResource": FN + "a"}], "lambda:GetFunction", FN + "b",
     Decision.ALLOW),
    # conditions are not evaluated: an Allow with one never grants, a Deny with one always applies
    ([allow("lambda:*", Condition={"StringEquals": {"aws:x": "y"}})], "lambda:GetFunction", FN + "a",
     Decision.IMPLICIT_DENY),
    ([allow("lambda:*"), deny("lambda:*", Condition={"Bool": {"aws:x": "true"}})], "lambda:GetFunction", FN + "a",
     Decision.EXPLICIT_DENY),
    ([{"Effect": "Maybe", "Action": "*", "Resource": "*"}], "lambda:GetFunction", FN + "a", Decision.IMPLICIT_DENY),
    ([allow(7)], "lambda:GetFunction", FN + "a", Decision.IMPLICIT_DENY),
    ([allow("lambda:*", None)], "lambda:GetFunction", FN + "a", Decision.IMPLICIT_DENY),
    ([allow("lambda:Get.*")], "lambda:GetXFunction", FN + "a", Decision.IMPLICIT_DENY),   # a dot is a dot
])
def test_decide_follows_iam(statements: list[dict[str, object]], action: str, resource: str, want: Decision) -> None:
    assert decide(statements, action, resource) is want


def test_denial_messages_are_iams() -> None:
    who = f"arn:aws:sts::{ACCOUNT}:assumed-role/r/probe"
    assert denial_message(who, "lambda:DeleteFunction", FN + "victim", Decision.IMPLICIT_DENY) == (
        f"User: {who} is not authorized to perform: lambda:DeleteFunction on resource: {FN}victim because no "
        "identity-based policy allows the lambda:DeleteFunction action")
    assert denial_message(who, "lambda:DeleteFunction", FN + "victim", Decision.EXPLICIT_DENY).endswith(
        "on resource: " + FN + "victim with an explicit deny in an identity-based policy")


BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def test_a_role_that_states_nothing_gets_the_default() -> None:
    assert role_statements(None) == DEFAULT_STATEMENTS
    basic = role_statements(RolePolicy(managed=(BASIC,)))
    assert decide(basic, "lambda:InvokeFunction", FN + "any") is Decision.ALLOW
    assert decide(basic, "logs:PutLogEvents", "*") is Decision.ALLOW
    assert decide(basic, "lambda:DeleteFunction", FN + "any") is Decision.IMPLICIT_DENY


def test_a_role_with_its_own_statements_gets_exactly_those() -> None:
    only_b = role_statements(RolePolicy(statements=(allow("lambda:InvokeFunction", FN + "b*"),), managed=(BASIC,)))
    assert decide(only_b, "lambda:InvokeFunction", FN + "b") is Decision.ALLOW
    assert decide(only_b, "lambda:InvokeFunction", FN + "c") is Decision.IMPLICIT_DENY
    full = role_statements(RolePolicy(managed=(BASIC, "arn:aws:iam::aws:policy/AWSLambda_FullAccess")))
    assert decide(full, "lambda:DeleteFunction", FN + "c") is Decision.ALLOW
    assert decide(full, "apigateway:DELETE", "arn:aws:apigateway:us-east-1::/restapis/x") is Decision.IMPLICIT_DENY


def test_an_unknown_managed_policy_grants_nothing_and_is_named() -> None:
    role = RolePolicy(managed=("arn:aws:iam::aws:policy/AmazonS3FullAccess",))
    assert role.unknown_managed() == ["arn:aws:iam::aws:policy/AmazonS3FullAccess"]
    assert decide(role_statements(role), "lambda:InvokeFunction", FN + "a") is Decision.IMPLICIT_DENY
    assert RolePolicy.from_json(role.to_json()) == role


def req(method: str, path: str, query: str = "", body: bytes = b"", **headers: str) -> Request:
    return Request(method, path, query, {k.replace("_", "-"): v for k, v in headers.items()}, body)


@pytest.mark.parametrize(("request_", "want"), [
    (req("POST", "/2015-03-31/functions/victim/invocations"), ("lambda:InvokeFunction", FN + "victim")),
    (req("POST", "/2015-03-31/functions/victim/invocations", "Qualifier=live"),
     ("lambda:InvokeFunction", FN + "victim:live")),
    (req("POST", f"/2015-03-31/functions/{FN}victim/invocations"), ("lambda:InvokeFunction", FN + "victim")),
    (req("POST", f"/2015-03-31/functions/{FN}victim:3/invocations"), ("lambda:InvokeFunction", FN + "victim:3")),
    (req("DELETE", "/2015-03-31/functions/victim"), ("lambda:DeleteFunction", FN + "victim")),
    (req("GET", "/2015-03-31/functions/victim"), ("lambda:GetFunction", FN + "victim")),
    (req("PUT", "/2015-03-31/functions/victim/code"), ("lambda:UpdateFunctionCode", FN + "victim")),
    (req("PUT", "/2015-03-31/functions/victim/configuration"), ("lambda:UpdateFunctionConfiguration", FN + "victim")),
    (req("POST", "/2015-03-31/functions/victim/policy"), ("lambda:AddPermission", FN + "victim")),
    (req("DELETE", "/2015-03-31/functions/victim/policy/sid"), ("lambda:RemovePermission", FN + "victim")),
    (req("GET", "/2015-03-31/functions/"), ("lambda:ListFunctions", "*")),
    (req("POST", "/2015-03-31/functions", body=b'{"FunctionName": "new"}'), ("lambda:CreateFunction", FN + "new")),
    (req("POST", "/2015-03-31/functions", body=b"not json"), ("lambda:CreateFunction", FN + "*")),
    (req("PUT", "/2017-10-31/functions/victim/concurrency"), ("lambda:PutFunctionConcurrency", FN + "victim")),
    (req("POST", "/2018-10-31/layers/x/versions"), ("lambda:PublishLayerVersion", "*")),
    (req("PATCH", "/2015-03-31/functions/victim"), ("lambda:Unknown", "*")),
    (req("DELETE", "/restapis/abc"), ("apigateway:DELETE", "arn:aws:apigateway:us-east-1::/restapis/abc")),
    (req("GET", "/v2/apis"), ("apigateway:GET", "arn:aws:apigateway:us-east-1::/apis")),
    (req("POST", "/", x_amz_target="Logs_20140328.PutLogEvents"), ("logs:PutLogEvents", "*")),
    (req("POST", "/", x_amz_target="GraniteServiceVersion20100801.GetMetricData"), ("cloudwatch:GetMetricData", "*")),
    (req("POST", "/", body=b"Action=DescribeStacks&Version=2010-05-15",
         authorization="AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/cloudformation/aws4_request"),
     ("cloudformation:DescribeStacks", "*")),
    (req("POST", "/_lambdalite/clock"),
     ("lambdalite:POST", "arn:aws:lambdalite:us-east-1:000000000000:/_lambdalite/clock")),
])
def test_the_action_a_request_is_for(request_: Request, want: tuple[str, str]) -> None:
    assert action_of(request_, REGION, ACCOUNT) == want


def test_function_arns_from_every_form_of_name() -> None:
    assert function_arn("f", None, REGION, ACCOUNT) == FN + "f"
    assert function_arn("f:live", None, REGION, ACCOUNT) == FN + "f:live"
    assert function_arn(f"{ACCOUNT}:function:f", None, REGION, ACCOUNT) == FN + "f"
    assert function_arn("f", "7", REGION, ACCOUNT) == FN + "f:7"
    assert function_arn(FN + "f:live", "live", REGION, ACCOUNT) == FN + "f:live"


def test_session_keys_are_per_instance_and_expire() -> None:
    now = [1000.0]
    book = CredentialBook(lambda: now[0], ACCOUNT)
    a, b = book.issue("probe", "arn:aws:iam::000000000000:role/app-ProbeRole-1"), book.issue("probe", "")
    assert a.key_id != b.key_id and a.key_id.startswith("ASIA") and len(a.key_id) == 20
    assert set(a.environment()) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}
    assert a.principal.arn == "arn:aws:sts::000000000000:assumed-role/app-ProbeRole-1/probe"
    assert book.get(a.key_id) is a and not book.expired(a)
    now[0] += 12 * 3600
    assert book.expired(a)
    book.revoke(a.key_id)
    assert book.get(a.key_id) is None and len(book) == 1
