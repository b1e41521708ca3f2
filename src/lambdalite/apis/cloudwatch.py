"""CloudWatch's metrics API for namespace `AWS/Lambda`: GetMetricStatistics, GetMetricData, ListMetrics.

Two protocols, answered in the caller's: botocore since 1.42.7 sends AWS JSON 1.0 (`POST /`,
`X-Amz-Target: GraniteServiceVersion20100801.<Operation>`, `x-amzn-query-mode: true`, timestamps as
epoch seconds; errors carry `x-amzn-query-error: Code;Sender`); older clients and the AWS CLI v1 with
an older botocore send the query protocol (form-encoded `Action=...&Version=2010-08-01`, signed for
`monitoring`), answered in XML. Both become one request shape (the JSON one) before the operations
run, and the answer is rendered back.

Metrics come from the invocation records (`observe/reports.py`): Invocations, Errors, Throttles,
Duration, ConcurrentExecutions; dimensions FunctionName, Resource (`name:alias` or `name:version`,
as invoked), FunctionName + ExecutedVersion, or none (all functions). Any other metric, namespace or
dimension has no datapoints, as in CloudWatch.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from ..ids import request_id as new_request_id
from ..observe import reports
from ..observe.history import History
from .http import Receive, Scope, Send, json_object, read_body, send_response

TARGET_PREFIX = "GraniteServiceVersion20100801."
NAMESPACE = "AWS/Lambda"
XMLNS = "http://monitoring.amazonaws.com/doc/2010-08-01/"
OPERATIONS = ("GetMetricStatistics", "GetMetricData", "ListMetrics")
BODY_LIMIT = 1024 * 1024
MAX_DATAPOINTS = 1440
HIGH_RESOLUTION = (1, 5, 10, 20, 30)
TIMESTAMP_FIELDS = ("Timestamp", "Timestamps")
PERCENTILE = re.compile(r"p(\d{1,2}(\.\d{1,10})?|100(\.0{1,10})?)")


class CloudWatchError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def handles(scope: Scope) -> bool:
    for key, value in scope["headers"]:
        if key == b"x-amz-target":
            return bytes(value).decode("latin-1").startswith(TARGET_PREFIX)
    return False


def is_query_call(headers: Mapping[str, str], body: bytes) -> bool:
    """A form-encoded call signed for `monitoring`, or unsigned and naming one of its actions."""
    authorization = headers.get("authorization", "")
    if "/monitoring/aws4_request" in authorization:
        return True
    if authorization:
        return False
    return any(k == "Action" and v in OPERATIONS for k, v in parse_qsl(body.decode("latin-1")))


class CloudWatchApi:
    def __init__(self, history: History) -> None:
        self.history = history

    async def handle_json(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, too_large = await read_body(receive, BODY_LIMIT)
        target = dict(scope["headers"]).get(b"x-amz-target", b"").decode("latin-1")
        request_id = new_request_id()
        headers = [(b"content-type", b"application/x-amz-json-1.0"), (b"x-amzn-requestid", request_id.encode())]
        try:
            if too_large:
                raise CloudWatchError("InvalidParameterValue", "The request is too large.")
            try:
                request = json_object(body)
            except ValueError as e:
                raise CloudWatchError("SerializationException", str(e)) from None
            await self.history.caught_up()
            result = self.run(target.removeprefix(TARGET_PREFIX), request)
        except CloudWatchError as e:
            error = json.dumps({"__type": f"com.amazonaws.cloudwatch#{e.code}Exception"
                                if not e.code.endswith("Exception") else e.code, "message": e.message})
            await send_response(send, e.status, error.encode(), [
                *headers, (b"x-amzn-query-error", f"{e.code};Sender".encode())])
            return
        await send_response(send, 200, json.dumps(result).encode(), headers)

    async def handle_query(self, body: bytes, send: Send) -> None:
        form = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
        action = form.pop("Action", "")
        form.pop("Version", None)
        request_id = new_request_id()
        try:
            await self.history.caught_up()
            result = self.run(action, unflatten(form))
            text = (f'<{action}Response xmlns="{XMLNS}"><{action}Result>{to_xml(result)}</{action}Result>'
                    f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>")
            status = 200
        except CloudWatchError as e:
            text = (f'<ErrorResponse xmlns="{XMLNS}"><Error><Type>Sender</Type><Code>{escape(e.code)}</Code>'
                    f"<Message>{escape(e.message)}</Message></Error><RequestId>{request_id}</RequestId>"
                    "</ErrorResponse>")
            status = e.status
        await send_response(send, status, text.encode(), [(b"content-type", b"text/xml"),
                                                          (b"x-amzn-requestid", request_id.encode())])

    def run(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        if operation == "GetMetricStatistics":
            return self.get_metric_statistics(request)
        if operation == "GetMetricData":
            return self.get_metric_data(request)
        if operation == "ListMetrics":
            return self.list_metrics(request)
        raise CloudWatchError("InvalidAction", f"Lambdalite's CloudWatch answers {', '.join(OPERATIONS)} for "
                                               f"namespace {NAMESPACE}, not {operation or '(no operation)'}.")

    # -- operations ---------------------------------------------------------------------------------

    def get_metric_statistics(self, request: dict[str, Any]) -> dict[str, Any]:
        namespace, metric = _required(request, "Namespace"), _required(request, "MetricName")
        start, end = _window(request)
        period = _period(request.get("Period"), "Period")
        _check_count(start, end, period)
        statistics = _list(request, "Statistics")
        extended = _list(request, "ExtendedStatistics")
        if not statistics and not extended:
            raise CloudWatchError("InvalidParameterCombination", "You must specify Statistics or ExtendedStatistics.")
        for name in statistics:
            if name not in reports.STATISTICS:
                raise CloudWatchError("InvalidParameterValue", f"The parameter Statistics.member.1 must be a value in "
                                                               f"the set {', '.join(reports.STATISTICS)}.")
        for name in extended:
            if not PERCENTILE.fullmatch(name):
                raise CloudWatchError("InvalidParameterValue", f"The parameter ExtendedStatistics {name!r} must be "
                                                               "a percentile such as p99 or p99.9.")
        samples = self._samples(namespace, metric, _dimensions(request.get("Dimensions")), start, end)
        return {"Label": metric, "Datapoints": reports.datapoints(metric, samples, start, end, period, statistics,
                                                                  extended)}

    def get_metric_data(self, request: dict[str, Any]) -> dict[str, Any]:
        start, end = _window(request)
        queries = request.get("MetricDataQueries")
        if not isinstance(queries, list) or not queries:
            raise CloudWatchError("MissingParameter", "The parameter MetricDataQueries is required.")
        if len(queries) > 500:
            raise CloudWatchError("InvalidParameterValue", "The collection MetricDataQueries must not have more than "
                                                           "500 items.")
        descending = request.get("ScanBy", "TimestampDescending") != "TimestampAscending"
        results = []
        for query in queries:
            if not isinstance(query, dict) or not isinstance(query.get("Id"), str):
                raise CloudWatchError("InvalidParameterValue", "Each of MetricDataQueries needs an Id.")
            if "Expression" in query:
                raise CloudWatchError("InvalidParameterValue", "Lambdalite does not evaluate metric math "
                                                               "Expressions yet; query metrics with MetricStat.")
            stat = query.get("MetricStat")
            if not isinstance(stat, dict) or not isinstance(stat.get("Metric"), dict):
                raise CloudWatchError("InvalidParameterValue", f"The query {query['Id']} needs a MetricStat.")
            metric = stat["Metric"]
            name, statistic = str(metric.get("MetricName") or ""), stat.get("Stat")
            period = _period(stat.get("Period"), "MetricStat.Period")
            _check_count(start, end, period)
            if statistic not in reports.STATISTICS and not (isinstance(statistic, str)
                                                          and PERCENTILE.fullmatch(statistic)):
                raise CloudWatchError("InvalidParameterValue", f"The query {query['Id']}'s Stat {statistic!r} is not "
                                                               "a statistic (Sum, Average, Minimum, Maximum, "
                                                               "SampleCount, pNN).")
            samples = self._samples(str(metric.get("Namespace") or ""), name, _dimensions(metric.get("Dimensions")),
                                    start, end)
            extended = [statistic] if statistic not in reports.STATISTICS else []
            points = reports.datapoints(name, samples, start, end, period, [] if extended else [statistic], extended)
            pairs = [(p["Timestamp"], p["ExtendedStatistics"][statistic] if extended else p[statistic])
                     for p in points]
            if descending:
                pairs.reverse()
            if query.get("ReturnData", True) not in (False, "false"):
                results.append({"Id": query["Id"], "Label": query.get("Label") or name,
                                "Timestamps": [t for t, _ in pairs], "Values": [v for _, v in pairs],
                                "StatusCode": "Complete"})
        return {"MetricDataResults": results, "Messages": []}

    def list_metrics(self, request: dict[str, Any]) -> dict[str, Any]:
        namespace = request.get("Namespace")
        if namespace not in (None, NAMESPACE):
            return {"Metrics": []}
        wanted = request.get("MetricName")
        functions = sorted({f for f, _, _ in self.history.log_groups() if "/" not in f})
        return {"Metrics": [{"Namespace": NAMESPACE, "MetricName": name,
                             "Dimensions": [{"Name": "FunctionName", "Value": function}]}
                            for function in functions for name in reports.METRICS if wanted in (None, name)]}

    def _samples(self, namespace: str, metric: str, dimensions: dict[str, str], start: int,
                 end: int) -> list[tuple[int, float, str]]:
        if namespace != NAMESPACE or metric not in reports.METRICS:
            return []
        keys = set(dimensions)
        if not keys:
            return self.history.samples(start, end)
        if keys == {"FunctionName"}:
            return self.history.samples(start, end, dimensions["FunctionName"])
        if keys == {"FunctionName", "Resource"}:
            function, _, qualifier = dimensions["Resource"].partition(":")
            if function != dimensions["FunctionName"] or not qualifier:
                return []
            return self.history.samples(start, end, function, qualifier=qualifier)
        if keys == {"FunctionName", "ExecutedVersion"}:
            return self.history.samples(start, end, dimensions["FunctionName"],
                                        version=dimensions["ExecutedVersion"])
        return []


# -- request parsing ----------------------------------------------------------------------------------

def _required(request: dict[str, Any], name: str) -> str:
    value = request.get(name)
    if not isinstance(value, str) or not value:
        raise CloudWatchError("MissingParameter", f"The parameter {name} is required.")
    return value


def _time(value: Any, name: str) -> int:
    """Epoch milliseconds from epoch seconds (JSON) or ISO 8601 text (query)."""
    if value is None:
        raise CloudWatchError("MissingParameter", f"The parameter {name} is required.")
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return int(value * 1000)
    if isinstance(value, str):
        try:
            return int(float(value) * 1000)
        except ValueError:
            pass
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return int((stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp() * 1000)
    raise CloudWatchError("InvalidParameterValue", f"The parameter {name} must be a timestamp, not {value!r}.")


def _window(request: dict[str, Any]) -> tuple[int, int]:
    start, end = _time(request.get("StartTime"), "StartTime"), _time(request.get("EndTime"), "EndTime")
    if start >= end:
        raise CloudWatchError("InvalidParameterValue", "The parameter StartTime must be less than the parameter "
                                                       "EndTime.")
    return start, end


def _period(value: Any, name: str) -> int:
    try:
        period = int(value) if not isinstance(value, bool) else 0
    except (TypeError, ValueError):
        period = 0
    if value is None:
        raise CloudWatchError("MissingParameter", f"The parameter {name} is required.")
    if period < 1 or (period not in HIGH_RESOLUTION and period % 60):
        raise CloudWatchError("InvalidParameterValue", f"The parameter {name} must be 1, 5, 10, 20 or 30, or a "
                                                       f"multiple of 60, not {value!r}.")
    return period


def _check_count(start: int, end: int, period: int) -> None:
    count = math.ceil((end - start) / (period * 1000))
    if count > MAX_DATAPOINTS:
        raise CloudWatchError("InvalidParameterCombination", f"You have requested up to {count} datapoints, which "
                                                             "exceeds the limit of 1440. You may reduce the datapoints "
                                                             "requested by increasing Period, or decreasing the time "
                                                             "range.")


def _list(request: dict[str, Any], name: str) -> list[str]:
    value = request.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CloudWatchError("InvalidParameterValue", f"The parameter {name} must be a list of names.")
    return value


def _dimensions(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, list) or not all(isinstance(d, dict) and isinstance(d.get("Name"), str)
                                              and isinstance(d.get("Value"), str) for d in value):
        raise CloudWatchError("InvalidParameterValue", "Dimensions must be a list of {Name, Value}.")
    return {d["Name"]: d["Value"] for d in value}


def unflatten(form: dict[str, str]) -> dict[str, Any]:
    """The query protocol's flat members (`Dimensions.member.1.Name=...`) as the JSON shape."""
    root: dict[str, Any] = {}
    for key, value in form.items():
        node: dict[str, Any] = root
        parts = key.split(".")
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    out: dict[str, Any] = _lists(root)
    return out


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if set(node) == {"member"} and isinstance(node["member"], dict):
        items = node["member"]
        return [_lists(items[k]) for k in sorted(items, key=lambda k: int(k) if k.isdigit() else 0)]
    return {k: _lists(v) for k, v in node.items()}


def to_xml(value: Any, name: str = "") -> str:
    """The JSON-shaped answer as the query protocol's XML (lists as <member>, maps as <entry>)."""
    if isinstance(value, dict):
        if name == "ExtendedStatistics":
            return "".join(f"<entry><key>{escape(k)}</key><value>{v!r}</value></entry>" for k, v in value.items())
        return "".join(f"<{k}>{to_xml(v, k)}</{k}>" for k, v in value.items())
    if isinstance(value, list):
        return "".join(f"<member>{to_xml(v, name)}</member>" for v in value)
    if name in TIMESTAMP_FIELDS and isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, float):
        return repr(value)
    return escape(str(value))
