"""A Lambda authorizer's answer read and its IAM policy evaluated against a method ARN. Pure.

The answer (reference 7.2): `{"principalId", "policyDocument": {"Version", "Statement": [{"Action",
"Effect", "Resource"}]}, "context": {k: string | number | boolean}, "usageIdentifierKey"}`. IAM's
rules: a matching Deny wins; else a matching Allow allows; else the request is implicitly denied.
`Action` and `Resource` are matched as IAM matches ARNs: `*` any run of characters (across `:` and
`/`), `?` one character, case-sensitive.

AWS's answers for the two denials differ: an explicit Deny says "...with an explicit deny", a policy
that does not cover the method says "User is not authorized to access this resource" (the message of
the well-known cached-policy trap: a policy cached for one method answers another).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...access.policy import like
from ...errors import AuthorizerConfigurationError, AuthorizerDenied, Unauthorized

ALLOW, DENY, IMPLICIT = "Allow", "Deny", "Implicit"
INVOKE = "execute-api:Invoke"
NOT_COVERED = "User is not authorized to access this resource"


@dataclass(frozen=True, slots=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]


@dataclass
class Decision:
    """What an authorizer answered, ready to be checked against any method of the API (a cached one is
    checked again per method, as AWS does)."""

    principal_id: str | None
    statements: tuple[Statement, ...]
    context: Mapping[str, str]          # stringified, as the integration sees it
    usage_key: str | None = None
    verdicts: dict[str, str] = field(default_factory=dict)   # method ARN -> ALLOW | DENY | IMPLICIT

    def verdict(self, method_arn: str) -> str:
        found = self.verdicts.get(method_arn)
        if found is None:
            found = self.verdicts[method_arn] = evaluate(self.statements, method_arn)
        return found

    def check(self, method_arn: str) -> None:
        """Nothing when the policy allows the method; AuthorizerDenied (403) otherwise."""
        verdict = self.verdict(method_arn)
        if verdict == DENY:
            raise AuthorizerDenied(f"the authorizer's policy denies {method_arn}")
        if verdict == IMPLICIT:
            raise AuthorizerDenied(f"the authorizer's policy does not allow {method_arn}", message=NOT_COVERED)

    def authorizer_context(self, latency_ms: int) -> dict[str, Any]:
        """`requestContext.authorizer` of the proxy event (= `$context.authorizer`); a fresh dict each time
        (a template may change what it is given)."""
        out: dict[str, Any] = dict(self.context)
        out["principalId"] = self.principal_id
        out["integrationLatency"] = latency_ms
        return out


matches = like   # IAM's wildcards (access.policy.like)


def evaluate(statements: tuple[Statement, ...], method_arn: str) -> str:
    allowed = False
    for statement in statements:
        if not any(matches(a, INVOKE) for a in statement.actions):
            continue
        if not any(matches(r, method_arn) for r in statement.resources):
            continue
        if statement.effect == DENY:
            return DENY
        allowed = allowed or statement.effect == ALLOW
    return ALLOW if allowed else IMPLICIT


def parse_decision(body: bytes) -> Decision:
    """The authorizer function's answer; AuthorizerConfigurationError (500) when it is not a policy."""
    try:
        answer = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise AuthorizerConfigurationError("the authorizer's answer is not JSON") from None
    if not isinstance(answer, dict):
        raise AuthorizerConfigurationError("the authorizer's answer is not a JSON object")
    document = answer.get("policyDocument")
    if isinstance(document, str):   # AWS accepts the policy as a JSON string too
        try:
            document = json.loads(document)
        except ValueError:
            raise AuthorizerConfigurationError("policyDocument is not a JSON policy") from None
    if not isinstance(document, dict):
        raise AuthorizerConfigurationError("the authorizer's answer has no policyDocument")
    principal = answer.get("principalId")
    usage_key = answer.get("usageIdentifierKey")
    return Decision(None if principal is None else str(principal), _statements(document.get("Statement")),
                    _context(answer.get("context")), str(usage_key) if usage_key is not None else None)


def _statements(raw: Any) -> tuple[Statement, ...]:
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not items:
        raise AuthorizerConfigurationError("the policy has no Statement")
    out = []
    for item in items:
        if not isinstance(item, dict) or item.get("Effect") not in (ALLOW, DENY):
            raise AuthorizerConfigurationError(f"a policy statement is malformed: {item!r:.200}")
        actions, resources = _strings(item.get("Action")), _strings(item.get("Resource"))
        if actions is None or resources is None:
            raise AuthorizerConfigurationError(f"a policy statement needs Action and Resource: {item!r:.200}")
        out.append(Statement(item["Effect"], actions, resources))
    return tuple(out)


def _strings(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _context(raw: Any) -> dict[str, str]:
    """Values must be strings, numbers or booleans; they reach the integration as strings (booleans as
    `true`/`false`). An object or an array is a configuration error (500)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise AuthorizerConfigurationError("the authorizer's context is not an object")
    out = {}
    for key, value in raw.items():
        if isinstance(value, bool):
            out[str(key)] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            out[str(key)] = str(value)
        elif value is None:
            continue
        else:
            raise AuthorizerConfigurationError(f"the authorizer's context value {key!r} is not a string, number "
                                               "or boolean")
    return out


def unauthorized_error(body: bytes) -> bool:
    """Whether a failed authorizer answered the error `Unauthorized` (the 401 AWS documents)."""
    try:
        error = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(error, dict) and error.get("errorMessage") == "Unauthorized"


__all__ = ["ALLOW", "DENY", "IMPLICIT", "Decision", "Statement", "Unauthorized", "evaluate", "matches",
           "parse_decision", "unauthorized_error"]
