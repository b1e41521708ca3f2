"""Invoke through boto3, raw HTTP and the AWS CLI against the real server."""

from __future__ import annotations

import base64
import concurrent.futures
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError

from tests.conftest import boto_client, create_function, unique

ADDFIVE = """
def lambda_handler(event, context):
    try:
        num = int(event['num'])
        return num + 5
    except:
        return 0
"""


def invoke_json(lam, name: str, event: object = None, **kwargs):  # type: ignore[no-untyped-def]
    if event is not None:
        kwargs["Payload"] = json.dumps(event)
    out = lam.invoke(FunctionName=name, **kwargs)
    return out, json.loads(out["Payload"].read())


@pytest.fixture(scope="module")
def addfive(server) -> str:  # type: ignore[no-untyped-def]
    lam = boto_client(server.base)
    name = unique("addfive")
    create_function(lam, name, {"lambda_function.py": ADDFIVE}, handler="lambda_function.lambda_handler")
    return name


def test_guide_test_events_through_boto3(lam, addfive: str) -> None:  # type: ignore[no-untyped-def]
    out, got = invoke_json(lam, addfive, {"num": "15"})
    assert got == 20 and out["StatusCode"] == 200 and "FunctionError" not in out
    assert out["ExecutedVersion"] == "$LATEST"
    out, got = invoke_json(lam, addfive, {"num": "test"})
    assert got == 0


def test_guide_test_event_through_the_aws_cli(server, addfive: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aws = Path(sys.executable).with_name("aws")
    outfile = tmp_path / "out.json"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1"}
    cp = subprocess.run([str(aws), "lambda", "invoke", "--endpoint-url", server.base, "--function-name", addfive,
                         "--payload", '{"num": "15"}', str(outfile)], capture_output=True, text=True,
                        env=env, timeout=120)
    assert cp.returncode == 0, cp.stderr
    assert json.loads(cp.stdout)["StatusCode"] == 200
    assert outfile.read_text() == "20"
    cp = subprocess.run([str(aws), "lambda", "get-function", "--endpoint-url", server.base, "--function-name",
                         addfive], capture_output=True, text=True, env=env, timeout=120)
    assert cp.returncode == 0 and json.loads(cp.stdout)["Configuration"]["State"] == "Active"
    cp = subprocess.run([str(aws), "lambda", "get-function", "--endpoint-url", server.base, "--function-name",
                         "no-such-fn-cli"], capture_output=True, text=True, env=env, timeout=120)
    assert cp.returncode == 255 and "ResourceNotFoundException" in cp.stderr


def test_log_tail_has_start_end_report(lam, addfive: str) -> None:  # type: ignore[no-untyped-def]
    out = lam.invoke(FunctionName=addfive, Payload=b'{"num": "1"}', LogType="Tail")
    log = base64.b64decode(out["LogResult"]).decode()
    request_id = out["ResponseMetadata"]["RequestId"]
    assert f"START RequestId: {request_id} Version: $LATEST" in log
    assert f"END RequestId: {request_id}" in log
    report = next(line for line in log.splitlines() if line.startswith("REPORT"))
    fields = report.split("\t")
    assert fields[0] == f"REPORT RequestId: {request_id}"
    assert fields[1].startswith("Duration: ") and fields[1].endswith(" ms")
    assert fields[2].startswith("Billed Duration: ")
    assert fields[3] == "Memory Size: 128 MB" and fields[4].startswith("Max Memory Used: ")
    assert report.endswith("\t")


def test_log_tail_is_the_last_4kb(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("chatty")
    create_function(lam, name, "def handler(e, c):\n    print('x' * 100000)\n    return 1\n")
    out = lam.invoke(FunctionName=name, LogType="Tail")
    log = base64.b64decode(out["LogResult"])
    assert len(log) == 4096 and log.endswith(b"\t\n") and b"REPORT RequestId" in log


def test_empty_payload_is_an_empty_object(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("echo")
    create_function(lam, name, "def handler(e, c):\n    return e\n")
    assert invoke_json(lam, name)[1] == {}
    assert invoke_json(lam, name, [1, "two", None])[1] == [1, "two", None]


def test_context_and_environment(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("ctx")
    source = """
import os
def handler(event, context):
    keys = ['AWS_LAMBDA_FUNCTION_NAME', 'AWS_REGION', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'MINE',
            'AWS_ENDPOINT_URL_LAMBDA', 'LAMBDA_TASK_ROOT', '_HANDLER', 'AWS_EXECUTION_ENV']
    return {'env': {k: os.environ.get(k) for k in keys}, 'id': context.aws_request_id,
            'arn': context.invoked_function_arn, 'version': context.function_version,
            'memory': context.memory_limit_in_mb, 'left': context.get_remaining_time_in_millis(),
            'group': context.log_group_name, 'cwd': os.getcwd()}
"""
    create_function(lam, name, source, MemorySize=256, Timeout=5, Environment={"Variables": {"MINE": "yes"}})
    out, got = invoke_json(lam, name, {})
    assert got["id"] == out["ResponseMetadata"]["RequestId"]
    assert got["arn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert got["version"] == "$LATEST" and got["memory"] == "256" and 0 < got["left"] <= 5000
    assert got["group"] == f"/aws/lambda/{name}"
    env = got["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name and env["AWS_REGION"] == "us-east-1"
    assert env["MINE"] == "yes" and env["_HANDLER"] == "app.handler"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert env["AWS_ENDPOINT_URL_LAMBDA"].startswith("http://127.0.0.1:")
    assert env["LAMBDA_TASK_ROOT"] == got["cwd"]
    _, qualified = invoke_json(lam, name, {}, Qualifier="$LATEST")
    assert qualified["arn"].endswith(f":function:{name}:$LATEST")


def test_handler_exception_is_200_unhandled(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("raises")
    create_function(lam, name, "def handler(event, context):\n    raise ValueError('order 42 not found')\n")
    out, got = invoke_json(lam, name, {}, LogType="Tail")
    assert out["StatusCode"] == 200 and out["FunctionError"] == "Unhandled"
    assert got["errorType"] == "ValueError" and got["errorMessage"] == "order 42 not found"
    assert got["requestId"] == out["ResponseMetadata"]["RequestId"]
    assert "raise ValueError('order 42 not found')" in got["stackTrace"][-1]
    assert "[ERROR] ValueError: order 42 not found" in base64.b64decode(out["LogResult"]).decode()


@pytest.mark.parametrize(("source", "handler", "error_type"), [
    ("x = 1\n", "app.handler", "Runtime.HandlerNotFound"),
    ("def handler(e, c): return 1\n", "nodot", "Runtime.MalformedHandlerName"),
    ("import not_installed_xyz\n", "app.handler", "Runtime.ImportModuleError"),
    ("def handler(e, c)\n    return 1\n", "app.handler", "Runtime.UserCodeSyntaxError"),
    ("raise RuntimeError('boom at import')\n", "app.handler", "RuntimeError"),
])
def test_init_failures_have_aws_error_types(lam, source: str, handler: str, error_type: str) -> None:  # type: ignore[no-untyped-def]
    name = unique("initfail")
    create_function(lam, name, source, handler=handler)
    for _ in range(2):  # the next invocation initialises again and fails the same way
        out, got = invoke_json(lam, name, {})
        assert out["FunctionError"] == "Unhandled"
        assert got["errorType"] == error_type, got
        assert got["requestId"] == ""


def test_timeout_kills_and_next_invoke_reinitialises(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("sleepy")
    source = """
import os, time
COUNT = 0
def handler(event, context):
    global COUNT
    COUNT += 1
    time.sleep(event.get('sleep', 0))
    return {'pid': os.getpid(), 'count': COUNT}
"""
    create_function(lam, name, source, Timeout=1)
    _, first = invoke_json(lam, name, {})
    _, second = invoke_json(lam, name, {})
    assert second == {"pid": first["pid"], "count": 2}  # warm: same process, globals kept
    started = time.monotonic()
    out, got = invoke_json(lam, name, {"sleep": 30}, LogType="Tail")
    assert time.monotonic() - started < 10
    assert out["FunctionError"] == "Unhandled" and got["errorType"] == "Sandbox.Timedout"
    request_id = out["ResponseMetadata"]["RequestId"]
    assert got["errorMessage"] == f"RequestId: {request_id} Error: Task timed out after 1.00 seconds"
    assert "Task timed out after 1.00 seconds" in base64.b64decode(out["LogResult"]).decode()
    _, after = invoke_json(lam, name, {})
    assert after["count"] == 1 and after["pid"] != first["pid"]


@pytest.mark.parametrize(("body", "message"), [
    ("import sys\n    sys.exit(0)", "Runtime exited without providing a reason"),
    ("import sys\n    sys.exit(3)", "Runtime exited with error: exit status 3"),
    ("import os\n    os._exit(0)", "Runtime exited without providing a reason"),
    ("import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)", "Runtime exited with error: signal: killed"),
])
def test_process_exit_is_runtime_exit_error(lam, body: str, message: str) -> None:  # type: ignore[no-untyped-def]
    name = unique("exits")
    create_function(lam, name, f"def handler(event, context):\n    {body}\n")
    out, got = invoke_json(lam, name, {})
    request_id = out["ResponseMetadata"]["RequestId"]
    assert out["FunctionError"] == "Unhandled"
    assert got == {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {request_id} Error: {message}"}


def test_unserialisable_result_and_big_response(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("marshal")
    create_function(lam, name, "def handler(e, c):\n    return {1, 2} if e.get('set') else 'x' * (7 * 1024 * 1024)\n")
    out, got = invoke_json(lam, name, {"set": True})
    assert got["errorType"] == "Runtime.MarshalError"
    assert got["errorMessage"] == "Unable to marshal response: Object of type set is not JSON serializable"
    out, got = invoke_json(lam, name, {})
    assert out["FunctionError"] == "Unhandled"
    assert got == {"errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
                   "errorType": "Function.ResponseSizeTooLarge"}


def test_printing_a_megabyte_is_served(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("printer")
    create_function(lam, name, "def handler(e, c):\n    print('y' * (1024 * 1024))\n    return 'done'\n")
    out, got = invoke_json(lam, name, {})
    assert got == "done" and "FunctionError" not in out


def test_bad_invoke_requests(server, lam, addfive: str) -> None:  # type: ignore[no-untyped-def]
    url = f"{server.base}/2015-03-31/functions/{addfive}/invocations"
    r = requests.post(url, data=b"{not json", timeout=10)
    assert r.status_code == 400 and r.headers["x-amzn-ErrorType"] == "InvalidRequestContentException"
    assert r.json()["message"].startswith("Could not parse request body into json")
    r = requests.post(url, data=b"x" * (6 * 1024 * 1024 + 1), timeout=30)
    assert r.status_code == 413 and r.headers["x-amzn-ErrorType"] == "RequestEntityTooLargeException"
    assert r.json()["Message"] == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    r = requests.post(url, data=b'"' + b"x" * 1_048_600 + b'"', headers={"X-Amz-Invocation-Type": "Event"},
                      timeout=10)
    assert r.status_code == 413 and r.headers["x-amzn-ErrorType"] == "RequestEntityTooLargeException"
    assert r.json()["Message"] == ("1048602 byte payload is too large for the Event invocation type "
                                   "(limit 1048576 bytes)")
    r = requests.post(url, data=b"{bad", headers={"X-Amz-Invocation-Type": "Event"}, timeout=10)
    assert r.status_code == 400 and r.headers["x-amzn-ErrorType"] == "InvalidRequestContentException"
    r = requests.post(url, data=b"{}", headers={"X-Amz-Invocation-Type": "Bogus"}, timeout=10)
    assert r.status_code == 400 and r.headers["x-amzn-ErrorType"] == "ValidationException"
    out = lam.invoke(FunctionName=addfive, InvocationType="DryRun")
    assert out["StatusCode"] == 204
    # the server still serves
    assert invoke_json(lam, addfive, {"num": "15"})[1] == 20


def test_functions_cannot_see_the_platform_but_have_boto3(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("imports")
    source = """
import importlib
def handler(event, context):
    out = {}
    for mod in ['uvicorn', 'lambdalite', 'click', 'boto3', 'json']:
        try:
            importlib.import_module(mod)
            out[mod] = True
        except ImportError:
            out[mod] = False
    return out
"""
    create_function(lam, name, source)
    assert invoke_json(lam, name, {})[1] == {"uvicorn": False, "lambdalite": False, "click": False,
                                             "boto3": True, "json": True}


def test_a_function_invokes_another_with_boto3(lam, addfive: str) -> None:  # type: ignore[no-untyped-def]
    name = unique("caller")
    source = f"""
import json, boto3
def handler(event, context):
    out = boto3.client('lambda').invoke(FunctionName='{addfive}', Payload=json.dumps(event))
    return json.loads(out['Payload'].read())
"""
    create_function(lam, name, source, Timeout=30)
    assert invoke_json(lam, name, {"num": "37"})[1] == 42


def test_concurrent_invocations_get_their_own_instances(lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("para")
    create_function(lam, name, "import os, time\ndef handler(e, c):\n    time.sleep(1)\n    return os.getpid()\n",
                    Timeout=10)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        started = time.monotonic()
        pids = list(pool.map(lambda _: invoke_json(lam, name, {})[1], range(4)))
        took = time.monotonic() - started
    assert len(set(pids)) == 4
    assert took < 3.5  # they ran side by side, not one after another


def test_a_broken_function_does_not_harm_another(lam, addfive: str) -> None:  # type: ignore[no-untyped-def]
    name = unique("crasher")
    create_function(lam, name, "import os\ndef handler(e, c):\n    os._exit(1)\n")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        crashes = [pool.submit(invoke_json, lam, name, {}) for _ in range(4)]
        fine = [pool.submit(invoke_json, lam, addfive, {"num": str(i)}) for i in range(8)]
        assert [f.result()[1] for f in fine] == [i + 5 for i in range(8)]
        assert all(c.result()[0]["FunctionError"] == "Unhandled" for c in crashes)


def test_over_the_concurrency_cap_is_429(own_server) -> None:  # type: ignore[no-untyped-def]
    own_server.extra = ("--max-concurrency", "2")
    own_server.start()
    lam = boto_client(own_server.base)
    name = unique("capped")
    create_function(lam, name, "import time\ndef handler(e, c):\n    time.sleep(2)\n    return 1\n", Timeout=10)

    def call(_: int) -> str:
        try:
            lam.invoke(FunctionName=name, Payload=b"{}")
            return "ok"
        except ClientError as e:
            r = e.response
            assert r["ResponseMetadata"]["HTTPStatusCode"] == 429
            assert r["Reason"] == "ConcurrentInvocationLimitExceeded"
            return r["Error"]["Code"]

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        results = sorted(pool.map(call, range(3)))
    assert results == ["TooManyRequestsException", "ok", "ok"]


def test_a_runtime_that_is_not_installed_runs_here_with_one_warning(server, lam) -> None:  # type: ignore[no-untyped-def]
    name = unique("py314")
    out = create_function(lam, name, "import sys\ndef handler(e, c):\n    return '%d.%d' % sys.version_info[:2]\n",
                          Runtime="python3.14")
    assert out["Runtime"] == "python3.14"
    assert lam.get_function_configuration(FunctionName=name)["Runtime"] == "python3.14"
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert invoke_json(lam, name, {})[1] == here
    warnings = [line for line in server.log().splitlines() if name in line and "not installed" in line]
    assert len(warnings) == 1
    expected = f"Python 3.14 (python3.14) is not installed on this server; the function runs on Python {here}"
    assert expected in warnings[0]
