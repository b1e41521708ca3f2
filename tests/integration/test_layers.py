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
