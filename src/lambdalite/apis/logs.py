"""The CloudWatch Logs API subset that tools call: JSON 1.1 on `POST /` with `X-Amz-Target:
Logs_20140328.<Operation>` (boto3's `logs` client, `aws logs ... --endpoint-url`).

Log group `/aws/lambda/NAME` per function with log lines; streams as the function's instances name
them (`YYYY/MM/DD/[$LATEST]<32 hex>`). DescribeLogGroups, DescribeLogStreams, GetLogEvents,
FilterLogEvents (plain terms and quoted phrases, all of them must appear; other valid syntax is
refused as not built yet, never silently matching nothing) and DeleteLogGroup.

An event is one line of an invocation's log text, at the invocation's time; its position is (row id,
line), which paging tokens carry.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..ids import request_id as new_request_id
from ..observe.history import History
from .http import Receive, Scope, Send, json_object, read_body, send_response

TARGET_PREFIX = "Logs_20140328."
GROUP_PREFIX = "/aws/lambda/"
BODY_LIMIT = 1024 * 1024
MAX_EVENTS = 10_000
JSON_11 = b"application/x-amz-json-1.1"
Position = tuple[int, int]   # (row id, line)


class LogsError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def handles(scope: Scope) -> bool:
    for key, value in scope["headers"]:
        if key == b"x-amz-target":
            return bytes(value).decode("latin-1").startswith(TARGET_PREFIX)
    return False


class LogsApi:
    def __init__(self, history: History, region: str, account: str) -> None:
        self.db = history
        self.region, self.account = region, account

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, too_large = await read_body(receive, BODY_LIMIT)
        target = dict(scope["headers"]).get(b"x-amz-target", b"").decode("latin-1")
        operation = target.removeprefix(TARGET_PREFIX)
        headers = [(b"content-type", JSON_11), (b"x-amzn-requestid", new_request_id().encode())]
        try:
            if too_large:
                raise LogsError("InvalidParameterException", "The request is too large.")
            try:
                request = json_object(body)
            except ValueError as e:
                raise LogsError("SerializationException", str(e)) from None
            handler = {"DescribeLogGroups": self.describe_log_groups, "DescribeLogStreams": self.describe_log_streams,
                       "GetLogEvents": self.get_log_events, "FilterLogEvents": self.filter_log_events,
                       "DeleteLogGroup": self.delete_log_group}.get(operation)
            if handler is None:
                raise LogsError("UnknownOperationException",
                                f"Lambdalite's Logs API does not support {operation} yet (DescribeLogGroups, "
                                "DescribeLogStreams, GetLogEvents, FilterLogEvents, DeleteLogGroup).")
            await self.db.caught_up()
            answer = handler(request)
        except LogsError as e:
            await send_response(send, 400, json.dumps({"__type": e.code, "message": e.message}).encode(),
                                [*headers, (b"x-amzn-errortype", e.code.encode())])
            return
        await send_response(send, 200, json.dumps(answer).encode(), headers)

    # -- operations ---------------------------------------------------------------------------------

    def describe_log_groups(self, request: dict[str, Any]) -> dict[str, Any]:
        prefix = _text(request, "logGroupNamePrefix") or ""
        limit = _limit(request, 50, 50)
        groups = sorted((group_name(key), first, size) for key, first, size in self.db.log_groups())
        groups = [g for g in groups if g[0].startswith(prefix)]
        start = _name_token(request.get("nextToken"), [g[0] for g in groups])
        page = groups[start:start + limit]
        out: dict[str, Any] = {"logGroups": [
            {"logGroupName": name, "creationTime": first, "metricFilterCount": 0, "storedBytes": size,
             "arn": f"{self._group_arn(name)}:*", "logGroupArn": self._group_arn(name)} for name, first, size in page]}
        if start + limit < len(groups):
            out["nextToken"] = page[-1][0]
        return out

    def describe_log_streams(self, request: dict[str, Any]) -> dict[str, Any]:
        name, function = self._group(request)
        streams = self.db.log_streams(function)
        prefix = _text(request, "logStreamNamePrefix") or ""
        order = _text(request, "orderBy") or "LogStreamName"
        if order not in ("LogStreamName", "LastEventTime"):
            raise LogsError("InvalidParameterException", "orderBy must be LogStreamName or LastEventTime")
        if prefix and order == "LastEventTime":
            raise LogsError("InvalidParameterException",
                            "Cannot order by LastEventTime with a logStreamNamePrefix.")
        streams = [s for s in streams if s[0].startswith(prefix)]
        streams.sort(key=(lambda s: s[0]) if order == "LogStreamName" else (lambda s: (s[2], s[0])),
                     reverse=bool(request.get("descending")))
        limit = _limit(request, 50, 50)
        start = _name_token(request.get("nextToken"), [s[0] for s in streams])
        page = streams[start:start + limit]
        out: dict[str, Any] = {"logStreams": [
            {"logStreamName": stream, "creationTime": first, "firstEventTimestamp": first,
             "lastEventTimestamp": last, "lastIngestionTime": last, "uploadSequenceToken": "0",
             "arn": f"{self._group_arn(name)}:log-stream:{stream}", "storedBytes": size}
            for stream, first, last, size in page]}
        if start + limit < len(streams):
            out["nextToken"] = page[-1][0]
        return out

    def get_log_events(self, request: dict[str, Any]) -> dict[str, Any]:
        _, function = self._group(request)
        stream = _text(request, "logStreamName")
        if not stream:
            raise LogsError("InvalidParameterException", "logStreamName is required")
        if not self.db.has_logs(function, stream):
            raise LogsError("ResourceNotFoundException", "The specified log stream does not exist.")
        events = self._events(function, [stream], request)
        limit = _limit(request, MAX_EVENTS, MAX_EVENTS)
        token = request.get("nextToken")
        if token is not None:
            forward, at = _position_token(token)
            index = _index_after(events, at) if forward else _index_before(events, at)
            page = events[index:index + limit] if forward else events[max(0, index - limit):index]
        elif request.get("startFromHead"):
            page = events[:limit]
        else:
            page = events[-limit:]
        first = page[0][0] if page else (_position_token(token)[1] if token else (0, 0))
        last = page[-1][0] if page else first
        return {"events": [{"timestamp": ms, "message": line, "ingestionTime": ms} for _, ms, _, line in page],
                "nextForwardToken": token if (token and not page and token.startswith("f/")) else _token("f", last),
                "nextBackwardToken": token if (token and not page and token.startswith("b/")) else _token("b", first)}

    def filter_log_events(self, request: dict[str, Any]) -> dict[str, Any]:
        _, function = self._group(request)
        streams = request.get("logStreamNames")
        if streams is not None and (not isinstance(streams, list) or not all(isinstance(s, str) for s in streams)):
            raise LogsError("InvalidParameterException", "logStreamNames must be a list of stream names")
        prefix = _text(request, "logStreamNamePrefix")
        if streams is not None and prefix is not None:
            raise LogsError("InvalidParameterException",
                            "logStreamNames and logStreamNamePrefix cannot both be given.")
        terms = parse_filter(_text(request, "filterPattern") or "")
        # The store keeps only the invocations whose text has every term; their lines are then matched.
        events = [e for e in self._events(function, streams, request, prefix, terms) if all(t in e[3] for t in terms)]
        limit = _limit(request, MAX_EVENTS, MAX_EVENTS)
        token = request.get("nextToken")
        start = _index_after(events, _position_token(token)[1]) if token is not None else 0
        page = events[start:start + limit]
        out: dict[str, Any] = {
            "events": [{"logStreamName": stream, "timestamp": ms, "message": line, "ingestionTime": ms,
                        "eventId": f"{position[0]:020d}{position[1]:06d}"}
                       for position, ms, stream, line in page],
            "searchedLogStreams": [{"logStreamName": s, "searchedCompletely": True}
                                   for s in sorted({e[2] for e in page} | set(streams or ()))]}
        if start + limit < len(events):
            out["nextToken"] = _token("f", page[-1][0])
        return out

    def delete_log_group(self, request: dict[str, Any]) -> dict[str, Any]:
        _, function = self._group(request)
        self.db.delete_logs(function)
        return {}

    # -- helpers ------------------------------------------------------------------------------------

    def _group(self, request: dict[str, Any]) -> tuple[str, str]:
        name = _text(request, "logGroupName")
        if not name:
            raise LogsError("InvalidParameterException", "logGroupName is required")
        key = group_key(name)
        if not self.db.has_logs(key):
            raise LogsError("ResourceNotFoundException", "The specified log group does not exist.")
        return name, key

    def _events(self, function: str, streams: list[str] | None, request: dict[str, Any], prefix: str | None = None,
                containing: list[str] | None = None) -> list[tuple[Position, int, str, str]]:
        start, end = _time(request, "startTime"), _time(request, "endTime")
        if start is not None and end is not None and end < start:
            raise LogsError("InvalidParameterException", "endTime must be after startTime")
        out = []
        for row, ms, stream, text in self.db.log_rows(function, streams, start, end, prefix, containing):
            for line_number, line in enumerate(text.splitlines()):
                out.append(((row, line_number), ms, stream, line))
        return out

    def _group_arn(self, name: str) -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}"


def group_name(key: str) -> str:
    """A stored group key's log group name: a function's name (no slash in it) is under /aws/lambda/;
    other groups (API Gateway's execution logs, Lambdalite's budget warnings) are stored by name."""
    return key if "/" in key else GROUP_PREFIX + key


def group_key(name: str) -> str:
    rest = name.removeprefix(GROUP_PREFIX)
    return rest if name.startswith(GROUP_PREFIX) and "/" not in rest else name


def parse_filter(pattern: str) -> list[str]:
    """Terms that must all appear: bare words and "quoted phrases". Other valid syntax (`?a`, `-a`,
    `{ $.x = 1 }`, `[...]`, `%regex%`) is refused as not built yet; a malformed pattern as invalid."""
    text = pattern.strip()
    if not text:
        return []
    if text.startswith(("{", "[", "%")):
        raise LogsError("InvalidParameterException",
                        f"Lambdalite does not support JSON, space-delimited or regex filter patterns yet: {pattern}")
    terms = []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|(\S+)', text):
        phrase, word = m.group(1), m.group(2)
        if word is not None:
            if word.startswith(("?", "-")):
                raise LogsError("InvalidParameterException", "Lambdalite does not support ?term (OR) or -term "
                                                             f"(exclusion) in filter patterns yet: {pattern}")
            if '"' in word:
                raise LogsError("InvalidParameterException", f"Invalid filter pattern: {pattern}")
            terms.append(word)
        else:
            terms.append(phrase.replace('\\"', '"'))
    return terms


def _text(request: dict[str, Any], key: str) -> str | None:
    value = request.get(key)
    if value is not None and not isinstance(value, str):
        raise LogsError("InvalidParameterException", f"{key} must be a string")
    return value


def _time(request: dict[str, Any], key: str) -> int | None:
    value = request.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LogsError("InvalidParameterException", f"{key} must be milliseconds since the epoch")
    return value


def _limit(request: dict[str, Any], default: int, most: int) -> int:
    value = request.get("limit", default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise LogsError("InvalidParameterException", f"limit must be a whole number from 1 to {most}")
    return value


def _token(direction: str, position: Position) -> str:
    return f"{direction}/{position[0]:020d}/{position[1]:06d}"


def _position_token(token: Any) -> tuple[bool, Position]:
    if not isinstance(token, str) or not (m := re.fullmatch(r"([fb])/(\d{20})/(\d{6})", token)):
        raise LogsError("InvalidParameterException", "The specified nextToken is invalid.")
    return m.group(1) == "f", (int(m.group(2)), int(m.group(3)))


def _index_after(events: list[tuple[Position, int, str, str]], at: Position) -> int:
    return next((i for i, e in enumerate(events) if e[0] > at), len(events))


def _index_before(events: list[tuple[Position, int, str, str]], at: Position) -> int:
    return next((i for i, e in enumerate(events) if e[0] >= at), len(events))


def _name_token(token: Any, names: list[str]) -> int:
    """Name-ordered paging: the next page starts after the name the token carries."""
    if token is None:
        return 0
    if not isinstance(token, str) or token not in names:
        raise LogsError("InvalidParameterException", "The specified nextToken is invalid.")
    return names.index(token) + 1
