"""What a warm instance answers: results, function errors, marshalling, output, context."""

from __future__ import annotations

import json
import re

from lambdalite.pool.types import InstanceSpec, Outcome

ECHO = """
import os
calls = 0
def handler(event, context):
    global calls
    calls += 1
    return {"event": event, "calls": calls, "pid": os.getpid()}
"""


def body(outcome: Outcome) -> object:
    return json.loads(outcome.body)


async def test_handler_returns_a_value_and_globals_persist(make_spec, invoke) -> None:
    spec: InstanceSpec = make_spec(ECHO)
    first = await invoke(spec, b'{"a": 1}')
    second = await invoke(spec, b'[1, 2]')
    assert not first.function_error and not first.raw
    assert body(first)["event"] == {"a": 1} and body(first)["calls"] == 1
    assert body(second)["event"] == [1, 2] and body(second)["calls"] == 2
    assert body(first)["pid"] == body(second)["pid"]
    assert first.init_duration_ms is not None and first.init_duration_ms > 0
    assert second.init_duration_ms is None
    assert first.duration_ms >= 0 and 1 <= first.max_memory_mb < 200   # its own charge (cgroup), or RSS


async def test_empty_event_is_an_empty_object(make_spec, invoke) -> None:
    outcome = await invoke(make_spec(ECHO), b"")
    assert body(outcome)["event"] == {}


async def test_invalid_event_is_an_unmarshal_error(make_spec, invoke) -> None:
    outcome = await invoke(make_spec(ECHO), b"{nope")
    assert outcome.function_error and outcome.error_type == "Runtime.UnmarshalError"
    assert body(outcome) == {
        "errorMessage": "Unable to unmarshal input: Expecting property name enclosed in double quotes: "
                        "line 1 column 2 (char 1)",
        "errorType": "Runtime.UnmarshalError", "requestId": body(outcome)["requestId"], "stackTrace": []}


async def test_handler_raises(make_spec, invoke, code_folder) -> None:
    spec = make_spec("""
        def handler(event, context):
            helper()

        def helper():
            raise ValueError("order 42 not found")
    """)
    outcome = await invoke(spec, request_id="3f7c1a52-0d8e-4b5e-9a61-2f4a7a0c9b11")
    error = body(outcome)
    assert outcome.function_error and outcome.error_type == "ValueError"
    assert error["errorMessage"] == "order 42 not found" and error["errorType"] == "ValueError"
    assert error["requestId"] == "3f7c1a52-0d8e-4b5e-9a61-2f4a7a0c9b11"
    app = f"{code_folder(spec)}/app.py"
    assert error["stackTrace"] == [
        f'  File "{app}", line 3, in handler\n    helper()\n',
        f'  File "{app}", line 6, in helper\n    raise ValueError("order 42 not found")\n',
    ]
    assert ("[ERROR] ValueError: order 42 not found\rTraceback (most recent call last):\r"
            f'\u00a0\u00a0File "{app}", line 3, in handler\r\u00a0\u00a0\u00a0\u00a0helper()\r') in outcome.output
    assert outcome.output.endswith("\n")


async def test_a_set_is_a_marshal_error(make_spec, invoke) -> None:
    outcome = await invoke(make_spec("def handler(event, context):\n    return {1, 2}\n"))
    assert outcome.function_error and outcome.error_type == "Runtime.MarshalError"
    error = body(outcome)
    assert error["errorMessage"] == "Unable to marshal response: Object of type set is not JSON serializable"
    assert error["stackTrace"] == []
    assert "[ERROR] Runtime.MarshalError: Unable to marshal response" in outcome.output


async def test_bytes_are_returned_raw(make_spec, invoke) -> None:
    outcome = await invoke(make_spec("def handler(event, context):\n    return b'\\x00\\xffraw'\n"))
    assert outcome.raw and not outcome.function_error and outcome.body == b"\x00\xffraw"


async def test_json_as_awslambdaric_writes_it(make_spec, invoke) -> None:
    spec = make_spec("""
        from decimal import Decimal
        def handler(event, context):
            return [None, float("nan"), Decimal("1.10"), "caf\\u00e9", (1, 2)]
    """)
    outcome = await invoke(spec)
    assert outcome.body == b'[null, NaN, 1.10, "caf\\u00e9", [1, 2]]'   # python3.11 escapes non-ASCII
    none = await invoke(make_spec("def handler(event, context):\n    return None\n"))
    assert none.body == b"null"


async def test_prints_and_stderr_go_to_the_output(make_spec, invoke) -> None:
    spec = make_spec("""
        import os, sys
        print("at import")
        def handler(event, context):
            print("hello", event["n"])
            sys.stderr.write("to stderr\\n")
            sys.stdout.write("no newline")
            os.write(1, b"fd level\\n")
            context.log("via context\\n")
            if event.get("big"):
                print("x" * 1_000_000)
            return 1
    """)
    first = await invoke(spec, b'{"n": 1}')
    # fd-level bytes travel apart (a pipe) and may land anywhere between the framed lines
    framed = first.output.replace("fd level\n", "")
    assert "at import\nhello 1\nto stderr\nno newline" in framed
    assert "via context\n" in first.output
    second = await invoke(spec, b'{"n": 2, "big": true}')
    framed = second.output.replace("fd level\n", "")   # (the first call's may arrive this late too)
    assert "hello 2\n" in framed and "x" * 1_000_000 + "\n" in framed
    assert "fd level\n" in first.output + second.output   # the pipe is best effort in timing


async def test_output_is_capped(make_spec, invoke) -> None:
    outcome = await invoke(make_spec("def handler(event, context):\n    print('y' * 6_000_000)\n"))
    assert len(outcome.output) < 4_300_000
    assert "[lambdalite] output truncated" in outcome.output


async def test_logging_lines_as_on_aws(make_spec, invoke) -> None:
    spec = make_spec("""
        import logging
        def handler(event, context):
            logging.info("not shown: the root level stays WARNING")
            logging.warning("careful %s", 1)
            logging.getLogger("mine").error("bad")
    """)
    outcome = await invoke(spec, request_id="8f0d3c1e-6a2b-4f5e-9c7d-1e2f3a4b5c6d")
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert re.fullmatch(rf"\[WARNING\]\t{stamp}\t8f0d3c1e-6a2b-4f5e-9c7d-1e2f3a4b5c6d\tcareful 1\n"
                        rf"\[ERROR\]\t{stamp}\t8f0d3c1e-6a2b-4f5e-9c7d-1e2f3a4b5c6d\tbad\n", outcome.output)


async def test_response_over_6_mb(make_spec, invoke) -> None:
    spec = make_spec("""
        import os
        def handler(event, context):
            return "x" * event["n"] if event["n"] else os.getpid()
    """)
    big = await invoke(spec, b'{"n": 6300000}')
    assert big.function_error and big.error_type == "Function.ResponseSizeTooLarge"
    assert json.loads(big.body) == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge"}
    just_under = await invoke(spec, b'{"n": 6291554}')   # plus two quotes: exactly the limit
    assert not just_under.function_error and len(just_under.body) == 6291556
    again = await invoke(spec, b'{"n": 0}')
    assert not again.function_error   # the instance is still usable


async def test_context_fields(make_spec, invoke) -> None:
    spec = make_spec("""
        import time
        def handler(event, context):
            first = context.get_remaining_time_in_millis()
            time.sleep(0.05)
            return {
                "request_id": context.aws_request_id, "name": context.function_name,
                "version": context.function_version, "arn": context.invoked_function_arn,
                "memory": context.memory_limit_in_mb, "group": context.log_group_name,
                "stream": context.log_stream_name,
                "identity": [context.identity.cognito_identity_id,
                             context.identity.cognito_identity_pool_id],
                "client_context": None if context.client_context is None else
                    [context.client_context.custom, context.client_context.env,
                     context.client_context.client.app_title],
                "tenant_id": context.tenant_id,
                "remaining": [first, context.get_remaining_time_in_millis()],
            }
    """, timeout_s=2.0)
    arn = "arn:aws:lambda:us-east-1:000000000000:function:fn:live"
    outcome = await invoke(spec, request_id="r-1", invoked_arn=arn)
    result = body(outcome)
    assert result["request_id"] == "r-1" and result["arn"] == arn
    assert result["name"] == "fn" and result["version"] == "$LATEST" and result["memory"] == "128"
    assert result["group"] == "/aws/lambda/fn"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", result["stream"])   # the instance's own
    assert outcome.log_stream == result["stream"]
    assert result["identity"] == [None, None] and result["client_context"] is None
    assert result["tenant_id"] is None
    first, later = result["remaining"]
    assert 1800 < first <= 2000 and later <= first - 40
    context = json.dumps({"custom": {"k": "v"}, "env": {"e": 1}, "client": {"app_title": "t"}})
    result = body(await invoke(spec, client_context=context))
    assert result["client_context"] == [{"k": "v"}, {"e": 1}, "t"]
    bad = await invoke(spec, client_context="{nope")
    assert bad.error_type == "Runtime.LambdaContextUnmarshalError"

