"""Provisioned concurrency (Put/Get/Delete/ListProvisionedConcurrencyConfigs): on a published version
or an alias, that many instances started, initialised and kept, never reaped while configured.

Rules and texts are AWS's (reference/aws-lambda.md §4.6). A Put answers 202 `IN_PROGRESS` at once;
the functions service then asks the pool for the instances and the config becomes `READY` (or
`FAILED` with the init error as `StatusReason`). Configs are kept in the store and provisioned again
when the server starts.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from .. import errors
from ..store.db import Database
from . import validate
from .names import constraint_violation, validation_message

NOT_FOUND = "No Provisioned Concurrency Config found for this function"
UNPUBLISHED = "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
NOT_A_VERSION = "The function resource provided must be an alias or a published version."


@dataclass(frozen=True)
class ProvisionedConfig:
    function: str
    qualifier: str                # a version number or an alias name
    requested: int
    status: str = "IN_PROGRESS"   # IN_PROGRESS | READY | FAILED
    allocated: int = 0
    status_reason: str | None = None
    last_modified: str = ""

    def with_changes(self, **changes: Any) -> ProvisionedConfig:
        return replace(self, **changes)

    def to_document(self) -> dict[str, Any]:
        doc = asdict(self)
        del doc["function"], doc["qualifier"]
        return doc

    @classmethod
    def from_document(cls, function: str, qualifier: str, doc: dict[str, Any]) -> ProvisionedConfig:
        return cls(function, qualifier, **doc)


def timestamp(now: float | None = None) -> str:
    """LastModified as AWS writes it for these configs: seconds, literal +0000."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(time.time() if now is None else now))


def check_request(body: dict[str, Any]) -> int:
    validate.check_types(body, {"ProvisionedConcurrentExecutions": int})
    value = body.get("ProvisionedConcurrentExecutions")
    if value is None:
        raise errors.ValidationError(validation_message([constraint_violation(
            "provisionedConcurrentExecutions", None, "Member must not be null")]))
    if value < 1:
        raise errors.ValidationError(validation_message([constraint_violation(
            "provisionedConcurrentExecutions", value, "Member must have value greater than or equal to 1")]))
    return int(value)


class ProvisionedBook:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._configs: dict[tuple[str, str], ProvisionedConfig] = {}

    def load(self) -> list[ProvisionedConfig]:
        self._configs = {(fn, q): ProvisionedConfig.from_document(fn, q, doc)
                         for fn, q, doc in self._db.load_provisioned()}
        return list(self._configs.values())

    def get(self, function: str, qualifier: str) -> ProvisionedConfig:
        config = self._configs.get((function, qualifier))
        if config is None:
            raise errors.ProvisionedConfigNotFound(NOT_FOUND)
        return config

    def find(self, function: str, qualifier: str) -> ProvisionedConfig | None:
        return self._configs.get((function, qualifier))

    def of(self, function: str) -> list[ProvisionedConfig]:
        return sorted((c for (fn, _), c in self._configs.items() if fn == function), key=lambda c: c.qualifier)

    def every(self) -> list[ProvisionedConfig]:
        return list(self._configs.values())

    def total(self, function: str, leaving_out: str | None = None) -> int:
        return sum(c.requested for c in self.of(function) if c.qualifier != leaving_out)

    def put(self, config: ProvisionedConfig) -> ProvisionedConfig:
        self._db.put_provisioned(config.function, config.qualifier, config.to_document())
        self._configs[(config.function, config.qualifier)] = config
        return config

    def delete(self, function: str, qualifier: str) -> ProvisionedConfig | None:
        config = self._configs.pop((function, qualifier), None)
        if config is not None:
            self._db.delete_provisioned(function, qualifier)
        return config

    def forget_one(self, function: str, qualifier: str) -> ProvisionedConfig | None:
        """The version or alias went (the store dropped its config with it)."""
        return self._configs.pop((function, qualifier), None)

    def forget(self, function: str) -> None:
        for key in [k for k in self._configs if k[0] == function]:
            del self._configs[key]
