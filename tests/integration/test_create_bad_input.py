"""CreateFunction's bad input: AWS's error, nothing stored, the server still serving."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ROLE, boto_client, unique, zip_of

HELLO = "def handler(event, context):\n    return 1\n"


def refused(lam, name: str, **overrides) -> tuple[str, int, str]:  # type: ignore[no-untyped-def]
    kwargs = {"FunctionName": name, "Runtime": "python3.11", "Role": ROLE, "Handler": "app.handler",
              "Code": {"ZipFile": zip_of(HELLO)}, **overrides}
    with pytest.raises(ClientError) as info:
        lam.create_function(**kwargs)
    r = info.value.response
    # nothing was stored
    with pytest.raises(ClientError) as missing:
        lam.get_function(FunctionName=name if len(name) <= 64 and "." not in name else "x-missing")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def zip_with(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("app.py", HELLO)
        for info, data in entries:
            z.writestr(info, data)
    return buf.getvalue()


def test_timeout_and_memory_out_of_range(lam) -> None:  # type: ignore[no-untyped-def]
    code, status, message = refused(lam, unique("t"), Timeout=3000)
    assert (code, status) == ("ValidationException", 400)
    assert message == ("1 validation error detected: Value '3000' at 'timeout' failed to satisfy constraint: "
                       "Member must have value less than or equal to 900")
    code, status, message = refused(lam, unique("m"), MemorySize=5555555)
    assert status == 400 and "Value '5555555' at 'memorySize'" in message


def test_unknown_and_deprecated_runtime(lam) -> None:  # type: ignore[no-untyped-def]
    code, status, message = refused(lam, unique("rt"), Runtime="python2.1")
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("Value python2.1 at 'runtime' failed to satisfy constraint")
    code, status, message = refused(lam, unique("old"), Runtime="python3.7")
    assert message.startswith("The runtime parameter of python3.7 is no longer supported")


def test_invalid_names(lam) -> None:  # type: ignore[no-untyped-def]
    code, status, message = refused(lam, "a" * 65)
    assert status == 400 and "Member must have length less than or equal to 64" in message
    code, status, _ = refused(lam, "bad.name")
    assert status == 400


def test_reserved_and_oversized_environment(lam) -> None:  # type: ignore[no-untyped-def]
    code, status, message = refused(lam, unique("env"), Environment={"Variables": {"AWS_REGION": "x"}})
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.endswith("Reserved keys used in this request: AWS_REGION")
    big = {f"K{i}": "v" * 100 for i in range(50)}
    code, status, message = refused(lam, unique("env"), Environment={"Variables": big})
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert "exceeded the 4KB limit" in message


def test_not_a_zip(lam) -> None:  # type: ignore[no-untyped-def]
    code, status, message = refused(lam, unique("nz"), Code={"ZipFile": b"this is not a zip"})
    assert (code, status, message) == (
        "InvalidParameterValueException", 400,
        "Could not unzip uploaded file. Please check your file, then try to upload again.")


@pytest.mark.parametrize("member", ["../evil.py", "/abs/evil.py", "lib/../../evil.py"])
def test_zip_slip_is_refused(lam, member: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    code, status, message = refused(lam, unique("slip"), Code={"ZipFile": zip_with([(member, b"x")])})
    assert (code, status) == ("InvalidParameterValueException", 400)


def test_symlink_out_of_the_code_folder_is_refused(lam) -> None:  # type: ignore[no-untyped-def]
    link = zipfile.ZipInfo("passwd")
    link.external_attr = (0o120777 << 16)
    code, status, _ = refused(lam, unique("link"), Code={"ZipFile": zip_with([(link, b"/etc/passwd")])})
    assert (code, status) == ("InvalidParameterValueException", 400)


def test_code_over_the_servers_limits_is_refused_naming_the_setting(own_server) -> None:  # type: ignore[no-untyped-def]
    own_server.extra = ("--max-zip-mb", "1", "--max-unzipped-mb", "250")   # AWS-sized unzipped, a tiny zip
    own_server.start()
    lam = boto_client(own_server.base)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("app.py", HELLO)
        with z.open("big.bin", "w", force_zip64=True) as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(251):
                f.write(chunk)
    code, status, message = refused(lam, unique("bomb"), Code={"ZipFile": buf.getvalue()})
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("Unzipped size must be smaller than 262144000 bytes")
    assert "--max-unzipped-mb 250" in message
    incompressible = zip_of({"app.py": HELLO, "noise.bin": os.urandom(1_200_000).hex()[:1_200_000]})
    code, status, message = refused(lam, unique("large"), Code={"ZipFile": incompressible})
    assert (code, status) == ("RequestEntityTooLargeException", 413)
    assert "Zipped size must be smaller than 1048576 bytes" in message and "--max-zip-mb 1" in message
    assert lam.list_functions()["Functions"] == []                       # nothing was stored


@pytest.mark.parametrize("runtime", ["java8", "go1.x", "provided", "ruby2.7", "nodejs14.x", "dotnetcore3.1",
                                     "nodejs12.x"])
def test_retired_runtime_of_another_language(lam, runtime: str) -> None:  # type: ignore[no-untyped-def]
    # AWS-recorded: test_lambda_api.py::TestRuntimeValidation::
    # test_create_deprecated_function_runtime_with_validation_enabled[<runtime>] "deprecation_error":
    # AWS's retirement text, not Lambdalite's "Python runtimes only".
    assert refused(lam, unique("retired"), Runtime=runtime) == (
        "InvalidParameterValueException", 400,
        f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda "
        "functions. We recommend you use a supported runtime while creating or updating functions.")


@pytest.mark.parametrize(("vpc", "member", "pattern"), [
    ({"SubnetIds": ["bad-format-1"], "SecurityGroupIds": ["sg-123"]}, "subnetIds", "subnet-[0-9a-z]*"),
    ({"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["bad-format-2"]}, "securityGroupIds", "sg-[0-9a-zA-Z]*"),
])
def test_vpc_ids_of_the_wrong_form(lam, vpc: dict, member: str, pattern: str) -> None:  # type: ignore[no-untyped-def]
    # AWS-recorded: test_lambda_api.py::TestLambdaFunction::test_invalid_vpc_config_subnet
    # "create-response-invalid-format-subnet-id" and test_invalid_vpc_config_security_group
    # "create-response-invalid-format-security-group".
    bad = vpc["SubnetIds" if member == "subnetIds" else "SecurityGroupIds"][0]
    assert refused(lam, unique("vpc"), VpcConfig=vpc) == (
        "ValidationException", 400, f"1 validation error detected: Value '[{bad}]' at 'vpcConfig.{member}' failed to "
        "satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 1024, "
        "Member must have length greater than or equal to 0, Member must satisfy regular expression pattern: "
        f"{pattern}]")
