"""IAM's evaluation of identity-based policy statements, the subset Lambdalite enforces.

A statement matches a request when its `Action` (or `NotAction`) and `Resource` (or `NotResource`)
match: `*` is any run of characters and `?` one character, actions case-insensitively, resources
exactly. The rules are IAM's: an explicit Deny wins; else an Allow is needed; else the request is
implicitly denied. A statement with a `Condition` is not evaluated by Lambdalite: an Allow with one
never applies, a Deny with one always does (the safe reading; docs/security.md).
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Statement = Mapping[str, Any]

# What a function may do when its role states nothing of its own (no SAM Policies, no inline or
# managed policy beyond the basic execution role): invoke any function, so fan-out from inside a
# function works; nothing else.
DEFAULT_STATEMENTS: tuple[Statement, ...] = (
    {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"},
)

# AWS managed policies, as far as they reach the services this server has. Names SAM and the
# console attach; others grant nothing here (and deploy says so).
_LOGS_WRITE = {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
               "Resource": "*"}
MANAGED: dict[str, tuple[Statement, ...]] = {
    "AWSLambdaBasicExecutionRole": (_LOGS_WRITE,),
    "AWSLambdaVPCAccessExecutionRole": (_LOGS_WRITE,),
    "AWSLambdaRole": ({"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"},),
    "AWSLambda_FullAccess": (
        {"Effect": "Allow", "Action": ["lambda:*", "cloudformation:DescribeStacks",
                                       "cloudformation:DescribeStackResources", "cloudformation:ListStackResources",
                                       "cloudwatch:GetMetricData",
                                       "cloudwatch:ListMetrics", "logs:DescribeLogGroups", "logs:DescribeLogStreams",
                                       "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery",
                                       "logs:GetQueryResults", "apigateway:GET"],
         "Resource": "*"},
    ),
    "AWSLambda_ReadOnlyAccess": (
        {"Effect": "Allow", "Action": ["lambda:Get*", "lambda:List*", "cloudformation:DescribeStacks",
                                       "cloudformation:ListStackResources", "cloudwatch:GetMetricData",
                                       "cloudwatch:ListMetrics", "logs:DescribeLogGroups", "logs:DescribeLogStreams",
                                       "logs:GetLogEvents", "logs:FilterLogEvents", "apigateway:GET"],
         "Resource": "*"},
    ),
    "AdministratorAccess": ({"Effect": "Allow", "Action": "*", "Resource": "*"},),
}
# The policies that state nothing a function asked for: SAM attaches the first to every role it makes.
_BASIC = frozenset({"AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole"})
_MANAGED_ARN = re.compile(r"arn:aws[a-z-]*:iam::aws:policy/(?:service-role/)?([A-Za-z0-9_+=,.@-]+)")


class Decision(enum.Enum):
    ALLOW = "allow"
    IMPLICIT_DENY = "implicit"   # no statement allows it
    EXPLICIT_DENY = "explicit"   # a Deny statement matches


@dataclass(frozen=True)
class RolePolicy:
    """What a role states, as stored for its ARN: inline statements and managed policy ARNs."""

    statements: tuple[Statement, ...] = ()
    managed: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RolePolicy:
        return cls(tuple(data.get("statements") or ()), tuple(data.get("managed") or ()))

    def to_json(self) -> dict[str, Any]:
        return {"statements": list(self.statements), "managed": list(self.managed)}

    def unknown_managed(self) -> list[str]:
        """Managed policy ARNs this server has no statements for (they grant nothing here)."""
        return [arn for arn in self.managed if _managed_name(arn) not in MANAGED]


def _managed_name(arn: str) -> str | None:
    m = _MANAGED_ARN.fullmatch(arn)
    return m.group(1) if m else None


def role_statements(role: RolePolicy | None) -> tuple[Statement, ...]:
    """The statements a role's instances are judged by: its own, or DEFAULT_STATEMENTS when it states
    nothing beyond the basic execution role (or is unknown: a role ARN written by hand)."""
    if role is None:
        return DEFAULT_STATEMENTS
    names = [_managed_name(arn) for arn in role.managed]
    stated = bool(role.statements) or any(n not in _BASIC for n in names)
    out: list[Statement] = list(role.statements)
    for name in names:
        out += MANAGED.get(name or "", ())
    return tuple(out) if stated else DEFAULT_STATEMENTS + tuple(out)


def decide(statements: Iterable[Statement], action: str, resource: str) -> Decision:
    allowed = False
    for statement in statements:
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            continue
        conditional = bool(statement.get("Condition"))
        if effect == "Allow" and conditional:
            continue   # a condition Lambdalite cannot evaluate never grants
        if not (_action_matches(statement, action) and _resource_matches(statement, resource)):
            continue
        if effect == "Deny":
            return Decision.EXPLICIT_DENY
        allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def denial_message(principal_arn: str, action: str, resource: str, decision: Decision) -> str:
    """AccessDeniedException's text, as IAM words it for an identity-based policy."""
    why = ("with an explicit deny in an identity-based policy" if decision is Decision.EXPLICIT_DENY
           else f"because no identity-based policy allows the {action} action")
    return f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource} {why}"


def _listed(value: Any) -> Sequence[str]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return ()


def _action_matches(statement: Statement, action: str) -> bool:
    if "NotAction" in statement:
        return not any(like(p.lower(), action.lower()) for p in _listed(statement["NotAction"]))
    return any(like(p.lower(), action.lower()) for p in _listed(statement.get("Action")))


def _resource_matches(statement: Statement, resource: str) -> bool:
    if "NotResource" in statement:
        return not any(like(p, resource) for p in _listed(statement["NotResource"]))
    return any(like(p, resource) for p in _listed(statement.get("Resource")))


def like(pattern: str, value: str) -> bool:
    """IAM's wildcard match (ArnLike, StringLike, an Action or a Resource): `*` is any run of
    characters (across `:` and `/`), `?` one character; case-sensitive. The one matcher of the
    project: identity policies, resource policies and authorizers' policies all use it."""
    return pattern == value or pattern == "*" or _pattern(pattern).fullmatch(value) is not None


@functools.lru_cache(maxsize=4096)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text), re.DOTALL)
