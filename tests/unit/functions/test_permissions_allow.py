"""Resource policies evaluated (issue 24 item 4): who may invoke, as IAM matches it."""

from __future__ import annotations

import pytest

from lambdalite.functions.permissions import allows, statement_of

RESOURCE = "arn:aws:lambda:us-east-1:000000000000:function:f"
API = "arn:aws:execute-api:us-east-1:000000000000:a1b2c3d4e5"


def statement(**given: str) -> dict[str, object]:
    return statement_of({"StatementId": "s", "Action": "lambda:InvokeFunction",
                         "Principal": "apigateway.amazonaws.com", **given}, RESOURCE)


def may(statements: list[dict[str, object]], source: str, service: str = "apigateway.amazonaws.com") -> bool:
    return allows(statements, service, "lambda:InvokeFunction", {"aws:sourcearn": source,
                                                                  "aws:sourceaccount": "000000000000"})


@pytest.mark.parametrize(("pattern", "source", "allowed"), [
    (f"{API}/*/GET/addfive", f"{API}/PRD/GET/addfive", True),
    (f"{API}/*/GET/items/*", f"{API}/PRD/GET/items/{{id}}", True),
    (f"{API}/*", f"{API}/PRD/POST/anything/at/all", True),
    (f"{API}/PRD/GET/?ddfive", f"{API}/PRD/GET/addfive", True),
    (f"{API}/*/POST/addfive", f"{API}/PRD/GET/addfive", False),
    (f"{API}/DEV/*", f"{API}/PRD/GET/addfive", False),
    ("arn:aws:execute-api:us-east-1:000000000000:otherapi01/*", f"{API}/PRD/GET/addfive", False),
    (f"{API}/*/GET/addfive", f"{API}/PRD/GET/addfive2", False),
    (f"{API}/*/GET/a.c", f"{API}/PRD/GET/abc", False),          # a dot is a dot, not a regex
])
def test_source_arn_matches_as_arn_like(pattern: str, source: str, allowed: bool) -> None:
    assert may([statement(SourceArn=pattern)], source) is allowed


def test_principal_action_and_conditions() -> None:
    source = f"{API}/PRD/GET/addfive"
    assert may([statement()], source)                                      # no SourceArn: any API
    assert not may([statement()], source, service="events.amazonaws.com")
    assert may([statement(Principal="*")], source, service="events.amazonaws.com")
    assert not may([], source)
    assert not may([{**statement(), "Action": "lambda:GetFunction"}], source)
    assert may([{**statement(), "Action": "lambda:*"}], source)
    assert may([statement(SourceAccount="000000000000")], source)
    assert not may([statement(SourceAccount="111111111111")], source)
    deny = {**statement(), "Effect": "Deny", "Sid": "d"}
    assert not may([statement(), deny], source)                           # an explicit Deny wins
    unreadable = {**statement(), "Condition": {"NumericLessThan": {"aws:epochtime": "1"}}}
    assert not may([unreadable], source)                                  # grants nothing it cannot read
