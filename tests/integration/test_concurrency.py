"""Reserved concurrency through boto3 and raw HTTP: Put/Get/DeleteFunctionConcurrency, what
GetFunction and GetAccountSettings show, and the throttling it brings to Invoke."""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
from pathlib import Path

import requests
from botocore.exceptions import ClientError

from tests.conftest import boto_client, create_function, error_of, function_instances, unique

HELLO = "def handler(event, context):\n    return 'hi'\n"
SLOW = "import time\ndef handler(e, c):\n    time.sleep(1.5)\n    return 'done'\n"


def test_put_get_delete_and_what_the_function_and_account_show(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("reserved")
    create_function(lam, name, HELLO)
    before = lam.get_account_settings()["AccountLimit"]
    assert lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None
    assert "Concurrency" not in lam.get_function(FunctionName=name)

    out = lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=3)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200 and out["ReservedConcurrentExecutions"] == 3
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 3
    assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 3}
    after = lam.get_account_settings()["AccountLimit"]
    assert after["ConcurrentExecutions"] == before["ConcurrentExecutions"]
    assert after["UnreservedConcurrentExecutions"] == before["UnreservedConcurrentExecutions"] - 3
    assert "ReservedConcurrentExecutions" not in lam.get_function_configuration(FunctionName=name)

    out = lam.delete_function_concurrency(FunctionName=name)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None
    assert lam.get_account_settings()["AccountLimit"] == before
    lam.delete_function(FunctionName=name)


def test_get_with_nothing_set_is_an_empty_object(server, lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("unset")
    create_function(lam, name, HELLO)
    r = requests.get(f"{server.base}/2019-09-30/functions/{name}/concurrency", timeout=10)
    assert r.status_code == 200 and r.json() == {}
    lam.delete_function(FunctionName=name)


def test_bad_input_is_refused_and_changes_nothing(server, lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("badres")
    create_function(lam, name, HELLO)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    url = f"{server.base}/2017-10-31/functions/{name}/concurrency"
    for body, code, text in [
        (b'{"ReservedConcurrentExecutions": -1}', "ValidationException", "greater than or equal to 0"),
        (b'{}', "ValidationException", "Member must not be null"),
        (b'{"ReservedConcurrentExecutions": "2"}', "InvalidRequestContentException", "must be an integer"),
        (b'{"ReservedConcurrentExecutions": 2', "InvalidRequestContentException", "json"),
    ]:
        r = requests.put(url, data=body, timeout=10)
        assert r.status_code == 400 and r.headers["x-amzn-ErrorType"].startswith(code), (body, r.text)
        assert text in r.text, (body, r.text)
    code, status, message = error_of(lam.put_function_concurrency, FunctionName=f"{name}:$LATEST",
                                     ReservedConcurrentExecutions=1)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message.startswith("This operation is permitted on Lambda functions only. Aliases and versions do "
                              "not support this operation.")
    code, status, message = error_of(lam.put_function_concurrency, FunctionName=unique("nope"),
                                     ReservedConcurrentExecutions=1)
    assert (code, status) == ("ResourceNotFoundException", 404) and message.startswith("Function not found: arn:")
    code, status, _ = error_of(lam.delete_function_concurrency, FunctionName=unique("nope"))
    assert status == 404
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 2
    lam.delete_function(FunctionName=name)


def test_a_reservation_goes_with_its_function(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("gone")
    create_function(lam, name, HELLO)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=4)
    lam.delete_function(FunctionName=name)
    create_function(lam, name, HELLO)
    assert lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None
    lam.delete_function(FunctionName=name)


def test_zero_throttles_every_call_of_that_function_only(lam) -> None:  # type: ignore[no-untyped-def]
    off, on = unique("off"), unique("on")
    create_function(lam, off, HELLO)
    create_function(lam, on, HELLO)
    lam.put_function_concurrency(FunctionName=off, ReservedConcurrentExecutions=0)
    try:
        lam.invoke(FunctionName=off, Payload=b"{}")
        raise AssertionError("a function with reserved concurrency 0 ran")
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert e.response["Error"]["Code"] == "TooManyRequestsException"
        assert e.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert e.response["Error"]["Message"] == "Rate Exceeded."
    assert json.loads(lam.invoke(FunctionName=on, Payload=b"{}")["Payload"].read()) == "hi"
    lam.delete_function_concurrency(FunctionName=off)
    assert json.loads(lam.invoke(FunctionName=off, Payload=b"{}")["Payload"].read()) == "hi"
    lam.delete_function(FunctionName=off)
    lam.delete_function(FunctionName=on)


def test_a_burst_above_the_reservation_gets_only_429s_besides_successes(server, lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("burst")
    create_function(lam, name, SLOW, Timeout=10)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    calls = boto_client(server.base, max_pool_connections=12)

    def call(_: int) -> str:
        try:
            return json.loads(calls.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())  # type: ignore[no-any-return]
        except ClientError as e:
            assert e.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
            return str(e.response["ResponseMetadata"]["HTTPStatusCode"])

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        results = list(pool.map(call, range(12)))
    assert sorted(set(results)) == ["429", "done"] and results.count("done") == 2, results
    assert 1 <= len(function_instances(server.base, name)) <= 2     # the instances that ran, never more than reserved
    lam.delete_function(FunctionName=name)


def test_the_minimum_unreserved_follows_max_concurrency_and_survives_restart(own_server) -> None:  # type: ignore[no-untyped-def]
    own_server.extra = ("--max-concurrency", "20")
    own_server.start()
    lam = boto_client(own_server.base)
    a, b = unique("a"), unique("b")
    create_function(lam, a, HELLO)
    create_function(lam, b, HELLO)
    lam.put_function_concurrency(FunctionName=a, ReservedConcurrentExecutions=17)
    code, status, message = error_of(lam.put_function_concurrency, FunctionName=b, ReservedConcurrentExecutions=2)
    assert (code, status) == ("InvalidParameterValueException", 400)
    assert message == ("Specified ReservedConcurrentExecutions for function decreases account's "
                       "UnreservedConcurrentExecution below its minimum value of [2].")
    lam.put_function_concurrency(FunctionName=b, ReservedConcurrentExecutions=1)
    limits = lam.get_account_settings()["AccountLimit"]
    assert (limits["ConcurrentExecutions"], limits["UnreservedConcurrentExecutions"]) == (20, 2)
    own_server.restart()
    lam = boto_client(own_server.base)
    assert lam.get_function_concurrency(FunctionName=a)["ReservedConcurrentExecutions"] == 17
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 2


def test_put_on_a_missing_function_names_latest(lam) -> None:  # type: ignore[no-untyped-def]
    # AWS-recorded: test_lambda_api.py::TestLambdaReservedConcurrency::test_function_concurrency_exceptions
    # "put_function_concurrency_with_function_name_doesnotexist" (Get's 404 has no qualifier:
    # test_ops_on_nonexisting_fn[get_function_concurrency])
    name = unique("nope")
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert error_of(lam.put_function_concurrency, FunctionName=name, ReservedConcurrentExecutions=1) == (
        "ResourceNotFoundException", 404, f"Function not found: {arn}:$LATEST")
    assert error_of(lam.get_function_concurrency, FunctionName=name) == (
        "ResourceNotFoundException", 404, f"Function not found: {arn}")


def test_provisioned_concurrency_keeps_the_accounts_unreserved_minimum(own_server) -> None:  # type: ignore[no-untyped-def]
    # AWS-recorded: test_lambda_api.py::TestLambdaProvisionedConcurrency::test_provisioned_concurrency_limits
    # "put_provisioned_concurrency_account_limit_exceeded" (the number: the account's unreserved concurrency)
    # and "put_provisioned_concurrency_below_unreserved_min_value". A small account, so that nothing is started.
    own_server.extra = ("--max-concurrency", "20")
    own_server.start()
    lam = boto_client(own_server.base)
    name = unique("prov")
    create_function(lam, name, HELLO)
    lam.publish_version(FunctionName=name)
    assert error_of(lam.put_provisioned_concurrency_config, FunctionName=name, Qualifier="1",
                    ProvisionedConcurrentExecutions=21) == (
        "InvalidParameterValueException", 400,
        "Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [20].")
    assert error_of(lam.put_provisioned_concurrency_config, FunctionName=name, Qualifier="1",
                    ProvisionedConcurrentExecutions=20) == (
        "InvalidParameterValueException", 400,
        "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its "
        "minimum value of [2].")
    assert lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"] == []


def test_the_aws_cli_puts_gets_and_deletes_a_reservation(server, lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("cli")
    create_function(lam, name, HELLO)
    aws = [str(Path(sys.executable).with_name("aws")), "lambda", "--endpoint-url", server.base, "--output", "json"]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*aws, *args], capture_output=True, text=True, env=env, timeout=120, check=False)

    done = run("put-function-concurrency", "--function-name", name, "--reserved-concurrent-executions", "4")
    assert done.returncode == 0 and json.loads(done.stdout) == {"ReservedConcurrentExecutions": 4}, done.stderr
    done = run("get-function-concurrency", "--function-name", name)
    assert json.loads(done.stdout) == {"ReservedConcurrentExecutions": 4}
    assert run("delete-function-concurrency", "--function-name", name).returncode == 0
    done = run("put-function-concurrency", "--function-name", name, "--reserved-concurrent-executions", "100000")
    assert done.returncode != 0 and "below its minimum value" in done.stderr
    assert lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None
    lam.delete_function(FunctionName=name)
