"""Lambda layers through boto3: the layer API's shapes and errors, and a function's Layers in order."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

from tests.conftest import ROLE, boto_client, create_function, error_of, unique, zip_of

USES = """
import importlib
def handler(event, context):
    out = {}
    for name in event["modules"]:
        module = importlib.import_module(name)
        out[name] = getattr(module, "WHO", module.__file__)
    return out
"""


def publish(lam, name: str, files: dict[str, str], **extra: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    out: dict[str, Any] = lam.publish_layer_version(LayerName=name, Content={"ZipFile": zip_of(files)},
                                                    CompatibleRuntimes=["python3.11"], **extra)
    return out


def test_publish_get_list_and_delete_with_aws_shapes(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("layer")
    first = publish(lam, name, {"python/one.py": "WHO = 1\n"}, Description="the first", LicenseInfo="MIT")
    assert re.fullmatch(rf"arn:aws:lambda:us-east-1:000000000000:layer:{name}:1", first["LayerVersionArn"])
    assert first["LayerArn"] == first["LayerVersionArn"][:-2] and first["Version"] == 1
    assert (first["Description"], first["LicenseInfo"], first["CompatibleRuntimes"]) == ("the first", "MIT",
                                                                                         ["python3.11"])
    assert first["Content"]["CodeSize"] > 0 and first["Content"]["Location"].endswith(".zip")
    second = publish(lam, name, {"python/one.py": "WHO = 2\n"})
    assert second["Version"] == 2
    got = lam.get_layer_version(LayerName=name, VersionNumber=1)
    assert got["LayerVersionArn"] == first["LayerVersionArn"] and got["Content"]["CodeSha256"] == \
        first["Content"]["CodeSha256"]
    assert lam.get_layer_version_by_arn(Arn=second["LayerVersionArn"])["Version"] == 2
    versions = lam.list_layer_versions(LayerName=name)["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1] and "Content" not in versions[0]
    listed = [entry for entry in lam.list_layers()["Layers"] if entry["LayerName"] == name]
    assert listed[0]["LatestMatchingVersion"]["Version"] == 2
    assert all(e["LayerName"] != name for e in lam.list_layers(CompatibleRuntime="python3.12")["Layers"])
    lam.delete_layer_version(LayerName=name, VersionNumber=2)
    lam.delete_layer_version(LayerName=name, VersionNumber=2)   # again: no error, as on AWS
    assert error_of(lam.get_layer_version, LayerName=name, VersionNumber=2) == (
        "ResourceNotFoundException", 404, "The resource you requested does not exist.")
    assert publish(lam, name, {"python/one.py": "WHO = 3\n"})["Version"] == 3   # numbers are never reused


def test_layer_errors(lam) -> None:  # type: ignore[no-untyped-def]
    assert error_of(lam.get_layer_version, LayerName="nothing-here", VersionNumber=1)[:2] == (
        "ResourceNotFoundException", 404)
    assert error_of(lam.get_layer_version, LayerName="nothing-here", VersionNumber=0) == (
        "InvalidParameterValueException", 400, "Layer Version Cannot be less than 1")
    slip = io.BytesIO()
    with zipfile.ZipFile(slip, "w") as z:
        z.writestr("../outside.py", "x = 1\n")
    code, status, _ = error_of(lam.publish_layer_version, LayerName=unique("slip"),
                               Content={"ZipFile": slip.getvalue()})
    assert (code, status) == ("InvalidParameterValueException", 400)


def test_a_functions_layers_come_after_its_code_in_order(lam) -> None:  # type: ignore[no-untyped-def]
    first = publish(lam, unique("first"), {"python/shared.py": "WHO = 'first layer'\n",
                                           "python/lib/python3.11/site-packages/deep.py": "WHO = 'site-packages'\n"})
    second = publish(lam, unique("second"), {"python/shared.py": "WHO = 'second layer'\n",
                                             "python/only2.py": "WHO = 'only in the second'\n"})
    name = unique("layered")
    create_function(lam, name, {"app.py": USES, "mine.py": "WHO = 'code'\n"},
                    Layers=[first["LayerVersionArn"], second["LayerVersionArn"]])
    conf = lam.get_function_configuration(FunctionName=name)
    assert [layer["Arn"] for layer in conf["Layers"]] == [first["LayerVersionArn"], second["LayerVersionArn"]]
    assert conf["Layers"][0]["CodeSize"] == first["Content"]["CodeSize"]
    out = lam.invoke(FunctionName=name, Payload=json.dumps({"modules": ["mine", "shared", "only2", "deep"]}))
    assert json.loads(out["Payload"].read()) == {"mine": "code", "shared": "first layer",
                                                 "only2": "only in the second", "deep": "site-packages"}
    lam.delete_layer_version(LayerName=second["LayerArn"], VersionNumber=1)
    out = lam.invoke(FunctionName=name, Payload=json.dumps({"modules": ["only2"]}))
    assert json.loads(out["Payload"].read()) == {"only2": "only in the second"}   # still there for this function
    assert error_of(lam.create_function, FunctionName=unique("late"), Runtime="python3.11", Role=ROLE,
                    Handler="app.handler", Code={"ZipFile": zip_of(USES)}, Layers=[second["LayerVersionArn"]]) == (
        "InvalidParameterValueException", 400, f"Layer version {second['LayerVersionArn']} does not exist.")


def test_more_than_five_layers_or_an_unknown_one_is_refused(lam) -> None:  # type: ignore[no-untyped-def]
    layer = publish(lam, unique("many"), {"python/m.py": "WHO = 1\n"})
    name = unique("toomany")
    assert error_of(lam.create_function, FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                    Code={"ZipFile": zip_of(USES)}, Layers=[layer["LayerVersionArn"]] * 6) == (
        "InvalidParameterValueException", 400, "Cannot reference more than 5 layers.")
    ghost = "arn:aws:lambda:us-east-1:000000000000:layer:ghost-layer-x:7"
    assert error_of(lam.create_function, FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                    Code={"ZipFile": zip_of(USES)}, Layers=[ghost]) == (
        "InvalidParameterValueException", 400, f"Layer version {ghost} does not exist.")
    assert error_of(lam.get_function, FunctionName=name)[0] == "ResourceNotFoundException"   # nothing was made
    create_function(lam, name, {"app.py": USES})
    assert error_of(lam.update_function_configuration, FunctionName=name, Layers=[ghost])[1] == 400
    assert "Layers" not in lam.get_function_configuration(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, Layers=[layer["LayerVersionArn"]])
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    out = lam.invoke(FunctionName=name, Payload=json.dumps({"modules": ["m"]}))
    assert json.loads(out["Payload"].read()) == {"m": 1}


def test_code_and_layers_together_over_the_unzipped_limit_are_refused(own_server) -> None:  # type: ignore[no-untyped-def]
    own_server.extra = ("--max-unzipped-mb", "1")
    own_server.start()
    lam = boto_client(own_server.base)
    filler = "x" * 600_000                                          # each alone fits in 1 MB, both do not
    big = zip_of({"python/big.py": f"B = '{filler}'\n"})
    layer = lam.publish_layer_version(LayerName="big", Content={"ZipFile": big})
    code, status, message = error_of(lam.create_function, FunctionName="too-big", Runtime="python3.11", Role=ROLE,
                                     Handler="app.handler", Code={"ZipFile": zip_of({"app.py": USES,
                                                                                     "pad.py": f"P = '{filler}'\n"})},
                                     Layers=[layer["LayerVersionArn"]])
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("The function's code and layers unzipped must be smaller than 1048576 bytes")
    assert lam.list_functions()["Functions"] == []


ENUM = ("[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, "
        "python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, "
        "dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2]")
LAYER_ARN = (r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
             r"layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)")


def test_layer_model_checks_as_aws_recorded(lam) -> None:  # type: ignore[no-untyped-def]
    # AWS-recorded: test_lambda_api.py::TestLambdaLayer::test_layer_exceptions (keys named below) and
    # test_layer_compatibilities (retired runtimes such as python3.7 are still accepted on a layer).
    code, status, message = error_of(lam.list_layers, CompatibleRuntime="runtimedoesnotexist")
    assert (code, status) == ("ValidationException", 400)   # list_layers_exc_compatibleruntime_invalid
    assert message.startswith("1 validation error detected: Value 'runtimedoesnotexist' at 'compatibleRuntime' "
                              "failed to satisfy constraint: Member must satisfy enum value set: [ruby3.5, ruby2.6, ")
    assert error_of(lam.list_layers, CompatibleArchitecture="archdoesnotexist") == (
        "ValidationException", 400, "1 validation error detected: Value 'archdoesnotexist' at "
        "'compatibleArchitecture' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]")
    name = unique("layer")
    zipped = {"ZipFile": zip_of({"python/x.py": "X = 1\n"})}
    assert error_of(lam.publish_layer_version, LayerName=name, Content=zipped,   # ..._partially_invalid_values
                    CompatibleRuntimes=["invalidruntime", "invalidruntime2", "nodejs20.x"],
                    CompatibleArchitectures=["invalidarch", "x86_64"]) == (
        "ValidationException", 400, "2 validation errors detected: Value '[invalidruntime, invalidruntime2, "
        f"nodejs20.x]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: "
        f"{ENUM}; Value '[invalidarch, x86_64]' at 'compatibleArchitectures' failed to satisfy constraint: Member "
        "must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]")
    old = lam.publish_layer_version(LayerName=name, Content=zipped, CompatibleRuntimes=["python3.7", "nodejs12.x"],
                                    CompatibleArchitectures=["arm64"])
    assert name in {x["LayerName"] for x in lam.list_layers(CompatibleArchitecture="arm64")["Layers"]}
    assert name not in {x["LayerName"] for x in lam.list_layers(CompatibleArchitecture="x86_64")["Layers"]}
    assert error_of(lam.get_layer_version_by_arn, Arn=old["LayerArn"]) == (   # get_layer_version_by_arn_exc_invalidarn
        "ValidationException", 400, f"1 validation error detected: Value '{old['LayerArn']}' at 'arn' failed to "
        f"satisfy constraint: Member must satisfy regular expression pattern: {LAYER_ARN}")


def test_a_functions_layers_as_aws_recorded(lam) -> None:  # type: ignore[no-untyped-def]
    # AWS-recorded: test_lambda_api.py::TestLambdaLayer::test_layer_function_exceptions (keys named below).
    name = unique("layer")
    versions = [publish(lam, name, {"python/x.py": f"X = {i}\n"})["LayerVersionArn"] for i in range(3)]
    fn = unique("fn")
    create_function(lam, fn, "def handler(e, c):\n    return 1\n")
    same = ("Two different versions of the same layer are not allowed to be referenced in the same function. "
            "{} and {} are versions of the same layer.")
    for layers, pair in [(versions[:2], versions[:2]), (versions, versions[:2]),   # two_/three_layer_versions_...
                         ([versions[0], versions[0]], [versions[0], versions[0]])]:   # two_identical_...
        assert error_of(lam.update_function_configuration, FunctionName=fn, Layers=layers) == (
            "InvalidParameterValueException", 400, same.format(*pair))
    unversioned = versions[0].rsplit(":", 1)[0]
    # add_layer_arn_without_version_exc
    assert error_of(lam.update_function_configuration, FunctionName=fn, Layers=[unversioned]) == (
        "ValidationException", 400, f"1 validation error detected: Value '[{unversioned}]' at 'layers' failed to "
        "satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 2048, "
        "Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: "
        f"{LAYER_ARN}, Member must not be null]")
    elsewhere = versions[0].replace(":us-east-1:", ":us-west-2:")
    # create_function_with_layer_in_different_region: refused before the name is found taken
    assert error_of(lam.create_function, FunctionName=fn, Runtime="python3.12", Role=ROLE, Handler="app.handler",
                    Code={"ZipFile": zip_of("def handler(e, c):\n    return 1\n")}, Layers=[elsewhere]) == (
        "InvalidParameterValueException", 400,
        "Layers are not in the same region as the function. Layers are expected to be in region us-east-1.")
