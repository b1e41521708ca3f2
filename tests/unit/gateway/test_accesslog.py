"""Access logs: AccessLogSettings checked, and a line made from a request's $context."""

from __future__ import annotations

import pytest

from lambdalite.gateway.accesslog import log_group_of, render, request_time, settings_of

ARN = "arn:aws:logs:us-east-1:000000000000:log-group:/my/access"


@pytest.mark.parametrize(("arn", "group"), [
    (ARN, "/my/access"), (ARN + ":*", "/my/access"), ("arn:aws-cn:logs:cn-north-1:1:log-group:g", "g"),
    ("arn:aws:s3:::bucket", None), ("log-group:/my/access", None), ("", None),
])
def test_the_log_group_a_destination_names(arn: str, group: str | None) -> None:
    assert log_group_of(arn) == group


def test_settings_in_either_casing_and_off_when_empty() -> None:
    assert settings_of({"destinationArn": ARN, "format": "$context.requestId"}) == ("/my/access", "$context.requestId")
    assert settings_of({"DestinationArn": ARN, "Format": "$context.extendedRequestId $context.status"}) == \
        ("/my/access", "$context.extendedRequestId $context.status")
    assert settings_of(None) is None and settings_of({}) is None


@pytest.mark.parametrize("bad", [
    {"destinationArn": "arn:aws:s3:::b", "format": "$context.requestId"},
    {"destinationArn": ARN, "format": "$context.status"},          # no request id
    {"destinationArn": ARN},
    {"format": "$context.requestId"},
    "text",
])
def test_bad_settings_say_what_is_wrong(bad: object) -> None:
    with pytest.raises(ValueError):
        settings_of(bad)


def test_render_fills_known_variables_and_dashes_the_rest() -> None:
    line = render('$context.requestId "$context.httpMethod $context.routeKey" $context.status $context.nope '
                  '$context.identity.sourceIp $context.error.message',
                  {"requestId": "r1", "httpMethod": "GET", "routeKey": "GET /x", "status": 200,
                   "identity.sourceIp": "127.0.0.1", "error.message": ""})
    assert line == 'r1 "GET GET /x" 200 - 127.0.0.1 -'
    assert render("no variables here", {}) == "no variables here"


def test_request_time_is_clf() -> None:
    assert request_time(0) == "01/Jan/1970:00:00:00 +0000"
