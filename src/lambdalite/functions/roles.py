"""Execution roles that stacks define (`AWS::IAM::Role`, which SAM makes from a function's `Policies`):
what each states, by ARN, for the server to judge a function instance's calls by (access.policy).
A role no stack defined (an ARN written by hand) states nothing: its functions get the default."""

from __future__ import annotations

from ..access import RolePolicy
from ..store import Database


class Roles:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._roles = {arn: RolePolicy.from_json(data) for arn, data in db.load_roles().items()}

    def get(self, arn: str) -> RolePolicy | None:
        return self._roles.get(arn)

    def put(self, arn: str, policy: RolePolicy) -> None:
        self._db.put_role(arn, policy.to_json())
        self._roles[arn] = policy

    def delete(self, arn: str) -> None:
        self._db.delete_role(arn)
        self._roles.pop(arn, None)
