"""CreateFunction / UpdateFunctionConfiguration bodies: checked in AWS's order, with AWS's texts.

Three passes, as AWS runs them:
1. JSON types (the front-end's deserialiser): a wrong type -> 400 InvalidRequestContentException.
2. The model's constraints (not null, length, range, pattern, enum), all collected into one
   400 ValidationException: ``2 validation errors detected: A; B``.
3. Lambda's own rules (function name <= 64, Runtime and Handler for zips, runtime support,
   reserved and oversized environments, code source) -> 400 InvalidParameterValueException;
   what Lambdalite has not built yet -> UnsupportedOperation.

Texts come from AWS-recorded LocalStack snapshots (test_lambda_api.snapshot.json), AWS error
messages quoted in public projects, and botocore's model; see the project reference, section 4.
Pure: no I/O.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from typing import Any

from lambdalite.errors import (
    InvalidParameterValue,
    InvalidRequestContent,
    PreconditionFailed,
    UnsupportedOperation,
    ValidationError,
)
from lambdalite.functions import names
from lambdalite.functions.model import DEFAULTS

# -- runtimes ------------------------------------------------------------------------------------

# The enum list exactly as AWS prints it in the unknown-runtime message (AWS-recorded 2026-01-12).
AWS_RUNTIME_ENUM_TEXT = (
    "[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, "
    "java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, "
    "java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2]"
)
# Every identifier in botocore's Runtime enum (botocore 1.44): known, though maybe not runnable here.
KNOWN_RUNTIMES = frozenset((
    "nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x",
    "nodejs16.x", "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x", "nodejs26.x", "java8",
    "java8.al2", "java11", "java17", "java21", "java25", "python2.7", "python3.6", "python3.7",
    "python3.8", "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14",
    "python3.15", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "dotnet6",
    "dotnet8", "dotnet10", "nodejs4.3-edge", "go1.x", "ruby2.5", "ruby2.7", "ruby3.2", "ruby3.3",
    "ruby3.4", "ruby4.0", "provided", "provided.al2", "provided.al2023", "java8.al2023",
    "java11.al2023", "java17.al2023", "custom",
))
# Other languages' runtimes AWS has retired (blocked for create and update): AWS answers these with
# the "no longer supported" text, not Lambdalite's Python-only one (AWS-recorded 2026-01-12 for the
# first eight: test_create_deprecated_function_runtime_with_validation_enabled).
RETIRED_RUNTIMES = frozenset((
    "java8", "go1.x", "provided", "ruby2.7", "nodejs14.x", "dotnetcore3.1", "nodejs12.x",
    "nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x", "dotnetcore1.0",
    "dotnetcore2.0", "dotnetcore2.1", "ruby2.5",
))
_LONG_AGO = date(2000, 1, 1)
# Python runtimes: (block function create, block function update), AWS's "Lambda runtimes" table.
PYTHON_RUNTIMES: dict[str, tuple[date, date] | None] = {
    "python2.7": (_LONG_AGO, _LONG_AGO),
    "python3.6": (_LONG_AGO, _LONG_AGO),
    "python3.7": (_LONG_AGO, _LONG_AGO),
    "python3.8": (date(2025, 2, 28), date(2025, 3, 31)),
    "python3.9": (date(2026, 2, 3), date(2026, 3, 9)),
    "python3.10": (date(2026, 11, 30), date(2027, 1, 15)),
    "python3.11": (date(2027, 7, 31), date(2027, 8, 31)),
    "python3.12": (date(2028, 11, 30), date(2029, 1, 10)),
    "python3.13": (date(2029, 7, 31), date(2029, 8, 31)),
    "python3.14": (date(2029, 7, 31), date(2029, 8, 31)),
    "python3.15": None,  # in botocore's enum; no dates published yet
}

# -- limits and patterns -------------------------------------------------------------------------

ROLE_PATTERN = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
HANDLER_PATTERN = r"[^\s]+"
ENV_NAME_PATTERN = r"[a-zA-Z]([a-zA-Z0-9_])+"
LOG_GROUP_PATTERN = r"[\.\-_/#A-Za-z0-9]+"
KMS_KEY_ARN_PATTERN = r"(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()"
RESERVED_ENV_KEYS = ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID",
                     "AWS_SECRET_ACCESS_KEY")
ENV_SIZE_LIMIT = 4096
MAX_TAGS = 50   # AWS's limit per function
LAYER_VERSION_ARN_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
    r"layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)")
_RANGES = {"Timeout": ("timeout", 1, 900), "MemorySize": ("memorySize", 128, 10240)}

_ROLE = re.compile(r"arn:(?:aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
_HANDLER = re.compile(HANDLER_PATTERN)
_ENV_NAME = re.compile(ENV_NAME_PATTERN)
_LOG_GROUP = re.compile(LOG_GROUP_PATTERN)
_LAYER_VERSION_ARN = re.compile(LAYER_VERSION_ARN_PATTERN)
_KMS_KEY_ARN = re.compile(r"(?:arn:(?:aws[a-zA-Z-]*)?:[a-z0-9\-.]+:.*)|")

REVISION_MISMATCH = ("The Revision Id provided does not match the latest Revision Id. "
                     "Call the {api} API to retrieve the latest Revision Id")
MANDATORY_RUNTIME_HANDLER = ("Runtime and Handler are mandatory parameters for functions created with "
                             "deployment packages.")
NO_CODE_SOURCE = "Please provide a source for function code."
RUNTIME_RETIRED = ("The runtime parameter of {runtime} is no longer supported for creating or updating AWS "
                   "Lambda functions. We recommend you use a supported runtime while creating or updating "
                   "functions.")
LOG_LEVEL_WITH_TEXT = ('LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from '
                       'your request or change the LogFormat to "JSON" and try again.')

# -- pass 1: JSON types --------------------------------------------------------------------------

_STR_LIST = ("list", str)
_STR_MAP = ("map", str)
SCHEMA: dict[str, Any] = {
    "FunctionName": str, "Runtime": str, "Role": str, "Handler": str, "Description": str,
    "Timeout": int, "MemorySize": int, "Publish": bool, "PackageType": str, "KMSKeyArn": str,
    "RevisionId": str, "CodeSigningConfigArn": str, "PublishTo": str,
    "Code": {"ZipFile": str, "S3Bucket": str, "S3Key": str, "S3ObjectVersion": str, "ImageUri": str,
             "SourceKMSKeyArn": str},
    "Environment": {"Variables": _STR_MAP},
    "EphemeralStorage": {"Size": int},
    "TracingConfig": {"Mode": str},
    "LoggingConfig": {"LogFormat": str, "ApplicationLogLevel": str, "SystemLogLevel": str, "LogGroup": str},
    "DeadLetterConfig": {"TargetArn": str},
    "SnapStart": {"ApplyOn": str},
    "VpcConfig": {"SubnetIds": _STR_LIST, "SecurityGroupIds": _STR_LIST, "Ipv6AllowedForDualStack": bool},
    "Architectures": _STR_LIST, "Layers": _STR_LIST, "Tags": _STR_MAP,
    "FileSystemConfigs": list, "ImageConfig": dict, "TenancyConfig": dict,
    "CapacityProviderConfig": dict, "DurableConfig": dict, "RuntimeConfig": dict, "AcceleratorConfig": dict,
}
_TYPE_NAMES = {str: "a string", int: "an integer", bool: "a boolean", dict: "an object", list: "an array"}


def _json_kind(value: object) -> str:
    kinds = ((bool, "a boolean"), (int, "a number"), (float, "a number"), (str, "a string"),
             (list, "an array"), (dict, "an object"))
    return next((name for kind, name in kinds if isinstance(value, kind)), "null")


def _type_ok(value: object, expected: type) -> bool:
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def type_error(path: str, value: object, expected: str) -> InvalidRequestContent:
    # AWS's prefix for an undeserialisable body; the rest is Lambdalite's own wording.
    shown = json.dumps(value)[:80]
    return InvalidRequestContent(f"Could not parse request body into json: {path} must be {expected}, "
                                 f"not {_json_kind(value)} ({shown})")


def _check_type(path: str, value: object, spec: Any) -> None:
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            raise type_error(path, value, "an object")
        for key, sub in spec.items():
            if value.get(key) is not None:
                _check_type(f"{path}.{key}", value[key], sub)
    elif isinstance(spec, tuple):
        kind, item = spec
        container = list if kind == "list" else dict
        if not isinstance(value, container):
            raise type_error(path, value, _TYPE_NAMES[container])
        entries = value.items() if isinstance(value, dict) else enumerate(value)
        for key, entry in entries:
            if not _type_ok(entry, item):
                raise type_error(f"{path}[{key}]", entry, _TYPE_NAMES[item])
    elif not _type_ok(value, spec):
        raise type_error(path, value, _TYPE_NAMES[spec])


def check_types(body: dict[str, Any], spec: dict[str, Any]) -> None:
    """Each member of `body` that `spec` names has its JSON type (nulls count as absent)."""
    for key, kind in spec.items():
        if body.get(key) is not None:
            _check_type(key, body[key], kind)


def _check_types(body: object) -> dict[str, Any]:
    """The body with JSON nulls dropped (AWS treats null as absent), or a type error."""
    if not isinstance(body, dict):
        raise type_error("The request body", body, "an object")
    present = {key: value for key, value in body.items() if value is not None}
    for key, spec in SCHEMA.items():
        if key in present:
            _check_type(key, present[key], spec)
    return present


# -- pass 2: the model's constraints -------------------------------------------------------------

def _violation(member: str, value: object, constraint: str, **kw: bool) -> str:
    return names.constraint_violation(member, value, constraint, **kw)


def _pattern(member: str, value: str, regex: re.Pattern[str], text: str) -> list[str]:
    if regex.fullmatch(value):
        return []
    return [_violation(member, value, f"Member must satisfy regular expression pattern: {text}")]


def _max_length(member: str, value: str, limit: int) -> list[str]:
    if len(value) <= limit:
        return []
    return [_violation(member, value, f"Member must have length less than or equal to {limit}")]


def _in_range(member: str, value: int, low: int, high: int) -> list[str]:
    if value > high:
        return [_violation(member, value, f"Member must have value less than or equal to {high}")]
    if value < low:
        return [_violation(member, value, f"Member must have value greater than or equal to {low}")]
    return []


def _enum(member: str, value: str, allowed: tuple[str, ...]) -> list[str]:
    if value in allowed:
        return []
    return [_violation(member, value, f"Member must satisfy enum value set: [{', '.join(allowed)}]")]


def _required(body: dict[str, Any], members: tuple[str, ...]) -> list[str]:
    return [_violation(member[0].lower() + member[1:], None, "Member must not be null")
            for member in members if member not in body]


def _architecture_violations(archs: list[str]) -> list[str]:
    found = []
    if len(archs) > 1:
        found.append(_violation("architectures", archs, "Member must have length less than or equal to 1"))
    if not archs:
        found.append(_violation("architectures", archs, "Member must have length greater than or equal to 1"))
    if any(arch not in ("x86_64", "arm64") for arch in archs):
        found.append(_violation("architectures", archs, "Member must satisfy constraint: [Member must "
                                "satisfy enum value set: [x86_64, arm64], Member must not be null]"))
    return found


def _layers_violations(arns: list[str]) -> list[str]:
    """A function's Layers against the model, one violation naming them all (AWS-recorded:
    test_layer_function_exceptions add_layer_arn_without_version_exc)."""
    if all(1 <= len(a) <= 2048 and _LAYER_VERSION_ARN.fullmatch(a) for a in arns):
        return []
    return [_violation("layers", arns, "Member must satisfy constraint: [Member must have length less than or "
                       "equal to 2048, Member must have length greater than or equal to 1, Member must satisfy "
                       f"regular expression pattern: {LAYER_VERSION_ARN_PATTERN}, Member must not be null]")]


_VPC_IDS = (("SubnetIds", "subnetIds", re.compile("subnet-[0-9a-z]*"), "subnet-[0-9a-z]*"),
            ("SecurityGroupIds", "securityGroupIds", re.compile("sg-[0-9a-zA-Z]*"), "sg-[0-9a-zA-Z]*"))


def _vpc_violations(vpc: dict[str, Any]) -> list[str]:
    """VpcConfig's ids against the model (AWS-recorded: test_invalid_vpc_config_subnet
    create-response-invalid-format-subnet-id; the security groups' text is recorded alike)."""
    found = []
    for key, member, regex, pattern in _VPC_IDS:
        ids = vpc.get(key) or []
        if not all(len(i) <= 1024 and regex.fullmatch(i) for i in ids):
            found.append(_violation(f"vpcConfig.{member}", ids, "Member must satisfy constraint: [Member must have "
                                    "length less than or equal to 1024, Member must have length greater than or "
                                    f"equal to 0, Member must satisfy regular expression pattern: {pattern}]"))
    return found


def _environment_violations(env: dict[str, Any]) -> list[str]:
    variables = env.get("Variables") or {}
    if all(_ENV_NAME.fullmatch(key) for key in variables):
        return []
    # The variables are a sensitive member: AWS leaves the value out of the message.
    return [_violation("environment.variables", None, "Map keys must satisfy constraint: [Member must "
                       f"satisfy regular expression pattern: {ENV_NAME_PATTERN}]", sensitive=True)]


def _logging_violations(logging: dict[str, Any]) -> list[str]:
    found = []
    if "LogFormat" in logging:
        found += _enum("loggingConfig.logFormat", logging["LogFormat"], ("JSON", "Text"))
    if "ApplicationLogLevel" in logging:
        found += _enum("loggingConfig.applicationLogLevel", logging["ApplicationLogLevel"],
                       ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"))
    if "SystemLogLevel" in logging:
        found += _enum("loggingConfig.systemLogLevel", logging["SystemLogLevel"], ("DEBUG", "INFO", "WARN"))
    if "LogGroup" in logging:
        group = logging["LogGroup"]
        found += _max_length("loggingConfig.logGroup", group, 512)
        found += _pattern("loggingConfig.logGroup", group, _LOG_GROUP, LOG_GROUP_PATTERN)
    return found


def _scalar_violations(body: dict[str, Any]) -> list[str]:
    found = []
    if "Role" in body:
        found += _pattern("role", body["Role"], _ROLE, ROLE_PATTERN)
    if "Handler" in body:
        found += _max_length("handler", body["Handler"], 128)
        found += _pattern("handler", body["Handler"], _HANDLER, HANDLER_PATTERN)
    if "Description" in body:
        found += _max_length("description", body["Description"], 256)
    for key, (member, low, high) in _RANGES.items():
        if key in body:
            found += _in_range(member, body[key], low, high)
    if "PackageType" in body:
        found += _enum("packageType", body["PackageType"], ("Zip", "Image"))
    if "KMSKeyArn" in body:
        found += _pattern("kMSKeyArn", body["KMSKeyArn"], _KMS_KEY_ARN, KMS_KEY_ARN_PATTERN)
    return found


def _structure_violations(body: dict[str, Any]) -> list[str]:
    found = []
    if "Architectures" in body:
        found += _architecture_violations(body["Architectures"])
    if "EphemeralStorage" in body:
        size = body["EphemeralStorage"].get("Size")
        found += (_in_range("ephemeralStorage.size", size, 512, 10240) if size is not None else
                  [_violation("ephemeralStorage.size", None, "Member must not be null")])
    if "TracingConfig" in body and "Mode" in body["TracingConfig"]:
        found += _enum("tracingConfig.mode", body["TracingConfig"]["Mode"], ("Active", "PassThrough"))
    if "SnapStart" in body and "ApplyOn" in body["SnapStart"]:
        found += _enum("snapStart.applyOn", body["SnapStart"]["ApplyOn"], ("PublishedVersions", "None"))
    if "Environment" in body:
        found += _environment_violations(body["Environment"])
    if "Layers" in body:
        found += _layers_violations(body["Layers"])
    if "VpcConfig" in body:
        found += _vpc_violations(body["VpcConfig"])
    if "LoggingConfig" in body:
        found += _logging_violations(body["LoggingConfig"])
    return found


def _raise_violations(found: list[str]) -> None:
    if found:
        raise ValidationError(names.validation_message(found))


# -- pass 3: Lambda's own rules ------------------------------------------------------------------

def check_runtime(runtime: str, *, creating: bool, today: date | None = None) -> None:
    """Raise unless Lambdalite can create (or update) a function on ``runtime`` today."""
    if runtime not in KNOWN_RUNTIMES:
        raise InvalidParameterValue(f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must "
                                    f"satisfy enum value set: {AWS_RUNTIME_ENUM_TEXT} or be a valid ARN")
    if runtime in RETIRED_RUNTIMES:
        raise InvalidParameterValue(RUNTIME_RETIRED.format(runtime=runtime))
    if runtime not in PYTHON_RUNTIMES:
        raise UnsupportedOperation(f"The runtime {runtime} is not supported: Lambdalite runs Python runtimes "
                                   f"only (python3.10 to python3.14).")
    blocked = PYTHON_RUNTIMES[runtime]
    if blocked is not None and (today or date.today()) >= blocked[0 if creating else 1]:
        raise InvalidParameterValue(RUNTIME_RETIRED.format(runtime=runtime))


def _check_environment(env: dict[str, Any]) -> None:
    variables: dict[str, str] = env.get("Variables") or {}
    reserved = [key for key in variables if key in RESERVED_ENV_KEYS]
    if reserved:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the environment variables "
            "you have provided contains reserved keys that are currently not supported for modification. "
            f"Reserved keys used in this request: {', '.join(reserved)}")
    # Measured on the compact JSON text of the map, as AWS prints it back.
    measured = json.dumps(variables, separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode("utf-8")) > ENV_SIZE_LIMIT:
        raise InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the environment variables "
            f"you have provided exceeded the 4KB limit. String measured: {measured}")


_NOT_BUILT = {
    "FileSystemConfigs": "file systems (FileSystemConfigs)",
    "ImageConfig": "container images (ImageConfig)",
    "CodeSigningConfigArn": "code signing (CodeSigningConfigArn)",
    "TenancyConfig": "multi-tenant functions (TenancyConfig)",
    "CapacityProviderConfig": "Lambda Managed Instances (CapacityProviderConfig)",
    "DurableConfig": "durable functions (DurableConfig)",
    "PublishTo": "publishing to $LATEST.PUBLISHED (PublishTo)",
    "RuntimeConfig": "runtime configuration (RuntimeConfig)",
    "AcceleratorConfig": "accelerators (AcceleratorConfig)",
}


def _refuse_unbuilt(body: dict[str, Any]) -> None:
    for key, what in _NOT_BUILT.items():
        if body.get(key):
            raise UnsupportedOperation(
                f"Lambdalite does not support {what} yet; remove {key} from the request.")


def _check_logging(given: dict[str, Any], current: dict[str, Any] | None = None) -> None:
    has_level = "ApplicationLogLevel" in given or "SystemLogLevel" in given
    log_format = given.get("LogFormat") or (current or {}).get("LogFormat", "Text")
    if has_level and log_format == "Text":
        raise InvalidParameterValue(LOG_LEVEL_WITH_TEXT)


def _check_code(code: dict[str, Any]) -> None:
    sources = [key for key in ("ZipFile", "S3Bucket", "ImageUri") if code.get(key)]
    if not sources and not code.get("S3Key"):
        raise InvalidParameterValue(NO_CODE_SOURCE)
    if len(sources) > 1:
        raise InvalidParameterValue("Please provide exactly one source for function code: ZipFile, "
                                    "S3Bucket and S3Key, or ImageUri.")
    if sources != ["ZipFile"]:
        raise UnsupportedOperation("Lambdalite takes function code as ZipFile only; S3Bucket/S3Key and "
                                   "ImageUri are not supported yet.")


# -- normalising ---------------------------------------------------------------------------------

def _logging_config(
    given: dict[str, Any] | None, current: dict[str, Any] | None, name: str
) -> dict[str, Any]:
    base = current or {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    merged = {**base, **(given or {})}
    if merged.get("LogFormat") == "JSON":
        # Switching to JSON sets both levels to INFO unless given (AWS's behaviour).
        merged = {"ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO", **merged}
    elif base.get("LogFormat") == "JSON":
        merged.pop("ApplicationLogLevel", None)  # back to Text: levels no longer apply
        merged.pop("SystemLogLevel", None)
    return merged


def _normalized(body: dict[str, Any], key: str) -> Any:
    value = copy.deepcopy(body[key])
    if key == "Environment":
        return {"Variables": dict(value.get("Variables") or {})}
    if key == "SnapStart":
        return {"ApplyOn": value.get("ApplyOn", "None"), "OptimizationStatus": "Off"}
    if key == "TracingConfig":
        return {"Mode": value.get("Mode", "PassThrough")}
    return value


def _config_members(body: dict[str, Any], current: dict[str, Any], name: str) -> dict[str, Any]:
    config = {key: copy.deepcopy(current.get(key, DEFAULTS[key])) for key in DEFAULTS}
    for key in DEFAULTS:
        if key in body and key != "LoggingConfig":
            config[key] = _normalized(body, key)
    config["LoggingConfig"] = _logging_config(body.get("LoggingConfig"), current.get("LoggingConfig"), name)
    return config


# -- the two operations --------------------------------------------------------------------------

_CREATE_REQUIRED = ("FunctionName", "Role", "Code")


def validate_create(
    body: dict[str, Any], *, region: str | None = None, account: str | None = None,
    today: date | None = None, code_in_store: bool = False,
) -> dict[str, Any]:
    """Check a CreateFunction body; return FunctionName (the bare name), Runtime, Role, Handler,
    Code, Publish, Tags and every DEFAULTS member (defaults filled in).

    Raises InvalidRequestContent (JSON types), ValidationError (model constraints),
    InvalidParameterValue / UnsupportedOperation / errors.AccessDenied / ResourceNotFound (Lambda's
    rules). With region and account given, an ARN of another region or account is refused.
    `code_in_store`: the code is an archive the server already has (a stack's), not the body's Code.
    """
    body = _check_types(body)
    found = _required(body, tuple(m for m in _CREATE_REQUIRED if not (code_in_store and m == "Code")))
    if "FunctionName" in body:
        found += names.function_name_violations(body["FunctionName"], mutating=True)
    _raise_violations(found + _scalar_violations(body) + _structure_violations(body))
    name = names.validate_function_name_for_create(body["FunctionName"], region, account)
    if body.get("PackageType") == "Image":
        raise UnsupportedOperation("Lambdalite does not build container-image functions yet "
                                   "(PackageType Image); upload a zip with PackageType Zip.")
    if "Runtime" not in body or "Handler" not in body:
        raise InvalidParameterValue(MANDATORY_RUNTIME_HANDLER)
    check_runtime(body["Runtime"], creating=True, today=today)
    _check_lambda_rules(body)
    _check_logging(body.get("LoggingConfig") or {})
    if not code_in_store:
        _check_code(body["Code"])
    spec = {"FunctionName": name, "Runtime": body["Runtime"], "Role": body["Role"],
            "Handler": body["Handler"], "Code": None if code_in_store else dict(body["Code"]),
            "Publish": body.get("Publish", False),
            "Tags": dict(body.get("Tags") or {})}
    return {**spec, **_config_members(body, {}, name)}


def _check_lambda_rules(body: dict[str, Any]) -> None:
    _refuse_unbuilt(body)
    if len(body.get("Tags") or {}) > MAX_TAGS:   # AWS-recorded: test_tag_limits create_function_invalid_tags
        raise InvalidParameterValue("Number of tags exceeds resource tag limit.")
    if "Environment" in body:
        _check_environment(body["Environment"])


def validate_update_configuration(
    body: dict[str, Any], current_config: dict[str, Any], *, today: date | None = None,
) -> dict[str, Any]:
    """Check an UpdateFunctionConfiguration body against the function's current values.

    ``current_config`` holds the DEFAULTS members plus FunctionName, Runtime, Role and Handler;
    the answer is the same dict with the given members applied (normalised). Raises as
    ``validate_create`` does; a runtime blocked for updates is refused even when unchanged.
    """
    body = _check_types(body)
    _raise_violations(_scalar_violations(body) + _structure_violations(body))
    if "Runtime" in body or current_config.get("Runtime"):
        check_runtime(body.get("Runtime") or current_config["Runtime"], creating=False, today=today)
    _check_lambda_rules(body)
    if "LoggingConfig" in body:
        _check_logging(body["LoggingConfig"], current_config.get("LoggingConfig"))
    name = current_config.get("FunctionName", "")
    merged = {**copy.deepcopy(current_config), **_config_members(body, current_config, name)}
    merged.update({key: body[key] for key in ("Runtime", "Role", "Handler") if key in body})
    return merged


def check_test_event(name: str, body: str) -> None:
    """A saved test event (the console's): a name of 1-100 safe characters, and JSON text."""
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,100}", name):
        raise ValidationError(f"Test event name {name!r} must be 1-100 letters, digits, '.', '_' or '-'")
    try:
        json.loads(body)
    except ValueError as e:
        raise InvalidRequestContent(f"The test event {name} is not JSON: {e}") from None


def check_revision(given: str | None, current: str | None, *, api: str = "GetFunction/GetAlias") -> None:
    """Raise PreconditionFailed when a RevisionId was given and is not the current one.

    ``api`` names the call AWS points to: "GetFunction/GetAlias", or "GetPolicy" for policies.
    """
    if given is not None and given != current:
        raise PreconditionFailed(REVISION_MISMATCH.format(api=api))
