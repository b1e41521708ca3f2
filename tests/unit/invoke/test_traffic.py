"""Champion vs challenger figures and the shadow queue's rules: compare, drop when full or busy, views."""

from __future__ import annotations

import asyncio

import pytest

from lambdalite.invoke import traffic
from lambdalite.invoke.traffic import Traffic, comparable, compare


@pytest.mark.parametrize(("primary", "shadow", "verdict"), [
    (b"10", b"10", "equal"),
    (b'{"a": 1, "b": 2}', b'{"b":2,"a":1}', "equal"),        # the same JSON value, written otherwise
    (b"10", b"15", "different"),
    (b"10", b"10.0", "equal"),                                # JSON numbers compare as numbers
    (b"raw bytes", b"other bytes", "different"),              # not JSON: compared as bytes
    (b"raw", b"raw", "equal"),
])
def test_compare_answers(primary: bytes, shadow: bytes, verdict: str) -> None:
    assert compare(primary, False, shadow, False, None) == verdict


PROXY_A = b'{"statusCode": 200, "body": "{\\"class\\": \\"setosa\\", \\"model\\": \\"logistic\\"}"}'
PROXY_B = b'{"statusCode": 200, "body": "{\\"model\\": \\"forest\\", \\"class\\": \\"setosa\\"}"}'


@pytest.mark.parametrize(("path", "verdict"), [
    (None, "different"),           # whole answers: the model names differ
    ("body.class", "equal"),       # the part that matters: both say setosa
    ("body.model", "different"),
    ("statusCode", "equal"),
    ("body.nope", "different"),    # a path that is not there compares as different, never equal
])
def test_compare_a_part_of_proxy_answers(path: str | None, verdict: str) -> None:
    assert compare(PROXY_A, False, PROXY_B, False, None, path) == verdict


def test_a_proxy_body_is_parsed_so_key_order_does_not_matter() -> None:
    a = b'{"statusCode": 200, "body": "{\\"a\\": 1, \\"b\\": 2}"}'
    b = b'{"body": "{\\"b\\":2,\\"a\\":1}", "statusCode": 200}'
    assert compare(a, False, b, False, None) == "equal"


def test_paths_index_lists() -> None:
    assert comparable(b'{"items": [1, {"k": "v"}]}', "items.1.k") == "v"
    assert compare(b'[1, 2]', False, b'[1, 3]', False, None, "0") == "equal"
    assert compare(b'[1, 2]', False, b'[1, 3]', False, None, "5") == "different"


def test_a_shadow_error_or_timeout_is_its_own_verdict() -> None:
    assert compare(b"1", False, b'{"errorType": "ValueError"}', True, "ValueError") == "shadow_error"
    assert compare(b"1", False, b'{"errorType": "Sandbox.Timedout"}', True, "Sandbox.Timedout") == "shadow_timeout"
    same_error = b'{"errorType": "ValueError", "errorMessage": "x"}'
    assert compare(same_error, True, same_error, True, "ValueError") == "equal"   # both failed alike


def test_record_counts_versions_with_shares_and_percentiles() -> None:
    t = Traffic(run_shadow=None, busy=lambda: False)  # type: ignore[arg-type]
    for ms in range(1, 101):
        t.record("fn", "live", "1", error=ms > 98, ms=float(ms))
    for _ in range(25):
        t.record("fn", "live", "2", error=False, ms=5.0)
    view = t.view("fn", "live")
    assert view["invocations"] == 125
    one, two = view["versions"]["1"], view["versions"]["2"]
    assert (one["invocations"], one["errors"], one["share"]) == (100, 2, 0.8)
    assert (one["p50Ms"], one["p99Ms"]) == (51.0, 100.0)
    assert (two["share"], two["p50Ms"]) == (0.2, 5.0)
    assert view["shadow"] is None
    assert t.view("fn", "other")["invocations"] == 0


def test_forget_drops_a_functions_figures() -> None:
    t = Traffic(run_shadow=None, busy=lambda: False)  # type: ignore[arg-type]
    t.record("fn", "live", "1", False, 1.0)
    t.record("fn", "dev", "2", False, 1.0)
    t.forget("fn", "dev")
    assert t.view("fn", "dev")["invocations"] == 0 and t.view("fn", "live")["invocations"] == 1
    t.forget("fn")
    assert t.view("fn", "live")["invocations"] == 0


def test_shadow_calls_run_after_the_caller_one_at_a_time_and_are_compared() -> None:
    asyncio.run(_one_at_a_time())


async def _one_at_a_time() -> None:
    running, ran = 0, []

    async def run(fn: object, arn: str, payload: bytes) -> tuple[bytes, bool, str | None, float]:
        nonlocal running
        running += 1
        assert running == 1   # one shadow call at a time
        await asyncio.sleep(0.01)
        running -= 1
        ran.append(payload)
        return (b"2" if payload == b"1" else b"wrong"), False, None, 3.0

    t = Traffic(run, busy=lambda: False)
    for n in range(4):
        t.shadow("fn", "live", "2", object(), "arn", str(n).encode(), b"2", False, 1.0)
    assert ran == []                         # queued: nothing ran on the caller's path
    for _ in range(100):
        if len(ran) == 4:
            break
        await asyncio.sleep(0.01)
    shadow = t.view("fn", "live")["shadow"]
    assert (shadow["ran"], shadow["equal"], shadow["different"], shadow["agreement"]) == (4, 1, 3, 0.25)
    assert [s["request"] for s in shadow["samples"]] == ["0", "2", "3"]
    await t.close()


def test_a_full_queue_and_a_busy_machine_drop_and_count(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(traffic, "QUEUE", 2)
    asyncio.run(_drops())


async def _drops() -> None:
    busy = [True]

    async def run(fn: object, arn: str, payload: bytes) -> tuple[bytes, bool, str | None, float]:
        return b"1", False, None, 1.0

    t = Traffic(run, busy=lambda: busy[0])
    for _ in range(5):
        t.shadow("fn", "live", "2", object(), "arn", b"{}", b"1", False, 1.0)
    await asyncio.sleep(0.05)
    shadow = t.view("fn", "live")["shadow"]
    assert (shadow["queued"], shadow["droppedQueueFull"], shadow["droppedBusy"], shadow["ran"]) == (2, 3, 2, 0)
    busy[0] = False
    t.shadow("fn", "live", "2", object(), "arn", b"{}", b"1", False, 1.0)
    await asyncio.sleep(0.05)
    assert t.view("fn", "live")["shadow"]["ran"] == 1
    await t.close()


def test_a_missing_shadow_version_is_counted_and_a_new_shadow_starts_fresh_figures() -> None:
    asyncio.run(_missing())


async def _missing() -> None:
    async def run(fn: object, arn: str, payload: bytes) -> tuple[bytes, bool, str | None, float]:
        raise RuntimeError("the pool broke")

    t = Traffic(run, busy=lambda: False)
    t.shadow("fn", "live", "2", None, "arn", b"{}", b"1", False, 1.0)
    assert t.view("fn", "live")["shadow"]["shadowMissing"] == 1
    t.shadow("fn", "live", "3", object(), "arn", b"{}", b"1", False, 1.0)
    await asyncio.sleep(0.05)
    shadow = t.view("fn", "live")["shadow"]
    assert (shadow["version"], shadow["shadowMissing"], shadow["shadowErrors"]) == ("3", 0, 1)
    await t.close()
