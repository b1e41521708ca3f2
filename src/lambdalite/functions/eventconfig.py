"""Event invoke configs (Put/Get/Update/Delete/ListFunctionEventInvokeConfigs): how asynchronous
invocations of a function version or alias are retried, how old an event may get, and where its
outcome goes. Rules and texts: reference/aws-lambda.md §4.7.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from .. import errors
from ..store.db import Database
from . import validate
from .names import constraint_violation, validation_message

DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE_S = 21600
# The model's pattern for a destination (AWS-recorded: put_destination_invalid_arn_pattern)
DESTINATION_PATTERN = (r"$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:"
                       r"((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)")
_DESTINATION = re.compile(DESTINATION_PATTERN)
# What an asynchronous invocation's outcome may go to (AWS's docs: SQS, SNS, Lambda, EventBridge, S3)
DESTINATION_SERVICES = ("sqs", "sns", "lambda", "events", "s3")
NOTHING_GIVEN = "You must specify at least one of error handling or destination setting."
SELF_DESTINATION = "You can't specify the function as a destination for itself."


@dataclass(frozen=True)
class EventConfig:
    retries: int = DEFAULT_RETRIES
    max_age_s: int = DEFAULT_MAX_AGE_S
    on_success: str | None = None
    on_failure: str | None = None
    last_modified: float = field(default_factory=time.time)
    given: tuple[str, ...] = ()   # which of MaximumRetryAttempts / MaximumEventAgeInSeconds were set

    def to_document(self) -> dict[str, Any]:
        return {"retries": self.retries, "max_age_s": self.max_age_s, "on_success": self.on_success,
                "on_failure": self.on_failure, "last_modified": self.last_modified, "given": list(self.given)}

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> EventConfig:
        return cls(int(doc["retries"]), int(doc["max_age_s"]), doc.get("on_success"), doc.get("on_failure"),
                   float(doc["last_modified"]), tuple(doc.get("given") or ()))

    def render(self, function_arn: str) -> dict[str, Any]:
        out: dict[str, Any] = {"FunctionArn": function_arn, "LastModified": self.last_modified}
        if "MaximumRetryAttempts" in self.given:
            out["MaximumRetryAttempts"] = self.retries
        if "MaximumEventAgeInSeconds" in self.given:
            out["MaximumEventAgeInSeconds"] = self.max_age_s
        out["DestinationConfig"] = {
            "OnSuccess": {"Destination": self.on_success} if self.on_success else {},
            "OnFailure": {"Destination": self.on_failure} if self.on_failure else {}}
        return out


def check_body(body: dict[str, Any], function_arn_prefix: str) -> dict[str, Any]:
    """The members a Put/Update gives, checked (types, ranges, destinations)."""
    validate.check_types(body, {"MaximumRetryAttempts": int, "MaximumEventAgeInSeconds": int,
                                "DestinationConfig": dict, "Qualifier": str})
    destinations = body.get("DestinationConfig") or {}
    violations = [constraint_violation(f"destinationConfig.{key[0].lower()}{key[1:]}.destination",
                                       target["Destination"],
                                       f"Member must satisfy regular expression pattern: {DESTINATION_PATTERN}")
                  for key in ("OnSuccess", "OnFailure")
                  if isinstance(target := destinations.get(key), dict) and isinstance(target.get("Destination"), str)
                  and not _DESTINATION.fullmatch(target["Destination"])]
    retries, age = body.get("MaximumRetryAttempts"), body.get("MaximumEventAgeInSeconds")
    if retries is not None and not 0 <= retries <= 2:
        bound = "greater than or equal to 0" if retries < 0 else "less than or equal to 2"
        violations.append(constraint_violation("maximumRetryAttempts", retries, f"Member must have value {bound}"))
    if age is not None and not 60 <= age <= 21600:
        bound = "greater than or equal to 60" if age < 60 else "less than or equal to 21600"
        violations.append(constraint_violation("maximumEventAgeInSeconds", age, f"Member must have value {bound}"))
    if violations:
        raise errors.ValidationError(validation_message(violations))
    given: dict[str, Any] = {k: body[k] for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds")
                             if body.get(k) is not None}
    for key in ("OnSuccess", "OnFailure"):
        if destinations.get(key) is not None:
            given[key] = _destination(key, destinations[key], function_arn_prefix)
    if not given:
        raise errors.InvalidParameterValue(NOTHING_GIVEN)
    if any(arn and arn.startswith("arn:") and arn.split(":")[2] not in DESTINATION_SERVICES
           for arn in (given.get("OnSuccess"), given.get("OnFailure"))):
        shown = {key: f"{key}(destination={given[key]})" if key in given else "null"
                 for key in ("OnSuccess", "OnFailure")}
        raise errors.InvalidParameterValue(   # AWS's text (recorded: put_destination_invalid_service_arn)
            f"The provided destination config DestinationConfig(onSuccess={shown['OnSuccess']}, "
            f"onFailure={shown['OnFailure']}) is invalid.")
    return given


def _destination(key: str, target: Any, function_arn: str) -> str | None:
    if not isinstance(target, dict) or not isinstance(target.get("Destination", ""), str):
        raise errors.InvalidRequestContent(f"Could not parse request body into json: DestinationConfig.{key} "
                                           "must be an object with a Destination string")
    arn = target.get("Destination")
    if not arn:
        return None
    if not arn.startswith("arn:"):
        raise errors.InvalidParameterValue(f"The destination ARN {arn} is invalid.")
    if arn == function_arn or arn.startswith(function_arn + ":"):
        raise errors.InvalidParameterValue(SELF_DESTINATION)
    return str(arn)


class EventConfigBook:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._configs: dict[tuple[str, str], EventConfig] = {}

    def load(self) -> None:
        self._configs = {(n, q): EventConfig.from_document(d) for n, q, d in self._db.load_event_configs()}

    def find(self, name: str, qualifier: str) -> EventConfig | None:
        return self._configs.get((name, qualifier))

    def of(self, name: str) -> list[tuple[str, EventConfig]]:
        return sorted(((q, c) for (n, q), c in self._configs.items() if n == name), key=lambda item: item[0])

    def put(self, name: str, qualifier: str, given: dict[str, Any], merge: bool) -> EventConfig:
        base = self._configs.get((name, qualifier)) if merge else None
        current = base or EventConfig(given=())
        config = EventConfig(
            retries=given.get("MaximumRetryAttempts", current.retries),
            max_age_s=given.get("MaximumEventAgeInSeconds", current.max_age_s),
            on_success=given["OnSuccess"] if "OnSuccess" in given else current.on_success,
            on_failure=given["OnFailure"] if "OnFailure" in given else current.on_failure,
            last_modified=time.time(),
            given=tuple(sorted(set(current.given) | {k for k in given if k.startswith("Maximum")})))
        self._db.put_event_config(name, qualifier, config.to_document())
        self._configs[(name, qualifier)] = config
        return config

    def restore(self, name: str, qualifier: str, config: EventConfig) -> None:
        """Put back a config as it was (a stack's rollback)."""
        self._db.put_event_config(name, qualifier, config.to_document())
        self._configs[(name, qualifier)] = config

    def delete(self, name: str, qualifier: str) -> bool:
        if self._configs.pop((name, qualifier), None) is None:
            return False
        self._db.delete_event_config(name, qualifier)
        return True

    def delete_kept(self, name: str, qualifier: str) -> None:
        """A version or alias went: its config goes from memory (the store dropped it with it)."""
        self._configs.pop((name, qualifier), None)

    def forget(self, name: str) -> None:
        for key in [k for k in self._configs if k[0] == name]:
            del self._configs[key]
