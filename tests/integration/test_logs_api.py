"""The CloudWatch Logs API subset through boto3's `logs` client and the AWS CLI v1: log groups per
function, streams as Lambda names them, GetLogEvents paging, FilterLogEvents, DeleteLogGroup."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Server, boto_client, create_function, unique

CHATTY = "def handler(event, context):\n    print('hello', event['who'])\n    print('second line')\n    return 1\n"
STREAM = re.compile(r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")
AWS = str(Path(sys.executable).with_name("aws"))


@pytest.fixture(scope="module")
def logged(server: Server) -> str:
    lam = boto_client(server.base)
    name = unique("logged")
    create_function(lam, name, CHATTY)
    for who in ("ann", "bob", "cid"):
        lam.invoke(FunctionName=name, Payload=json.dumps({"who": who}))
    logs = boto_client(server.base, "logs")
    deadline = time.monotonic() + 10   # the recorder writes every 0.2 s
    while time.monotonic() < deadline:
        try:
            found = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", filterPattern="REPORT")["events"]
        except ClientError:
            found = []
        if len(found) == 3:
            return name
        time.sleep(0.1)
    raise AssertionError("the invocations' logs never arrived")


def test_log_groups_and_streams(server: Server, logged: str) -> None:
    logs = boto_client(server.base, "logs")
    groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{logged}")["logGroups"]
    assert [g["logGroupName"] for g in groups] == [f"/aws/lambda/{logged}"]
    assert groups[0]["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/{logged}:*"
    [stream] = logs.describe_log_streams(logGroupName=f"/aws/lambda/{logged}")["logStreams"]
    assert STREAM.match(stream["logStreamName"]) and stream["lastEventTimestamp"] >= stream["firstEventTimestamp"]


def test_get_log_events_pages_and_repeats_its_token_at_the_end(server: Server, logged: str) -> None:
    logs = boto_client(server.base, "logs")
    group = f"/aws/lambda/{logged}"
    [stream] = logs.describe_log_streams(logGroupName=group)["logStreams"]
    name = stream["logStreamName"]
    everything = logs.get_log_events(logGroupName=group, logStreamName=name, startFromHead=True)
    messages = [e["message"] for e in everything["events"]]
    assert messages[0].startswith("INIT_START ") and messages[1].startswith("START RequestId: ")
    assert "hello ann" in messages
    assert any(m.startswith("REPORT RequestId: ") and "\tBilled Duration: " in m for m in messages)
    pages, token, seen = 0, None, []
    while True:
        kwargs = {"nextToken": token} if token else {"startFromHead": True}
        page = logs.get_log_events(logGroupName=group, logStreamName=name, limit=4, **kwargs)
        seen += [e["message"] for e in page["events"]]
        pages += 1
        if page["nextForwardToken"] == token:
            break   # the end: the same token back, as AWS does
        token = page["nextForwardToken"]
        assert pages < 50
    assert seen == messages
    latest = logs.get_log_events(logGroupName=group, logStreamName=name, limit=2)
    assert [e["message"] for e in latest["events"]] == messages[-2:]   # without a token: the newest


def test_filter_log_events_terms_phrases_and_paging(server: Server, logged: str) -> None:
    logs = boto_client(server.base, "logs")
    group = f"/aws/lambda/{logged}"
    hello = logs.filter_log_events(logGroupName=group, filterPattern="hello")["events"]
    assert [e["message"] for e in hello] == ["hello ann", "hello bob", "hello cid"]
    assert all(STREAM.match(e["logStreamName"]) for e in hello)
    assert [e["message"] for e in logs.filter_log_events(logGroupName=group, filterPattern='"hello bob"')["events"]] \
        == ["hello bob"]
    assert logs.filter_log_events(logGroupName=group, filterPattern="hello zed")["events"] == []   # AND
    first = logs.filter_log_events(logGroupName=group, filterPattern="hello", limit=2)
    rest = logs.filter_log_events(logGroupName=group, filterPattern="hello", nextToken=first["nextToken"])
    assert [e["message"] for e in first["events"] + rest["events"]] == ["hello ann", "hello bob", "hello cid"]
    assert "nextToken" not in rest
    future = int(time.time() * 1000) + 3_600_000
    assert logs.filter_log_events(logGroupName=group, startTime=future)["events"] == []


@pytest.mark.parametrize(("call", "code", "fragment"), [
    (lambda logs, g: logs.filter_log_events(logGroupName=g, filterPattern="{ $.x = 1 }"),
     "InvalidParameterException", "not support JSON"),
    (lambda logs, g: logs.filter_log_events(logGroupName=g, filterPattern="?ERROR ?WARN"),
     "InvalidParameterException", "?term"),
    (lambda logs, g: logs.filter_log_events(logGroupName=g, filterPattern='"unclosed'),
     "InvalidParameterException", "Invalid filter pattern"),
    (lambda logs, g: logs.filter_log_events(logGroupName=g, nextToken="forged"),
     "InvalidParameterException", "nextToken is invalid"),
    (lambda logs, g: logs.filter_log_events(logGroupName=g, startTime=2000, endTime=1000),
     "InvalidParameterException", "endTime must be after startTime"),
    (lambda logs, g: logs.filter_log_events(logGroupName=g + "-nope"),
     "ResourceNotFoundException", "The specified log group does not exist."),
    (lambda logs, g: logs.get_log_events(logGroupName=g, logStreamName="2026/01/01/[$LATEST]nope"),
     "ResourceNotFoundException", "The specified log stream does not exist."),
])
def test_bad_log_requests(server: Server, logged: str, call, code: str, fragment: str) -> None:  # type: ignore[no-untyped-def]
    logs = boto_client(server.base, "logs")
    with pytest.raises(ClientError) as caught:
        call(logs, f"/aws/lambda/{logged}")
    assert caught.value.response["Error"]["Code"] == code
    assert fragment in caught.value.response["Error"]["Message"]


def test_the_aws_cli_reads_them(server: Server, logged: str) -> None:
    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([AWS, "logs", "filter-log-events", "--endpoint-url", server.base, "--log-group-name",
                           f"/aws/lambda/{logged}", "--filter-pattern", "hello"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [e["message"] for e in json.loads(done.stdout)["events"]] == ["hello ann", "hello bob", "hello cid"]


def test_delete_log_group(server: Server) -> None:
    lam = boto_client(server.base)
    logs = boto_client(server.base, "logs")
    name = unique("dropped")
    create_function(lam, name, CHATTY)
    lam.invoke(FunctionName=name, Payload=json.dumps({"who": "x"}))
    group = f"/aws/lambda/{name}"
    deadline = time.monotonic() + 10
    while not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    logs.delete_log_group(logGroupName=group)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
    with pytest.raises(ClientError):
        logs.delete_log_group(logGroupName=group)


def test_each_instance_writes_a_stream_of_its_own(server: Server) -> None:
    import concurrent.futures

    lam = boto_client(server.base)
    logs = boto_client(server.base, "logs")
    name = unique("streams")
    create_function(lam, name, "import time\ndef handler(event, context):\n    time.sleep(0.5)\n"
                               "    print('from', context.log_stream_name)\n    return context.log_stream_name\n")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: json.loads(lam.invoke(FunctionName=name)["Payload"].read()), range(2)))
    assert len(set(answers)) == 2 and all(STREAM.match(a) for a in answers)   # two instances, two streams
    deadline = time.monotonic() + 10
    while len(streams := logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
              if logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"] else []) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert {s["logStreamName"] for s in streams} == set(answers)
    for stream in answers:                                   # each stream has its instance's own lines
        lines = logs.get_log_events(logGroupName=f"/aws/lambda/{name}", logStreamName=stream)["events"]
        assert f"from {stream}" in [e["message"] for e in lines]


JSON_LOGGING = """import logging
logger = logging.getLogger("orders")

def handler(event, context):
    print("a plain print")
    logger.info("processing %s", event["order"], extra={"customer": "c-1"})
    logger.debug("not at INFO")
    if event.get("fail"):
        raise ValueError("bad order")
    return 1
"""


def test_log_format_json_gives_json_records(server: Server) -> None:
    lam = boto_client(server.base)
    name = unique("jsonlogs")
    create_function(lam, name, JSON_LOGGING, LoggingConfig={"LogFormat": "JSON"})
    out = lam.invoke(FunctionName=name, Payload=b'{"order": "o-1"}', LogType="Tail")
    request_id = out["ResponseMetadata"]["RequestId"]
    import base64
    lines = base64.b64decode(out["LogResult"]).decode().splitlines()
    records = [json.loads(x) for x in lines if x.startswith("{")]
    kinds = [r.get("type") for r in records]
    assert kinds == ["platform.initStart", "platform.start", None, "platform.report"], lines
    init, start, app, report = records
    assert init["record"]["initializationType"] == "on-demand" and init["record"]["phase"] == "init"
    assert start["record"] == {"requestId": request_id, "version": "$LATEST"}
    assert (app["level"], app["message"], app["logger"], app["requestId"], app["customer"]) == \
        ("INFO", "processing o-1", "orders", request_id, "c-1")
    assert app["timestamp"].endswith("Z") and "not at INFO" not in "\n".join(lines)
    assert "a plain print" in lines   # print stays text, as on AWS
    metrics = report["record"]["metrics"]
    assert report["record"]["status"] == "success" and metrics["billedDurationMs"] >= 1
    assert metrics["memorySizeMB"] == 128 and metrics["initDurationMs"] > 0

    failed = lam.invoke(FunctionName=name, Payload=b'{"order": "o-2", "fail": true}', LogType="Tail")
    lines = base64.b64decode(failed["LogResult"]).decode().splitlines()
    error = next(json.loads(x) for x in lines if x.startswith("{") and '"errorType"' in x and '"type"' not in x)
    assert (error["level"], error["errorType"], error["errorMessage"]) == ("ERROR", "ValueError", "bad order")
    assert error["requestId"] == failed["ResponseMetadata"]["RequestId"] and error["stackTrace"]
    report = json.loads(lines[-1])
    assert report["type"] == "platform.report" and report["record"]["status"] == "error"
    assert "initDurationMs" not in report["record"]["metrics"]
    logs = boto_client(server.base, "logs")
    found = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", filterPattern='"platform.report"')["events"]
    assert len(found) == 2
