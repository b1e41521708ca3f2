"""Who may reach the management and invoke APIs: the first check of a request, before it is read. Pure.

Browsers cannot be turned against the API (docs/security.md):
- a request whose `Origin` is present and not the server's own (scheme, a host it answers to and its
  port) is refused, `Origin: null` included; no Origin is fine (curl, boto3, the CLI send none);
- a request whose `Host` is not one this server answers to is refused (DNS rebinding: a name the
  attacker controls, pointed at 127.0.0.1 after the page loaded): `localhost`, `127.0.0.1`, `[::1]`,
  the address it is bound to, `*.execute-api.localhost`, and `--allowed-host` names;
- a body of a type no AWS protocol sends, as a page sends one without a CORS preflight (`text/plain`,
  `multipart/form-data`; a form too, except where the query protocol takes one) is refused, never parsed.
The management and invoke answers carry no CORS headers. API stages' data planes keep API Gateway's
own rules and are not checked here.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from . import errors

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
NAMED_API = ".execute-api.localhost"
BROWSER_TYPES = ("text/plain", "multipart/form-data")
FORM = "application/x-www-form-urlencoded"


def host_name(value: str) -> str:
    """The name part of a Host header or authority, lower-cased: `[::1]:9000` -> `::1`."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value[1:]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class Perimeter:
    def __init__(self, bind_host: str = "127.0.0.1", allowed: Iterable[str] = ()) -> None:
        names = {host_name(h) for h in allowed if h.strip()}
        if bind_host not in ("", "0.0.0.0", "::"):
            names.add(host_name(bind_host))
        self.hosts = frozenset(LOOPBACK | names)

    def host_ok(self, host: str | None) -> bool:
        if host is None:
            return True   # HTTP/1.0 without one: nothing a browser sends
        name = host_name(host)
        return name in self.hosts or name.endswith(NAMED_API)

    def origin_ok(self, origin: str | None, port: int | None) -> bool:
        if origin is None:
            return True
        try:
            parts = urlsplit(origin.strip())
            origin_port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return False
        return (parts.scheme in ("http", "https") and (parts.hostname or "") in self.hosts
                and (port is None or origin_port == port))

    def refusal(self, headers: Iterable[tuple[bytes, bytes]], port: int | None,
                form_allowed: bool = False) -> errors.ServiceError | None:
        """Why this request is refused (its headers as ASGI gives them), or None."""
        host = origin = kind = None
        has_body = False
        for key, value in headers:
            if key == b"host":
                host = value.decode("latin-1")
            elif key == b"origin":
                origin = value.decode("latin-1")
            elif key == b"content-type":
                kind = value.decode("latin-1").split(";", 1)[0].strip().lower()
            elif key == b"content-length":
                has_body = value.strip() not in (b"0", b"")
            elif key == b"transfer-encoding":
                has_body = True
        if not self.host_ok(host):
            return errors.ForeignRequest(f"Host {host!r} is not a name this server answers to (a DNS rebinding "
                                         "guard): use 127.0.0.1 or localhost, or start the server with "
                                         "--allowed-host NAME")
        if not self.origin_ok(origin, port):
            return errors.ForeignRequest(f"Requests from the web page at Origin {origin!r} are refused: the "
                                         "management and invoke APIs answer this server's own pages and "
                                         "programs that send no Origin (boto3, the AWS CLI, lambdalite)")
        if has_body and kind is not None and (kind in BROWSER_TYPES or (kind == FORM and not form_allowed)):
            return errors.UnsupportedMediaTypeError(f"A body of Content-Type {kind} is refused here: send "
                                                    "application/json (AWS's SDKs and CLI do)")
        return None
