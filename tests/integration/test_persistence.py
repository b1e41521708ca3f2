"""Everything created survives a restart, even a kill -9 right after the API answered."""

from __future__ import annotations

import json
import time

import requests

from tests.conftest import boto_client, create_function

HELLO = "def handler(event, context):\n    print('hello from', event.get('who'))\n    return event.get('who')\n"


def logs(base: str, name: str) -> list[str]:
    r = requests.get(f"{base}/_lambdalite/logs", params={"function": name}, timeout=10)
    assert r.status_code == 200, r.text
    return [e["message"] for e in r.json()["events"]]


def test_functions_and_logs_survive_a_clean_restart(own_server) -> None:  # type: ignore[no-untyped-def]
    own_server.start()
    lam = boto_client(own_server.base)
    create_function(lam, "keeper", HELLO, Timeout=5, Environment={"Variables": {"KK": "v"}})
    lam.add_permission(FunctionName="keeper", StatementId="s1", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com")
    out = lam.invoke(FunctionName="keeper", Payload=json.dumps({"who": "before"}))
    request_id = out["ResponseMetadata"]["RequestId"]
    before = lam.get_function_configuration(FunctionName="keeper")
    own_server.restart()
    lam = boto_client(own_server.base)
    after = lam.get_function_configuration(FunctionName="keeper")
    assert after == {**after, "RevisionId": before["RevisionId"], "CodeSha256": before["CodeSha256"],
                     "Environment": {"Variables": {"KK": "v"}}, "Timeout": 5, "State": "Active"}
    assert json.loads(lam.get_policy(FunctionName="keeper")["Policy"])["Statement"][0]["Sid"] == "s1"
    lines = logs(own_server.base, "keeper")
    assert f"START RequestId: {request_id} Version: $LATEST" in lines
    assert "hello from before" in lines
    out = lam.invoke(FunctionName="keeper", Payload=json.dumps({"who": "after"}))
    assert json.loads(out["Payload"].read()) == "after"


def test_a_kill_9_right_after_create_loses_nothing(own_server) -> None:  # type: ignore[no-untyped-def]
    own_server.start()
    lam = boto_client(own_server.base)
    create_function(lam, "survivor", HELLO, wait=False)
    own_server.kill()
    own_server.start()
    lam = boto_client(own_server.base)
    lam.get_waiter("function_active_v2").wait(FunctionName="survivor", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    out = lam.invoke(FunctionName="survivor", Payload=json.dumps({"who": "x"}))
    assert json.loads(out["Payload"].read()) == "x"


def test_kill_9_after_an_update_keeps_the_update(own_server) -> None:  # type: ignore[no-untyped-def]
    own_server.start()
    lam = boto_client(own_server.base)
    create_function(lam, "updated", HELLO)
    lam.update_function_configuration(FunctionName="updated", Timeout=42)
    own_server.kill()
    own_server.start()
    lam = boto_client(own_server.base)
    lam.get_waiter("function_updated_v2").wait(FunctionName="updated", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert lam.get_function_configuration(FunctionName="updated")["Timeout"] == 42


def test_logs_are_flushed_within_a_second(own_server) -> None:  # type: ignore[no-untyped-def]
    own_server.start()
    lam = boto_client(own_server.base)
    create_function(lam, "quick", HELLO)
    lam.invoke(FunctionName="quick", Payload=json.dumps({"who": "soon"}))
    deadline = time.monotonic() + 5
    while "hello from soon" not in logs(own_server.base, "quick"):
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_invocation_records_survive_a_clean_restart(own_server) -> None:  # type: ignore[no-untyped-def]
    own_server.start()
    lam = boto_client(own_server.base)
    create_function(lam, "recorded", "def handler(e, c):\n    raise KeyError('x')\n")
    out = lam.invoke(FunctionName="recorded", Payload=b"{}")
    request_id = out["ResponseMetadata"]["RequestId"]
    own_server.restart()
    r = requests.get(f"{own_server.base}/_lambdalite/invocations", params={"function": "recorded"}, timeout=10)
    (record,) = r.json()["invocations"]
    assert record["requestId"] == request_id and record["outcome"] == "error"
    assert record["errorType"] == "KeyError" and record["memoryMb"] == 128
    assert record["initDurationMs"] > 0 and record["billedMs"] >= record["durationMs"]
    r = requests.get(f"{own_server.base}/_lambdalite/invocations", params={"function": "recorded", "limit": "x"},
                     timeout=10)
    assert r.status_code == 400 and r.headers["x-amzn-ErrorType"] == "ValidationException"
