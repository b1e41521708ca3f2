"""Metrics, CloudWatch's metrics API, cost and budgets, driven as users drive them: requests,
boto3's cloudwatch client (JSON 1.0), the query protocol (form POST, read by botocore's parser), the
CLI and the SDK."""

from __future__ import annotations

import datetime
import json
import re
import time
from typing import Any

import botocore.session
import pytest
import requests
from botocore.exceptions import ClientError
from botocore.parsers import create_parser
from prometheus_client.parser import text_string_to_metric_families

from lambdalite.client import Client
from tests.conftest import Server, advance, boto_client, create_function, error_of, unique
from tests.integration.test_cli import cli

ADDFIVE = "def handler(event, context):\n    print('adding five')\n    return int(event['num']) + 5\n"
FAILS = "def handler(event, context):\n    raise ValueError('no')\n"


def call(base: str, method: str, *args: object) -> Any:
    """One call of the SDK, its connection closed after."""
    with Client(base) as client:
        return getattr(client, method)(*args)


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def metric_samples(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = requests.get(f"{base}/_lambdalite/metrics", timeout=30)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def invoke_n(lam, name: str, n: int, payload: bytes = b'{"num": "1"}') -> None:  # type: ignore[no-untyped-def]
    for _ in range(n):
        lam.invoke(FunctionName=name, Payload=payload)["Payload"].read()


def test_metrics_count_invocations_errors_and_cold_starts_right_after_the_calls(server: Server) -> None:
    lam = boto_client(server.base)
    good, bad = unique("metered"), unique("metered-bad")
    create_function(lam, good, ADDFIVE)
    create_function(lam, bad, FAILS)
    invoke_n(lam, good, 3)
    invoke_n(lam, bad, 2, b"{}")
    got = metric_samples(server.base)
    assert got[("lambdalite_invocations_total", (("function", good), ("version", "$LATEST")))] == 3
    assert got[("lambdalite_cold_starts_total", (("function", good), ("version", "$LATEST")))] == 1
    assert got[("lambdalite_errors_total", (("function", bad), ("kind", "function"), ("version", "$LATEST")))] == 2
    assert got[("lambdalite_duration_seconds_count", (("function", good), ("version", "$LATEST")))] == 3
    assert got[("lambdalite_cost_dollars_total", (("function", good), ("version", "$LATEST")))] > 0
    assert ("lambdalite_zygotes", ()) in got and ("lambdalite_async_queue_depth", ()) in got


def test_a_deleted_functions_series_leave_the_metrics(server: Server) -> None:
    lam = boto_client(server.base)
    name = unique("gone")
    create_function(lam, name, ADDFIVE)
    invoke_n(lam, name, 1)
    assert any(labels == (("function", name), ("version", "$LATEST")) for _, labels in metric_samples(server.base))
    lam.delete_function(FunctionName=name)
    # its counters go at once (the instances gauge follows as its instance stops)
    assert not [metric for metric, labels in metric_samples(server.base)
                if ("function", name) in labels and not metric.startswith(("lambdalite_instances",
                                                                            "lambdalite_concurrent"))]


def test_get_metric_statistics_through_boto3(server: Server) -> None:
    lam, cw = boto_client(server.base), boto_client(server.base, "cloudwatch")
    name = unique("watched")
    create_function(lam, name, ADDFIVE)
    invoke_n(lam, name, 4)
    invoke_n(lam, name, 1, b"{}")   # KeyError: a function error
    window = {"StartTime": now() - datetime.timedelta(minutes=10), "EndTime": now() + datetime.timedelta(minutes=1)}
    dims = [{"Name": "FunctionName", "Value": name}]

    def stat(metric: str, statistic: str, **extra: object) -> float:
        points = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName=metric, Dimensions=dims, Period=60,
                                          Statistics=[statistic], **window, **extra)["Datapoints"]
        return sum(p[statistic] for p in points)
    assert stat("Invocations", "Sum") == 5
    assert stat("Errors", "Sum") == 1
    assert stat("Throttles", "Sum") == 0
    assert 0 < stat("Duration", "Maximum") < 3000
    assert stat("ConcurrentExecutions", "Maximum") >= 1
    answer = cw.get_metric_statistics(Namespace="AWS/Lambda", MetricName="Duration", Dimensions=dims, Period=60,
                                      ExtendedStatistics=["p99"], **window)
    assert answer["Label"] == "Duration" and answer["Datapoints"][0]["Unit"] == "Milliseconds"
    assert answer["Datapoints"][0]["ExtendedStatistics"]["p99"] > 0
    assert isinstance(answer["Datapoints"][0]["Timestamp"], datetime.datetime)
    other = cw.get_metric_statistics(Namespace="AWS/EC2", MetricName="Invocations", Dimensions=dims, Period=60,
                                     Statistics=["Sum"], **window)
    assert other["Datapoints"] == []


def test_get_metric_data_through_boto3_by_function_and_by_alias(server: Server) -> None:
    lam, cw = boto_client(server.base), boto_client(server.base, "cloudwatch")
    name = unique("dataful")
    create_function(lam, name, ADDFIVE)
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    invoke_n(lam, name, 2)
    for _ in range(3):
        lam.invoke(FunctionName=name, Qualifier="live", Payload=b'{"num": "2"}')["Payload"].read()

    def query(qid: str, dims: list[dict[str, str]]) -> dict[str, object]:
        return {"Id": qid, "MetricStat": {"Metric": {"Namespace": "AWS/Lambda", "MetricName": "Invocations",
                                                     "Dimensions": dims}, "Period": 60, "Stat": "Sum"}}
    answer = cw.get_metric_data(
        MetricDataQueries=[query("all", [{"Name": "FunctionName", "Value": name}]),
                           query("alias", [{"Name": "FunctionName", "Value": name},
                                           {"Name": "Resource", "Value": f"{name}:live"}]),
                           query("version", [{"Name": "FunctionName", "Value": name},
                                             {"Name": "ExecutedVersion", "Value": version}])],
        StartTime=now() - datetime.timedelta(minutes=10), EndTime=now() + datetime.timedelta(minutes=1))
    sums = {r["Id"]: sum(r["Values"]) for r in answer["MetricDataResults"]}
    assert sums == {"all": 5, "alias": 3, "version": 3}
    assert all(r["StatusCode"] == "Complete" for r in answer["MetricDataResults"])


def test_the_query_protocol_is_answered_in_xml_that_botocore_reads(server: Server) -> None:
    lam = boto_client(server.base)
    name = unique("queried")
    create_function(lam, name, ADDFIVE)
    invoke_n(lam, name, 2)
    form = {"Action": "GetMetricStatistics", "Version": "2010-08-01", "Namespace": "AWS/Lambda",
            "MetricName": "Invocations", "Dimensions.member.1.Name": "FunctionName",
            "Dimensions.member.1.Value": name, "Period": "60", "Statistics.member.1": "Sum",
            "StartTime": (now() - datetime.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "EndTime": (now() + datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    r = requests.post(server.base + "/", data=form, timeout=30)
    assert r.status_code == 200 and r.headers["content-type"] == "text/xml"
    model = botocore.session.get_session().get_service_model("cloudwatch")
    shape = model.operation_model("GetMetricStatistics").output_shape
    parsed = create_parser("query").parse({"status_code": 200, "headers": dict(r.headers), "body": r.content}, shape)
    assert parsed["Label"] == "Invocations" and sum(p["Sum"] for p in parsed["Datapoints"]) == 2
    assert isinstance(parsed["Datapoints"][0]["Timestamp"], datetime.datetime)

    r = requests.post(server.base + "/", data={**form, "Period": "45"}, timeout=30)
    assert r.status_code == 400 and b"<Code>InvalidParameterValue</Code>" in r.content


@pytest.mark.parametrize(("change", "code", "says"), [
    ({"Period": 45}, "InvalidParameterValue", "multiple of 60"),
    ({"Period": 1, "StartTime": now() - datetime.timedelta(days=1)}, "InvalidParameterCombination",
     "exceeds the limit of 1440"),
    ({"StartTime": now(), "EndTime": now() - datetime.timedelta(hours=1)}, "InvalidParameterValue",
     "StartTime must be less than the parameter EndTime"),
    ({"Statistics": None}, "InvalidParameterCombination", "Statistics or ExtendedStatistics"),
    ({"Statistics": ["Median"]}, "InvalidParameterValue", "must be a value in the set"),
])
def test_bad_metric_requests_get_cloudwatchs_errors(server: Server, change: dict[str, object], code: str,
                                                   says: str) -> None:
    cw = boto_client(server.base, "cloudwatch")
    request: dict[str, object] = {"Namespace": "AWS/Lambda", "MetricName": "Invocations", "Period": 60,
                                  "Statistics": ["Sum"], "StartTime": now() - datetime.timedelta(hours=1),
                                  "EndTime": now(), **change}
    request = {k: v for k, v in request.items() if v is not None}
    got_code, status, message = error_of(cw.get_metric_statistics, **request)
    assert (got_code, status) == (code, 400) and says in message


def test_cost_per_function_version_and_day_through_the_api_cli_and_sdk(server: Server) -> None:
    lam = boto_client(server.base)
    name = unique("costly")
    create_function(lam, name, ADDFIVE, MemorySize=1024)
    invoke_n(lam, name, 3)
    report = call(server.base, "cost", "version")
    (line,) = [x for x in report["lines"] if x["function"] == name]
    assert line["version"] == "$LATEST" and line["requests"] == 3
    assert line["dollars"] == pytest.approx(3 * 0.0000002 + line["gbSeconds"] * 0.0000166667, rel=1e-6)
    assert report["freeTier"] is False and report["prices"]["requestsPerMillion"] == 0.2
    assert report["month"] == time.strftime("%Y-%m", time.gmtime())   # the real month on a real clock
    by_day = call(server.base, "cost", "day")
    assert by_day["lines"][-1]["day"].startswith(report["month"])
    done = cli(server, "cost")
    assert done.returncode == 0 and name in done.stdout and "TOTAL" in done.stdout and "REQUESTS" in done.stdout
    assert "free tier not counted" in done.stdout
    done = cli(server, "cost", "--month", "1999-01")
    assert done.returncode == 0 and name not in done.stdout


@pytest.mark.parametrize(("query", "says"), [({"by": "week"}, "by must be one of"),
                                             ({"month": "2026-13"}, "month must be YYYY-MM"),
                                             ({"month": "december"}, "month must be YYYY-MM")])
def test_a_bad_cost_query_is_refused(server: Server, query: dict[str, str], says: str) -> None:
    r = requests.get(f"{server.base}/_lambdalite/cost", params=query, timeout=30)
    assert r.status_code == 400 and says in r.json()["message"]


def test_a_function_budget_refuses_sync_calls_with_429_budget_exceeded(server: Server) -> None:
    lam = boto_client(server.base)
    name, other = unique("capped"), unique("uncapped")
    create_function(lam, name, ADDFIVE)
    create_function(lam, other, ADDFIVE)
    done = cli(server, "budget", "set", "0.0000005", "--function", name)
    assert done.returncode == 0 and name in done.stdout
    refused = None
    for _ in range(10):
        try:
            invoke_n(lam, name, 1)
        except ClientError as e:
            refused = e.response
            break
    assert refused is not None, "the budget never refused"
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert refused["Error"]["Code"] == "TooManyRequestsException" and refused["Reason"] == "BudgetExceeded"
    assert f"function {name} has spent" in refused["Error"]["Message"]
    invoke_n(lam, other, 1)   # another function runs on
    records = requests.get(f"{server.base}/_lambdalite/invocations", params={"function": name}, timeout=30).json()
    assert records["invocations"][0]["outcome"] == "throttled"
    assert records["invocations"][0]["errorType"] == "BudgetExceeded"
    got = metric_samples(server.base)
    assert got[("lambdalite_throttles_total", (("function", name), ("reason", "budget"), ("version", "$LATEST")))] >= 1
    assert got[("lambdalite_budget_used_ratio", (("scope", name),))] >= 1
    listing = json.loads(requests.get(f"{server.base}/_lambdalite/budgets", timeout=30).text)
    (mine,) = [b for b in listing["budgets"] if b["function"] == name]
    assert mine["refusing"] and mine["warned"] == 1.0
    # the warnings went to the function's log group
    logs = boto_client(server.base, "logs")
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", filterPattern="budget")["events"]
    assert [e["logStreamName"] for e in events][:1] == ["lambdalite/budget"] and "100%" in events[-1]["message"]

    cli(server, "budget", "set", "5", "--function", name)   # raised: work goes through again
    invoke_n(lam, name, 1)
    assert cli(server, "budget", "clear", "--function", name).returncode == 0
    assert name not in cli(server, "budget").stdout


def test_an_async_event_refused_by_a_budget_is_kept_not_lost(server: Server) -> None:
    lam = boto_client(server.base)
    name = unique("capped-async")
    create_function(lam, name, ADDFIVE)
    call(server.base, "set_budget", 0, name)
    out = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"num": "1"}')
    assert out["StatusCode"] == 202
    deadline = time.monotonic() + 20
    records: list[dict[str, object]] = []
    while not records and time.monotonic() < deadline:
        records = requests.get(f"{server.base}/_lambdalite/failed", params={"function": name}, timeout=30
                               ).json()["records"]
        time.sleep(0.1)
    assert records, "the refused event was lost"
    assert records[0]["record"]["requestContext"]["condition"] == "BudgetExceeded"
    call(server.base, "set_budget", 1, name)
    done = cli(server, "failed", name, "--replay")
    assert done.returncode == 0


@pytest.mark.parametrize("amount", ["-1", "abc", "nan", "inf"])
def test_a_budget_that_is_negative_or_not_a_number_is_refused(server: Server, amount: str) -> None:
    before = call(server.base, "budgets")["budgets"]
    done = cli(server, "budget", "set", "--", amount)
    assert done.returncode == 2 and "budget" in done.stderr.lower() or "amount" in done.stderr.lower()
    r = requests.put(f"{server.base}/_lambdalite/budgets", json={"amount": amount}, timeout=30)
    assert r.status_code == 400 and r.headers["x-amzn-errortype"] == "InvalidParameterValueException"
    r = requests.put(f"{server.base}/_lambdalite/budgets", json={"amount": [1]}, timeout=30)
    assert r.status_code == 400
    assert amounts(call(server.base, "budgets")["budgets"]) == amounts(before)   # what others spend meanwhile moves


def amounts(budgets: list[dict[str, Any]]) -> list[tuple[str, str | None, float]]:
    return [(b["scope"], b.get("function"), b["monthlyBudget"]) for b in budgets]


def test_a_budget_for_a_function_that_is_not_there_is_404(server: Server) -> None:
    r = requests.put(f"{server.base}/_lambdalite/budgets", json={"amount": 1, "function": "no-such-fn"}, timeout=30)
    assert r.status_code == 404
    r = requests.delete(f"{server.base}/_lambdalite/budgets", timeout=30)
    assert r.status_code == 404 and "no budget" in r.json()["Message"]
    done = cli(server, "budget", "set", "1", "--function", "no-such-fn")
    assert done.returncode == 3


def test_the_server_budget_refuses_every_function(own_server: Server) -> None:
    own_server.start()
    lam = boto_client(own_server.base)
    name = unique("any")
    create_function(lam, name, ADDFIVE)
    assert cli(own_server, "budget", "set", "0").returncode == 0
    code, status, message = error_of(lam.invoke, FunctionName=name, Payload=b'{"num": "1"}')
    assert (code, status) == ("TooManyRequestsException", 429) and "the server has spent" in message
    own_server.restart()   # budgets are kept
    code, status, _ = error_of(lam.invoke, FunctionName=name, Payload=b'{"num": "1"}')
    assert status == 429
    assert cli(own_server, "budget", "clear").returncode == 0
    invoke_n(lam, name, 1)


def test_spending_survives_a_restart(own_server: Server) -> None:
    own_server.start()
    lam = boto_client(own_server.base)
    name = unique("spender")
    create_function(lam, name, ADDFIVE)
    invoke_n(lam, name, 4)
    before = call(own_server.base, "cost")["total"]
    own_server.restart()
    assert call(own_server.base, "cost")["total"] == before
    call(own_server.base, "set_budget", before["dollars"] * 0.99, name)
    code, status, _ = error_of(lam.invoke, FunctionName=name, Payload=b'{"num": "1"}')
    assert status == 429   # what was spent before the restart counts


def test_the_free_tier_and_a_price_table_are_settings(own_server: Server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"source": "my prices", "requestsPerMillion": 1_000_000,
                                  "duration": {"x86_64": [{"perGbSecond": 0}], "arm64": [{"perGbSecond": 0}]}}))
    own_server.extra = ("--price-table", str(prices))
    own_server.start()
    lam = boto_client(own_server.base)
    name = unique("priced")
    create_function(lam, name, ADDFIVE)
    invoke_n(lam, name, 2)
    report = call(own_server.base, "cost")
    assert report["total"]["dollars"] == pytest.approx(2.0) and report["prices"]["source"] == "my prices"
    own_server.stop()
    own_server.extra = ("--free-tier",)
    own_server.start()
    invoke_n(lam, name, 2)
    assert call(own_server.base, "cost")["total"]["dollars"] == pytest.approx(2.0)   # the free calls cost nothing


@pytest.mark.parametrize(("content", "says"), [
    ("{not json", "is not JSON"),
    ('{"requestsPerMillion": -1, "duration": {}}', "must not be negative"),
    ('{"duration": {"x86_64": [{"perGbSecond": 1}], "arm64": [{"perGbSecond": 1}]}}', "requestsPerMillion is missing"),
])
def test_serve_refuses_a_bad_price_table(tmp_path, content: str, says: str) -> None:  # type: ignore[no-untyped-def]
    prices = tmp_path / "prices.json"
    prices.write_text(content)
    done = cli("http://127.0.0.1:9", "serve", "--port", "0", "--home", str(tmp_path / "home"), "--price-table",
               str(prices))
    assert done.returncode == 2 and says in done.stderr and not (tmp_path / "home").exists()


def test_records_are_complete(server: Server) -> None:
    lam = boto_client(server.base)
    name = unique("recorded")
    create_function(lam, name, ADDFIVE, Architectures=["arm64"])
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="prod", FunctionVersion=version)
    lam.invoke(FunctionName=name, Qualifier="prod", Payload=b'{"num": "1"}')["Payload"].read()
    lam.invoke(FunctionName=name, Qualifier="prod", Payload=b'{"num": "1"}')["Payload"].read()
    lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"num": "1"}')
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        records = requests.get(f"{server.base}/_lambdalite/invocations", params={"function": name},
                               timeout=30).json()["invocations"]
        if len(records) == 3:
            break
        time.sleep(0.1)
    event, warm, cold = records
    assert (cold["qualifier"], cold["version"], cold["invocationType"], cold["cold"]) == ("prod", version,
                                                                                        "RequestResponse", True)
    assert not warm["cold"] and warm["initDurationMs"] is None and cold["initDurationMs"] > 0
    assert event["invocationType"] == "Event" and event["qualifier"] is None and event["version"] == "$LATEST"
    assert cold["architecture"] == "arm64" and cold["cost"] > 0 and cold["outcome"] == "ok"
    assert cold["billedMs"] >= cold["durationMs"] + cold["initDurationMs"]


def test_stats_through_the_cli(server: Server) -> None:
    lam = boto_client(server.base)
    name = unique("stat")
    create_function(lam, name, ADDFIVE)
    invoke_n(lam, name, 3)
    invoke_n(lam, name, 1, b"{}")
    stats = call(server.base, "stats", name, 3600)
    assert (stats["invocations"], stats["errors"], stats["coldStarts"]) == (4, 1, 1)
    done = cli(server, "stats", name, "--since", "1h")
    assert done.returncode == 0 and re.search(r"invocations +4\n", done.stdout) and "p50 / p90 / p99" in done.stdout
    assert cli(server, "stats", name, "--since", "soon").returncode == 2
    assert cli(server, "stats", "no-such-fn").returncode == 3


def test_records_off_keep_the_cost_but_no_records_logs_or_metrics(own_server: Server) -> None:
    own_server.extra = ("--no-records",)
    own_server.start()
    lam = boto_client(own_server.base)
    name = unique("unrecorded")
    create_function(lam, name, ADDFIVE)
    invoke_n(lam, name, 2)
    assert call(own_server.base, "cost")["total"]["requests"] == 2
    r = requests.get(f"{own_server.base}/_lambdalite/invocations", params={"function": name}, timeout=30)
    assert r.json()["invocations"] == []
    assert not [metric for metric, labels in metric_samples(own_server.base)
                if ("function", name) in labels and metric.startswith("lambdalite_invocations")]


def test_records_and_log_lines_past_their_retention_are_deleted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    srv = Server(tmp_path / "home", extra=("--test-clock", "--retention-days", "0.00002"))   # 1.7 s
    srv.home.mkdir()
    srv.start()
    try:
        lam = boto_client(srv.base)
        name = unique("fleeting")
        create_function(lam, name, ADDFIVE)
        invoke_n(lam, name, 2)
        assert call(srv.base, "stats", name)["invocations"] == 2
        time.sleep(2)
        advance(srv, 3600)   # the retention pass runs hourly on the server clock
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            left = requests.get(f"{srv.base}/_lambdalite/invocations", params={"function": name},
                                timeout=30).json()["invocations"]
            if not left:
                break
            time.sleep(0.1)
        assert left == []
        assert call(srv.base, "logs", name).events == []
        assert call(srv.base, "cost")["total"]["requests"] == 2   # the cost stays
    finally:
        srv.stop()


@pytest.mark.parametrize(("target", "body", "code"), [
    ("GetMetricStatistics", b"{not json", "SerializationException"),
    ("GetMetricStatistics", b"[1, 2]", "SerializationException"),
    ("PutMetricData", b"{}", "InvalidAction"),
    ("GetMetricStatistics", b'{"Namespace": "AWS/Lambda"}', "MissingParameter"),
    ("GetMetricData", b'{"StartTime": 1, "EndTime": 2, "MetricDataQueries": [{"Id": "e", "Expression": "SUM(x)"}]}',
     "InvalidParameterValue"),
])
def test_malformed_cloudwatch_requests_are_refused_in_its_shape(server: Server, target: str, body: bytes,
                                                                 code: str) -> None:
    r = requests.post(server.base + "/", data=body, timeout=30, headers={
        "X-Amz-Target": f"GraniteServiceVersion20100801.{target}", "Content-Type": "application/x-amz-json-1.0"})
    assert r.status_code == 400 and r.headers["x-amzn-query-error"] == f"{code};Sender"
    assert r.json()["message"]
