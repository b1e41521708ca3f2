"""Function names, ARNs, qualifiers and timestamps: AWS's texts, asserted exactly."""

from __future__ import annotations

import pytest

from lambdalite.errors import AccessDenied, InvalidParameterValue, ResourceNotFound, ValidationError
from lambdalite.functions import names
from lambdalite.functions.names import (
    function_arn,
    parse_function_ref,
    validate_function_name_for_create,
)
from lambdalite.functions.timefmt import aws_timestamp

REGION, ACCOUNT = "us-east-1", "111111111111"
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:my-function"
READ_PATTERN_TEXT = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
CREATE_PATTERN_TEXT = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)


def parse(ref: str, qualifier: str | None = None, mutating: bool = False) -> tuple[str, str | None]:
    return parse_function_ref(ref, qualifier, REGION, ACCOUNT, mutating=mutating)


def pattern_error(value: str, pattern: str = READ_PATTERN_TEXT) -> str:
    return (f"1 validation error detected: Value '{value}' at 'functionName' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {pattern}")


# -- function_arn ------------------------------------------------------------------------------

def test_function_arn_unqualified() -> None:
    assert function_arn(REGION, ACCOUNT, "my-function") == ARN


def test_function_arn_qualified() -> None:
    assert function_arn(REGION, ACCOUNT, "my-function", "$LATEST") == ARN + ":$LATEST"
    assert function_arn(REGION, ACCOUNT, "my-function", "7") == ARN + ":7"


def test_patterns_are_botocores() -> None:
    assert names.READ_NAME_PATTERN == READ_PATTERN_TEXT
    assert names.MUTATING_NAME_PATTERN == CREATE_PATTERN_TEXT


# -- accepted forms ----------------------------------------------------------------------------

@pytest.mark.parametrize(("ref", "qualifier", "expected"), [
    ("my-function", None, ("my-function", None)),
    ("my-function:live", None, ("my-function", "live")),
    ("my-function:$LATEST", None, ("my-function", "$LATEST")),
    ("my-function", "3", ("my-function", "3")),
    (f"{ACCOUNT}:function:my-function", None, ("my-function", None)),
    (f"{ACCOUNT}:function:my-function:2", None, ("my-function", "2")),
    ("function:my-function", None, ("my-function", None)),
    (ARN, None, ("my-function", None)),
    (ARN + ":live", None, ("my-function", "live")),
    (ARN + ":live", "live", ("my-function", "live")),
    (ARN + ":$LATEST.PUBLISHED", None, ("my-function", "$LATEST.PUBLISHED")),
    ("my.function", None, ("my.function", None)),
    ("my-function", "$latest", ("my-function", "$latest")),  # passes; looked up as an alias
    ("my-function", "", ("my-function", None)),
    (f"arn:aws:lambda:{REGION}:{ACCOUNT}:function", None, ("function", None)),  # AWS reads it so
])
def test_accepted_forms(ref: str, qualifier: str | None, expected: tuple[str, str | None]) -> None:
    assert parse(ref, qualifier) == expected


def test_name_of_256_is_accepted_for_reads() -> None:
    assert parse("a" * 256) == ("a" * 256, None)


def test_name_of_65_is_accepted_for_reads() -> None:
    # AWS answers "Function not found" for these, not a validation error.
    assert parse("a" * 65) == ("a" * 65, None)


def test_mutating_accepts_140() -> None:
    ref = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:" + "a" * (140 - len(ARN) + len("my-function"))
    assert len(ref) == 140
    assert parse(ref, mutating=True)[0].startswith("aaa")


# -- refused forms -----------------------------------------------------------------------------

@pytest.mark.parametrize("ref", [
    "my-function!",
    "*",
    "invalid-account:function:my-function",
    f"arn:aws:lambda:invalid-region:{ACCOUNT}:function:my-function",
    f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance:i-1234567890abcdef0",
    f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:my-function:1:2",
    "function:my-function:$LATEST:extra",
    f"arn:aws:lambda::{ACCOUNT}:function:my-function",
    f"arn:aws:lambda:{REGION}::function:my-function",
    f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:my-function:$LATES",
])
def test_malformed_refs(ref: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(ref)
    assert caught.value.message == pattern_error(ref)
    assert caught.value.status == 400 and caught.value.code == "ValidationException"


def test_malformed_ref_on_mutating_operation_quotes_the_create_pattern() -> None:
    with pytest.raises(ValidationError) as caught:
        parse("my.function", mutating=True)
    assert caught.value.message == pattern_error("my.function", CREATE_PATTERN_TEXT)


def test_mutating_refuses_141() -> None:
    ref = "a" * 141
    with pytest.raises(ValidationError) as caught:
        parse(ref, mutating=True)
    assert caught.value.message == (
        f"1 validation error detected: Value '{ref}' at 'functionName' failed to satisfy constraint: "
        "Member must have length less than or equal to 140")


def test_read_refuses_257() -> None:
    with pytest.raises(ValidationError, match="less than or equal to 256"):
        parse("a" * 257)


def test_qualifier_too_long() -> None:
    with pytest.raises(ValidationError) as caught:
        parse("my-function", "a" * 129)
    assert caught.value.message == (
        f"1 validation error detected: Value '{'a' * 129}' at 'qualifier' failed to satisfy constraint: "
        "Member must have length less than or equal to 128")


def test_qualifier_of_128_is_fine() -> None:
    assert parse("my-function", "a" * 128) == ("my-function", "a" * 128)


def test_qualifier_bad_characters() -> None:
    with pytest.raises(ValidationError) as caught:
        parse("my-function", "invalid!")
    assert caught.value.message == (
        "1 validation error detected: Value 'invalid!' at 'qualifier' failed to satisfy constraint: "
        r"Member must satisfy regular expression pattern: \$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+")


def test_name_and_qualifier_errors_are_counted_together() -> None:
    ref = f"arn:aws:lambda:invalid-region:{ACCOUNT}:function:my-function-" + "a" * 170
    with pytest.raises(ValidationError) as caught:
        parse(ref, "a" * 129)
    message = caught.value.message
    assert message.startswith("2 validation errors detected: Value '")
    assert message.count("; Value '") == 1
    assert "at 'qualifier' failed to satisfy constraint: Member must have length less than or equal to 128" \
        in message


def test_qualifier_mismatch() -> None:
    with pytest.raises(InvalidParameterValue) as caught:
        parse(ARN + ":$LATEST", "1")
    assert caught.value.message == ("The derived qualifier from the function name does not match the "
                                    "specified qualifier.")
    assert caught.value.body() == {"Type": "User", "message": caught.value.message}


def test_other_region() -> None:
    with pytest.raises(ResourceNotFound) as caught:
        parse(f"arn:aws:lambda:ap-southeast-1:{ACCOUNT}:function:my-function")
    assert caught.value.message == (
        "Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')")
    assert caught.value.status == 404
    assert caught.value.body() == {"Type": "User", "Message": caught.value.message}


def test_other_account_is_access_denied_without_message() -> None:
    with pytest.raises(AccessDenied) as caught:
        parse(f"arn:aws:lambda:{REGION}:123456789012:function:my-function")
    assert caught.value.status == 403 and caught.value.code == "AccessDeniedException"
    assert caught.value.body() == {"Message": None}


def test_other_account_in_partial_arn() -> None:
    with pytest.raises(AccessDenied):
        parse("123456789012:function:my-function")


# -- CreateFunction's name ---------------------------------------------------------------------

def test_create_name_of_64_is_fine() -> None:
    assert validate_function_name_for_create("a" * 64) == "a" * 64


def test_create_name_of_65_is_invalid_parameter() -> None:
    with pytest.raises(InvalidParameterValue) as caught:
        validate_function_name_for_create("a" * 65)
    assert caught.value.message == (
        f"1 validation error detected: Value '{'a' * 65}' at 'functionName' failed to satisfy constraint: "
        "Member must have length less than or equal to 64")
    assert caught.value.code == "InvalidParameterValueException"


def test_create_arn_of_141_is_validation_error() -> None:
    prefix = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
    ref = prefix + "a" * (141 - len(prefix))
    with pytest.raises(ValidationError) as caught:
        validate_function_name_for_create(ref, REGION, ACCOUNT)
    assert caught.value.message == (
        f"1 validation error detected: Value '{ref}' at 'functionName' failed to satisfy constraint: "
        "Member must have length less than or equal to 140")


def test_create_with_colons_in_name() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_function_name_for_create("invalid:function:name")
    assert caught.value.message == pattern_error("invalid:function:name", CREATE_PATTERN_TEXT)


def test_create_long_and_malformed_gives_two_errors() -> None:
    ref = f"arn:aws:lambda:invalid-region:{ACCOUNT}:function:my-function" + "a" * 140
    with pytest.raises(ValidationError) as caught:
        validate_function_name_for_create(ref)
    assert caught.value.message == (
        f"2 validation errors detected: Value '{ref}' at 'functionName' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {CREATE_PATTERN_TEXT}; Value '{ref}' at "
        "'functionName' failed to satisfy constraint: Member must have length less than or equal to 140")


def test_create_accepts_full_and_partial_arns() -> None:
    assert validate_function_name_for_create(ARN, REGION, ACCOUNT) == "my-function"
    partial = f"{ACCOUNT}:function:my-function"
    assert validate_function_name_for_create(partial, REGION, ACCOUNT) == "my-function"


def test_create_from_other_region_and_account() -> None:
    with pytest.raises(ResourceNotFound, match="Functions from 'ap-southeast-1' are not reachable"):
        validate_function_name_for_create(
            f"arn:aws:lambda:ap-southeast-1:{ACCOUNT}:function:f", REGION, ACCOUNT)
    with pytest.raises(AccessDenied):
        validate_function_name_for_create(
            f"arn:aws:lambda:{REGION}:123456789012:function:f", REGION, ACCOUNT)


def test_create_with_qualifier_is_refused() -> None:
    with pytest.raises(InvalidParameterValue, match="without a qualifier"):
        validate_function_name_for_create("my-function:1")


def test_validation_message_plural() -> None:
    assert names.validation_message(["A"]) == "1 validation error detected: A"
    assert names.validation_message(["A", "B"]) == "2 validation errors detected: A; B"


# -- timestamps --------------------------------------------------------------------------------

def test_aws_timestamp_epoch_start_of_2026() -> None:
    assert aws_timestamp(1767225600.0) == "2026-01-01T00:00:00.000+0000"


def test_aws_timestamp_milliseconds_truncated() -> None:
    assert aws_timestamp(1767225600.1239) == "2026-01-01T00:00:00.123+0000"
    assert aws_timestamp(1767225600.9999) == "2026-01-01T00:00:00.999+0000"
