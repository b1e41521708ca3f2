"""CreateFunction / UpdateFunctionConfiguration validation: AWS's texts, asserted exactly."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import botocore.session  # type: ignore[import-untyped]
import pytest

from lambdalite.errors import (
    InvalidParameterValue,
    InvalidRequestContent,
    PreconditionFailed,
    ResourceNotFound,
    UnsupportedOperation,
    ValidationError,
)
from lambdalite.functions.model import DEFAULTS
from lambdalite.functions.validate import (
    AWS_RUNTIME_ENUM_TEXT,
    KNOWN_RUNTIMES,
    check_revision,
    validate_create,
    validate_update_configuration,
)

TODAY = date(2026, 11, 27)
ROLE = "arn:aws:iam::111111111111:role/lambda-role"
ROLE_PATTERN = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
DEPRECATED = ("The runtime parameter of {} is no longer supported for creating or updating AWS Lambda "
              "functions. We recommend you use a supported runtime while creating or updating functions.")


def body(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"FunctionName": "orders", "Runtime": "python3.12", "Role": ROLE,
                            "Handler": "app.handler", "Code": {"ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def create(**changes: Any) -> dict[str, Any]:
    return validate_create(body(**changes), today=TODAY)


def error_of(kind: type[Exception], **changes: Any) -> str:
    with pytest.raises(kind) as caught:
        create(**changes)
    return caught.value.message  # type: ignore[attr-defined, no-any-return]


def current() -> dict[str, Any]:
    spec = create()
    return {k: v for k, v in spec.items() if k not in ("Code", "Publish", "Tags")}


def update(**given: Any) -> dict[str, Any]:
    return validate_update_configuration(given, current(), today=TODAY)


# -- the happy path ----------------------------------------------------------------------------

def test_defaults_filled() -> None:
    spec = create()
    assert spec["FunctionName"] == "orders"
    assert spec["Runtime"] == "python3.12" and spec["Role"] == ROLE and spec["Handler"] == "app.handler"
    assert spec["Code"] == {"ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}
    assert spec["Publish"] is False and spec["Tags"] == {}
    for key, default in DEFAULTS.items():
        if key != "LoggingConfig":
            assert spec[key] == default, key
    assert spec["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/orders"}


def test_config_members_are_exactly_defaults() -> None:
    spec = create()
    top = {"FunctionName", "Runtime", "Role", "Handler", "Code", "Publish", "Tags"}
    assert set(spec) - top == set(DEFAULTS)


def test_given_values_kept() -> None:
    spec = create(Timeout=900, MemorySize=10240, Description="d" * 256, Architectures=["arm64"],
                  EphemeralStorage={"Size": 10240}, Environment={"Variables": {"TABLE": "orders"}},
                  TracingConfig={"Mode": "Active"}, Tags={"team": "payments"}, Publish=False)
    assert (spec["Timeout"], spec["MemorySize"]) == (900, 10240)
    assert spec["Architectures"] == ["arm64"] and spec["EphemeralStorage"] == {"Size": 10240}
    assert spec["Environment"] == {"Variables": {"TABLE": "orders"}}
    assert spec["TracingConfig"] == {"Mode": "Active"} and spec["Tags"] == {"team": "payments"}


def test_lower_edges_ok() -> None:
    spec = create(Timeout=1, MemorySize=128, EphemeralStorage={"Size": 512})
    assert (spec["Timeout"], spec["MemorySize"], spec["EphemeralStorage"]) == (1, 128, {"Size": 512})


def test_function_name_from_arn() -> None:
    spec = validate_create(body(FunctionName="arn:aws:lambda:us-east-1:111111111111:function:orders"),
                           region="us-east-1", account="111111111111", today=TODAY)
    assert spec["FunctionName"] == "orders"
    assert spec["LoggingConfig"]["LogGroup"] == "/aws/lambda/orders"


def test_function_name_from_other_region() -> None:
    with pytest.raises(ResourceNotFound, match=r"Functions from 'eu-west-1' are not reachable"):
        validate_create(body(FunctionName="arn:aws:lambda:eu-west-1:111111111111:function:orders"),
                        region="us-east-1", account="111111111111", today=TODAY)


def test_nulls_count_as_absent() -> None:
    assert create(Timeout=None, Description=None)["Timeout"] == 3


def test_json_logging_gets_levels() -> None:
    spec = create(LoggingConfig={"LogFormat": "JSON"})
    assert spec["LoggingConfig"] == {"ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO",
                                     "LogFormat": "JSON", "LogGroup": "/aws/lambda/orders"}


# -- required members --------------------------------------------------------------------------

def test_missing_role() -> None:
    assert error_of(ValidationError, Role=...) == (
        "1 validation error detected: Value null at 'role' failed to satisfy constraint: "
        "Member must not be null")


def test_missing_several() -> None:
    assert error_of(ValidationError, FunctionName=..., Code=...) == (
        "2 validation errors detected: Value null at 'functionName' failed to satisfy constraint: "
        "Member must not be null; Value null at 'code' failed to satisfy constraint: Member must not be null")


@pytest.mark.parametrize("missing", ["Runtime", "Handler"])
def test_zip_needs_runtime_and_handler(missing: str) -> None:
    assert error_of(InvalidParameterValue, **{missing: ...}) == (
        "Runtime and Handler are mandatory parameters for functions created with deployment packages.")


# -- JSON types --------------------------------------------------------------------------------

@pytest.mark.parametrize(("member", "value"), [
    ("Timeout", "abc"), ("MemorySize", "256"), ("Timeout", True), ("Timeout", 3.5), ("Role", 5),
    ("Environment", {"Variables": {"A": 1}}), ("Tags", {"a": 2}), ("Architectures", "x86_64"),
    ("Code", "zip"), ("EphemeralStorage", {"Size": "512"}), ("Publish", "yes"),
])
def test_wrong_json_types(member: str, value: object) -> None:
    message = error_of(InvalidRequestContent, **{member: value})
    assert message.startswith("Could not parse request body into json: " + member)


def test_wrong_type_message_names_the_value() -> None:
    assert error_of(InvalidRequestContent, Timeout="abc") == (
        'Could not parse request body into json: Timeout must be an integer, not a string ("abc")')


def test_body_not_an_object() -> None:
    with pytest.raises(InvalidRequestContent):
        validate_create([], today=TODAY)  # type: ignore[arg-type]


# -- the model's constraints -------------------------------------------------------------------

def test_bad_role() -> None:
    assert error_of(ValidationError, Role="r1") == (
        "1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy "
        f"regular expression pattern: {ROLE_PATTERN}")


def test_timeout_too_high() -> None:
    assert error_of(ValidationError, Timeout=3000) == (
        "1 validation error detected: Value '3000' at 'timeout' failed to satisfy constraint: Member must "
        "have value less than or equal to 900")


@pytest.mark.parametrize(("member", "value", "text"), [
    ("Timeout", 901, "'901' at 'timeout' failed to satisfy constraint: Member must have value less than or "
                     "equal to 900"),
    ("Timeout", 0, "'0' at 'timeout' failed to satisfy constraint: Member must have value greater than or "
                   "equal to 1"),
    ("MemorySize", 127, "'127' at 'memorySize' failed to satisfy constraint: Member must have value greater "
                        "than or equal to 128"),
    ("MemorySize", 5555555, "'5555555' at 'memorySize' failed to satisfy constraint: Member must have value "
                            "less than or equal to 10240"),
    ("EphemeralStorage", {"Size": 511}, "'511' at 'ephemeralStorage.size' failed to satisfy constraint: "
                                        "Member must have value greater than or equal to 512"),
    ("EphemeralStorage", {"Size": 10241}, "'10241' at 'ephemeralStorage.size' failed to satisfy constraint: "
                                          "Member must have value less than or equal to 10240"),
    ("Description", "d" * 257, f"'{'d' * 257}' at 'description' failed to satisfy constraint: Member must "
                               "have length less than or equal to 256"),
    ("Handler", "app handler", r"'app handler' at 'handler' failed to satisfy constraint: Member must "
                               r"satisfy regular expression pattern: [^\s]+"),
    ("Handler", "h" * 129, f"'{'h' * 129}' at 'handler' failed to satisfy constraint: Member must have "
                           "length less than or equal to 128"),
    ("PackageType", "Jar", "'Jar' at 'packageType' failed to satisfy constraint: Member must satisfy enum "
                           "value set: [Zip, Image]"),
    ("TracingConfig", {"Mode": "On"}, "'On' at 'tracingConfig.mode' failed to satisfy constraint: Member "
                                      "must satisfy enum value set: [Active, PassThrough]"),
    ("SnapStart", {"ApplyOn": "Always"}, "'Always' at 'snapStart.applyOn' failed to satisfy constraint: "
                                         "Member must satisfy enum value set: [PublishedVersions, None]"),
])
def test_one_violation(member: str, value: object, text: str) -> None:
    assert error_of(ValidationError, **{member: value}) == "1 validation error detected: Value " + text


def test_handler_of_128_is_fine() -> None:
    assert create(Handler="h" * 128)["Handler"] == "h" * 128


def test_multiple_architectures() -> None:
    assert error_of(ValidationError, Architectures=["x86_64", "arm64"]) == (
        "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to satisfy "
        "constraint: Member must have length less than or equal to 1")


def test_uppercase_architecture() -> None:
    assert error_of(ValidationError, Architectures=["X86_64"]) == (
        "1 validation error detected: Value '[X86_64]' at 'architectures' failed to satisfy constraint: "
        "Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must "
        "not be null]")


def test_empty_architectures() -> None:
    assert "Member must have length greater than or equal to 1" in error_of(ValidationError, Architectures=[])


def test_violations_are_numbered() -> None:
    assert error_of(ValidationError, Role="r1", Timeout=0) == (
        "2 validation errors detected: Value 'r1' at 'role' failed to satisfy constraint: Member must "
        f"satisfy regular expression pattern: {ROLE_PATTERN}; Value '0' at 'timeout' failed to satisfy "
        "constraint: Member must have value greater than or equal to 1")


def test_bad_function_name_joins_the_other_violations() -> None:
    message = error_of(ValidationError, FunctionName="bad name", Timeout=901)
    assert message.startswith("2 validation errors detected: Value 'bad name' at 'functionName'")


def test_long_function_name() -> None:
    assert error_of(InvalidParameterValue, FunctionName="a" * 65) == (
        f"1 validation error detected: Value '{'a' * 65}' at 'functionName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64")


def test_env_var_name_pattern() -> None:
    assert error_of(ValidationError, Environment={"Variables": {"1BAD": "x"}}) == (
        "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: "
        "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
        "[a-zA-Z]([a-zA-Z0-9_])+]")


def test_env_var_name_of_one_letter_is_refused() -> None:
    with pytest.raises(ValidationError):
        create(Environment={"Variables": {"A": "x"}})


def test_log_format_enum() -> None:
    assert error_of(ValidationError, LoggingConfig={"LogFormat": "XML"}) == (
        "1 validation error detected: Value 'XML' at 'loggingConfig.logFormat' failed to satisfy constraint: "
        "Member must satisfy enum value set: [JSON, Text]")


# -- runtimes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("runtime", ["python3.10", "python3.11", "python3.12", "python3.13", "python3.14"])
def test_supported_python(runtime: str) -> None:
    assert create(Runtime=runtime)["Runtime"] == runtime


@pytest.mark.parametrize("runtime", ["python3.9", "python3.8", "python3.7", "python3.6", "python2.7"])
def test_blocked_python(runtime: str) -> None:
    assert error_of(InvalidParameterValue, Runtime=runtime) == DEPRECATED.format(runtime)


def test_python310_blocked_for_create_from_2026_11_30() -> None:
    with pytest.raises(InvalidParameterValue, match="python3.10 is no longer supported"):
        validate_create(body(Runtime="python3.10"), today=date(2026, 11, 30))
    assert validate_create(body(Runtime="python3.10"), today=date(2026, 11, 29))["Runtime"] == "python3.10"


@pytest.mark.parametrize("runtime", ["non-existent-runtime", "PYTHON3.9", "python3.99"])
def test_unknown_runtime(runtime: str) -> None:
    assert error_of(InvalidParameterValue, Runtime=runtime) == (
        f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: "
        f"{AWS_RUNTIME_ENUM_TEXT} or be a valid ARN")


def test_recorded_enum_text() -> None:
    assert AWS_RUNTIME_ENUM_TEXT == (
        "[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, "
        "python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, "
        "nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2]")


def test_known_runtimes_are_in_botocores_enum() -> None:
    model = botocore.session.get_session().get_service_model("lambda")
    assert KNOWN_RUNTIMES <= set(model.shape_for("Runtime").enum)


@pytest.mark.parametrize("runtime", ["nodejs20.x", "java21", "provided.al2023", "ruby3.3"])
def test_non_python_runtime(runtime: str) -> None:
    with pytest.raises(UnsupportedOperation) as caught:
        create(Runtime=runtime)
    assert "Lambdalite runs Python runtimes only" in caught.value.message
    assert caught.value.code == "InvalidParameterValueException"


# -- environment -------------------------------------------------------------------------------

def test_reserved_keys_listed_as_given() -> None:
    env = {"Variables": {"AWS_REGION": "x", "OK_KEY": "y", "AWS_ACCESS_KEY_ID": "z"}}
    assert error_of(InvalidParameterValue, Environment=env) == (
        "Lambda was unable to configure your environment variables because the environment "
        "variables you have provided contains reserved keys that are currently not supported for "
        "modification. Reserved keys used in this request: AWS_REGION, AWS_ACCESS_KEY_ID")


@pytest.mark.parametrize("key", ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID",
                                 "AWS_SECRET_ACCESS_KEY"])
def test_each_reserved_key(key: str) -> None:
    assert error_of(InvalidParameterValue, Environment={"Variables": {key: "v"}}).endswith(
        f"Reserved keys used in this request: {key}")


def test_environment_over_4kb() -> None:
    variables = {"LARGE_VAR": "x" * 4081}  # {"LARGE_VAR":"x..."} is 4097 bytes, as AWS recorded
    measured = json.dumps(variables, separators=(",", ":"))
    assert len(measured) == 4097
    assert error_of(InvalidParameterValue, Environment={"Variables": variables}) == (
        "Lambda was unable to configure your environment variables because the environment "
        f"variables you have provided exceeded the 4KB limit. String measured: {measured}")


def test_environment_of_4096_bytes_is_fine() -> None:
    variables = {"LARGE_VAR": "x" * 4080}
    assert create(Environment={"Variables": variables})["Environment"] == {"Variables": variables}


def test_environment_measured_in_utf8_bytes() -> None:
    with pytest.raises(InvalidParameterValue, match="exceeded the 4KB limit"):
        create(Environment={"Variables": {"NAME": "é" * 2045}})  # 2056 characters, 4101 bytes


# -- code and unbuilt features -----------------------------------------------------------------

def test_no_code_source() -> None:
    assert error_of(InvalidParameterValue, Code={}) == "Please provide a source for function code."


@pytest.mark.parametrize("code", [{"S3Bucket": "b", "S3Key": "k"}, {"ImageUri": "x/y:latest"}])
def test_code_from_s3_or_image_not_built(code: dict[str, str]) -> None:
    assert "ZipFile only" in error_of(UnsupportedOperation, Code=code)


def test_two_code_sources() -> None:
    assert "exactly one source" in error_of(InvalidParameterValue, Code={"ZipFile": "UEs=", "S3Bucket": "b"})


def test_image_package_type_not_built() -> None:
    assert "container-image" in error_of(UnsupportedOperation, PackageType="Image")


def test_empty_layers_fine() -> None:
    assert create(Layers=[])["Layers"] == []


def test_file_systems_not_built() -> None:
    assert "FileSystemConfigs" in error_of(UnsupportedOperation, FileSystemConfigs=[{"Arn": "a"}])


def test_log_level_with_text() -> None:
    assert error_of(InvalidParameterValue, LoggingConfig={"ApplicationLogLevel": "DEBUG"}) == (
        'LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your '
        'request or change the LogFormat to "JSON" and try again.')


# -- UpdateFunctionConfiguration ---------------------------------------------------------------

def test_update_applies_given_members_only() -> None:
    merged = update(Timeout=30, Environment={"Variables": {"A1": "b"}})
    assert merged["Timeout"] == 30 and merged["Environment"] == {"Variables": {"A1": "b"}}
    assert merged["MemorySize"] == 128 and merged["Runtime"] == "python3.12"
    assert merged["FunctionName"] == "orders"


def test_update_role_handler_runtime() -> None:
    merged = update(Role=ROLE + "2", Handler="x.y", Runtime="python3.13")
    assert (merged["Role"], merged["Handler"], merged["Runtime"]) == (ROLE + "2", "x.y", "python3.13")


def test_update_bad_role() -> None:
    with pytest.raises(ValidationError) as caught:
        update(Role="r1")
    assert caught.value.message == (
        "1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy "
        f"regular expression pattern: {ROLE_PATTERN}")


def test_update_unknown_runtime() -> None:
    with pytest.raises(InvalidParameterValue, match=r"^Value PYTHON3\.9 at 'runtime'"):
        update(Runtime="PYTHON3.9")


def test_update_python310_still_allowed_until_2027_01_15() -> None:
    assert update(Runtime="python3.10")["Runtime"] == "python3.10"
    with pytest.raises(InvalidParameterValue, match="python3.10 is no longer supported"):
        validate_update_configuration({"Runtime": "python3.10"}, current(), today=date(2027, 1, 15))


def test_update_of_function_on_blocked_runtime() -> None:
    old = {**current(), "Runtime": "python3.9"}
    with pytest.raises(InvalidParameterValue, match="python3.9 is no longer supported"):
        validate_update_configuration({"Timeout": 5}, old, today=TODAY)
    moved = validate_update_configuration({"Runtime": "python3.12"}, old, today=TODAY)
    assert moved["Runtime"] == "python3.12"


def test_update_timeout_edges() -> None:
    assert update(Timeout=900)["Timeout"] == 900
    with pytest.raises(ValidationError, match="less than or equal to 900"):
        update(Timeout=901)


def test_update_logging_to_json_and_back() -> None:
    as_json = update(LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"})
    assert as_json["LoggingConfig"] == {"ApplicationLogLevel": "DEBUG", "SystemLogLevel": "INFO",
                                        "LogFormat": "JSON", "LogGroup": "/aws/lambda/orders"}
    back = validate_update_configuration({"LoggingConfig": {"LogFormat": "Text"}}, as_json, today=TODAY)
    assert back["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/orders"}


def test_update_log_level_needs_json() -> None:
    with pytest.raises(InvalidParameterValue, match="LogLevel is not supported"):
        update(LoggingConfig={"SystemLogLevel": "WARN"})
    as_json = update(LoggingConfig={"LogFormat": "JSON"})
    given = {"LoggingConfig": {"SystemLogLevel": "WARN"}}
    levelled = validate_update_configuration(given, as_json, today=TODAY)
    assert levelled["LoggingConfig"]["SystemLogLevel"] == "WARN"


def test_update_reserved_env() -> None:
    with pytest.raises(InvalidParameterValue, match="Reserved keys used in this request: AWS_REGION"):
        update(Environment={"Variables": {"AWS_REGION": "x"}})


def test_update_does_not_change_current() -> None:
    before = current()
    snapshot = json.dumps(before, sort_keys=True)
    validate_update_configuration({"Environment": {"Variables": {"AB": "c"}}}, before, today=TODAY)
    assert json.dumps(before, sort_keys=True) == snapshot


# -- revisions ---------------------------------------------------------------------------------

def test_revision_mismatch() -> None:
    with pytest.raises(PreconditionFailed) as caught:
        check_revision("old", "new")
    assert caught.value.message == (
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias "
        "API to retrieve the latest Revision Id")
    assert caught.value.status == 412


def test_revision_for_policies() -> None:
    with pytest.raises(PreconditionFailed, match="Call the GetPolicy API"):
        check_revision("old", None, api="GetPolicy")


def test_revision_absent_or_equal() -> None:
    check_revision(None, "new")
    check_revision("new", "new")
