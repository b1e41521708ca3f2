"""Aliases (CreateAlias and its kin): a name for a published version of a function, optionally with
a second version that gets a weighted share of the invocations.

Rules and texts are AWS's (reference/aws-lambda.md §4.5; the recorded errors are in LocalStack's
tests/aws/services/lambda_/test_lambda_api.snapshot.json, `test_alias_lifecycle`,
`test_notfound_and_invalid_routingconfigs`, `test_alias_naming`). The book keeps every function's
aliases in memory (the invoke path reads them) and in the store, written before the answer.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import errors
from ..store.db import Database
from . import validate
from .model import LATEST
from .names import constraint_violation, validation_message
from .policies import new_revision

ALIAS_PATTERN = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
_ALIAS = re.compile(r"(?!^[0-9]+$)([a-zA-Z0-9\-_]+)")
VERSION_PATTERN = r"(\$LATEST|[0-9]+)"
WEIGHT_KEY_PATTERN = "[0-9]+"
MAX_NAME = 128
MAX_DESCRIPTION = 256


def is_alias_name(text: str) -> bool:
    """Whether `text` could name an alias (not a version number, no other characters)."""
    return len(text) <= MAX_NAME and _ALIAS.fullmatch(text) is not None


@dataclass(frozen=True)
class Alias:
    function: str
    name: str
    function_version: str
    revision_id: str
    description: str = ""
    weights: dict[str, float] = field(default_factory=dict)   # AdditionalVersionWeights: at most one
    shadow: str | None = None     # Lambdalite's shadow version: runs each call too, its answer only compared
    shadow_compare: str | None = None   # the part of the answers compared (`body.class`), None: all

    def versions(self) -> set[str]:
        """The versions it sends invocations to."""
        return {self.function_version, *self.weights}

    def pick(self, draw: Callable[[], float]) -> str:
        """The version one invocation runs on: each additional version gets its weight's share."""
        if self.weights:
            x = draw()
            for version, weight in self.weights.items():
                if x < weight:
                    return version
                x -= weight
        return self.function_version

    def to_document(self) -> dict[str, Any]:
        return {"function_version": self.function_version, "revision_id": self.revision_id,
                "description": self.description, "weights": self.weights, "shadow": self.shadow,
                "shadow_compare": self.shadow_compare}

    @classmethod
    def from_document(cls, function: str, name: str, doc: dict[str, Any]) -> Alias:
        return cls(function, name, doc["function_version"], doc["revision_id"], doc.get("description", ""),
                   {str(k): float(v) for k, v in (doc.get("weights") or {}).items()}, doc.get("shadow"),
                   doc.get("shadow_compare"))


class AliasBook:
    """`exists(function, version)` tells whether a published version (or `$LATEST`) exists."""

    def __init__(self, db: Database, arn: Callable[[str, str | None], str],
                 exists: Callable[[str, str], bool], draw: Callable[[], float] | None = None) -> None:
        self._db = db
        self._arn = arn
        self._exists = exists
        self._aliases: dict[tuple[str, str], Alias] = {}
        self.draw = draw or random.Random().random   # the weighted choice; tests pass a seeded one

    def load(self) -> None:
        self._aliases = {(fn, name): Alias.from_document(fn, name, doc) for fn, name, doc in self._db.load_aliases()}

    @property
    def count(self) -> int:
        """How many aliases there are (the invoke path looks at aliased calls only when there are some)."""
        return len(self._aliases)

    def get(self, function: str, name: str) -> Alias | None:
        return self._aliases.get((function, name))

    def of(self, function: str, version: str | None = None) -> list[Alias]:
        """The function's aliases by name; only those sending invocations to `version` when given."""
        found = [a for (fn, _), a in self._aliases.items() if fn == function]
        if version is not None:
            found = [a for a in found if version in a.versions()]
        return sorted(found, key=lambda a: a.name)

    def find(self, function: str, name: str, missing: str = "Cannot find alias arn: {arn}") -> Alias:
        alias = self._aliases.get((function, name))
        if alias is None:
            raise errors.ResourceNotFound(missing.format(arn=self._arn(function, name)))
        return alias

    def create(self, function: str, body: dict[str, Any]) -> Alias:
        name = check_alias_body(body, creating=True)
        if (function, name) in self._aliases:
            raise errors.ResourceConflict(f"Alias already exists: {self._arn(function, name)}")
        alias = Alias(function, name, body["FunctionVersion"], new_revision(), body.get("Description") or "",
                      self._routing(function, body["FunctionVersion"], body.get("RoutingConfig")))
        self._put(alias)
        return alias

    def update(self, function: str, name: str, body: dict[str, Any]) -> Alias:
        check_alias_body({**body, "Name": name}, creating=False)
        alias = self.find(function, name, "Alias not found: {arn}")
        validate.check_revision(body.get("RevisionId"), alias.revision_id)
        version = body.get("FunctionVersion", alias.function_version)
        routing = body.get("RoutingConfig")
        weights = self._routing(function, version, routing) if routing is not None else alias.weights
        if routing is None and weights:
            self._check_weights(function, version, weights)
        description = body["Description"] if body.get("Description") is not None else alias.description
        kept = alias.shadow not in {version, *weights}   # else it serves now
        updated = Alias(function, name, version, new_revision(), description, weights,
                        alias.shadow if kept else None, alias.shadow_compare if kept else None)
        self._put(updated)
        return updated

    def set_shadow(self, function: str, name: str, version: str | None, compare: str | None = None) -> Alias:
        """Name the version that shadows the alias (None: no shadow), and the part of the answers to
        compare (`body.class`; None: all). Lambdalite's extension: AWS has no shadow traffic."""
        alias = self.find(function, name, "Alias not found: {arn}")
        if compare is not None and (not isinstance(compare, str) or not re.fullmatch(r"[^.\s]+(\.[^.\s]+)*", compare)):
            raise errors.InvalidParameterValue(f"Compare must be a dotted path such as body.class, not {compare!r}")
        if version is not None:
            if not isinstance(version, str) or not re.fullmatch(VERSION_PATTERN, version):
                raise errors.InvalidParameterValue(f"Version must be a version number or $LATEST, not {version!r}")
            if not self._exists(function, version):
                raise errors.ResourceNotFound(f"Function not found: {self._arn(function, version)}")
            if version in alias.versions():
                raise errors.InvalidParameterValue(
                    f"Version {version} already serves alias {name}: a shadow must be another version")
        updated = dataclasses.replace(alias, shadow=version, shadow_compare=compare if version else None,
                                      revision_id=new_revision())
        self._put(updated)
        return updated

    def delete(self, function: str, name: str) -> None:
        if (function, name) not in self._aliases:   # AWS answers 204 for an alias that is not there
            return
        self._db.delete_alias(function, name)
        del self._aliases[(function, name)]

    def forget(self, function: str) -> None:
        """The function is gone (the store dropped its aliases with it)."""
        for key in [k for k in self._aliases if k[0] == function]:
            del self._aliases[key]

    def _routing(self, function: str, version: str, routing: Any) -> dict[str, float]:
        weights = check_routing(routing)   # the front end's checks come first
        if not self._exists(function, version):
            raise errors.ResourceNotFound(f"Function not found: {self._arn(function, version)}")
        if weights:
            self._check_weights(function, version, weights)
        return weights

    def _check_weights(self, function: str, version: str, weights: dict[str, float]) -> None:
        if version == LATEST:
            raise errors.InvalidParameterValue("$LATEST is not supported for an alias pointing to more than 1 version")
        for extra in weights:
            if extra == version:
                raise errors.InvalidParameterValue(
                    f"Invalid function version {extra}. Function version {extra} is already included in routing "
                    "configuration.")
            if not self._exists(function, extra):
                raise errors.ResourceNotFound(f"Function not found: {self._arn(function, extra)}")

    def _put(self, alias: Alias) -> None:
        self._db.put_alias(alias.function, alias.name, alias.to_document())
        self._aliases[(alias.function, alias.name)] = alias


def check_alias_body(body: dict[str, Any], *, creating: bool) -> str:
    """The model's checks on CreateAlias / UpdateAlias (types, patterns, lengths), AWS's wording."""
    validate.check_types(body, {"Name": str, "FunctionVersion": str, "Description": str, "RoutingConfig": dict,
                                "RevisionId": str})
    name = body.get("Name")
    violations = []
    if creating and name is None:
        violations.append(constraint_violation("name", None, "Member must not be null"))
    if creating and body.get("FunctionVersion") is None:
        violations.append(constraint_violation("functionVersion", None, "Member must not be null"))
    if isinstance(name, str):
        if not _ALIAS.fullmatch(name):
            violations.append(constraint_violation(
                "name", name, f"Member must satisfy regular expression pattern: {ALIAS_PATTERN}"))
        if not 1 <= len(name) <= MAX_NAME:
            bound = "greater than or equal to 1" if not name else f"less than or equal to {MAX_NAME}"
            violations.append(constraint_violation("name", name, f"Member must have length {bound}"))
    version = body.get("FunctionVersion")
    if isinstance(version, str) and not re.fullmatch(VERSION_PATTERN, version):
        violations.append(constraint_violation(
            "functionVersion", version, f"Member must satisfy regular expression pattern: {VERSION_PATTERN}"))
    description = body.get("Description")
    if isinstance(description, str) and len(description) > MAX_DESCRIPTION:
        violations.append(constraint_violation(
            "description", description, f"Member must have length less than or equal to {MAX_DESCRIPTION}"))
    if violations:
        raise errors.ValidationError(validation_message(violations))
    return str(name)


def check_routing(routing: Any) -> dict[str, float]:
    """RoutingConfig's AdditionalVersionWeights: keys are version numbers, weights 0.0-1.0, at most one."""
    if routing is None:
        return {}
    if not isinstance(routing, dict):
        raise errors.InvalidParameterValue("RoutingConfig must be an object with AdditionalVersionWeights")
    weights = routing.get("AdditionalVersionWeights") or {}
    if not isinstance(weights, dict):
        raise errors.InvalidParameterValue("AdditionalVersionWeights must be a map of version to weight")
    violations = []
    for key, value in weights.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise errors.InvalidParameterValue(f"Weight of version {key} must be a number")
    shown = _map(weights)
    if any(not re.fullmatch(WEIGHT_KEY_PATTERN, str(k)) or len(str(k)) > 1024 for k in weights):
        violations.append(constraint_violation(
            "routingConfig.additionalVersionWeights", shown,
            "Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must "
            f"have length greater than or equal to 1, Member must satisfy regular expression pattern: "
            f"{WEIGHT_KEY_PATTERN}]"))
    if any(not 0.0 <= float(v) <= 1.0 for v in weights.values()):
        violations.append(constraint_violation(
            "routingConfig.additionalVersionWeights", shown,
            "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must "
            "have value greater than or equal to 0.0, Member must not be null]"))
    if violations:
        raise errors.ValidationError(validation_message(violations))
    if len(weights) > 1:
        raise errors.InvalidParameterValue("Number of items in AdditionalVersionWeights cannot be greater than 1")
    return {str(k): float(v) for k, v in weights.items()}


def _map(weights: dict[str, Any]) -> str:
    """A map as AWS (Java) prints it in a violation: {2=2.0}."""
    return "{" + ", ".join(f"{k}={float(v)!r}" for k, v in weights.items()) + "}"
