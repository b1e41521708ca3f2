"""LAMBDALITE_SNAPSHOT=init through the Lambda API: Active only once the template ran init, an init
error fails the create or update (the previous code serving on), cold starts are restores."""

from __future__ import annotations

import base64
import time

from tests.conftest import ROLE, unique, zip_of

SLOW_INIT = """
import os, time
time.sleep(1.0)
MODEL = {"loaded_by": os.getpid()}
def handler(event, context):
    return {"model": MODEL["loaded_by"], "pid": os.getpid(), "version": "%s"}
"""
SNAPSHOT = {"Variables": {"LAMBDALITE_SNAPSHOT": "init"}}


def wait_settled(lam, name: str) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        conf = lam.get_function_configuration(FunctionName=name)
        if conf["State"] != "Pending" and conf["LastUpdateStatus"] != "InProgress":
            return conf  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"{name} did not settle")


def test_a_snapshot_function_is_active_once_its_init_ran_and_restores_in_milliseconds(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("snap")
    started = time.monotonic()
    created = lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                                  Code={"ZipFile": zip_of(SLOW_INIT % "one")}, Environment=SNAPSHOT)
    assert created["State"] == "Pending"
    assert wait_settled(lam, name)["State"] == "Active"
    assert time.monotonic() - started >= 1.0                  # init ran before Active
    called = time.monotonic()
    out = lam.invoke(FunctionName=name, LogType="Tail")
    assert time.monotonic() - called < 0.9                    # the first call did not run the 1 s init
    log = base64.b64decode(out["LogResult"]).decode()
    assert "Restore Duration: " in log and "Billed Restore Duration: " in log and "Init Duration" not in log
    assert log.startswith("RESTORE_START Runtime Version: ")
    body = out["Payload"].read()
    assert b'"version": "one"' in body


def test_an_init_error_fails_the_update_and_the_previous_code_serves_on(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("snap")
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zip_of("def handler(e, c):\n    return 'old'\n")}, Environment=SNAPSHOT)
    assert wait_settled(lam, name)["State"] == "Active"
    lam.update_function_code(FunctionName=name, ZipFile=zip_of("raise RuntimeError('the model is missing')\n"))
    conf = wait_settled(lam, name)
    assert (conf["State"], conf["LastUpdateStatus"]) == ("Active", "Failed")
    assert conf["LastUpdateStatusReason"] == "Init error: RuntimeError: the model is missing"
    assert conf["LastUpdateStatusReasonCode"] == "FunctionError.RuntimeInitError"
    assert lam.invoke(FunctionName=name)["Payload"].read() == b'"old"'


def test_a_create_whose_init_fails_leaves_the_function_failed(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("snap")
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                        Code={"ZipFile": zip_of("import nothing_of_the_sort\n")}, Environment=SNAPSHOT)
    conf = wait_settled(lam, name)
    assert conf["State"] == "Failed" and conf["StateReasonCode"] == "FunctionError.RuntimeInitError"
    assert "Runtime.ImportModuleError" in conf["StateReason"]
