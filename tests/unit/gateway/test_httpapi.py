"""HTTP APIs, the pure parts: route keys, routes from OpenAPI 3, route priority, the 2.0 event and
the 2.0 answer (reference/apigateway-sam.md 6.1-6.3)."""

from __future__ import annotations

import base64
import json

import pytest

from lambdalite.gateway.data.http_events import ResponseError, event_v2, response_v2
from lambdalite.gateway.httpapi import (
    Integration,
    RouteKeyError,
    RouteTable,
    authorizers_from_openapi,
    claims_first_segment,
    function_of,
    parse_route_key,
    routes_from_openapi,
)
from lambdalite.gateway.urls import http_api_path, parse_http_api_path


def table(*keys: str) -> RouteTable:
    return RouteTable([(key, Integration(key, "fn")) for key in keys])


def test_route_priority_as_the_docs_example_has_it() -> None:
    routes = table("GET /pets/dog/1", "GET /pets/dog/{id}", "GET /pets/{proxy+}", "ANY /{proxy+}", "$default")
    assert routes.match("GET", "/pets/dog/1").key == "GET /pets/dog/1"
    found = routes.match("GET", "/pets/dog/2")
    assert found.key == "GET /pets/dog/{id}" and found.path_parameters == {"id": "2"}
    found = routes.match("GET", "/pets/cat/1")
    assert found.key == "GET /pets/{proxy+}" and found.path_parameters == {"proxy": "cat/1"}
    assert routes.match("POST", "/test/5").key == "ANY /{proxy+}"
    assert routes.match("GET", "/").key == "$default"   # {proxy+} needs a segment


def test_a_concrete_method_beats_any_and_no_route_is_none() -> None:
    routes = table("ANY /items/{id}", "GET /items/{id}")
    assert routes.match("GET", "/items/7").key == "GET /items/{id}"
    assert routes.match("DELETE", "/items/7").key == "ANY /items/{id}"
    assert routes.match("GET", "/items") is None and routes.match("GET", "/items/7/x") is None
    assert table("GET /").match("GET", "/").key == "GET /"


@pytest.mark.parametrize("key", ["GET items", "FETCH /items", "GET", "", "get/items", "GET /a b"])
def test_malformed_route_keys_are_refused(key: str) -> None:
    with pytest.raises(RouteKeyError, match="route key must be"):
        parse_route_key(key)


def test_route_keys_parse() -> None:
    assert parse_route_key("$default") == ("", "")
    assert parse_route_key("get /items/{id}") == ("GET", "/items/{id}")


def test_routes_come_from_openapi_3_as_sam_writes_them() -> None:
    uri = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:f"
           "/invocations")
    definition = {"openapi": "3.0.1", "paths": {
        "/hello/{name}": {"get": {"x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": uri,
                                                                       "payloadFormatVersion": "2.0"}},
                          "parameters": [{"name": "name", "in": "path"}]},
        "/$default": {"x-amazon-apigateway-any-method": {"x-amazon-apigateway-integration": {
            "type": "aws_proxy", "uri": uri, "payloadFormatVersion": "1.0", "timeoutInMillis": 5000}}}}}
    routes = dict(routes_from_openapi(definition))
    assert routes["GET /hello/{name}"]["payloadFormatVersion"] == "2.0"
    assert routes["$default"] == {"integrationUri": uri, "payloadFormatVersion": "1.0", "timeoutInMillis": 5000,
                                  "security": []}
    assert function_of(uri) == "arn:aws:lambda:us-east-1:1:function:f" and function_of("f") == "f"


def test_authorizers_and_route_security_as_sam_writes_them() -> None:
    integration = {"type": "aws_proxy", "uri": "f", "payloadFormatVersion": "2.0"}
    definition = {"openapi": "3.0.1", "security": [{"Jwt": []}], "paths": {
        "/a": {"get": {"x-amazon-apigateway-integration": integration, "security": [{"Jwt": ["read"]}]}},
        "/b": {"get": {"x-amazon-apigateway-integration": integration}}},
        "components": {"securitySchemes": {
            "Jwt": {"type": "oauth2", "x-amazon-apigateway-authorizer": {
                "type": "jwt", "identitySource": "$request.header.Authorization",
                "jwtConfiguration": {"issuer": "https://issuer", "audience": ["x"]}}},
            "Key": {"type": "apiKey", "name": "x-api-key", "in": "header"}}}}
    routes = dict(routes_from_openapi(definition))
    assert (routes["GET /a"]["security"], routes["GET /b"]["security"]) == ([("Jwt", ["read"])], [("Jwt", [])])
    assert authorizers_from_openapi(definition) == {"Jwt": {
        "name": "Jwt", "authorizerType": "JWT", "identitySource": ["$request.header.Authorization"],
        "jwtConfiguration": {"issuer": "https://issuer", "audience": ["x"]}}}


@pytest.mark.parametrize(("operation", "says"), [
    ({"summary": "no integration"}, "no x-amazon-apigateway-integration"),
    ({"x-amazon-apigateway-integration": {"type": "http_proxy", "uri": "https://x"}}, "http_proxy is not supported"),
    ({"x-amazon-apigateway-integration": {"type": "aws_proxy", "payloadFormatVersion": "3.0"}}, "1.0 or 2.0"),
    ({"x-amazon-apigateway-integration": {"type": "aws_proxy", "timeoutInMillis": 40000}}, "50 to 30000"),
])
def test_definitions_that_cannot_be_served_are_refused(operation: dict[str, object], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        routes_from_openapi({"paths": {"/a": {"get": operation}}})
    with pytest.raises(ValueError, match="paths must be an object"):
        routes_from_openapi({"paths": []})


def test_the_long_form_names_api_and_stage() -> None:
    assert http_api_path("abc", "$default", "/hello/ada") == "/httpapis/abc/$default/_user_request_/hello/ada"
    assert parse_http_api_path("/httpapis/abc/dev/_user_request_/x/y") == ("abc", "dev", "/x/y")
    assert parse_http_api_path("/httpapis/abc/dev/_user_request_") == ("abc", "dev", "/")
    assert parse_http_api_path("/httpapis/abc/dev/other/x") is None


def event(**given: object) -> dict[str, object]:
    base: dict[str, object] = dict(
        method="GET", raw_path="/items/42", raw_query="tag=a&tag=b", route_key="GET /items/{id}",
        headers=[("Accept", "*/*"), ("X-Trace", "one"), ("X-Trace", "two"), ("Cookie", "sid=abc; theme=dark"),
                 ("User-Agent", "curl/8"), ("Content-Length", "0")],
        body=b"", path_parameters={"id": "42"}, stage="$default", stage_variables={}, api_id="a1b2c3d4e5",
        account="000000000000", request_id="rid=", epoch_ms=1784888130123, source_ip="127.0.0.1",
        protocol="HTTP/1.1", domain="a1b2c3d4e5.execute-api.us-east-1.amazonaws.com")
    base.update(given)
    return event_v2(**base)  # type: ignore[arg-type]


def test_the_2_0_event() -> None:
    got = event()
    assert (got["version"], got["routeKey"], got["rawPath"], got["rawQueryString"]) == \
        ("2.0", "GET /items/{id}", "/items/42", "tag=a&tag=b")
    assert got["cookies"] == ["sid=abc", "theme=dark"]
    assert got["headers"] == {"accept": "*/*", "x-trace": "one,two", "user-agent": "curl/8"}
    assert got["queryStringParameters"] == {"tag": "a,b"} and got["pathParameters"] == {"id": "42"}
    context = got["requestContext"]
    assert context["http"] == {"method": "GET", "path": "/items/42", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                               "userAgent": "curl/8"}
    assert (context["stage"], context["routeKey"], context["timeEpoch"]) == ("$default", "GET /items/{id}",
                                                                            1784888130123)
    assert context["time"] == "24/Jul/2026:10:15:30 +0000" and context["domainPrefix"] == "a1b2c3d4e5"
    assert got["isBase64Encoded"] is False and "body" not in got and "stageVariables" not in got


def test_empty_parts_are_left_out_never_null() -> None:
    got = event(raw_query="", headers=[], path_parameters={})
    assert got["rawQueryString"] == ""
    assert not {"cookies", "queryStringParameters", "pathParameters", "stageVariables", "body"} & set(got)
    assert None not in got.values()


def test_bodies_are_text_or_base64_by_content_type() -> None:
    text = event(body=b'{"a": 1}', headers=[("Content-Type", "application/json")])
    assert (text["body"], text["isBase64Encoded"]) == ('{"a": 1}', False)
    binary = event(body=b"\x89PNG", headers=[("Content-Type", "image/png")])
    assert (base64.b64decode(binary["body"]), binary["isBase64Encoded"]) == (b"\x89PNG", True)


def test_answers_with_a_status_code_are_responses() -> None:
    status, headers, body = response_v2(json.dumps({
        "statusCode": 201, "headers": {"x-flag": True, "content-type": "text/plain"}, "cookies": ["a=1", "b=2"],
        "body": "hi", "extra": "ignored"}).encode())
    assert (status, body) == (201, b"hi")
    assert headers == [("x-flag", "true"), ("content-type", "text/plain"), ("set-cookie", "a=1"), ("set-cookie", "b=2")]
    assert response_v2(b'{"statusCode": "204"}') == (204, [("content-type", "application/json")], b"")
    encoded = json.dumps({"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True})
    assert response_v2(encoded.encode())[2] == b"\x00\x01"


def test_other_json_is_a_200_json_answer() -> None:
    assert response_v2(b'{"message": "Hello"}') == (200, [("content-type", "application/json")],
                                                    b'{"message": "Hello"}')
    assert response_v2(b'"Hello from Lambda!"')[2] == b"Hello from Lambda!"
    assert response_v2(b"[1, 2]")[2] == b"[1, 2]" and response_v2(b"7")[0] == 200


@pytest.mark.parametrize("payload", [b"not json", b'{"statusCode": "abc"}', b'{"statusCode": 700}',
                                     b'{"statusCode": 200, "headers": []}', b'{"statusCode": 200, "cookies": "a=1"}',
                                     b'{"statusCode": 200, "body": "!!", "isBase64Encoded": true}',
                                     b'{"statusCode": true}'])
def test_answers_api_gateway_cannot_use_are_refused(payload: bytes) -> None:
    with pytest.raises(ResponseError):
        response_v2(payload)


@pytest.mark.parametrize(("keys", "claims"), [
    (("$default",), True),
    (("ANY /{proxy+}",), True),
    (("GET /{id}",), True),
    (("GET /Prod/items",), True),
    (("GET /items/{id}", "POST /orders"), False),
    (("GET /",), False),
    (("GET /Production",), False),
    ((), False),
])
def test_which_routes_could_answer_a_rest_short_form(keys: tuple[str, ...], claims: bool) -> None:
    routes = [(key, Integration(key, "fn")) for key in keys]
    assert claims_first_segment(routes, "Prod") is claims
