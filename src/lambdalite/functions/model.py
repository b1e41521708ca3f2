"""The function as stored and served: one immutable record per function version.

`FunctionVersion` is a snapshot: what the store keeps, what the API renders, and what instances are
made from, keyed by (name, version, revision). A change (UpdateFunctionCode,
UpdateFunctionConfiguration, a state transition) makes a new record with a new RevisionId that
replaces the old one whole; nothing is ever changed in place.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field, replace
from typing import Any

LATEST = "$LATEST"

# Configuration members that CreateFunction / UpdateFunctionConfiguration accept and that are kept
# as given (after validation), with AWS's default when absent.
DEFAULTS: dict[str, Any] = {
    "Description": "",
    "Timeout": 3,
    "MemorySize": 128,
    "Environment": None,          # {"Variables": {...}} or None
    "Architectures": ["x86_64"],
    "EphemeralStorage": {"Size": 512},
    "TracingConfig": {"Mode": "PassThrough"},
    "PackageType": "Zip",
    "Layers": [],
    "LoggingConfig": None,        # filled with {"LogFormat": "Text", "LogGroup": "/aws/lambda/<name>"}
    "DeadLetterConfig": None,
    "KMSKeyArn": None,
    "VpcConfig": None,
    "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
}


@dataclass(frozen=True)
class FunctionVersion:
    name: str
    version: str                  # "$LATEST", or "1", "2", ... (published: immutable)
    runtime: str                  # as declared, e.g. "python3.11"
    role: str
    handler: str
    code_sha256: str              # base64 of SHA-256 over the zip bytes (AWS's form)
    code_size: int                # zip length in bytes
    config: dict[str, Any]        # the members of DEFAULTS, validated; never changed in place
    revision_id: str
    last_modified: str            # "2026-01-01T00:00:00.000+0000"
    state: str = "Pending"        # Pending | Active | Failed
    state_reason: str | None = "The function is being created."
    state_reason_code: str | None = "Creating"
    last_update_status: str = "Successful"   # Successful | InProgress | Failed
    last_update_status_reason: str | None = None
    last_update_status_reason_code: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    layer_code: list[str] = field(default_factory=list)   # the layers' archives (hex), in the function's order
    layer_environments: list[str | None] = field(default_factory=list)   # each layer's built requirements
    environment: str | None = None        # the dependency environment's key (requirements.txt), once built
    requirements_lock: str | None = None  # the exact pins requirements.txt resolved to, kept with the version
    last_published: int = 0               # on $LATEST: the highest version number ever published (never reused)

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies this snapshot: instances are shared only between equal keys."""
        return self.name, self.version, self.revision_id

    @property
    def settling(self) -> bool:
        """Being created or updated: the answer to `prepare` is not in yet."""
        return self.state == "Pending" or self.last_update_status == "InProgress"

    @property
    def runnable(self) -> bool:
        """Prepared successfully: invocations may run on this snapshot."""
        return self.state == "Active" and self.last_update_status == "Successful"

    @property
    def code_hex(self) -> str:
        """The code archive's SHA-256 as the store names it (hex)."""
        return base64.b64decode(self.code_sha256).hex()

    @property
    def timeout(self) -> int:
        return int(self.config["Timeout"])

    @property
    def memory_size(self) -> int:
        return int(self.config["MemorySize"])

    @property
    def architecture(self) -> str:
        return str((self.config.get("Architectures") or ["x86_64"])[0])

    @property
    def log_format(self) -> str:
        return str((self.config.get("LoggingConfig") or {}).get("LogFormat") or "Text")

    @property
    def variables(self) -> dict[str, str]:
        env = self.config.get("Environment") or {}
        return dict(env.get("Variables") or {})

    @property
    def log_group(self) -> str:
        return (self.config.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{self.name}"

    def with_changes(self, **changes: Any) -> FunctionVersion:
        return replace(self, **changes)

    def to_document(self) -> dict[str, Any]:
        """What the store keeps (JSON), read back by `from_document`."""
        return asdict(self)

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> FunctionVersion:
        return cls(**document)


@dataclass(frozen=True)
class Prepared:
    """What preparing a function (finding its interpreter, building its dependency environment) found:
    a warning to log once, or a failure that leaves the function Failed (or its update Failed, the
    previous snapshot still serving) with `failure` as the reason and `reason_code` as its code."""

    warning: str | None = None
    failure: str | None = None
    reason_code: str = "InternalError"
    environment: str | None = None        # the dependency environment the function runs with
    requirements_lock: str | None = None


@dataclass(frozen=True)
class Policy:
    """A function's resource-based policy: statements stored and returned; API Gateway's invocations are
    checked against them (`PolicyBook.service_may_invoke`)."""

    function_name: str
    revision_id: str
    statements: tuple[dict[str, Any], ...] = ()

    def to_document(self) -> dict[str, Any]:
        return {"revision_id": self.revision_id, "statements": list(self.statements)}

    @classmethod
    def from_document(cls, function_name: str, document: dict[str, Any]) -> Policy:
        return cls(function_name, document["revision_id"], tuple(document["statements"]))
