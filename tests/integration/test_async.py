"""Asynchronous invocations (InvocationType=Event) on a test-clock server: accepted durably, run with
the request id the caller got, retried by AWS's schedule, their outcome sent to destinations; event
invoke configs; and the fan-out of Client.map / `lambdalite map`."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import requests

from lambdalite import Client, InvocationError
from tests.conftest import Server, advance, boto_client, create_function, error_of, unique
from tests.integration.test_cli import cli

ARN = "arn:aws:lambda:us-east-1:000000000000:function:"
MARK = """
import json, os
def handler(event, context):
    with open(event["marker"], "a") as f:
        f.write(json.dumps({"id": context.aws_request_id, "event": event}) + "\\n")
    if event.get("fail"):
        raise ValueError("it failed")
    return {"ok": event.get("n")}
"""
SINK = """
import json
def handler(event, context):
    with open(event["requestPayload"]["marker"] + ".dest", "a") as f:
        f.write(json.dumps(event) + "\\n")
"""




def lines(path: Path, count: int, seconds: float = 30) -> list[dict]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            found = [json.loads(x) for x in path.read_text().splitlines()]
            if len(found) >= count:
                return found
        time.sleep(0.05)
    raise AssertionError(f"{path}: fewer than {count} lines")


def send(lam, name: str, payload: dict, **kw) -> str:  # type: ignore[no-untyped-def]
    out = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(payload), **kw)
    assert out["StatusCode"] == 202 and out["Payload"].read() == b""
    assert "ExecutedVersion" not in out
    return str(out["ResponseMetadata"]["RequestId"])


def test_an_event_runs_with_the_request_id_the_caller_got(server: Server, tmp_path: Path) -> None:
    lam = boto_client(server.base)
    name = unique("async")
    create_function(lam, name, MARK)
    marker = tmp_path / "m"
    ids = [send(lam, name, {"marker": str(marker), "n": n}) for n in range(5)]
    ran = lines(marker, 5)
    assert sorted(x["id"] for x in ran) == sorted(ids)
    assert sorted(x["event"]["n"] for x in ran) == list(range(5))
    code, status, _ = error_of(lam.invoke, FunctionName=f"nope-{name}", InvocationType="Event", Payload=b"{}")
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_a_failing_event_is_retried_by_aws_schedule_then_reaches_on_failure(clocked: Server, tmp_path: Path) -> None:
    lam = boto_client(clocked.base)
    create_function(lam, "flaky", MARK)
    create_function(lam, "sink", SINK)
    lam.put_function_event_invoke_config(FunctionName="flaky", DestinationConfig={
        "OnFailure": {"Destination": f"{ARN}sink"}, "OnSuccess": {"Destination": f"{ARN}sink"}})
    marker = tmp_path / "failing"
    request_id = send(lam, "flaky", {"marker": str(marker), "fail": True})
    assert len(lines(marker, 1)) == 1
    advance(clocked, 59)
    time.sleep(0.3)
    assert len(lines(marker, 1)) == 1                        # the first retry waits about a minute
    advance(clocked, 1)
    assert len(lines(marker, 2)) == 2
    advance(clocked, 120)                                    # the second, two more
    attempts = lines(marker, 3)
    assert {x["id"] for x in attempts} == {request_id}       # the same request id each time
    [record] = lines(Path(str(marker) + ".dest"), 1)
    assert record["requestContext"] == {"requestId": request_id, "functionArn": f"{ARN}flaky:$LATEST",
                                        "condition": "RetriesExhausted", "approximateInvokeCount": 3}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert record["responsePayload"]["errorMessage"] == "it failed" and record["version"] == "1.0"
    assert record["requestPayload"] == {"marker": str(marker), "fail": True}

    good = tmp_path / "good"
    send(lam, "flaky", {"marker": str(good), "n": 7})
    [record] = lines(Path(str(good) + ".dest"), 1)
    assert record["requestContext"]["condition"] == "Success" and record["responsePayload"] == {"ok": 7}


def test_zero_reserved_concurrency_sends_events_straight_to_on_failure(clocked: Server, tmp_path: Path) -> None:
    lam = boto_client(clocked.base)
    create_function(lam, "off", MARK)
    create_function(lam, "sink", SINK)
    lam.put_function_concurrency(FunctionName="off", ReservedConcurrentExecutions=0)
    lam.put_function_event_invoke_config(FunctionName="off", MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": f"{ARN}sink"}})
    marker = tmp_path / "off"
    send(lam, "off", {"marker": str(marker)})
    [record] = lines(Path(str(marker) + ".dest"), 1)
    assert record["requestContext"]["condition"] == "ZeroReservedConcurrency" and not marker.exists()
    assert "responseContext" not in record


def test_a_destination_with_no_service_here_is_kept_in_the_failed_list(server: Server, tmp_path: Path) -> None:
    lam = boto_client(server.base)
    name = unique("toqueue")
    create_function(lam, name, MARK)
    queue = "arn:aws:sqs:us-east-1:000000000000:failures"
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0,
                                         DestinationConfig={"OnFailure": {"Destination": queue}})
    send(lam, name, {"marker": str(tmp_path / "q"), "fail": True})
    deadline = time.monotonic() + 30
    while not (records := requests.get(f"{server.base}/_lambdalite/failed", params={"function": name},
                                       timeout=10).json()["records"]):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert records[0]["destination"] == queue
    assert records[0]["record"]["requestContext"]["condition"] == "RetriesExhausted"


def test_accepted_events_survive_a_kill_9(own_server: Server, tmp_path: Path) -> None:
    own_server.start()
    lam = boto_client(own_server.base)
    create_function(lam, "durable", "import time, json\n" + MARK.replace(
        "def handler(event, context):\n", "def handler(event, context):\n    time.sleep(event.get('sleep', 0))\n"),
        Timeout=10)
    markers = [tmp_path / f"d{i}" for i in range(6)]
    ids = {str(m): send(lam, "durable", {"marker": str(m), "sleep": 0.5}) for m in markers}
    own_server.kill()                                        # SIGKILL, events queued and one running
    own_server.start()
    for marker in markers:
        ran = lines(marker, 1, seconds=60)
        assert ids[str(marker)] in {x["id"] for x in ran}    # it ran (once, or twice if it was running)


@pytest.mark.parametrize(("body", "code", "fragment"), [
    ({}, "InvalidParameterValueException", "You must specify at least one of error handling or destination setting."),
    ({"MaximumRetryAttempts": 3}, "ValidationException", "Value '3' at 'maximumRetryAttempts'"),
    ({"MaximumEventAgeInSeconds": 59}, "ValidationException", "Member must have value greater than or equal to 60"),
    ({"MaximumEventAgeInSeconds": 21601}, "ValidationException", "less than or equal to 21600"),
    ({"DestinationConfig": {"OnFailure": {"Destination": "SELF"}}}, "InvalidParameterValueException",
     "You can't specify the function as a destination for itself."),
    ({"DestinationConfig": {"OnFailure": {"Destination": f"{ARN}missing-dest"}}}, "InvalidParameterValueException",
     "is invalid"),
])
def test_bad_event_invoke_configs_are_refused(server: Server, body: dict, code: str, fragment: str) -> None:
    lam = boto_client(server.base, parameter_validation=False)
    name = unique("cfg")
    create_function(lam, name, MARK)
    if body.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination") == "SELF":
        body = {"DestinationConfig": {"OnFailure": {"Destination": f"{ARN}{name}"}}}
    got = error_of(lam.put_function_event_invoke_config, FunctionName=name, **body)
    assert got[0] == code and fragment in got[2], got
    assert lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"] == []


def test_event_invoke_config_lifecycle(server: Server) -> None:
    lam = boto_client(server.base)
    name = unique("cfg")
    create_function(lam, name, MARK)
    code, status, message = error_of(lam.get_function_event_invoke_config, FunctionName=name)
    assert (code, status, message) == ("ResourceNotFoundException", 404,
                                       f"The function {ARN}{name}:$LATEST doesn't have an EventInvokeConfig")
    put = lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    assert put["FunctionArn"] == f"{ARN}{name}:$LATEST" and put["MaximumRetryAttempts"] == 1
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    updated = lam.update_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=120)
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (1, 120)   # merged
    replaced = lam.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=300)
    assert "MaximumRetryAttempts" not in replaced                                                 # replaced
    listed = lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert [c["MaximumEventAgeInSeconds"] for c in listed] == [300]
    lam.delete_function_event_invoke_config(FunctionName=name)
    assert error_of(lam.get_function_event_invoke_config, FunctionName=name)[1] == 404
    code, status, message = error_of(lam.put_function_event_invoke_config, FunctionName=f"none-{name}",
                                     MaximumRetryAttempts=1)
    assert (code, status, message) == ("ResourceNotFoundException", 404, "The function doesn't exist.")
    code, status, _ = error_of(lam.update_function_event_invoke_config, FunctionName=name, MaximumRetryAttempts=1)
    assert status == 404


CHUNK = """
def handler(event, context):
    if event.get("fail"):
        raise RuntimeError("bad chunk %d" % event["i"])
    return [event["i"], sum(i * i % 7 for i in range(event.get("n", 100)))]
"""


def test_client_map_returns_results_in_order_with_failures_in_place(server: Server) -> None:
    lam = boto_client(server.base)
    name = unique("chunk")
    create_function(lam, name, CHUNK)
    items = [{"i": i, "fail": i % 7 == 3} for i in range(40)]
    with Client(server.base) as client:
        results = client.map(name, items, concurrency=3)
        seen = dict(client.imap(name, items[:5]))
    for i, result in enumerate(results):
        if i % 7 == 3:
            assert isinstance(result, InvocationError) and result.error_type == "RuntimeError"
            assert result.message == f"bad chunk {i}" and result.index == i and result.request_id
        else:
            assert result == [i, sum(j * j % 7 for j in range(100))]
    assert sorted(seen) == [0, 1, 2, 3, 4] and isinstance(seen[3], InvocationError)


def test_map_backs_off_from_throttles_and_finishes(server: Server) -> None:
    lam = boto_client(server.base)
    name = unique("capped")
    create_function(lam, name, CHUNK)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    with Client(server.base) as client:
        results = client.map(name, [{"i": i, "n": 20000} for i in range(30)], concurrency=4)
    assert [r[0] for r in results] == list(range(30))


def test_map_retries_failed_items(server: Server, tmp_path: Path) -> None:
    lam = boto_client(server.base)
    name = unique("retry")
    create_function(lam, name, "import os\ndef handler(event, context):\n    p = event['flag']\n"
                                "    if not os.path.exists(p):\n        open(p, 'w').close()\n"
                                "        raise RuntimeError('first try fails')\n    return 'ok'\n")
    items = [{"flag": str(tmp_path / f"f{i}")} for i in range(4)]
    with Client(server.base) as client:
        assert all(isinstance(r, InvocationError) for r in client.map(name, items))
        items = [{"flag": str(tmp_path / f"g{i}")} for i in range(4)]
        assert client.map(name, items, retries=1) == ["ok"] * 4


def test_lambdalite_map_writes_lines_in_order(server: Server, tmp_path: Path) -> None:
    lam = boto_client(server.base)
    name = unique("climap")
    create_function(lam, name, CHUNK)
    src, dst = tmp_path / "items.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps({"i": i, "fail": i == 2}) + "\n" for i in range(6)))
    done = cli(server, "map", name, "--items", str(src), "--out", str(dst), "--concurrency", "2")
    assert done.returncode == 1 and "1 of 6 items failed" in done.stderr, done.stderr
    out = [json.loads(x) for x in dst.read_text().splitlines()]
    assert [x["index"] for x in out] == list(range(6))
    assert out[2]["error"]["type"] == "RuntimeError" and out[0]["result"][0] == 0
    src.write_text('{"i": 1}\n{nope\n')
    bad = cli(server, "map", name, "--items", str(src))
    assert bad.returncode == 2 and "line 2 is not JSON" in bad.stderr


SAM_ASYNC = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: worker
      CodeUri: app/
      Handler: app.handler
      Runtime: python3.11
      EventInvokeConfig:
        MaximumRetryAttempts: 0
        DestinationConfig:
          OnFailure: {Type: SQS}
          OnSuccess: {Type: Lambda, Destination: !GetAtt Sink.Arn}
  Legacy:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: legacy
      CodeUri: app/
      Handler: app.handler
      Runtime: python3.11
      DeadLetterQueue: {Type: SNS, TargetArn: !Ref Alerts}
  Sink:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: worker-sink
      CodeUri: sink/
      Handler: app.handler
      Runtime: python3.11
  Alerts:
    Type: AWS::SNS::Topic
    Properties: {TopicName: alerts}
"""


def failed_records(server: Server, name: str, count: int) -> list[dict]:
    deadline = time.monotonic() + 30
    while True:
        records = requests.get(f"{server.base}/_lambdalite/failed", params={"function": name}, timeout=10).json()
        if len(records["records"]) >= count:
            return records["records"]
        assert time.monotonic() < deadline, records
        time.sleep(0.05)


def test_sam_event_invoke_config_dead_letter_queue_and_the_failed_list(clocked: Server, tmp_path: Path) -> None:
    root = tmp_path / "asyncapp"
    (root / "app").mkdir(parents=True)
    (root / "sink").mkdir()
    (root / "app" / "app.py").write_text(MARK)
    (root / "sink" / "app.py").write_text(SINK)
    (root / "template.yaml").write_text(SAM_ASYNC)
    done = cli(clocked, "deploy", str(root), "--stack-name", "asyncapp")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "ignored" not in done.stdout + done.stderr
    lam = boto_client(clocked.base)
    config = lam.get_function_event_invoke_config(FunctionName="worker")
    assert config["MaximumRetryAttempts"] == 0
    queue_arn = config["DestinationConfig"]["OnFailure"]["Destination"]
    assert queue_arn == "arn:aws:sqs:us-east-1:000000000000:asyncapp-WorkerEventInvokeConfigOnFailureQueue"

    good = tmp_path / "good"
    send(lam, "worker", {"marker": str(good), "n": 1})
    [record] = lines(Path(str(good) + ".dest"), 1)                      # OnSuccess: the sink function
    assert record["requestContext"]["condition"] == "Success"
    send(lam, "worker", {"marker": str(tmp_path / "bad"), "fail": True})
    [kept] = failed_records(clocked, "worker", 1)                        # OnFailure: the queue, kept here
    assert kept["destination"] == queue_arn
    assert kept["record"]["requestContext"]["condition"] == "RetriesExhausted"

    lam.put_function_event_invoke_config(FunctionName="legacy", MaximumRetryAttempts=0)
    send(lam, "legacy", {"marker": str(tmp_path / "legacy"), "fail": True})
    [dead] = failed_records(clocked, "legacy", 1)                        # no destination: the DLQ
    assert dead["destination"] == "arn:aws:sns:us-east-1:000000000000:alerts"
    assert json.loads(dead["record"]["body"])["fail"] is True
    assert dead["record"]["attributes"]["ErrorMessage"] == "it failed"

    listed = cli(clocked, "failed", "worker")
    assert listed.returncode == 0 and "RetriesExhausted" in listed.stdout and queue_arn in listed.stdout
    replayed = cli(clocked, "failed", "worker", "--replay")
    assert replayed.returncode == 0 and "1 events sent again" in replayed.stdout
    assert len(lines(tmp_path / "bad", 2)) == 2                          # it ran again (and failed again)
    assert len(failed_records(clocked, "worker", 1)) == 1                # a new record, the old one dropped

    config_block = SAM_ASYNC[SAM_ASYNC.index("      EventInvokeConfig:"):SAM_ASYNC.index("  Legacy:")]
    (root / "template.yaml").write_text(SAM_ASYNC.replace(config_block, ""))
    assert cli(clocked, "deploy", str(root), "--stack-name", "asyncapp").returncode == 0
    assert error_of(lam.get_function_event_invoke_config, FunctionName="worker")[1] == 404   # gone with it


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_a_long_queue_is_accepted_kept_small_in_memory_and_drained(own_server: Server) -> None:
    import http.client
    from concurrent.futures import ThreadPoolExecutor

    own_server.start()
    lam = boto_client(own_server.base)
    create_function(lam, "quiet", "def handler(event, context):\n    return None\n")
    assert own_server.proc is not None
    before = _rss_mb(own_server.proc.pid)
    total, threads = 100_000, 8
    body = json.dumps({"pad": "x" * 400}).encode()   # 100,000 x 400 bytes stay in the store, not in memory

    def sender(count: int) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", own_server.port, timeout=30)
        accepted = 0
        for _ in range(count):
            conn.request("POST", "/2015-03-31/functions/quiet/invocations", body=body,
                         headers={"X-Amz-Invocation-Type": "Event"})
            response = conn.getresponse()
            response.read()
            accepted += response.status == 202
        conn.close()
        return accepted

    with ThreadPoolExecutor(threads) as pool:
        assert sum(pool.map(sender, [total // threads] * threads)) == total
    grown = _rss_mb(own_server.proc.pid) - before
    assert grown < 100, f"the server grew {grown:.0f} MB for {total} queued events"   # 22 MB measured
    deadline = time.monotonic() + 120
    while (pending := requests.get(f"{own_server.base}/_lambdalite/health", timeout=10).json()
           ["asyncEventsPending"]) > 0:
        assert time.monotonic() < deadline, f"{pending} events still queued"
        time.sleep(0.2)


def test_an_async_backlog_leaves_room_for_synchronous_calls(server: Server, tmp_path: Path) -> None:
    lam = boto_client(server.base)
    name = unique("shared")
    create_function(lam, name, "import time, json\n" + MARK.replace(
        "def handler(event, context):\n", "def handler(event, context):\n    time.sleep(event.get('sleep', 0))\n"),
        Timeout=10)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)   # async may take 1 of 2
    marker = tmp_path / "backlog"
    for n in range(6):
        send(lam, name, {"marker": str(marker), "sleep": 0.4, "n": n})
    time.sleep(0.2)                                           # the backlog is running
    for _ in range(3):
        out = lam.invoke(FunctionName=name, Payload=json.dumps({"marker": str(tmp_path / "sync"), "n": -1}))
        assert out["StatusCode"] == 200 and "FunctionError" not in out    # never throttled by the backlog
    assert len(lines(marker, 6)) == 6


def test_a_map_item_that_crashes_its_instance_fails_alone(server: Server) -> None:
    lam = boto_client(server.base)
    name = unique("crashy")
    create_function(lam, name, "import os\ndef handler(event, context):\n    if event['i'] == 2:\n"
                               "        os._exit(3)\n    return event['i']\n")
    with Client(server.base) as client:
        results = client.map(name, [{"i": i} for i in range(5)], concurrency=2)
    assert [r for i, r in enumerate(results) if i != 2] == [0, 1, 3, 4]
    assert isinstance(results[2], InvocationError) and results[2].error_type == "Runtime.ExitError"


def test_ctrl_c_writes_what_finished(server: Server, tmp_path: Path) -> None:
    import signal
    import subprocess

    from tests.conftest import LAMBDALITE
    lam = boto_client(server.base)
    name = unique("slowmap")
    create_function(lam, name, "import time\ndef handler(event, context):\n"
                               "    time.sleep(0.2)\n    return event['i']\n")
    src, dst = tmp_path / "items.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps({"i": i}) + "\n" for i in range(40)))
    proc = subprocess.Popen([LAMBDALITE, "map", name, "--items", str(src), "--out", str(dst), "--concurrency", "1"],
                            env={**os.environ, "LAMBDALITE_ENDPOINT": server.base},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.5)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    out = [json.loads(x) for x in dst.read_text().splitlines()]
    assert 0 < len(out) < 40 and "stopped:" in stderr, stderr
    assert [x["index"] for x in out] == list(range(len(out))) and all(x["result"] == x["index"] for x in out)


def test_a_throttled_event_backs_off_until_it_is_too_old(clocked: Server, tmp_path: Path) -> None:
    import threading

    lam = boto_client(clocked.base)
    create_function(lam, "busy", "import time, json\n" + MARK.replace(
        "def handler(event, context):\n", "def handler(event, context):\n    time.sleep(event.get('sleep', 0))\n"),
        Timeout=30)
    create_function(lam, "sink", SINK)
    lam.put_function_concurrency(FunctionName="busy", ReservedConcurrentExecutions=1)
    lam.put_function_event_invoke_config(FunctionName="busy", MaximumEventAgeInSeconds=60,
                                         DestinationConfig={"OnFailure": {"Destination": f"{ARN}sink"}})
    holder = threading.Thread(target=lambda: lam.invoke(FunctionName="busy", Payload=json.dumps(
        {"marker": str(tmp_path / "holder"), "sleep": 4})))
    holder.start()                                        # the only slot is taken for 4 s
    time.sleep(0.5)
    marker = tmp_path / "late"
    send(lam, "busy", {"marker": str(marker)})
    time.sleep(0.3)                                       # its first try was throttled
    advance(clocked, 120)                                 # back-offs of 1, 2, 4, ... s: throttled, then too old
    [record] = lines(Path(str(marker) + ".dest"), 1)
    holder.join()
    assert record["requestContext"]["condition"] == "EventAgeExceeded" and not marker.exists()


def test_a_versions_event_invoke_config_goes_with_the_version(server: Server) -> None:
    lam = boto_client(server.base)
    name = unique("cfgver")
    create_function(lam, name, MARK)
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier="1", MaximumRetryAttempts=0)
    lam.put_function_event_invoke_config(FunctionName=name, Qualifier="live", MaximumRetryAttempts=1)
    arns = {c["FunctionArn"] for c in lam.list_function_event_invoke_configs(FunctionName=name)
            ["FunctionEventInvokeConfigs"]}
    assert arns == {f"{ARN}{name}:1", f"{ARN}{name}:live"}
    lam.delete_alias(FunctionName=name, Name="live")
    lam.delete_function(FunctionName=name, Qualifier="1")
    assert lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"] == []
