"""Lambda layers: PublishLayerVersion, GetLayerVersion(ByArn), ListLayers, ListLayerVersions,
DeleteLayerVersion, with AWS's shapes, ARNs and texts (reference aws-lambda.md 4.8).

A layer version is immutable: its archive is kept by content (shared with function code), unpacked
once; versions count up per name and are never reused, even after a delete. Deleting a version
does not take it from the functions that use it (AWS's rule): they keep its content.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from .. import errors
from ..store import Database
from .code import CodeStore, decode_zip, to_hex
from .names import constraint_violation, validation_message
from .timefmt import aws_timestamp
from .validate import AWS_RUNTIME_ENUM_TEXT
from .validate import LAYER_VERSION_ARN_PATTERN as VERSION_ARN_PATTERN

LAYER_NAME = re.compile(r"[a-zA-Z0-9-_]{1,140}")
LAYER_VERSION_ARN = re.compile(r"arn:[a-zA-Z0-9-]+:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):layer:"
                               r"(?P<name>[a-zA-Z0-9-_]+):(?P<version>[0-9]+)")
MAX_LAYERS = 5
NOT_FOUND = "The resource you requested does not exist."
# The model's patterns and enums as AWS prints them (AWS-recorded: test_lambda_api.py::TestLambdaLayer
# test_layer_exceptions, test_layer_function_exceptions; the runtimes a layer may name are the wider set
# ListLayers prints, though PublishLayerVersion's message prints the functions' set)
_VERSION_ARN = re.compile(VERSION_ARN_PATTERN)
LAYER_RUNTIMES_ENUM_TEXT = (
    "[ruby3.5, ruby2.6, dotnetcore1.0, python3.7, nodejs8.10, nasa, ruby2.7, python2.7-greengrass, dotnetcore2.0, "
    "python3.8, java21, dotnet6, dotnetcore2.1, python3.9, java11, nodejs6.10, provided, dotnetcore3.1, dotnet8, "
    "java25, java17, nodejs, nodejs4.3, java8.al2, go1.x, dotnet10, nodejs20.x, go1.9, byol, nodejs10.x, "
    "provided.al2023, nodejs22.x, python3.10, java8, nodejs12.x, python3.11, nodejs24.x, nodejs8.x, python3.12, "
    "nodejs14.x, nodejs8.9, nodejs26.x, python3.13, python3.14, nodejs16.x, python3.15, provided.al2, "
    "nodejs4.3-edge, nodejs18.x, ruby3.2, python3.4, ruby3.3, ruby3.4, ruby2.5, python3.6, python2.7]")
LAYER_RUNTIMES = frozenset(LAYER_RUNTIMES_ENUM_TEXT.strip("[]").split(", "))
ARCHITECTURES = ("x86_64", "arm64")
ARCHITECTURE_CONSTRAINT = ("Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], "
                           "Member must not be null]")


def check_list_filters(runtime: str | None, architecture: str | None) -> None:
    """ListLayers / ListLayerVersions' CompatibleRuntime and CompatibleArchitecture."""
    found = []
    if runtime is not None and runtime not in LAYER_RUNTIMES:
        found.append(constraint_violation("compatibleRuntime", runtime,
                                          f"Member must satisfy enum value set: {LAYER_RUNTIMES_ENUM_TEXT}"))
    if architecture is not None and architecture not in ARCHITECTURES:
        found.append(constraint_violation("compatibleArchitecture", architecture,
                                          "Member must satisfy enum value set: [x86_64, arm64]"))
    if found:
        raise errors.ValidationError(validation_message(found))


def check_compatibilities(body: dict[str, Any]) -> None:
    """PublishLayerVersion's CompatibleRuntimes and CompatibleArchitectures."""
    found = []
    runtimes, archs = body.get("CompatibleRuntimes") or [], body.get("CompatibleArchitectures") or []
    if any(r not in LAYER_RUNTIMES for r in runtimes):
        found.append(constraint_violation("compatibleRuntimes", runtimes,
                                          f"Member must satisfy enum value set: {AWS_RUNTIME_ENUM_TEXT}"))
    if any(a not in ARCHITECTURES for a in archs):
        found.append(constraint_violation("compatibleArchitectures", archs, ARCHITECTURE_CONSTRAINT))
    if found:
        raise errors.ValidationError(validation_message(found))


@dataclass(frozen=True)
class LayerVersion:
    name: str
    version: int
    code_sha256: str              # base64 (AWS's form)
    code_size: int
    created: str
    description: str = ""
    compatible_runtimes: list[str] = field(default_factory=list)
    compatible_architectures: list[str] = field(default_factory=list)
    license_info: str | None = None
    environment: str | None = None    # the environment its requirements.txt was built into (SAM BuildMethod)

    @property
    def code_hex(self) -> str:
        return to_hex(self.code_sha256)


class LayerBook:
    def __init__(self, db: Database, code: CodeStore, region: str, account: str,
                 build: Callable[[str, str], str] | None = None) -> None:
        self._build = build   # (archive hex, python3.X) -> environment key; BuildFailed (a SAM BuildMethod)
        self._db = db
        self._code = code
        self._region = region
        self._account = account
        self._versions: dict[tuple[str, int], LayerVersion] = {}
        self._last: dict[str, int] = {}

    def load(self) -> None:
        self._versions = {(d["name"], d["version"]): LayerVersion(**d) for d in self._db.load_layer_versions()}
        self._last = self._db.last_layer_versions()

    def layer_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self._region}:{self._account}:layer:{name}"

    def arn(self, layer: LayerVersion) -> str:
        return f"{self.layer_arn(layer.name)}:{layer.version}"

    def environments(self) -> set[str]:
        return {v.environment for v in self._versions.values() if v.environment}

    def total_code_size(self) -> int:
        """The zipped size of every layer version there is (GetAccountSettings' TotalCodeSize counts it)."""
        return sum(v.code_size for v in self._versions.values())

    def in_use(self) -> set[str]:
        """The archives (hex) the layer versions hold."""
        return {v.code_hex for v in self._versions.values()}

    # the API ---------------------------------------------------------------------------------
    async def publish(self, name: str, body: dict[str, Any]) -> LayerVersion:
        name = self._name(name)
        check_compatibilities(body)
        content = body.get("Content")
        if not isinstance(content, dict) or not content.get("ZipFile"):
            if isinstance(content, dict) and (content.get("S3Bucket") or content.get("S3Key")):
                raise errors.UnsupportedOperation("Lambdalite takes layer content as ZipFile only; S3 is not "
                                                  "supported yet.")
            raise errors.InvalidParameterValue("Please provide a source for the layer content.")
        code = await self._code.from_zip(decode_zip(content))
        return self._put(name, self._last.get(name, 0) + 1, body, code.sha256, code.size, None)

    async def publish_stored(self, name: str, body: dict[str, Any], digest: str, version: int,
                             build_method: str | None = None) -> LayerVersion:
        """A stack's layer: its archive is in the store already; it must get `version` (planned), and with a
        `build_method` (python3.X) its requirements.txt is built into an environment first."""
        name = self._name(name)
        if version != self._last.get(name, 0) + 1:
            raise errors.ResourceConflict(f"layer {name} would get version {self._last.get(name, 0) + 1}, not the "
                                          f"planned {version}: a version was published meanwhile; deploy again")
        code = await self._code.from_store(digest)
        environment = None
        if build_method is not None and self._build is not None:
            try:
                environment = await asyncio.to_thread(self._build, digest, build_method)
            except errors.BuildFailed as e:
                raise errors.InvalidParameterValue(f"the layer's requirements.txt could not be built: {e}") from None
        return self._put(name, version, body, code.sha256, code.size, environment)

    def next_version(self, name: str) -> int:
        return self._last.get(name, 0) + 1

    def find(self, name: str, version: int) -> LayerVersion | None:
        return self._versions.get((name, version))

    def _put(self, name: str, version: int, body: dict[str, Any], sha256: str, size: int,
             environment: str | None) -> LayerVersion:
        layer = LayerVersion(
            name=name, version=version, code_sha256=sha256, code_size=size,
            created=aws_timestamp(time.time()), description=str(body.get("Description") or ""),
            compatible_runtimes=list(body.get("CompatibleRuntimes") or []),
            compatible_architectures=list(body.get("CompatibleArchitectures") or []),
            license_info=body.get("LicenseInfo"), environment=environment)
        self._db.put_layer_version(name, version, asdict(layer))
        self._versions[(name, version)] = layer
        self._last[name] = version
        return layer

    def get(self, name: str, version: int) -> LayerVersion:
        if version < 1:
            raise errors.InvalidParameterValue("Layer Version Cannot be less than 1")
        layer = self._versions.get((self._name(name), version))
        if layer is None:
            raise errors.ResourceNotFound(NOT_FOUND)
        return layer

    def by_arn(self, arn: str) -> LayerVersion:
        found = LAYER_VERSION_ARN.fullmatch(arn)
        if found is None or not _VERSION_ARN.fullmatch(arn):
            raise errors.ValidationError(validation_message([constraint_violation(
                "arn", arn, f"Member must satisfy regular expression pattern: {VERSION_ARN_PATTERN}")]))
        layer = self._versions.get((found["name"], int(found["version"])))
        if layer is None or found["region"] != self._region or found["account"] != self._account:
            raise errors.ResourceNotFound(NOT_FOUND)
        return layer

    def versions(self, name: str, runtime: str | None = None, architecture: str | None = None) -> list[LayerVersion]:
        """Newest first, as ListLayerVersions answers."""
        check_list_filters(runtime, architecture)
        name = self._name(name)
        found = [v for (n, _), v in self._versions.items() if n == name]
        return sorted((v for v in found if _fits(v, runtime, architecture)), key=lambda v: -v.version)

    def latest(self, runtime: str | None = None, architecture: str | None = None) -> list[LayerVersion]:
        """Each layer's newest (matching) version, by name: ListLayers."""
        check_list_filters(runtime, architecture)
        newest: dict[str, LayerVersion] = {}
        for (name, _), layer in sorted(self._versions.items()):
            if _fits(layer, runtime, architecture):
                newest[name] = layer
        return [newest[n] for n in sorted(newest)]

    def delete(self, name: str, version: int) -> None:
        """DeleteLayerVersion: idempotent (no error for one that is not there), as on AWS."""
        if version < 1:
            raise errors.InvalidParameterValue("Layer Version Cannot be less than 1")
        key = (self._name(name), version)
        if key in self._versions:
            self._db.delete_layer_version(*key)
            del self._versions[key]

    def for_function(self, arns: list[Any]) -> list[LayerVersion]:
        """A function's `Layers` (CreateFunction, UpdateFunctionConfiguration): at most 5, in order,
        each an existing layer version."""
        if not isinstance(arns, list) or not all(isinstance(a, str) for a in arns):
            raise errors.InvalidParameterValue("Layers must be a list of layer version ARNs.")
        if len(arns) > MAX_LAYERS:
            raise errors.InvalidParameterValue(f"Cannot reference more than {MAX_LAYERS} layers.")
        layers = []
        for arn in arns:
            self.check_region(arn)
            found = LAYER_VERSION_ARN.fullmatch(arn)
            layer = self._versions.get((found["name"], int(found["version"]))) if found else None
            if found is None or layer is None or found["account"] != self._account:
                raise errors.InvalidParameterValue(f"Layer version {arn} does not exist.")
            layers.append(layer)
        for i, layer in enumerate(layers):   # AWS-recorded: the first two of one layer are named
            twin = next((arns[j] for j in range(i + 1, len(layers)) if layers[j].name == layer.name), None)
            if twin is not None:
                raise errors.InvalidParameterValue(
                    "Two different versions of the same layer are not allowed to be referenced in the same function. "
                    f"{arns[i]} and {twin} are versions of the same layer.")
        return layers

    def check_region(self, arn: Any) -> None:
        """A layer of this account in another region (AWS's text; checked before the function's own
        existence on CreateFunction: AWS-recorded)."""
        found = LAYER_VERSION_ARN.fullmatch(arn) if isinstance(arn, str) else None
        if found is not None and found["account"] == self._account and found["region"] != self._region:
            raise errors.InvalidParameterValue("Layers are not in the same region as the function. Layers are "
                                               f"expected to be in region {self._region}.")

    def _name(self, name: str) -> str:
        """A layer's name, given as a name or its ARN."""
        if name.startswith("arn:"):
            name = name.rsplit(":layer:", 1)[-1]
        if not LAYER_NAME.fullmatch(name):
            raise errors.ValidationError(
                f"1 validation error detected: Value '{name}' at 'layerName' failed to satisfy constraint: Member "
                "must satisfy regular expression pattern: (arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:"
                "[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+")
        return name


def _fits(layer: LayerVersion, runtime: str | None, architecture: str | None = None) -> bool:
    return ((runtime is None or runtime in layer.compatible_runtimes)
            and (architecture is None or architecture in layer.compatible_architectures))


def render(book: LayerBook, layer: LayerVersion, location: str) -> dict[str, Any]:
    """PublishLayerVersion / GetLayerVersion's answer."""
    out: dict[str, Any] = {
        "Content": {"Location": location, "CodeSha256": layer.code_sha256, "CodeSize": layer.code_size},
        "LayerArn": book.layer_arn(layer.name), "LayerVersionArn": book.arn(layer),
        "Description": layer.description, "CreatedDate": layer.created, "Version": layer.version,
        "CompatibleRuntimes": layer.compatible_runtimes, "CompatibleArchitectures": layer.compatible_architectures}
    if layer.license_info is not None:
        out["LicenseInfo"] = layer.license_info
    return out


def list_item(book: LayerBook, layer: LayerVersion) -> dict[str, Any]:
    """A ListLayerVersions item / ListLayers' LatestMatchingVersion (no Content)."""
    out = {k: v for k, v in render(book, layer, "").items() if k not in ("Content", "LayerArn")}
    return out
