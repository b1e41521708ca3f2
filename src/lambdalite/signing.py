"""Signed requests (AWS Signature Version 4): the server's check and our clients' signing.

Our clients sign with botocore's own signer (`SigV4Auth.add_auth`). The server makes the string to
sign with botocore's steps (its path normalisation, header trimming, blacklist and query sorting) but
without building a botocore request, which took most of a request's check time; it is compared with
botocore's SigV4Auth (`botocore_string_to_sign`, the reference) on 10,000 random requests in
tests/unit/test_signing.py. The derived signing key is made once per (secret, day, region, service),
not four HMACs per request.

The server's answers are AWS's (docs/security.md):
- unsigned: 403 `MissingAuthenticationTokenException` "Missing Authentication Token";
- an unknown access key: 403 `UnrecognizedClientException`;
- a wrong signature, a payload that is not the one signed, a scope of another region or service:
  403 `InvalidSignatureException`;
- a date more than 5 minutes off (Lambda's skew): 403 `InvalidSignatureException` "Signature
  expired: {t} is now earlier than {now-5m} ({now} - 5 min.)".
Header and query-string (presigned) forms are both read, as botocore sends them.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import string
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qsl, quote

from . import errors
from .access import CredentialBook

ALGORITHM = "AWS4-HMAC-SHA256"
SKEW_S = 300   # Lambda's: a request dated more than 5 minutes from now is refused
TIMESTAMP = "%Y%m%dT%H%M%SZ"
_AUTHORIZATION = re.compile(r"AWS4-HMAC-SHA256 Credential=([^,\s]+), ?SignedHeaders=([^,\s]+), ?Signature=(\w+)")
_CREDENTIAL = re.compile(r"^(?P<key>[^/]+)/(?P<day>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request$")
MISMATCH = ("The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.")


class MissingToken(errors.ServiceError):
    status, code, message_key, error_type = 403, "MissingAuthenticationTokenException", "message", None


class UnrecognizedClient(errors.ServiceError):
    status, code, message_key, error_type = 403, "UnrecognizedClientException", "message", None


class InvalidSignature(errors.ServiceError):
    status, code, message_key, error_type = 403, "InvalidSignatureException", "message", None


class ExpiredToken(errors.ServiceError):
    status, code, message_key, error_type = 403, "ExpiredTokenException", "message", None


def services_for(path: str, headers: Mapping[str, str]) -> frozenset[str]:
    """The signing names a request to `path` may be scoped to (the service whose API it is)."""
    if path.startswith(("/restapis", "/v2/", "/apikeys", "/usageplans", "/domainnames", "/account", "/tags")):
        return frozenset({"apigateway"})
    if path == "/":
        target = headers.get("x-amz-target", "")
        if target.startswith("Logs_"):
            return frozenset({"logs"})
        if target.startswith("GraniteServiceVersion"):
            return frozenset({"monitoring"})
        return frozenset({"cloudformation", "monitoring"})
    return frozenset({"lambda"})   # the Lambda API, and Lambdalite's own endpoints (our clients sign as lambda)


class Pending(NamedTuple):
    """A request whose headers passed `Verifier.check_headers`; its signature waits for the body."""

    method: str
    raw_path: str
    query: list[tuple[str, str]]
    signed: list[tuple[str, str]]        # the headers the client signed, as received
    signature: str
    timestamp: str
    presigned: bool
    scope: tuple[str, str, str, str]     # access key id, secret, service, region
    day: str
    content_sha256: str | None


class Verifier:
    """Checks requests against the server's keys (access key id -> secret); `reload` is asked again for
    a key it does not know (a key made with `lambdalite keys create` while the server runs)."""

    def __init__(self, keys: Mapping[str, str], region: str, now: Callable[[], float],
                 reload: Callable[[], Mapping[str, str]] | None = None, book: CredentialBook | None = None) -> None:
        self.keys = dict(keys)
        self.book = book   # function instances' session keys (access.credentials)
        self.region = region
        self.now = now            # epoch seconds: the server clock's wall time (a test clock moves it)
        self._reload = reload
        self._signing_keys: dict[tuple[str, str, str, str], bytes] = {}

    def check(self, method: str, raw_path: str, raw_query: str, headers: Iterable[tuple[str, str]],
              body: bytes | None) -> str | None:
        """The access key id of a correctly signed request; else raises one of AWS's 403 errors. With
        `body` None, only what the request line and headers can tell, and None."""
        pending = self.check_headers(method, raw_path, raw_query, headers)
        return self.check_body(pending, body) if body is not None else None

    def check_headers(self, method: str, raw_path: str, raw_query: str,
                      headers: Iterable[tuple[str, str]]) -> Pending:
        """What the request line and headers can tell (the server checks it before reading a body from
        anyone): raises one of AWS's 403 errors, else what `check_body` needs."""
        given = list(headers)
        lowered = {k.lower(): v for k, v in given}
        query = parse_qsl(raw_query, keep_blank_values=True) if raw_query else []
        form = _signature_parts(lowered, query)
        if form is None:
            raise MissingToken("Missing Authentication Token")
        credential, signed_names, signature, timestamp, presigned = form
        if presigned:
            self._check_expiry(timestamp, dict(query).get("X-Amz-Expires", ""))
        found = _credential(credential)
        if found is None:
            raise InvalidSignature(f"Authorization header requires 'Credential' parameter. Authorization={ALGORITHM} "
                                   f"Credential={credential}")
        token = lowered.get("x-amz-security-token") or dict(query).get("X-Amz-Security-Token")
        secret = self._secret(found["key"], token)
        if found["region"] != self.region:
            raise InvalidSignature("Credential should be scoped to a valid region. ")
        allowed = services_for(raw_path, lowered)
        if found["service"] not in allowed:
            raise InvalidSignature(f"Credential should be scoped to correct service: '{sorted(allowed)[0]}'. ")
        self._check_time(timestamp, found["day"])
        names = set(signed_names.split(";"))
        if "host" not in names:
            raise InvalidSignature("'Host' must be a signed header.")
        return Pending(method, raw_path, query, [(k, v) for k, v in given if k.lower() in names], signature, timestamp,
                       presigned, (found["key"], secret, found["service"], found["region"]), found["day"],
                       lowered.get("x-amz-content-sha256"))

    def check_body(self, pending: Pending, body: bytes) -> str:
        """The signature itself, over the body received: the access key id, else InvalidSignature."""
        key_id, secret, service, region = pending.scope
        if pending.content_sha256 is not None and pending.content_sha256 != hashlib.sha256(body).hexdigest():
            raise InvalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.")
        to_sign = string_to_sign(pending.method, pending.raw_path, pending.query, pending.signed, body,
                                 pending.timestamp, pending.presigned, pending.scope)
        expected = hmac.new(self._signing_key(secret, pending.day, region, service), to_sign.encode(),
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, pending.signature):
            raise InvalidSignature(MISMATCH)
        return key_id

    def _secret(self, key_id: str, token: str | None = None) -> str:
        if self.book is not None and key_id.startswith("ASIA"):
            issued = self.book.get(key_id)
            if issued is not None and token is not None and hmac.compare_digest(issued.token, token):
                if self.book.expired(issued):
                    raise ExpiredToken("The security token included in the request is expired")
                return issued.secret
            raise UnrecognizedClient("The security token included in the request is invalid.")
        secret = self.keys.get(key_id)
        if secret is None and self._reload is not None:
            self.keys = dict(self._reload())
            secret = self.keys.get(key_id)
        if secret is None:
            raise UnrecognizedClient("The security token included in the request is invalid.")
        return secret

    def _check_time(self, timestamp: str, day: str) -> None:
        when = _epoch(timestamp)
        if when is None:
            raise InvalidSignature(f"Date must be in ISO-8601 'basic format'. Got '{timestamp}'.")
        if timestamp[:8] != day:
            raise InvalidSignature("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                                   "date from HTTP: " + f"'{day}' != '{timestamp[:8]}', from '{timestamp}'.")
        now = int(self.now())
        if when < now - SKEW_S:
            raise InvalidSignature(f"Signature expired: {timestamp} is now earlier than {_stamp(now - SKEW_S)} "
                                   f"({_stamp(now)} - 5 min.)")
        if when > now + SKEW_S:
            raise InvalidSignature(f"Signature not yet current: {timestamp} is still later than "
                                   f"{_stamp(now + SKEW_S)} ({_stamp(now)} + 5 min.)")

    def _check_expiry(self, timestamp: str, expires: str) -> None:
        try:
            when = datetime.strptime(timestamp, TIMESTAMP).replace(tzinfo=UTC) + timedelta(seconds=int(expires))
        except ValueError:
            raise InvalidSignature("X-Amz-Expires must be a whole number of seconds, and X-Amz-Date a date in "
                                   "ISO-8601 'basic format'.") from None
        if when < datetime.fromtimestamp(self.now(), UTC):
            raise InvalidSignature("Request has expired")

    def _signing_key(self, secret: str, day: str, region: str, service: str) -> bytes:
        cached = self._signing_keys.get((secret, day, region, service))
        if cached is None:
            if len(self._signing_keys) > 256:
                self._signing_keys.clear()
            cached = ("AWS4" + secret).encode()
            for part in (day, region, service, "aws4_request"):
                cached = hmac.new(cached, part.encode(), hashlib.sha256).digest()
            self._signing_keys[(secret, day, region, service)] = cached
        return cached


@functools.lru_cache(maxsize=256)
def _credential(credential: str) -> Mapping[str, str] | None:
    """A credential's parts (key, day, region, service); one string serves a client all day."""
    found = _CREDENTIAL.match(credential)
    return found.groupdict() if found else None


@functools.lru_cache(maxsize=4096)
def _canonical_path(raw_path: str) -> str:
    from botocore.utils import normalize_url_path
    return quote(normalize_url_path(raw_path), safe="/~")


@functools.lru_cache(maxsize=64)
def _epoch(timestamp: str) -> int | None:
    """`20261207T210000Z` -> epoch seconds; None when it is not that format (strptime is 8 us of a
    request's time; this, 1)."""
    digits = timestamp[:8] + timestamp[9:15]
    if len(timestamp) != 16 or timestamp[8] != "T" or timestamp[15] != "Z" or not digits.isdigit():
        return None
    try:
        return calendar.timegm((int(timestamp[0:4]), int(timestamp[4:6]), int(timestamp[6:8]), int(timestamp[9:11]),
                                int(timestamp[11:13]), int(timestamp[13:15]), 0, 0, 0))
    except ValueError:
        return None


def _stamp(epoch: int) -> str:
    return time.strftime(TIMESTAMP, time.gmtime(epoch))


BLACKLIST = frozenset({"baggage", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization",
                       "te", "traceparent", "tracestate", "trailer", "transfer-encoding", "upgrade", "user-agent",
                       "x-amzn-trace-id"})   # botocore's SIGNED_HEADERS_BLACKLIST: never in a canonical request


def string_to_sign(method: str, raw_path: str, query: list[tuple[str, str]], signed: list[tuple[str, str]],
                   body: bytes, timestamp: str, presigned: bool, scope: tuple[str, str, str, str]) -> str:
    """The string to sign of the request as the client sent it, made as botocore's SigV4Auth makes
    it: the same steps, without building a botocore request (4x faster: the check is on every
    request's path). `botocore_string_to_sign` is the reference; tests/unit/test_signing.py compares
    the two on 10,000 random requests."""
    _, _, service, region = scope
    pairs = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in query
                   if not (presigned and k == "X-Amz-Signature")) if query else ()
    values: dict[str, list[str]] = {}
    for name, value in signed:
        lowered = name.lower()
        if lowered not in BLACKLIST:
            values.setdefault(lowered, []).append(" ".join(value.split()))
    names = sorted(values)
    content = values.get("x-amz-content-sha256")
    canonical = "\n".join((
        method.upper(), _canonical_path(raw_path), "&".join(f"{k}={v}" for k, v in pairs),
        "\n".join(f"{n}:{','.join(values[n])}" for n in names) + "\n", ";".join(names),
        ",".join(content) if content else hashlib.sha256(body).hexdigest()))
    return "\n".join((ALGORITHM, timestamp, f"{timestamp[:8]}/{region}/{service}/aws4_request",
                      hashlib.sha256(canonical.encode()).hexdigest()))


def botocore_string_to_sign(method: str, raw_path: str, query: list[tuple[str, str]], signed: list[tuple[str, str]],
                            body: bytes, timestamp: str, presigned: bool, scope: tuple[str, str, str, str]) -> str:
    """botocore's string to sign for the request as the client sent it: its raw path, its query
    (without the signature of a presigned URL), the headers it signed, and the body received."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    key_id, secret, service, region = scope
    unsigned_query = [(k, v) for k, v in query if k != "X-Amz-Signature"] if presigned else query
    url = "http://" + next((v for k, v in signed if k.lower() == "host"), "") + raw_path
    if unsigned_query:
        url += "?" + "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in unsigned_query)
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in signed:   # repeated names are kept: the canonical form joins them
        request.headers[name] = value
    request.context["timestamp"] = timestamp
    auth = SigV4Auth(Credentials(key_id, secret), service, region)
    return str(auth.string_to_sign(request, auth.canonical_request(request)))


def _signature_parts(headers: Mapping[str, str], query: list[tuple[str, str]]
                     ) -> tuple[str, str, str, str, bool] | None:
    """(credential, signed headers, signature, timestamp, presigned) of a request, or None unsigned."""
    authorization = headers.get("authorization")
    if authorization is not None:
        if not authorization.startswith(ALGORITHM + " "):
            raise InvalidSignature(f"Authorization header requires 'Credential' parameter. "
                                   f"Authorization={authorization[:80]}")
        usual = _AUTHORIZATION.fullmatch(authorization)   # botocore's order and spacing: one match
        if usual is not None:
            return usual[1], usual[2], usual[3], headers.get("x-amz-date", ""), False
        parts = dict(part.strip().partition("=")[::2] for part in authorization[len(ALGORITHM) + 1:].split(","))
        missing = [p for p in ("Credential", "SignedHeaders", "Signature") if p not in parts]
        if missing:
            raise InvalidSignature(f"Authorization header requires '{missing[0]}' parameter. "
                                   f"Authorization={authorization[:120]}")
        return (parts["Credential"], parts["SignedHeaders"], parts["Signature"], headers.get("x-amz-date", ""),
                False)
    params = dict(query)
    if params.get("X-Amz-Algorithm") == ALGORITHM and "X-Amz-Signature" in params:
        return (params.get("X-Amz-Credential", ""), params.get("X-Amz-SignedHeaders", ""), params["X-Amz-Signature"],
                params.get("X-Amz-Date", ""), True)
    return None


# -- keys -------------------------------------------------------------------------------------------

KEYS_FILE = "keys.json"


def new_key() -> tuple[str, str]:
    """A new access key id (`AKIA` + 16) and secret (40), in AWS's alphabet."""
    key_id = "AKIA" + "".join(secrets.choice(string.ascii_uppercase + "234567") for _ in range(16))
    secret = "".join(secrets.choice(string.ascii_letters + string.digits + "+/") for _ in range(40))
    return key_id, secret


def load_keys(home: Path) -> dict[str, str]:
    """The keys `lambdalite keys create` wrote under the home (access key id -> secret); {} when none."""
    try:
        data = json.loads((home / KEYS_FILE).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise ValueError(f"{home / KEYS_FILE} cannot be read ({e}): fix or remove it") from None
    return {str(k["accessKeyId"]): str(k["secretAccessKey"]) for k in data.get("keys", [])
            if isinstance(k, dict) and k.get("accessKeyId") and k.get("secretAccessKey")}


def create_key(home: Path) -> tuple[str, str]:
    """A new key added to the home's keys file (made readable by its owner only)."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / KEYS_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        data = {"keys": []}
    key_id, secret = new_key()
    data.setdefault("keys", []).append({"accessKeyId": key_id, "secretAccessKey": secret,
                                        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data, indent=2))
    partial.chmod(0o600)
    os.replace(partial, path)
    return key_id, secret


def server_keys(environ: Mapping[str, str], home: Path) -> dict[str, str]:
    """The keys a server checks signatures against: LAMBDALITE_ACCESS_KEY_ID/SECRET and the home's
    keys file. None at all: requests are not checked (the server then listens on loopback only)."""
    keys = load_keys(home)
    key_id, secret = environ.get("LAMBDALITE_ACCESS_KEY_ID"), environ.get("LAMBDALITE_SECRET_ACCESS_KEY")
    if key_id and secret:
        keys[key_id] = secret
    return keys


# -- our clients ------------------------------------------------------------------------------------

def client_credentials(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """The keys our clients sign with: LAMBDALITE_ACCESS_KEY_ID/SECRET, else AWS_ACCESS_KEY_ID/SECRET,
    else the AWS_PROFILE (or default) profile of the shared credentials file; None to send unsigned."""
    for prefix in ("LAMBDALITE_", "AWS_"):
        key_id, secret = environ.get(prefix + "ACCESS_KEY_ID"), environ.get(prefix + "SECRET_ACCESS_KEY")
        if key_id and secret:
            return key_id, secret
    import configparser
    path = Path(environ.get("AWS_SHARED_CREDENTIALS_FILE") or Path.home() / ".aws" / "credentials").expanduser()
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except (OSError, configparser.Error):
        return None
    profile = environ.get("AWS_PROFILE") or "default"
    if parser.has_option(profile, "aws_access_key_id") and parser.has_option(profile, "aws_secret_access_key"):
        return parser.get(profile, "aws_access_key_id"), parser.get(profile, "aws_secret_access_key")
    return None


def sign(method: str, url: str, headers: dict[str, str], body: bytes | None, credentials: tuple[str, str],
         region: str) -> dict[str, str]:
    """`headers` with the SigV4 headers botocore's signer adds (Authorization, X-Amz-Date) for a
    request to `url` (service chosen by its path, as the server checks it)."""
    from urllib.parse import urlsplit

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    parts = urlsplit(url)
    service = sorted(services_for(parts.path, {k.lower(): v for k, v in headers.items()}))[0]
    request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
    SigV4Auth(Credentials(*credentials), service, region).add_auth(request)
    return dict(request.headers.items())
