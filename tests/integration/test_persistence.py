"""Everything created survives a restart, even a kill -9 right after the API answered."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import requests

from lambdalite.store.schema import LATEST
from tests.conftest import boto_client, create_function, function_instances

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


def test_a_home_made_by_the_first_release_is_migrated_and_serves_as_before(own_server) -> None:  # type: ignore[no-untyped-def]
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "home-v1"
    shutil.copytree(fixture / "blobs", own_server.home / "blobs")
    shutil.copytree(fixture / "code", own_server.home / "code")
    with sqlite3.connect(own_server.home / "lambdalite.db") as conn:
        conn.executescript((fixture / "lambdalite.sql").read_text())
    own_server.start()
    lam = boto_client(own_server.base)
    config = lam.get_function_configuration(FunctionName="addfive")
    assert config["State"] == "Active" and config["Handler"] == "lambda_function.lambda_handler"
    out = lam.invoke(FunctionName="addfive", Payload=json.dumps({"num": "15"}))
    assert out["Payload"].read() == b"20"
    assert requests.get(f"{own_server.base}/PRD/addfive", params={"num": "5"}, timeout=30).text == "10"
    stack = boto_client(own_server.base, "cloudformation").describe_stacks(StackName="addfive")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    test_1 = requests.get(f"{own_server.base}/_lambdalite/functions/addfive/test-events/test_1", timeout=10)
    assert test_1.json() == {"num": "15"}
    assert any(line.startswith("REPORT RequestId:") for line in logs(own_server.base, "addfive"))
    with sqlite3.connect(own_server.home / "lambdalite.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST


PRELOADING = """
import sys
SEEN = "fractions" in sys.modules   # imported before this module did: its zygote preloaded it
import fractions
def handler(event, context):
    return SEEN
"""


def test_what_init_imported_is_kept_with_the_version_and_preloaded_after_a_restart(own_server) -> None:  # type: ignore[no-untyped-def]
    own_server.start()
    lam = boto_client(own_server.base)
    create_function(lam, "preloader", PRELOADING)
    assert json.loads(lam.invoke(FunctionName="preloader")["Payload"].read()) is False
    own_server.restart()   # a new server: no zygote, nothing in memory
    with sqlite3.connect(own_server.home / "lambdalite.db") as conn:
        [(modules,)] = conn.execute("SELECT modules FROM init_modules WHERE name = 'preloader'").fetchall()
    assert "fractions" in json.loads(modules)
    lam = boto_client(own_server.base)
    assert json.loads(lam.invoke(FunctionName="preloader")["Payload"].read()) is True
    lam.delete_function(FunctionName="preloader")
    with sqlite3.connect(own_server.home / "lambdalite.db") as conn:
        assert conn.execute("SELECT count(*) FROM init_modules").fetchone()[0] == 0


def test_versions_aliases_and_provisioned_concurrency_survive_a_restart(own_server) -> None:  # type: ignore[no-untyped-def]
    own_server.start()
    lam = boto_client(own_server.base)
    create_function(lam, "versioned", HELLO)
    lam.publish_version(FunctionName="versioned")
    lam.create_alias(FunctionName="versioned", Name="live", FunctionVersion="1")
    lam.add_permission(FunctionName="versioned", Qualifier="live", StatementId="gw", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com")
    lam.put_provisioned_concurrency_config(FunctionName="versioned", Qualifier="live",
                                           ProvisionedConcurrentExecutions=1)
    own_server.restart()
    lam = boto_client(own_server.base)
    versions = lam.list_versions_by_function(FunctionName="versioned")["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1"]
    assert lam.get_alias(FunctionName="versioned", Name="live")["FunctionVersion"] == "1"
    policy = json.loads(lam.get_policy(FunctionName="versioned", Qualifier="live")["Policy"])
    assert policy["Statement"][0]["Sid"] == "gw"
    deadline = time.monotonic() + 30
    while lam.get_provisioned_concurrency_config(FunctionName="versioned", Qualifier="live")["Status"] != "READY":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert len(function_instances(own_server.base, "versioned")) == 1   # provisioned again, before any call
    lam.publish_version(FunctionName="versioned")   # nothing changed: no new version after the restart either
    assert len(lam.list_versions_by_function(FunctionName="versioned")["Versions"]) == 2
    out = lam.invoke(FunctionName="versioned", Qualifier="live", Payload=json.dumps({"who": "x"}))
    assert out["ExecutedVersion"] == "1" and json.loads(out["Payload"].read()) == "x"
