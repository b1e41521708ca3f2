"""Function names, ARNs and qualifiers: building them, and reading what a caller sent.

A caller may name a function by its name (``my-function``), a name with a qualifier
(``my-function:live``), a partial ARN (``123456789012:function:my-function``) or a full ARN, and
may add a ``Qualifier`` parameter. ``parse_function_ref`` turns all of these into
``(name, qualifier)`` and raises AWS's errors, texts copied from AWS-recorded LocalStack snapshots
(tests/aws/services/lambda_/test_lambda_api.snapshot.json, Nov 2025 - Jan 2026).

Pure: no I/O. The API layer percent-decodes path segments before calling in here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lambdalite.errors import AccessDenied, InvalidParameterValue, ResourceNotFound, ValidationError

PARTITION = "aws"

# AWS's patterns exactly as its messages print them (botocore's model has the same text).
# Mutating operations (CreateFunction, Update*, PublishVersion, ...) use the "FunctionName" shape;
# reads, Invoke and DeleteFunction use "NamespacedFunctionName", which also allows "." in the
# name and "$LATEST.PUBLISHED" as a suffix.
MUTATING_NAME_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"
)
READ_NAME_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
QUALIFIER_PATTERN = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"

MUTATING_MAX_LENGTH = 140
READ_MAX_LENGTH = 256
NAME_MAX_LENGTH = 64
QUALIFIER_MAX_LENGTH = 128

_REGION = r"(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d"


def _ref_regex(name_chars: str, suffix: str) -> re.Pattern[str]:
    # The same grammar as AWS's pattern, with named groups; used with fullmatch (AWS's patterns
    # must match the whole value).
    return re.compile(
        rf"(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:(?P<region>{_REGION}):)?(?:(?P<account>\d{{12}}):)?"
        rf"(?:function:)?(?P<name>[{name_chars}]+)(?::(?P<qualifier>{suffix}))?"
    )


_MUTATING_REF = _ref_regex(r"a-zA-Z0-9\-_", r"\$LATEST|[a-zA-Z0-9\-_]+")
_READ_REF = _ref_regex(r"a-zA-Z0-9\-_.", r"\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9\-_]+")
_QUALIFIER = re.compile(r"\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9\-_$]+")

QUALIFIER_MISMATCH = "The derived qualifier from the function name does not match the specified qualifier."


def function_arn(region: str, account: str, name: str, qualifier: str | None = None) -> str:
    arn = f"arn:{PARTITION}:lambda:{region}:{account}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def qualifier_of(invoked_arn: str) -> str | None:
    """The qualifier a full function ARN carries (...:function:name:live -> live), None when unqualified."""
    return invoked_arn.rsplit(":", 1)[1] if invoked_arn.count(":") == 7 else None


def constraint_violation(member: str, value: object, constraint: str, *, sensitive: bool = False) -> str:
    """One violation in AWS's front-end wording; a sensitive member's value is not printed."""
    shown = "Value" if sensitive else f"Value {_show(value)}"
    return f"{shown} at '{member}' failed to satisfy constraint: {constraint}"


def _show(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return "'[" + ", ".join(str(item) for item in value) + "]'"
    return f"'{value}'"


def validation_message(violations: Sequence[str]) -> str:
    """'1 validation error detected: A' / '2 validation errors detected: A; B' (AWS's form)."""
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(violations)


def function_name_violations(ref: str, *, mutating: bool) -> list[str]:
    """The model's checks on a FunctionName (pattern, length), in AWS's wording."""
    pattern, regex = (
        (MUTATING_NAME_PATTERN, _MUTATING_REF) if mutating else (READ_NAME_PATTERN, _READ_REF)
    )
    max_length = MUTATING_MAX_LENGTH if mutating else READ_MAX_LENGTH
    found = []
    if not regex.fullmatch(ref):
        found.append(constraint_violation(
            "functionName", ref, f"Member must satisfy regular expression pattern: {pattern}"))
    if len(ref) > max_length:
        found.append(constraint_violation(
            "functionName", ref, f"Member must have length less than or equal to {max_length}"))
    if not ref:
        found.append(constraint_violation(
            "functionName", ref, "Member must have length greater than or equal to 1"))
    return found


def qualifier_violations(qualifier: str) -> list[str]:
    found = []
    if len(qualifier) > QUALIFIER_MAX_LENGTH:
        found.append(constraint_violation(
            "qualifier", qualifier, f"Member must have length less than or equal to {QUALIFIER_MAX_LENGTH}"))
    if not _QUALIFIER.fullmatch(qualifier):
        found.append(constraint_violation(
            "qualifier", qualifier, f"Member must satisfy regular expression pattern: {QUALIFIER_PATTERN}"))
    return found


def _check_home(match: re.Match[str], ref: str, region: str, account: str) -> None:
    arn_account, arn_region = match.group("account"), match.group("region")
    if arn_account and arn_account != account:
        raise AccessDenied(f"Function {ref} belongs to account {arn_account}, not {account}")
    if arn_region and arn_region != region:
        raise ResourceNotFound(f"Functions from '{arn_region}' are not reachable in this region ('{region}')")


def parse_function_ref(
    ref: str, qualifier: str | None, region: str, account: str, *, mutating: bool = False
) -> tuple[str, str | None]:
    """Return (name, qualifier) for a name / partial ARN / full ARN and an optional Qualifier.

    ``mutating`` selects the FunctionName rules (pattern without "." and ``$LATEST.PUBLISHED``,
    at most 140 characters) instead of the read/invoke rules (at most 256).
    Raises ValidationError (pattern, length, qualifier), AccessDenied (another account),
    ResourceNotFound (another region), InvalidParameterValue (the two qualifiers differ).
    An empty Qualifier counts as absent.
    """
    violations = function_name_violations(ref, mutating=mutating)
    if qualifier:
        violations += qualifier_violations(qualifier)
    if violations:
        raise ValidationError(validation_message(violations))
    match = (_MUTATING_REF if mutating else _READ_REF).fullmatch(ref)
    assert match is not None  # checked above
    _check_home(match, ref, region, account)
    derived = match.group("qualifier")
    if qualifier and derived and derived != qualifier:
        raise InvalidParameterValue(QUALIFIER_MISMATCH)
    return match.group("name"), qualifier or derived


def validate_function_name_for_create(
    ref: str, region: str | None = None, account: str | None = None
) -> str:
    """Check CreateFunction's FunctionName (a name or an unqualified ARN); return the bare name.

    Pattern and the 140 limit are the model's checks (ValidationError). A name over 64 characters
    passes those and is then refused by Lambda itself as InvalidParameterValueException, worded
    like a validation error (AWS-recorded). With region and account given, an ARN of another
    region or account is refused as on every other operation.
    """
    violations = function_name_violations(ref, mutating=True)
    if violations:
        raise ValidationError(validation_message(violations))
    match = _MUTATING_REF.fullmatch(ref)
    assert match is not None  # checked above
    if len(match.group("name")) > NAME_MAX_LENGTH:
        raise InvalidParameterValue(validation_message([constraint_violation(
            "functionName", ref, f"Member must have length less than or equal to {NAME_MAX_LENGTH}")]))
    if region is not None and account is not None:
        _check_home(match, ref, region, account)
    if match.group("qualifier"):
        # Not recorded from AWS: a function is created unqualified, so say that plainly.
        raise InvalidParameterValue(
            f"A function is created without a qualifier: '{ref}' names version or alias "
            f"'{match.group('qualifier')}'. Pass the function name alone.")
    return match.group("name")
