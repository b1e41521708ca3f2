"""SigV4 checked with botocore's canonical rules: requests signed by botocore itself (boto3's signer,
presigned URLs) pass; anything changed after signing, or signed with other keys, scopes or dates, fails
with AWS's answers."""

from __future__ import annotations

import random
import time
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambdalite.signing import (
    InvalidSignature,
    MissingToken,
    UnrecognizedClient,
    Verifier,
    client_credentials,
    new_key,
    sign,
)

KEY, SECRET = "AKIALAMBDALITETEST01", "secret-0123456789abcdef0123456789abcdef"
BASE = "http://127.0.0.1:9000"


def verifier(now: float | None = None) -> Verifier:
    return Verifier({KEY: SECRET}, "us-east-1", (lambda: now) if now is not None else time.time)


def check(v: Verifier, method: str, url: str, headers: dict[str, str], body: bytes = b"") -> str:
    parts = urlsplit(url)
    return v.check(method, parts.path, parts.query, list(headers.items()), body)


def signed(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
           key: tuple[str, str] = (KEY, SECRET), region: str = "us-east-1") -> dict[str, str]:
    return sign(method, BASE + path, {"Host": "127.0.0.1:9000", **(headers or {})}, body, key, region)


def test_a_request_botocore_signed_passes() -> None:
    for method, path, body in (("GET", "/2015-03-31/functions/", b""),
                               ("POST", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000"
                                        "%3Afunction%3Af/invocations", b'{"num": 5}'),
                               ("GET", "/2015-03-31/functions/?Marker=a%2Bb&MaxItems=10", b""),
                               ("GET", "/restapis/abc/stages", b"")):
        headers = signed(method, path, body, {"Content-Type": "application/json"})
        assert check(verifier(), method, BASE + path, headers, body) == KEY


def test_random_requests_signed_by_botocore_all_pass() -> None:
    """A differential test: many requests botocore signs, each read back by the verifier."""
    rng = random.Random(7)
    alphabet = "abcXYZ09-_.~ %+/:=&?"
    v = verifier()
    for _ in range(300):
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        from urllib.parse import quote
        path = "/2015-03-31/functions/" + quote(name, safe="") + "/invocations"
        values = ("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))) for _ in range(rng.randint(0, 3)))
        query = "&".join(f"{rng.choice(['Qualifier', 'a', 'Z'])}={quote(value, safe='')}" for value in values)
        url_path = path + ("?" + query if query else "")
        body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
        headers = signed("POST", url_path, body, {"X-Amz-Invocation-Type": rng.choice(["Event", "RequestResponse"])})
        assert check(v, "POST", BASE + url_path, headers, body) == KEY


def test_a_presigned_url_passes_and_expires() -> None:
    request = AWSRequest(method="GET", url=BASE + "/2015-03-31/functions/?MaxItems=5")
    SigV4QueryAuth(Credentials(KEY, SECRET), "lambda", "us-east-1", expires=60).add_auth(request)
    url = request.url
    assert check(verifier(), "GET", url, {"Host": "127.0.0.1:9000"}) == KEY
    with pytest.raises(InvalidSignature, match="expired"):
        check(verifier(time.time() + 120), "GET", url, {"Host": "127.0.0.1:9000"})


def test_what_fails_and_how() -> None:
    path, body = "/2015-03-31/functions/f/invocations", b'{"num": 5}'
    headers = signed("POST", path, body)
    with pytest.raises(InvalidSignature, match="does not match"):
        check(verifier(), "POST", BASE + path, headers, b'{"num": 6}')          # the body changed
    with pytest.raises(InvalidSignature, match="does not match"):
        check(verifier(), "POST", BASE + path.replace("/f/", "/g/"), headers, body)   # another function
    with pytest.raises(MissingToken, match="Missing Authentication Token"):
        check(verifier(), "POST", BASE + path, {"Host": "127.0.0.1:9000"}, body)
    with pytest.raises(UnrecognizedClient):
        check(verifier(), "POST", BASE + path, signed("POST", path, body, key=("AKIAUNKNOWN000000000", "x")), body)
    with pytest.raises(InvalidSignature, match="does not match"):
        check(verifier(), "POST", BASE + path, signed("POST", path, body, key=(KEY, "wrong-secret")), body)
    with pytest.raises(InvalidSignature, match="valid region"):
        check(verifier(), "POST", BASE + path, signed("POST", path, body, region="eu-west-1"), body)
    with pytest.raises(InvalidSignature, match="correct service: 'apigateway'"):
        check(verifier(), "GET", BASE + "/restapis", signed("GET", "/2015-03-31/functions/"), b"")


def test_a_date_more_than_five_minutes_off_is_refused_with_aws_text() -> None:
    path = "/2015-03-31/functions/"
    headers = signed("GET", path)
    stamp = headers["X-Amz-Date"]
    later = time.mktime(time.strptime(stamp, "%Y%m%dT%H%M%SZ")) - time.timezone + 600
    with pytest.raises(InvalidSignature) as refused:
        check(verifier(later), "GET", BASE + path, headers)
    now = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(later))
    earlier = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(later - 300))
    assert refused.value.message == f"Signature expired: {stamp} is now earlier than {earlier} ({now} - 5 min.)"
    with pytest.raises(InvalidSignature, match="not yet current"):
        check(verifier(later - 1200), "GET", BASE + path, headers)


def test_new_keys_and_client_credentials(tmp_path: object) -> None:
    key_id, secret = new_key()
    assert key_id.startswith("AKIA") and len(key_id) == 20 and len(secret) == 40
    assert client_credentials({"LAMBDALITE_ACCESS_KEY_ID": "a", "LAMBDALITE_SECRET_ACCESS_KEY": "b",
                               "AWS_ACCESS_KEY_ID": "c", "AWS_SECRET_ACCESS_KEY": "d"}) == ("a", "b")
    assert client_credentials({"AWS_ACCESS_KEY_ID": "c", "AWS_SECRET_ACCESS_KEY": "d"}) == ("c", "d")
    assert client_credentials({"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}) is None


def test_the_fast_string_to_sign_is_botocores_on_10_000_random_requests() -> None:
    """The verifier's own `string_to_sign` against botocore's SigV4Auth (the reference): random methods,
    raw paths (percent-encoding, dot segments, double slashes), queries (repeats, empty values,
    reserved characters), headers (repeated names, runs of spaces and tabs, a blacklisted one signed
    anyway, x-amz-content-sha256) and bodies."""
    from urllib.parse import quote

    from lambdalite.signing import botocore_string_to_sign, string_to_sign

    rng = random.Random(23)
    chars = "abcXYZ09-_.~ %+/:=&?!*'()$,;@[]\u00e9\u4e2d"

    def text(low: int, high: int) -> str:
        return "".join(rng.choice(chars) for _ in range(rng.randint(low, high)))

    for i in range(10_000):
        segments = [rng.choice([quote(text(0, 6), safe=""), ".", "..", "", quote(text(1, 4), safe="/")])
                    for _ in range(rng.randint(1, 5))]
        raw_path = "/" + "/".join(segments)
        query = [(rng.choice(["Qualifier", "a", "a-b", "Z", "x.y", text(1, 3)]), rng.choice(["", text(0, 8)]))
                 for _ in range(rng.randint(0, 4))]
        headers = [("Host", "127.0.0.1:9000"), ("X-Amz-Date", "20261207T210000Z")]
        for _ in range(rng.randint(0, 4)):
            name = rng.choice(["X-Custom", "x-custom", "Content-Type", "X-Amz-Target", "User-Agent", "X-Amz-Meta"])
            headers.append((name, rng.choice(["  a   b\t c ", "application/json", text(0, 10), ""])))
        body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))
        if rng.random() < 0.1:
            headers.append(("X-Amz-Content-SHA256", __import__("hashlib").sha256(body).hexdigest()))
        method = rng.choice(["GET", "POST", "PUT", "DELETE", "patch"])
        args = (method, raw_path, query, headers, body, "20261207T210000Z", False,
                (KEY, SECRET, rng.choice(["lambda", "apigateway"]), "us-east-1"))
        assert string_to_sign(*args) == botocore_string_to_sign(*args), (i, args)
