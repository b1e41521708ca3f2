"""Authorizer answers and IAM policy evaluation against method ARNs (`gateway.data.policy`), and the
identity sources of `gateway.data.authorizers`: pure."""

from __future__ import annotations

import json

import pytest

from lambdalite.errors import AuthorizerConfigurationError, AuthorizerDenied
from lambdalite.gateway.data.authorizers import compile_authorizer, identity_of, method_arn
from lambdalite.gateway.data.policy import ALLOW, DENY, IMPLICIT, Statement, evaluate, matches, parse_decision

ARN = "arn:aws:execute-api:us-east-1:000000000000:abc123/prod/GET/pets/7"


@pytest.mark.parametrize(("glob", "hit"), [
    (ARN, True), ("*", True), ("arn:aws:execute-api:us-east-1:000000000000:abc123/*", True),
    ("arn:aws:execute-api:*:*:abc123/prod/GET/*", True), ("arn:aws:execute-api:us-east-1:000000000000:abc123/prod/"
                                                         "GET/pets/?", True),
    ("arn:aws:execute-api:us-east-1:000000000000:abc123/prod/POST/*", False),
    ("arn:aws:execute-api:us-east-1:000000000000:abc123/PROD/*", False),   # case-sensitive
    ("arn:aws:execute-api:us-east-1:000000000000:abc123/prod/GET/pets", False),
])
def test_resources_match_as_iam_arn_globs(glob: str, hit: bool) -> None:
    assert matches(glob, ARN) is hit


def statement(effect: str, resource: str, action: str = "execute-api:Invoke") -> Statement:
    return Statement(effect, (action,), (resource,))


def test_deny_wins_allow_allows_and_nothing_is_implicit() -> None:
    assert evaluate((statement("Allow", "*"),), ARN) == ALLOW
    assert evaluate((statement("Allow", "*"), statement("Deny", ARN)), ARN) == DENY
    assert evaluate((statement("Allow", "*/POST/*"),), ARN) == IMPLICIT
    assert evaluate((statement("Allow", "*", action="execute-api:*"),), ARN) == ALLOW
    assert evaluate((statement("Allow", "*", action="s3:GetObject"),), ARN) == IMPLICIT


def answer(**fields: object) -> bytes:
    return json.dumps({"principalId": "u1", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [ARN]}]}, **fields}).encode()


def test_a_decision_is_checked_per_method_and_carries_stringified_context() -> None:
    decision = parse_decision(answer(context={"n": 1, "b": False, "s": "x", "none": None}))
    decision.check(ARN)
    with pytest.raises(AuthorizerDenied) as denied:
        decision.check(ARN.replace("GET", "DELETE"))
    assert denied.value.message == "User is not authorized to access this resource"
    assert decision.authorizer_context(7) == {"n": "1", "b": "false", "s": "x", "principalId": "u1",
                                              "integrationLatency": 7}
    explicit = parse_decision(json.dumps({"principalId": "u", "policyDocument": {"Statement": {
        "Action": "execute-api:Invoke", "Effect": "Deny", "Resource": "*"}}}).encode())
    with pytest.raises(AuthorizerDenied) as refused:
        explicit.check(ARN)
    assert (refused.value.message_key, refused.value.message) == (
        "Message", "User is not authorized to access this resource with an explicit deny")


@pytest.mark.parametrize("body", [
    b"not json", b"[]", json.dumps({"principalId": "u"}).encode(),
    json.dumps({"policyDocument": {"Statement": []}}).encode(),
    json.dumps({"policyDocument": {"Statement": [{"Effect": "allow", "Action": "*", "Resource": "*"}]}}).encode(),
    json.dumps({"policyDocument": {"Statement": [{"Effect": "Allow", "Resource": "*"}]}}).encode(),
    answer(context={"nested": {"a": 1}}), answer(context=[1]),
])
def test_what_is_not_a_policy_is_a_configuration_error(body: bytes) -> None:
    with pytest.raises(AuthorizerConfigurationError):
        parse_decision(body)


def test_identity_sources_and_the_validation_expression() -> None:
    token = compile_authorizer({"id": "a1", "type": "TOKEN", "identitySource": "method.request.header.Authorization",
                                "identityValidationExpression": "^Bearer [a-z]+$",
                                "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                                                 "arn:aws:lambda:us-east-1:0:function:${stageVariables.fn}/invocations"},
                               {"fn": "auth"})
    assert (token.problem, token.function, token.ttl_s) == (None, "arn:aws:lambda:us-east-1:0:function:auth", 300)
    assert identity_of(token, {"authorization": "Bearer abc"}, {}, {}, None) == ("Bearer abc",)
    assert identity_of(token, {"authorization": "Bearer ABC"}, {}, {}, None) is None
    assert identity_of(token, {}, {}, {}, None) is None
    request = compile_authorizer({"id": "a2", "type": "REQUEST", "authorizerResultTtlInSeconds": 0,
                                  "identitySource": "method.request.header.X-User, method.request.querystring.q, "
                                                    "stageVariables.v, context.identity.sourceIp",
                                  "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                                                   "arn:aws:lambda:us-east-1:0:function:auth/invocations"}, {})
    context = {"identity": {"sourceIp": "127.0.0.1"}}
    assert identity_of(request, {"x-user": "u"}, {"q": "1"}, {"v": "2"}, context) == ("u", "1", "2", "127.0.0.1")
    assert identity_of(request, {"x-user": "u"}, {}, {"v": "2"}, context) is None
    assert compile_authorizer(None, {}).problem is not None
    assert compile_authorizer({"id": "c", "type": "COGNITO_USER_POOLS"}, {}).problem is not None


def test_the_method_arn_names_the_concrete_path() -> None:
    assert method_arn("us-east-1", "000000000000", "abc123", "prod", "GET", "/pets/7") == ARN
    assert method_arn("us-east-1", "1", "a", "s", "GET", "/").endswith("a/s/GET/")


def test_amended_keeps_every_field_of_the_invocation_info() -> None:
    import dataclasses

    from lambdalite.gateway.data.events import InvocationInfo, amended
    values = {f.name: f"v-{f.name}" for f in dataclasses.fields(InvocationInfo)}
    info = InvocationInfo(**values)  # type: ignore[arg-type]
    assert amended(info) == info
    assert amended(info, extra_context={"a": 1}) == dataclasses.replace(info, extra_context={"a": 1})
    assert amended(info, identity_extra={"k": 1}).identity_extra == {"k": 1}
