"""The ASGI application: one port, every surface (DESIGN.md, "One server, one port"), and `serve`.

The dated Lambda prefixes go to the Lambda API, `/restapis...` to the API Gateway management API
(except `/restapis/{id}/{stage}/_user_request_/...`, the data plane), `/_lambdalite/` to
Lambdalite's own endpoints (`apis/own.py`, `apis/stacks.py`, `apis/observe.py`). `POST /` with an
`X-Amz-Target` of CloudWatch Logs or CloudWatch goes to those APIs; a form-encoded `POST /` with
`Action=` is a CloudWatch query call when signed for `monitoring` (or unsigned and naming one of its
actions), else a CloudFormation one (unsigned, or signed for `cloudformation`). `/v2/...` is the API
Gateway v2 management API and `/httpapis/{id}/{stage}/_user_request_/...` an HTTP API's long form;
everything else is API traffic: a REST stage's when its path says so, else the HTTP API that holds
the root. The services behind them are assembled in `services.py`.

`serve` checks the port and takes the home's lock before anything else, so a second server on a
busy port or a busy home says so at once and touches nothing.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
import sys
import time
from typing import Any
from urllib.parse import parse_qsl

from ._version import __version__
from .access import Decision, action_of, decide, denial_message, role_statements
from .access import Request as AccessRequest
from .apis import apigatewayv2 as apigatewayv2_api
from .apis import cloudwatch as cloudwatch_api
from .apis import logs as logs_api
from .apis import observe as observe_api
from .apis import stacks as stacks_api
from .apis.cloudformation import is_query_call
from .apis.http import send_error
from .asgi import Receive, Scope, Send, read_body, replay, send_response
from .clock import wall_time
from .config import Settings
from .console.sessions import COOKIE, SESSION_TTL_S, Sessions, cookie_of
from .errors import AddressInUse, Forbidden, HomeUnusable, NotAuthorized, NotOnLoopback, RequestTooLarge, ServiceError
from .gateway.urls import parse_full_path, parse_http_api_path
from .ids import request_id as new_request_id
from .perimeter import LOOPBACK, Perimeter, host_name
from .services import Services
from .signing import Verifier, server_keys
from .store import check_home, lock_home

log = logging.getLogger("lambdalite")
CONSOLE = "/_lambdalite/console/"

INVOKE_PREFIX = "/2015-03-31/functions/"
INVOKE_SUFFIX = "/invocations"
LAMBDA_PREFIXES = ("/2015-03-31/", "/2014-11-13/", "/2016-08-19/", "/2017-03-31/", "/2017-10-31/",
                   "/2018-10-31/", "/2019-09-25/", "/2019-09-30/", "/2020-04-22/", "/2020-06-30/",
                   "/2021-10-31/", "/2021-11-15/")
QUERY_BODY_LIMIT = 16 * 1024 * 1024   # a form-encoded POST / is read whole to tell a query call apart
SIGNED_BODY_LIMIT = 128 * 1024 * 1024   # a signed request's body is read whole to check its hash (a 50 MB zip in JSON)


class App:
    """The ASGI application."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.platform: Services | None = None
        self.perimeter = Perimeter(settings.host, settings.allowed_hosts)
        self.verifier: Verifier | None = None   # made at startup when the server has keys
        self.sessions = Sessions(time.time)     # the console's, on a server with keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self.lifespan(receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        platform = self.platform
        assert platform is not None
        path: str = scope["path"]
        if _management(scope, path):
            admitted = await self.admit(scope, receive, send, path)
            if admitted is not None:
                await self.route(scope, admitted, send, path, platform)
        else:
            await self.route(scope, receive, send, path, platform)

    async def route(self, scope: Scope, receive: Receive, send: Send, path: str, platform: Services) -> None:
        """The surface a request is for: one port answers every API (DESIGN.md)."""
        if path.startswith(INVOKE_PREFIX) and path.endswith(INVOKE_SUFFIX) and scope["method"] == "POST":
            ref = path[len(INVOKE_PREFIX):-len(INVOKE_SUFFIX)]
            if "/" not in ref:
                await platform.lambda_api.invoke(scope, receive, send, ref)
                return
        if path.startswith(LAMBDA_PREFIXES):
            await platform.lambda_api.handle(scope, receive, send)
        elif path == "/restapis" or path.startswith("/restapis/"):   # a stage's full form, or the management API
            rest = platform.data_plane if parse_full_path(path) is not None else platform.apigateway_api
            await rest.handle(scope, receive, send)
        elif _usage_path(path):
            await platform.apigateway_api.handle(scope, receive, send)
        elif stacks_api.handles(path):
            await platform.stacks_api.handle(scope, receive, send)
        elif path.startswith(("/httpapis/", "/v2/")):
            await self.http_apis(scope, receive, send, platform)
        elif path.startswith("/_lambdalite/") or path == CONSOLE[:-1]:
            await self.own(scope, receive, send, path, platform)
        elif path == "/":
            await self.root(scope, receive, send, platform)
        else:
            await api_traffic(platform, scope, receive, send)

    async def root(self, scope: Scope, receive: Receive, send: Send, platform: Services) -> None:
        """`/`: an AWS API call (POST), a browser sent to the console when no HTTP API serves the root,
        or API traffic."""
        if scope["method"] == "POST":
            await self.root_post(scope, receive, send, platform)
        elif scope["method"] == "GET" and platform.http_plane.root is None and _browser(scope):
            await send_response(send, 302, b"", [(b"location", CONSOLE.encode())])   # a person: the console
        else:
            await api_traffic(platform, scope, receive, send)

    async def own(self, scope: Scope, receive: Receive, send: Send, path: str, platform: Services) -> None:
        """Lambdalite's own: the console; metrics, cost, budgets, stats; or the others (a 404 in AWS's shape)."""
        if path == CONSOLE + "sessions" and scope["method"] == "POST":
            await self.console_link(send)
        elif path.startswith(CONSOLE) or path == CONSOLE[:-1]:
            await platform.console.handle(scope, receive, send)
        elif observe_api.handles(path):
            await platform.observe_api.handle(scope, receive, send)
        else:
            await platform.own_api.handle(scope, receive, send)

    async def refused(self, scope: Scope, send: Send, path: str) -> bool:
        """Browsers and rebound names kept out of the management and invoke APIs (`perimeter`)."""
        server = scope.get("server")
        refusal = self.perimeter.refusal(scope["headers"], server[1] if server else None,
                                         form_allowed=path == "/" or path.startswith("/_lambdalite/"))
        if refusal is not None:
            await _refuse(send, refusal)
        return refusal is not None

    async def admit(self, scope: Scope, receive: Receive, send: Send, path: str) -> Receive | None:
        """A management or invoke request past the perimeter (and its signature, when the server has
        keys): the `receive` to go on with; None when it was refused (the answer is sent)."""
        if await self.refused(scope, send, path):
            return None
        if self.verifier is None:
            return receive
        if path == CONSOLE + "login" and scope["method"] == "GET":
            await self.console_login(scope, send)
            return None
        session = cookie_of(scope["headers"])
        if session is not None and self.sessions.valid(session):
            if scope["method"] in ("GET", "HEAD") or any(k == b"origin" for k, _ in scope["headers"]):
                return receive   # a console session: the browser's own requests, from the server's own pages
            await _refuse(send, Forbidden("A change made with a console session must come from the console's page "
                                          "(its Origin header)"))
            return None
        return await self.authenticated(scope, receive, send, path)

    async def console_login(self, scope: Scope, send: Send) -> None:
        """`lambdalite console`'s one-time link: a session cookie, then the console."""
        query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        session = self.sessions.login(query.get("token", ""))
        if session is None:
            await send_response(send, 403, b"<p>This login link was used already, has expired or is not one of this "
                                b"server's. Run <code>lambdalite console</code> for a new one.</p>",
                                [(b"content-type", b"text/html; charset=utf-8")])
            return
        cookie = f"{COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict; Max-Age={int(SESSION_TTL_S)}"
        await send_response(send, 302, b"", [(b"location", CONSOLE.encode()), (b"set-cookie", cookie.encode()),
                                             (b"cache-control", b"no-store")])

    async def console_link(self, send: Send) -> None:
        """POST /_lambdalite/console/sessions (signed): a one-time link that opens the console in a browser;
        without keys the console needs none."""
        path = f"{CONSOLE}login?token={self.sessions.link()}" if self.verifier is not None else CONSOLE
        body = json.dumps({"url": self.settings.base_url + path}).encode()
        await send_response(send, 200, body, [(b"content-type", b"application/json")])

    async def authenticated(self, scope: Scope, receive: Receive, send: Send, path: str) -> Receive | None:
        """A signed request's body, handed on (`replay`); None when it was refused (the 403 is sent).
        What the headers can tell is checked before a body is read from anyone."""
        assert self.verifier is not None
        if path == "/_lambdalite/metrics":
            if self.scraper_ok(scope):
                return receive
            await _refuse(send, Forbidden(
                "Scraping /_lambdalite/metrics from beyond loopback needs Authorization: Bearer <--metrics-token>"))
            return None
        raw = scope.get("raw_path")
        raw_path = raw.decode("latin-1") if raw else path
        query = scope["query_string"].decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        try:
            pending = self.verifier.check_headers(scope["method"], raw_path, query, headers)
            length = next((v for k, v in scope["headers"] if k == b"content-length"), b"0")
            if length.isdigit() and int(length) > SIGNED_BODY_LIMIT:
                raise RequestTooLarge(f"Request must be smaller than {SIGNED_BODY_LIMIT} bytes")
            body, too_large = await read_body(receive, SIGNED_BODY_LIMIT)
            if too_large:
                raise RequestTooLarge(f"Request must be smaller than {SIGNED_BODY_LIMIT} bytes")
            key_id = self.verifier.check_body(pending, body)
            self.authorize(key_id, scope, path, headers, body)
        except ServiceError as e:
            await _refuse(send, e)
            return None
        return replay(body)

    def authorize(self, key_id: str, scope: Scope, path: str, headers: list[tuple[str, str]], body: bytes) -> None:
        """A function instance's keys may do what its role allows (access.policy); the server's own
        keys may do everything. Raises AccessDenied with IAM's text."""
        book = self.platform.credentials if self.platform is not None else None
        issued = book.get(key_id) if book is not None else None
        if issued is None:
            return
        request = AccessRequest(scope["method"], path, scope["query_string"].decode("latin-1"),
                                {k.lower(): v for k, v in headers}, body)
        action, resource = action_of(request, self.settings.region, self.settings.account)
        assert self.platform is not None
        decision = decide(role_statements(self.platform.role_policy(issued.principal.role_arn)), action, resource)
        if decision is not Decision.ALLOW:
            raise NotAuthorized(denial_message(issued.principal.arn, action, resource, decision))

    def scraper_ok(self, scope: Scope) -> bool:
        """Metrics: open to loopback (a local Prometheus), else the bearer token when one is set."""
        client = scope.get("client")
        if client and client[0] in ("127.0.0.1", "::1"):
            return True
        token = self.settings.metrics_token
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), "")
        return bool(token) and given == f"Bearer {token}"

    async def http_apis(self, scope: Scope, receive: Receive, send: Send, platform: Services) -> None:
        """An HTTP API's long form, or the API Gateway v2 management API."""
        if parse_http_api_path(scope["path"]) is not None:
            await platform.http_plane.handle_long(scope, receive, send)
        elif apigatewayv2_api.handles(scope["path"]):
            await platform.apigatewayv2_api.handle(scope, receive, send)
        else:
            await api_traffic(platform, scope, receive, send)

    async def root_post(self, scope: Scope, receive: Receive, send: Send, platform: Services) -> None:
        """`POST /`: CloudWatch Logs or CloudWatch (JSON, by X-Amz-Target), a CloudWatch or CloudFormation
        query call (form-encoded), or API traffic (replayed to the data plane)."""
        if logs_api.handles(scope):
            await platform.logs_api.handle(scope, receive, send)
            return
        if cloudwatch_api.handles(scope):
            await platform.cloudwatch_api.handle_json(scope, receive, send)
            return
        if not _form_encoded(scope):
            await api_traffic(platform, scope, receive, send)
            return
        body, too_large = await read_body(receive, QUERY_BODY_LIMIT)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if too_large:
            await send_response(send, 413, b'{"message":"Request Too Long"}', [(b"content-type", b"application/json")])
        elif cloudwatch_api.is_query_call(headers, body):
            await platform.cloudwatch_api.handle_query(body, send)
        elif is_query_call("POST", headers, body):
            await platform.cloudformation_api.handle(body, send)
        else:
            await api_traffic(platform, scope, replay(body), send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    keys = server_keys(os.environ, self.settings.home)
                    self.platform = Services(self.settings, signed=bool(keys))
                    await self.platform.start()
                    if keys:
                        self.verifier = Verifier(keys, self.settings.region, wall_time(self.platform.clock),
                                                 lambda: server_keys(os.environ, self.settings.home),
                                                 book=self.platform.credentials)
                except Exception as e:  # noqa: BLE001 - reported to uvicorn, which exits
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(e)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.platform is not None:
                    await self.platform.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def api_traffic(platform: Services, scope: Scope, receive: Receive, send: Send) -> None:
    """A request for an API: the API a Host `{apiId}.execute-api.localhost[:port]` names; else a REST
    API's stage when its path says so (a short form `/{stage}/...` only when that stage is older than
    the HTTP root's `$default` stage or the HTTP API has no route for the path), else the HTTP API
    that holds the server's root, else the REST data plane's 403 Missing Authentication Token."""
    named = _named_api(scope)
    if named is not None and platform.http_plane.has(named):
        await platform.http_plane.handle_root(scope, receive, send, named)
        return
    if named is not None and platform.data_plane.has(named):
        await platform.data_plane.handle_api(scope, receive, send, named)
        return
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope["path"]
    if platform.http_plane.root is not None and not platform.data_plane.claims(path):
        await platform.http_plane.handle_root(scope, receive, send)
        return
    made = platform.data_plane.short_claim(path) if platform.http_plane.root is not None else None
    if made is not None and platform.http_plane.root_answers(scope["method"], path, made):
        await platform.http_plane.handle_root(scope, receive, send)   # the older owner of the path wins
    else:
        await platform.data_plane.handle(scope, receive, send)


async def _refuse(send: Send, error: ServiceError) -> None:
    await send_error(send, error, new_request_id())


def _browser(scope: Scope) -> bool:
    """A browser opening a page (it asks for HTML first), not an API client."""
    accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
    return accept.startswith(b"text/html")


def _management(scope: Scope, path: str) -> bool:
    """Whether the request is for a management or invoke API (the perimeter checks it), not an API
    stage's data plane (API Gateway's own rules) nor the health probe."""
    if path.startswith(LAMBDA_PREFIXES) or path.startswith(("/v2/", "/_lambdalite/")) or stacks_api.handles(path):
        return path != "/_lambdalite/health"
    if path == "/restapis" or path.startswith("/restapis/"):
        return parse_full_path(path) is None
    if _usage_path(path):
        return True
    if path == "/" and scope["method"] == "POST":
        return logs_api.handles(scope) or cloudwatch_api.handles(scope) or _form_encoded(scope)
    return False


def _usage_path(path: str) -> bool:
    """API Gateway's account-wide API keys and usage plans (`/apikeys`, `/usageplans`): reserved prefixes."""
    return path in ("/apikeys", "/usageplans") or path.startswith(("/apikeys/", "/usageplans/"))


def _named_api(scope: Scope) -> str | None:
    """The API id of a Host header `{apiId}.execute-api.localhost[:port]` (curl and browsers resolve
    `*.localhost` to loopback), else None."""
    for key, value in scope["headers"]:
        if key == b"host":
            host = value.decode("latin-1").split(":", 1)[0].lower()
            api_id, dot, rest = host.partition(".")
            return api_id if dot and rest == "execute-api.localhost" and api_id else None
    return None


def _form_encoded(scope: Scope) -> bool:
    return any(k == b"content-type" and b"application/x-www-form-urlencoded" in v for k, v in scope["headers"])


def serve(settings: Settings) -> None:
    """Run the server until SIGINT/SIGTERM (graceful: instances are stopped, records flushed).

    Raises ServerCannotStart (AddressInUse, HomeUnusable) before anything is started or written."""
    import uvicorn

    try:
        keys = server_keys(os.environ, settings.home)
    except ValueError as e:
        raise HomeUnusable(str(e)) from None
    if not keys and not _loopback(settings.host) and not settings.insecure:
        raise NotOnLoopback(
            f"refusing to listen on {settings.host}: no credentials are configured, so anyone who can reach the "
            "port could run code on this machine. Set LAMBDALITE_ACCESS_KEY_ID / LAMBDALITE_SECRET_ACCESS_KEY "
            "(or run `lambdalite keys create`), or listen on 127.0.0.1; --insecure starts it anyway.")
    listener = listen(settings.host, settings.port)
    settings = dataclasses.replace(settings, port=listener.getsockname()[1])   # --port 0: the one chosen
    try:
        home_lock = lock_home(settings.home, settings.port)
    except BaseException:
        listener.close()
        raise
    try:
        check_home(settings.home)
        # The recorder's thread formats and writes in the background; a thread that wants the GIL gets
        # it after this long. 5 ms (Python's default) shows up as the request path's p99.
        sys.setswitchinterval(0.0005)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                            stream=sys.stderr)
        print(json.dumps({"lambdalite": __version__, "listening": settings.base_url,
                          "home": str(settings.home), "region": settings.region,
                          "account": settings.account, "requests": "signed" if keys else "not checked"}),
              flush=True)
        if not keys:
            log.warning("requests are not checked (no credentials configured): anyone who can reach %s can "
                        "run code here; see docs/security.md", settings.base_url)
        config = uvicorn.Config(
            App(settings), log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=15,
            http=http_protocol(), proxy_headers=False)  # nothing sits in front of it; the middleware costs
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        listener.close()
        home_lock.release()


def _loopback(host: str) -> bool:
    return host_name(host) in LOOPBACK or host.startswith("127.")


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (0: a free port), or AddressInUse saying what to do."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise AddressInUse(
            f"cannot listen on {host}:{port}: {e.strerror or e}. Another program (perhaps another Lambdalite "
            "server) has that port: stop it, or choose another port with --port (0 picks a free one).") from None
    return sock


def http_protocol() -> Any:
    """uvicorn's httptools protocol, keeping the header names as the client spelled them and bounding
    a request's head (`protocol.CasePreservingProtocol`); without httptools, uvicorn's own choice
    (names lower-cased, heads bounded by h11)."""
    try:
        from .protocol import CasePreservingProtocol
    except ImportError:
        return "auto"
    return CasePreservingProtocol

