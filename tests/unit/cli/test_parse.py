"""The CLI's pure helpers: --since, --event, the function table, the one-line function error."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from lambdalite.cli.output import (
    describe_function_error,
    format_last_modified,
    format_table,
    function_table,
)
from lambdalite.cli.parse import parse_age_s, parse_event, parse_since, parse_time_ms
from lambdalite.client import InvokeResult

NOW_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@pytest.mark.parametrize(("text", "seconds"), [
    ("30s", 30), ("10m", 600), ("1h", 3600), ("2d", 172_800), ("1w", 604_800),
    ("1h30m", 5400), ("1H", 3600), (" 10m ", 600), ("0s", 0),
])
def test_age(text: str, seconds: int) -> None:
    assert parse_age_s(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "10", "10x", "1.5h", "-5m", "h1"])
def test_not_an_age(text: str) -> None:
    with pytest.raises(ValueError, match="is not an age"):
        parse_age_s(text)


@pytest.mark.parametrize(("text", "ago_ms"), [("30s", 30_000), ("10m", 600_000), ("1h", 3_600_000),
                                              ("1h30m", 5_400_000)])
def test_since_age_counts_back_from_now(text: str, ago_ms: int) -> None:
    assert parse_since(text, NOW_MS) == NOW_MS - ago_ms


@pytest.mark.parametrize("text", ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00",
                                  "2026-01-01 01:00:00+01:00", "2026-01-01T00:00:00.000+00:00"])
def test_since_iso_time_with_offset(text: str) -> None:
    assert parse_since(text, now_ms=0) == NOW_MS


def test_since_iso_time_without_offset_is_local_time() -> None:
    local = datetime(2026, 1, 1, 9, 30)
    assert parse_since("2026-01-01T09:30", now_ms=0) == int(local.timestamp() * 1000)
    assert parse_time_ms("2026-01-01") == int(datetime(2026, 1, 1).timestamp() * 1000)


def test_since_bare_number_asks_for_a_unit() -> None:
    with pytest.raises(ValueError, match="'10' has no unit; write 10s, 10m or 10h"):
        parse_since("10", NOW_MS)


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "10 minutes", "1.5h"])
def test_since_rejects_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError, match="an age .* or an ISO time"):
        parse_since(text, NOW_MS)


@pytest.mark.parametrize("text", ['{"num": "15"}', "[1, 2]", '"text"', "3", "null", ' {"a": {"b": []}} \n'])
def test_event_json_is_kept_byte_for_byte(text: str) -> None:
    assert parse_event(text, "--event") == text.encode()
    assert parse_event(text.encode(), "the file") == text.encode()


@pytest.mark.parametrize(("text", "where"), [
    ("{bad", "line 1 column 2"), ("", "line 1 column 1"), ('{"a": 1,\n}', "line 2 column 1"),
    ("{'a': 1}", "line 1 column 2"),
])
def test_event_not_json_says_where(text: str, where: str) -> None:
    with pytest.raises(ValueError, match=f"^--event is not valid JSON: .* at {where}$"):
        parse_event(text, "--event")


def test_event_not_utf8() -> None:
    with pytest.raises(ValueError, match="ev.json is not"):
        parse_event(b'"\xff\xfe\xfa"', "ev.json")


def test_table_aligns_columns_without_trailing_blanks() -> None:
    table = format_table(("A", "LONGER"), [["xyz", "1"], ["p", "22"]])
    assert table.splitlines() == ["A    LONGER", "xyz  1", "p    22"]


def test_table_headers_only() -> None:
    assert format_table(("NAME", "RUNTIME"), []) == "NAME  RUNTIME"


def test_last_modified() -> None:
    assert format_last_modified("2026-01-12T09:30:05.123+0000") == "2026-01-12 09:30:05 UTC"
    assert format_last_modified("2026-01-12T10:30:05.123+0100") == "2026-01-12 09:30:05 UTC"
    assert format_last_modified("whenever") == "whenever"


def test_function_table_sorted_by_name() -> None:
    configs = [
        {"FunctionName": "zeta", "Runtime": "python3.12", "MemorySize": 512, "Timeout": 30,
         "LastModified": "2026-01-12T09:30:05.000+0000"},
        {"FunctionName": "addfive", "Runtime": "python3.11", "MemorySize": 128, "Timeout": 3,
         "LastModified": "2026-01-11T08:00:00.000+0000"},
    ]
    assert function_table(configs).splitlines() == [
        "NAME     RUNTIME     MEMORY  TIMEOUT  LAST MODIFIED",
        "addfive  python3.11  128 MB  3 s      2026-01-11 08:00:00 UTC",
        "zeta     python3.12  512 MB  30 s     2026-01-12 09:30:05 UTC",
    ]


def test_function_error_names_type_message_and_request() -> None:
    payload = json.dumps({"errorMessage": "order 42 not found", "errorType": "ValueError",
                          "requestId": "r-1", "stackTrace": []}).encode()
    text = describe_function_error("orders", "Unhandled", payload, "r-1")
    first, second = text.splitlines()
    assert first == "function orders failed (Unhandled, request r-1): ValueError: order 42 not found"
    assert "`lambdalite logs orders`" in second


def test_function_error_without_lambda_shape() -> None:
    text = describe_function_error("f", "Unhandled", b"not json", None)
    assert text.splitlines()[0] == "function f failed (Unhandled): the function returned an error"


def test_invoke_result_json() -> None:
    assert InvokeResult(200, b"20").json() == 20
    assert InvokeResult(200, b"").json() is None
    assert InvokeResult(200, b'{"a": "\\u00e9"}').text == '{"a": "\\u00e9"}'
