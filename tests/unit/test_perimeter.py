"""The perimeter: which requests reach the management and invoke APIs (pure)."""

from __future__ import annotations

import pytest

from lambdalite import errors
from lambdalite.perimeter import Perimeter, host_name

P = Perimeter("127.0.0.1", ["devbox.internal"])


@pytest.mark.parametrize(("given", "name"), [
    ("127.0.0.1:9000", "127.0.0.1"), ("LOCALHOST", "localhost"), ("[::1]:9000", "::1"), ("[::1]", "::1"),
    ("::1", "::1"), ("a1b2c3d4e5.execute-api.localhost:9000", "a1b2c3d4e5.execute-api.localhost"),
])
def test_host_names(given: str, name: str) -> None:
    assert host_name(given) == name


@pytest.mark.parametrize(("host", "ok"), [
    ("127.0.0.1:9000", True), ("localhost:9000", True), ("[::1]:9000", True), ("devbox.internal:9000", True),
    ("a1b2c3d4e5.execute-api.localhost:9000", True), (None, True),
    ("evil.example", False), ("evil.example:9000", False), ("127.0.0.1.evil.example", False),
    ("localhost.evil.example", False), ("execute-api.localhost.evil.example", False), ("", False),
])
def test_hosts(host: str | None, ok: bool) -> None:
    assert P.host_ok(host) is ok


def test_the_bound_address_is_allowed_and_wildcards_are_not_names() -> None:
    assert Perimeter("10.0.0.5").host_ok("10.0.0.5:9000")
    assert not Perimeter("0.0.0.0").host_ok("0.0.0.0:9000")
    assert not Perimeter("127.0.0.1").host_ok("10.0.0.5:9000")


@pytest.mark.parametrize(("origin", "ok"), [
    (None, True), ("http://127.0.0.1:9000", True), ("http://localhost:9000", True), ("http://[::1]:9000", True),
    ("null", False), ("http://evil.example", False), ("http://127.0.0.1:3000", False),
    ("http://localhost", False), ("file://", False), ("http://127.0.0.1:notaport", False), ("", False),
])
def test_origins(origin: str | None, ok: bool) -> None:
    assert P.origin_ok(origin, 9000) is ok


def headers(**given: str) -> list[tuple[bytes, bytes]]:
    return [(k.replace("_", "-").encode(), v.encode()) for k, v in given.items()]


def test_refusals_name_what_to_do() -> None:
    assert P.refusal(headers(host="127.0.0.1:9000", content_type="application/json", content_length="2"), 9000) is None
    foreign = P.refusal(headers(host="127.0.0.1:9000", origin="http://evil.example"), 9000)
    assert isinstance(foreign, errors.ForeignRequest) and foreign.status == 403 and "evil.example" in foreign.message
    rebound = P.refusal(headers(host="evil.example"), 9000)
    assert isinstance(rebound, errors.ForeignRequest) and "--allowed-host" in rebound.message
    text = P.refusal(headers(host="127.0.0.1:9000", content_type="text/plain;charset=UTF-8", content_length="2"), 9000)
    assert isinstance(text, errors.UnsupportedMediaTypeError) and text.status == 415


@pytest.mark.parametrize("kind", ["text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"])
def test_bodies_browsers_send_without_a_preflight_are_refused(kind: str) -> None:
    assert P.refusal(headers(content_type=kind, content_length="5"), 9000) is not None
    assert P.refusal(headers(content_type=kind, transfer_encoding="chunked"), 9000) is not None


def test_what_aws_clients_send_passes() -> None:
    for kind in ("application/json", "application/x-amz-json-1.1", "application/x-amz-json-1.0", "application/zip",
                 "application/octet-stream", "binary/octet-stream"):
        assert P.refusal(headers(content_type=kind, content_length="5"), 9000) is None
    assert P.refusal(headers(content_type="application/x-www-form-urlencoded", content_length="5"), 9000,
                     form_allowed=True) is None      # the query protocol
    assert P.refusal(headers(content_type="text/plain", content_length="0"), 9000) is None   # no body
    assert P.refusal(headers(content_length="5"), 9000) is None   # no type at all: boto3's Invoke payload
