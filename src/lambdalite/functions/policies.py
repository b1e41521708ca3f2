"""Functions' resource-based policies: statements added and removed with AWS's rules and texts,
kept in the store (written before the answer), and enforced for API Gateway: an integration invokes a
function only when its policy lets `apigateway.amazonaws.com` in for that API's source ARN.

The functions service resolves the function first (its 404s are the service's); this book keeps
the statements of functions that exist.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from .. import errors
from ..store import Database
from . import permissions, validate
from .model import Policy


def new_revision() -> str:
    return str(uuid.uuid4())


class PolicyBook:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._policies: dict[str, Policy] = {}
        self._answers: dict[tuple[str, str, str], bool] = {}   # (key, service, source ARN) -> allowed

    def load(self) -> None:
        self._policies = {name: Policy.from_document(name, doc) for name, doc in self._db.load_policies().items()}

    def forget(self, function: str) -> None:
        """The function is gone (the store dropped its policies with it: its own, its versions' and
        its aliases', kept as name:qualifier)."""
        for key in [k for k in self._policies if k == function or k.startswith(function + ":")]:
            del self._policies[key]
        self._answers.clear()

    def drop(self, key: str) -> None:
        """A version's or alias's policy (`name:qualifier`) went with it (the store dropped it)."""
        self._policies.pop(key, None)
        self._answers.clear()

    def statement_ids(self, function: str) -> set[str]:
        policy = self._policies.get(function)
        return {s["Sid"] for s in policy.statements} if policy else set()

    def add(self, function: str, body: dict[str, Any], resource_arn: str, owner_revision: str) -> dict[str, Any]:
        """`owner_revision`: the RevisionId a first statement's RevisionId must match (the function's,
        version's or alias's); later ones must match the policy's."""
        policy = self._policies.get(function) or Policy(function, new_revision())
        validate.check_revision(body.get("RevisionId"), policy.revision_id if policy.statements else owner_revision,
                                api="GetPolicy")
        sid = body["StatementId"]
        if any(s["Sid"] == sid for s in policy.statements):
            raise errors.ResourceConflict(
                f"The statement id ({sid}) provided already exists. Please provide a new statement id, "
                "or remove the existing statement.")
        statement = permissions.statement_of(body, resource_arn)
        self._put(Policy(function, new_revision(), (*policy.statements, statement)))
        return statement

    def remove(self, function: str, sid: str, revision: str | None) -> None:
        policy = self.get(function, "No policy is associated with the given resource.")
        validate.check_revision(revision, policy.revision_id, api="GetPolicy")
        kept = tuple(s for s in policy.statements if s["Sid"] != sid)
        if len(kept) == len(policy.statements):
            raise errors.ResourceNotFound(f"Statement {sid} is not found in resource policy.")
        self._put(Policy(function, new_revision(), kept))

    def get(self, function: str, missing: str = "The resource you requested does not exist.") -> Policy:
        policy = self._policies.get(function)
        if policy is None or not policy.statements:
            raise errors.ResourceNotFound(missing)
        return policy

    def _put(self, policy: Policy) -> None:
        self._db.put_policy(policy.function_name, policy.to_document())
        self._policies[policy.function_name] = policy
        self._answers.clear()

    def service_may_invoke(self, key: str, service: str, source_arn: str) -> bool:
        """Whether the policy kept under `key` (a function's name, or name:qualifier for a version or
        alias) lets AWS service `service` invoke it from `source_arn`. Answers are remembered until a
        policy changes: the gateway asks on every request."""
        cached = self._answers.get((key, service, source_arn))
        if cached is None:
            policy = self._policies.get(key)
            cached = policy is not None and permissions.allows(
                policy.statements, service, "lambda:InvokeFunction",
                {"aws:sourcearn": source_arn, "aws:sourceaccount": source_arn.split(":")[4]})
            if len(self._answers) > 10_000:
                self._answers.clear()
            self._answers[(key, service, source_arn)] = cached
        return cached


def policy_document(policy: Policy) -> str:
    return json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": list(policy.statements)},
                      separators=(",", ":"))
