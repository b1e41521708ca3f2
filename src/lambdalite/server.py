"""Assembles the ASGI app and starts/stops the services behind it.

One server, one port (DESIGN.md): the dated Lambda prefixes go to the Lambda API, `/restapis...` to
the API Gateway management API (except `/restapis/{id}/{stage}/_user_request_/...`, the data plane),
`/_lambdalite/` to Lambdalite's own endpoints (stacks, code uploads and test events in
`apis/stacks.py`). A form-encoded `POST /` with `Action=` (unsigned, or signed for `cloudformation`)
is a CloudFormation query call; everything else at `/` is API traffic for the data plane.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sys
from typing import Any

from ._version import __version__
from .apis import stacks as stacks_api
from .apis.apigateway import ApiGatewayApi
from .apis.cloudformation import CloudFormationApi, is_query_call
from .apis.http import send_error, send_json
from .apis.lambda_api import LambdaApi
from .asgi import HEADER_NAMES, Receive, Scope, Send, read_body, replay, send_response
from .config import Settings
from .errors import ResourceNotFound, ServiceError, ValidationError
from .functions.service import FunctionService
from .gateway.dataplane import DataPlane
from .gateway.service import GatewayService
from .invoke.invoker import Invoker
from .invoke.specs import SpecFactory
from .observe.recorder import Recorder
from .pool.interpreters import build_runtime_bundle, find_interpreter
from .pool.local import LocalProcessBackend
from .stacks.service import StackService
from .store import BlobStore, Database

log = logging.getLogger("lambdalite")

INVOKE_PREFIX = "/2015-03-31/functions/"
INVOKE_SUFFIX = "/invocations"
LAMBDA_PREFIXES = ("/2015-03-31/", "/2014-11-13/", "/2016-08-19/", "/2017-03-31/", "/2017-10-31/",
                   "/2018-10-31/", "/2019-09-25/", "/2019-09-30/", "/2020-04-22/", "/2020-06-30/",
                   "/2021-10-31/", "/2021-11-15/")
CODE_PATH = re.compile(r"/_lambdalite/code/([0-9a-f]{64})\.zip")
REAP_EVERY_S = 30.0
QUERY_BODY_LIMIT = 16 * 1024 * 1024   # a form-encoded POST / is read whole to tell a query call apart


class Platform:
    """The running services; built at startup, closed at shutdown."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        home = settings.home
        home.mkdir(parents=True, exist_ok=True)
        self.db = Database(home / "lambdalite.db")
        self.blobs = BlobStore(home)
        self.recorder = Recorder(home / "lambdalite.db", settings.flush_interval_s)
        self.backend = LocalProcessBackend(home / "runtime", max_concurrency=settings.max_concurrency,
                                           idle_timeout_s=settings.idle_timeout_s)
        self.functions = FunctionService(self.db, self.blobs, settings.region, settings.account,
                                         prepare=lambda fn: find_interpreter(fn.runtime)[1])
        self.bundle = build_runtime_bundle(home)
        self.specs = SpecFactory(self.functions.code_dir, lambda rt: find_interpreter(rt)[0], self.bundle,
                                 settings.base_url, settings.region, retire=self.backend.retire)
        self.functions.on_change(self.specs.forget)
        self.invoker = Invoker(self.functions, self.backend, self.recorder, self.specs)
        self.lambda_api = LambdaApi(self.functions, self.invoker, settings.base_url)
        self.gateway = GatewayService(self.db, settings.region, settings.account)
        self.apigateway_api = ApiGatewayApi(self.gateway)
        self.data_plane = DataPlane(self.invoker, settings.account)
        self.gateway.on_change(lambda: self.data_plane.publish(self.gateway.deployed_stages()))
        self.stacks = StackService(self.db, self.functions, self.gateway, self.blobs, settings.region,
                                   settings.account, settings.base_url)
        self.stacks_api = stacks_api.StacksApi(self.stacks)
        self.cloudformation_api = CloudFormationApi(self.stacks)
        self._reaper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.functions.load()
        self.gateway.load()
        self.stacks.load()
        self.data_plane.publish(self.gateway.deployed_stages())
        self.recorder.start()
        self._reaper = asyncio.get_running_loop().create_task(self._reap())

    async def stop(self) -> None:
        if self._reaper:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        await self.functions.drain()
        await self.backend.close()
        self.recorder.stop()
        self.db.close()

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(REAP_EVERY_S)
            await self.backend.reap_idle()


class App:
    """The ASGI application."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.platform: Platform | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self.lifespan(receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        platform = self.platform
        assert platform is not None
        path: str = scope["path"]
        if path.startswith(INVOKE_PREFIX) and path.endswith(INVOKE_SUFFIX) and scope["method"] == "POST":
            ref = path[len(INVOKE_PREFIX):-len(INVOKE_SUFFIX)]
            if "/" not in ref:
                await platform.lambda_api.invoke(scope, receive, send, ref)
                return
        if path.startswith(LAMBDA_PREFIXES):
            await platform.lambda_api.handle(scope, receive, send)
        elif path == "/restapis" or path.startswith("/restapis/"):
            if is_user_request(path):
                await self.data_plane(scope, receive, send, platform)
            else:
                await platform.apigateway_api.handle(scope, receive, send)
        elif stacks_api.handles(path):
            await platform.stacks_api.handle(scope, receive, send)
        elif path.startswith("/_lambdalite/"):
            await self.own(scope, send, platform)
        elif path == "/" and scope["method"] == "POST" and _form_encoded(scope):
            await self.root_post(scope, receive, send, platform)
        else:
            await self.data_plane(scope, receive, send, platform)

    async def root_post(self, scope: Scope, receive: Receive, send: Send, platform: Platform) -> None:
        """A form-encoded `POST /`: a CloudFormation query call, or API traffic (replayed to the data plane)."""
        body, too_large = await read_body(receive, QUERY_BODY_LIMIT)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if too_large:
            await send_response(send, 413, b'{"message":"Request Too Long"}', [(b"content-type", b"application/json")])
        elif is_query_call("POST", headers, body):
            await platform.cloudformation_api.handle(body, send)
        else:
            await self.data_plane(scope, replay(body), send, platform)

    async def data_plane(self, scope: Scope, receive: Receive, send: Send, platform: Platform) -> None:
        """API traffic: `/restapis/{id}/{stage}/_user_request_/...` and the short `/{stage}/...`.

        The path is taken raw (not percent-decoded), as API Gateway passes it on."""
        raw = scope.get("raw_path")
        path = raw.decode("latin-1") if raw else scope["path"]
        if is_user_request(path):
            parts = path.split("/", 5)  # ['', 'restapis', id, stage, '_user_request_', rest?]
            rest = "/" + (parts[5] if len(parts) == 6 else "")
            await platform.data_plane.serve_full(scope, receive, send, parts[2], parts[3], rest)
            return
        short = platform.data_plane.short_form(path)
        if short is None:
            await platform.data_plane.serve_full(scope, receive, send, "", "", path)  # 403, as AWS answers
            return
        stages, rest = short
        await platform.data_plane.serve_short(scope, receive, send, stages, rest, self.settings.base_url)

    async def own(self, scope: Scope, send: Send, platform: Platform) -> None:
        """Lambdalite's own endpoints: health, logs, code archives."""
        path = scope["path"]
        query = dict(_query(scope))
        try:
            if path == "/_lambdalite/health":
                await send_json(send, 200, self.health(platform), "-")
            elif path == "/_lambdalite/logs":
                await send_json(send, 200, logs_page(platform, query), "-")
            elif path == "/_lambdalite/invocations":
                await send_json(send, 200, invocations_page(platform, query), "-")
            elif (m := CODE_PATH.fullmatch(path)) and platform.blobs.path(m.group(1)).exists():
                data = await asyncio.to_thread(platform.blobs.read, m.group(1))
                await send_response(send, 200, data, [(b"content-type", b"application/zip")])
            else:
                raise ResourceNotFound(f"No Lambdalite endpoint at {path}.")
        except ServiceError as e:
            await send_error(send, e, "-")

    def health(self, platform: Platform) -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "region": self.settings.region,
                "account": self.settings.account, "functions": len(platform.functions.current),
                "recorderFailures": platform.recorder.failures}

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.platform = Platform(self.settings)
                    await self.platform.start()
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


def _form_encoded(scope: Scope) -> bool:
    return any(k == b"content-type" and b"application/x-www-form-urlencoded" in v for k, v in scope["headers"])


def is_user_request(path: str) -> bool:
    """`/restapis/{id}/{stage}/_user_request_/...`: the data plane, not the management API."""
    parts = path.split("/", 5)  # ['', 'restapis', id, stage, '_user_request_', rest]
    return len(parts) >= 5 and parts[4] == "_user_request_"


def invocations_page(platform: Platform, query: dict[str, str]) -> dict[str, Any]:
    """The newest invocation records of a function (durations, memory, outcome)."""
    name = known_function(platform, query)
    limit = min(int_param(query, "limit") or 100, 1000)
    records = platform.db.recent_invocations(name, limit)
    return {"invocations": [{
        "requestId": r.request_id, "version": r.version, "startedMs": r.started_ms, "durationMs": r.duration_ms,
        "billedMs": r.billed_ms, "memoryMb": r.memory_mb, "maxMemoryUsedMb": r.max_memory_mb,
        "initDurationMs": r.init_ms, "outcome": r.outcome, "errorType": r.error_type} for r in records]}


def int_param(query: dict[str, str], name: str) -> int | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValidationError(f"1 validation error detected: Value '{raw}' at '{name}' failed to satisfy "
                              "constraint: Member must be a whole number") from None


def known_function(platform: Platform, query: dict[str, str]) -> str:
    name = query.get("function", "")
    if name not in platform.functions.current:
        raise ResourceNotFound(f"Function not found: {platform.functions.arn(name)}")
    return name


def logs_page(platform: Platform, query: dict[str, str]) -> dict[str, Any]:
    name = known_function(platform, query)
    since = int_param(query, "since")
    after = int_param(query, "after")
    limit = min(int_param(query, "limit") or 1000, 10000)
    events = platform.db.query_logs(name, since, after, limit)
    return {"events": [{"id": e.id, "timestamp": e.ts_ms, "requestId": e.request_id, "message": e.message}
                       for e in events],
            "next": events[-1].id if events else after}


def _query(scope: Scope) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl
    return parse_qsl(scope["query_string"].decode("latin-1"))


def serve(settings: Settings) -> None:
    """Run the server until SIGINT/SIGTERM (graceful: instances are stopped, records flushed)."""
    import uvicorn

    # The recorder's thread formats and writes in the background; a thread that wants the GIL gets
    # it after this long. 5 ms (Python's default) shows up as the request path's p99.
    sys.setswitchinterval(0.0005)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    print(json.dumps({"lambdalite": __version__, "listening": settings.base_url,
                      "home": str(settings.home), "region": settings.region,
                      "account": settings.account}), flush=True)
    uvicorn.run(App(settings), host=settings.host, port=settings.port, log_level="warning",
                access_log=False, lifespan="on", timeout_graceful_shutdown=15, http=http_protocol(),
                proxy_headers=False)  # nothing sits in front of it; the middleware costs per request


def http_protocol() -> Any:
    """uvicorn's httptools protocol, also keeping the header names as the client spelled them.

    ASGI lower-cases header names, but API Gateway passes them on in the client's casing (the v1
    proxy event, `$input.params().header`; reference 5.1, trap 11). The names as received go in
    `scope["extensions"]["lambdalite.header_names"]["names"]`, one per entry of `scope["headers"]`.
    Without httptools, uvicorn's own choice (names lower-cased)."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return "auto"

    class CasePreservingProtocol(HttpToolsProtocol):
        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.header_names: list[bytes] = []
            self.scope["extensions"] = {HEADER_NAMES: {"names": self.header_names}}  # ASGI: a dict each

        def on_header(self, name: bytes, value: bytes) -> None:
            super().on_header(name, value)
            self.header_names.append(name)

    return CasePreservingProtocol

