"""AddPermission's input rules and the policy statement it makes (pure).

Statements are stored and returned as AWS writes them; enforcing them is later work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .. import errors
from ..access.policy import like

STATEMENT_ID = re.compile(r"[a-zA-Z0-9-_]+")
SERVICE_PRINCIPAL = re.compile(r"[a-z0-9.-]+\.amazonaws\.com(\.cn)?")
ACCOUNT_PRINCIPAL = re.compile(r"\d{12}|\*|arn:aws[a-zA-Z-]*:iam::\d{12}:(root|role/.+|user/.+)")


def check_statement(body: dict[str, Any]) -> None:
    missing = [k for k in ("StatementId", "Action", "Principal") if not isinstance(body.get(k), str)]
    if missing:
        raise errors.ValidationError(
            f"{len(missing)} validation error{'s' if len(missing) > 1 else ''} detected: "
            + "; ".join(f"Value null at '{k[0].lower() + k[1:]}' failed to satisfy constraint: "
                        "Member must not be null" for k in missing))
    sid = body["StatementId"]
    if not STATEMENT_ID.fullmatch(sid) or len(sid) > 100:
        raise errors.ValidationError(
            f"1 validation error detected: Value '{sid}' at 'statementId' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)")
    principal = body["Principal"]
    if not (SERVICE_PRINCIPAL.fullmatch(principal) or ACCOUNT_PRINCIPAL.fullmatch(principal)):
        raise errors.InvalidParameterValue(
            "The provided principal was invalid. Please check the principal and try again.")


def statement_of(body: dict[str, Any], resource_arn: str) -> dict[str, Any]:
    principal = body["Principal"]
    if SERVICE_PRINCIPAL.fullmatch(principal):
        shown: Any = {"Service": principal}
    elif principal == "*":
        shown = "*"
    else:
        account = principal if principal.isdigit() else principal.split(":")[4]
        shown = {"AWS": f"arn:aws:iam::{account}:root"}
    statement: dict[str, Any] = {"Sid": body["StatementId"], "Effect": "Allow", "Principal": shown,
                                 "Action": body["Action"], "Resource": resource_arn}
    # AWS's order (recorded: test_add_lambda_permission_fields): StringEquals, then ArnLike
    equals = {key: body[field] for field, key in (
        ("SourceAccount", "AWS:SourceAccount"), ("FunctionUrlAuthType", "lambda:FunctionUrlAuthType"),
        ("PrincipalOrgID", "aws:PrincipalOrgID"), ("EventSourceToken", "lambda:EventSourceToken")) if body.get(field)}
    condition: dict[str, Any] = {"StringEquals": equals} if equals else {}
    if body.get("SourceArn"):
        condition["ArnLike"] = {"AWS:SourceArn": body["SourceArn"]}
    if condition:
        statement["Condition"] = condition
    return statement


# -- evaluation: who may invoke (resource policies enforced for AWS services) ----------------------

def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _principal_matches(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, dict) and service in _listed(principal.get("Service", []))


def _conditions_hold(condition: dict[str, Any], context: dict[str, str]) -> bool:
    """The operators AddPermission writes (StringEquals, ArnLike) and their close kin; an operator
    this server does not evaluate holds for nothing (a statement it cannot read grants nothing)."""
    tests = {"StringEquals": lambda p, v: p == v, "ArnEquals": lambda p, v: p == v,
             "StringLike": like, "ArnLike": like}
    for operator, pairs in condition.items():
        test = tests.get(operator)
        if test is None or not isinstance(pairs, dict):
            return False
        for key, wanted in pairs.items():
            value = context.get(key.lower())
            if value is None or not any(test(p, value) for p in _listed(wanted)):
                return False
    return True


def allows(statements: Iterable[dict[str, Any]], service: str, action: str, context: dict[str, str]) -> bool:
    """Whether a resource policy lets AWS service `service` (`apigateway.amazonaws.com`) do `action`
    with the request's condition keys (`context`, lower-cased: `aws:sourcearn`, ...): an Allow that
    matches and no Deny that does."""
    allowed = False
    for statement in statements:
        actions = _listed(statement.get("Action", []))
        if not any(a in ("*", "lambda:*", action) for a in actions):
            continue
        if not _principal_matches(statement.get("Principal"), service):
            continue
        if not _conditions_hold(statement.get("Condition") or {}, context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed
