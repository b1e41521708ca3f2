"""Proxy payload 1.0: the event (reference 5.1, traps 9-14) and the response rules (5.2, traps 15-19)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from lambdalite.errors import ProxyResponseError
from lambdalite.gateway.data.events import (
    GatewayRequest,
    InvocationInfo,
    format_request_time,
    group_headers,
    media_type_is_binary,
    parse_proxy_response,
    parse_query,
    proxy_event_v1,
    request_context_v1,
)

EPOCH_MS = 1784888130123  # 24/Jul/2026:10:15:30 +0000
INFO = InvocationInfo(
    api_id="a1b2c3d4e5",
    stage="prod",
    request_id="8f6a3c2e-1d0b-4b2a-9b7e-6c5d4e3f2a10",
    extended_request_id="Vx3kQF1uoAMEbXw=",
    request_time_epoch_ms=EPOCH_MS,
    resource_id="k3x9qp",
    resource_path="/items/{id}",
    account_id="123456789012",
    deployment_id="w2e4r6",
)
HEADERS = (
    ("Accept", "*/*"),
    ("Content-Type", "application/json"),
    ("Host", "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"),
    ("user-agent", "curl/8.5.0"),
    ("X-Trace", "one"),
    ("X-Trace", "two"),
    ("Content-Length", "18"),
    ("Connection", "keep-alive"),
)


def request(**changes: Any) -> GatewayRequest:
    base: dict[str, Any] = {
        "http_method": "POST",
        "path": "/items/42",
        "headers": HEADERS,
        "query_string": "tag=a&tag=b&q=x%2By",
        "body": b'{"name": "widget"}',
        "source_ip": "203.0.113.9",
    }
    base.update(changes)
    return GatewayRequest(**base)


def event(**changes: Any) -> dict[str, Any]:
    return proxy_event_v1(request(**changes), INFO, {"id": "42"})


def test_reference_example_event() -> None:
    got = event()
    assert got["resource"] == "/items/{id}"
    assert got["path"] == "/items/42"
    assert got["httpMethod"] == "POST"
    assert got["queryStringParameters"] == {"tag": "b", "q": "x+y"}
    assert got["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "q": ["x+y"]}
    assert got["pathParameters"] == {"id": "42"}
    assert got["stageVariables"] is None
    assert got["body"] == '{"name": "widget"}'
    assert got["isBase64Encoded"] is False
    assert list(got) == [
        "resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
        "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext", "body",
        "isBase64Encoded",
    ]  # fmt: skip


def test_headers_keep_client_casing_last_value_and_all_values() -> None:
    got = event()
    assert got["headers"]["X-Trace"] == "two"
    assert got["multiValueHeaders"]["X-Trace"] == ["one", "two"]
    assert got["headers"]["Accept"] == "*/*"


def test_user_agent_and_authorization_are_title_cased() -> None:
    got = event(headers=(("user-agent", "x"), ("authorization", "Bearer t"), ("tEsT-HEADeR", "v")))
    assert got["headers"] == {"User-Agent": "x", "Authorization": "Bearer t", "tEsT-HEADeR": "v"}


def test_hop_by_hop_headers_are_dropped() -> None:
    got = event()
    assert "Content-Length" not in got["headers"]
    assert "Connection" not in got["headers"]


def test_nulls_where_aws_puts_null() -> None:
    got = proxy_event_v1(request(query_string="", body=b"", headers=()), INFO, {})
    assert got["queryStringParameters"] is None
    assert got["multiValueQueryStringParameters"] is None
    assert got["pathParameters"] is None
    assert got["stageVariables"] is None
    assert got["body"] is None
    assert got["headers"] is None and got["multiValueHeaders"] is None
    assert got["isBase64Encoded"] is False


def test_stage_variables_when_the_stage_has_some() -> None:
    info = InvocationInfo(**{**_info_fields(), "stage_variables": {"alias": "live"}})
    assert proxy_event_v1(request(), info, {})["stageVariables"] == {"alias": "live"}


def _info_fields() -> dict[str, Any]:
    return {name: getattr(INFO, name) for name in INFO.__slots__}


def test_request_context_fields() -> None:
    context = event()["requestContext"]
    assert context["resourceId"] == "k3x9qp"
    assert context["resourcePath"] == "/items/{id}"
    assert context["httpMethod"] == "POST"
    assert context["extendedRequestId"] == "Vx3kQF1uoAMEbXw="
    assert context["requestTime"] == "24/Jul/2026:10:15:30 +0000"
    assert context["requestTimeEpoch"] == EPOCH_MS
    assert context["path"] == "/prod/items/42"
    assert context["accountId"] == "123456789012"
    assert context["protocol"] == "HTTP/1.1"
    assert context["stage"] == "prod"
    assert context["domainName"] == "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
    assert context["domainPrefix"] == "a1b2c3d4e5"
    assert context["requestId"] == INFO.request_id
    assert context["deploymentId"] == "w2e4r6"
    assert context["apiId"] == "a1b2c3d4e5"


def test_identity_has_real_values_and_nulls() -> None:
    identity = event()["requestContext"]["identity"]
    assert identity["sourceIp"] == "203.0.113.9"
    assert identity["userAgent"] == "curl/8.5.0"
    for key in ("cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller", "principalOrgId", "accessKey"):
        assert identity[key] is None
    assert identity["user"] is None and identity["userArn"] is None


def test_no_authorizer_key_without_authorizer() -> None:
    assert "authorizer" not in event()["requestContext"]
    assert "operationName" not in event()["requestContext"]


def test_operation_name_when_the_method_has_one() -> None:
    info = InvocationInfo(**{**_info_fields(), "operation_name": "GetItem"})
    assert request_context_v1(request(), info)["operationName"] == "GetItem"


def test_local_host_gives_domain_prefix_without_port() -> None:
    context = request_context_v1(request(headers=(("Host", "127.0.0.1:9000"),)), INFO)
    assert context["domainName"] == "127.0.0.1:9000"
    assert context["domainPrefix"] == "127"


def test_path_keeps_trailing_slash_and_encoding() -> None:
    got = event(path="/api/user/test%2Balias@gmail.com/")
    assert got["path"] == "/api/user/test%2Balias@gmail.com/"
    assert got["requestContext"]["path"] == "/prod/api/user/test%2Balias@gmail.com/"


def test_http_method_is_the_real_verb() -> None:
    assert event(http_method="delete")["httpMethod"] == "DELETE"


@pytest.mark.parametrize(
    ("query", "single", "multi"),
    [
        ("price=10&price=20&price=30", {"price": "30"}, {"price": ["10", "20", "30"]}),
        ("q=a+b&r=%2B", {"q": "a b", "r": "+"}, {"q": ["a b"], "r": ["+"]}),
        ("flag", {"flag": ""}, {"flag": [""]}),
        ("", {}, {}),
    ],
)
def test_query_parsing(query: str, single: dict[str, str], multi: dict[str, list[str]]) -> None:
    assert parse_query(query) == (single, multi)


def test_binary_body_is_base64_when_content_type_matches() -> None:
    got = proxy_event_v1(request(headers=(("Content-Type", "image/png"),), body=b"\x89PNG"), INFO, {}, ["image/*"])
    assert got["isBase64Encoded"] is True
    assert base64.b64decode(got["body"]) == b"\x89PNG"


def test_text_body_of_binary_type_is_still_base64() -> None:
    got = proxy_event_v1(request(headers=(("Content-Type", "text/plain"),), body=b"hi"), INFO, {}, ["text/plain"])
    assert got == {**got, "isBase64Encoded": True, "body": "aGk="}


def test_non_utf8_body_falls_back_to_base64() -> None:
    got = event(body=b"\xff\xfe")
    assert got["isBase64Encoded"] is True and got["body"] == "//4="


def test_request_time_formatting_is_locale_free() -> None:
    assert format_request_time(0) == "01/Jan/1970:00:00:00 +0000"
    assert format_request_time(1733011200000) == "01/Dec/2024:00:00:00 +0000"


@pytest.mark.parametrize(
    ("media", "patterns", "expected"),
    [
        ("image/png", ["image/png"], True),
        ("image/png", ["image/*"], True),
        ("image/png; q=1", ["*/*"], True),
        ("IMAGE/PNG", ["image/png"], True),
        ("image/png, text/html", ["image/png"], True),
        ("text/html, image/png", ["image/png"], False),
        ("application/json", ["image/*"], False),
        (None, ["*/*"], False),
        ("nonsense", ["*/*"], False),
    ],
)
def test_media_type_is_binary(media: str | None, patterns: list[str], expected: bool) -> None:
    assert media_type_is_binary(media, patterns) is expected


def test_group_headers_merges_casing_variants_under_first_casing() -> None:
    single, multi = group_headers([("X-A", "1"), ("x-a", "2")])
    assert single == {"X-A": "2"} and multi == {"X-A": ["1", "2"]}


# ---- responses -------------------------------------------------------------------------------


def parse(answer: Any, **kwargs: Any) -> Any:
    return parse_proxy_response(json.dumps(answer).encode(), **kwargs)


def test_minimal_response() -> None:
    got = parse({"statusCode": 200})
    assert got.status == 200 and got.body == b""
    assert got.headers == [("Content-Type", "application/json")]


def test_headers_with_booleans_rendered_lowercase() -> None:
    got = parse({"statusCode": 200, "headers": {"test-header": "value", "header-bool": True}})
    assert ("test-header", "value") in got.headers and ("header-bool", "true") in got.headers


def test_headers_null_is_accepted() -> None:
    assert parse({"statusCode": 200, "headers": None}).status == 200


@pytest.mark.parametrize(
    "answer",
    [
        {"statusCode": 200, "wrongValue": "value"},
        {"statusCode": "test"},
        {"statusCode": 200, "multiValueHeaders": {"test-multi-invalid": "value1"}},
        "justAString",
        ["a"],
        5,
        None,
        {"statusCode": 200, "headers": {"n": 5}},
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": 200, "headers": "x"},
        {"statusCode": 99},
        {"statusCode": True},
        {"statusCode": 200, "cookies": ["a=1"]},
        {"errorMessage": "boom", "errorType": "Exception"},
        {"statusCode": 200, "isBase64Encoded": "yes"},
    ],
)
def test_malformed_answers_are_502(answer: Any) -> None:
    with pytest.raises(ProxyResponseError) as caught:
        parse(answer)
    assert caught.value.status == 502
    assert caught.value.message == "Internal server error"


@pytest.mark.parametrize("payload", [b"", b"not json", b"{", b"\xff"])
def test_non_json_payload_is_502(payload: bytes) -> None:
    with pytest.raises(ProxyResponseError):
        parse_proxy_response(payload)


def test_status_code_as_string() -> None:
    assert parse({"statusCode": "201"}).status == 201


def test_missing_status_code_is_200() -> None:
    got = parse({"headers": {"test-header": "value"}})
    assert got.status == 200 and ("test-header", "value") in got.headers


def test_multi_value_headers_keep_each_value() -> None:
    got = parse({"statusCode": 200, "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}})
    assert [v for k, v in got.headers if k == "Set-Cookie"] == ["a=1", "b=2"]


def test_same_header_in_both_maps_multi_first_with_multi_casing() -> None:
    got = parse(
        {
            "statusCode": 200,
            "multiValueHeaders": {"tesT-Multi": ["value-multi"]},
            "headers": {"test-multi": "value-solo"},
        }
    )
    assert [(k, v) for k, v in got.headers if k.lower() == "test-multi"] == [
        ("tesT-Multi", "value-multi"),
        ("tesT-Multi", "value-solo"),
    ]


def test_headers_api_gateway_owns_are_remapped() -> None:
    got = parse({"headers": {"Date": "d", "server": "s", "X-Ok": "1"},
                 "multiValueHeaders": {"Content-Length": ["5"], "Connection": ["close"]}})
    assert got.headers == [("Content-Type", "application/json"), ("x-amzn-Remapped-Date", "d"),
                           ("x-amzn-Remapped-server", "s"), ("X-Ok", "1"),
                           ("x-amzn-Remapped-Content-Length", "5"), ("x-amzn-Remapped-Connection", "close")]


def test_function_content_type_replaces_the_default() -> None:
    got = parse({"statusCode": 200, "headers": {"content-type": "text/html"}, "body": "<p>"})
    assert [k for k, _ in got.headers if k.lower() == "content-type"] == ["content-type"]
    assert got.body == b"<p>"


def test_base64_body_is_returned_as_text_without_binary_support() -> None:
    encoded = base64.b64encode(b"test-data").decode()
    assert parse({"statusCode": 200, "body": encoded, "isBase64Encoded": True}).body == b"dGVzdC1kYXRh"


def test_base64_body_is_decoded_when_accept_matches_binary_types() -> None:
    encoded = base64.b64encode(b"\x89PNG").decode()
    answer = {"statusCode": 200, "body": encoded, "isBase64Encoded": True}
    assert parse(answer, binary_media_types=["image/png"], accept="image/png").body == b"\x89PNG"
    assert parse(answer, binary_media_types=["image/png"], accept="text/html, image/png").body == encoded.encode()


def test_invalid_base64_body_with_binary_support_is_500() -> None:
    answer = {"statusCode": 200, "body": "***", "isBase64Encoded": True}
    with pytest.raises(ProxyResponseError) as caught:
        parse(answer, binary_media_types=["*/*"], accept="*/*")
    assert caught.value.status == 500


def test_unicode_body_is_utf8() -> None:
    assert parse({"statusCode": 200, "body": "é"}).body == "é".encode()
