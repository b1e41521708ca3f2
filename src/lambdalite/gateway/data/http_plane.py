"""The HTTP API (API Gateway v2) data plane: a request -> its API and stage -> route -> Lambda.

Where an HTTP API answers on this server (docs/http-apis.md):
- `{base}/httpapis/{apiId}/{stage}/_user_request_/{path}` always (`$default` is written as it is), in
  the spirit of REST's `/restapis/{id}/{stage}/_user_request_/`;
- `{base}/{path}`, the server's root, for the `$default` stage of the oldest HTTP API that has one,
  where no REST API's short form `/{stage}/...` claims the path first.

It reads only the snapshots the control service publishes (`HttpApiSnapshot`), each API's routes
compiled once into a `RouteTable`. Answers as HTTP APIs give them: 404 `{"message":"Not Found"}`
with no route, 500 `{"message":"Internal Server Error"}` for a failed function or an answer it cannot
use, 503 `{"message":"Service Unavailable"}` past the integration's timeout, 429 when Lambda
throttles; every answer carries an `apigw-requestid` header.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from ... import errors
from ...asgi import Receive, Scope, Send, read_body, send_response
from ...invoke.invoker import SYNC_PAYLOAD_LIMIT, Invoker
from .. import accesslog
from ..httpapi import DEFAULT_STAGE, Deployed, HttpApiSnapshot, HttpStage, Integration, RouteAuth, RouteTable
from ..urls import parse_http_api_path
from . import access
from .events import GatewayRequest, InvocationInfo, parse_proxy_response, proxy_event_v1
from .http_auth import AuthRefused, JwtChecker, identity_values, lambda_decision, lambda_event
from .http_events import ResponseError, event_v2, response_v2
from .policy import unauthorized_error

log = logging.getLogger("lambdalite.gateway")

PAYLOAD_LIMIT = 10 * 1024 * 1024


class HttpPlane:
    def __init__(self, invoker: Invoker, account: str, region: str, now: Callable[[], float] = time.monotonic,
                 access_log: Callable[[str, str, str], None] | None = None,
                 may_invoke: Callable[[str, str], bool] | None = None) -> None:
        self.invoker = invoker
        self.may_invoke = may_invoke   # (function ARN, execute-api source ARN) -> the function's policy allows it
        self.access_log = access_log   # (log group, request id, line): a stage's access log
        self.account = account
        self.region = region
        self._now = now   # the server clock: throttling buckets refill on it
        self._buckets: dict[tuple[str, str, str], list[float]] = {}   # (api, stage, route) -> [tokens, when]
        self._apis: dict[str, HttpApiSnapshot] = {}
        self.jwt = JwtChecker()
        self._decisions: dict[tuple[str, str, tuple[str, ...]], tuple[float, dict[str, Any]]] = {}
        self._tables: dict[int, tuple[Deployed, RouteTable]] = {}   # id(deployment) -> its routes, compiled once
        self.root: str | None = None   # the API whose $default stage answers at the server's root

    def publish(self, served: Mapping[str, HttpApiSnapshot], root: str | None) -> None:
        tables = {}
        for snapshot in served.values():
            for stage in snapshot.stages.values():
                deployed = stage.deployed
                if deployed is not None and id(deployed) not in tables:
                    old = self._tables.get(id(deployed))
                    tables[id(deployed)] = old if old is not None and old[0] is deployed else (
                        deployed, RouteTable(deployed.routes))
        self._tables, self._apis, self.root = tables, dict(served), root

    async def handle_long(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path")
        parsed = parse_http_api_path(raw.decode("latin-1") if raw else scope["path"])
        assert parsed is not None
        api_id, stage, rest = parsed
        await self.serve(scope, receive, send, api_id, stage, rest)

    def root_answers(self, method: str, path: str, made: float) -> bool:
        """Whether the root's `$default` stage, when older than a REST stage made at `made` whose short
        form the path is, has a route for it (the older owner wins)."""
        found = self._apis.get(self.root) if self.root is not None else None
        stage = found.stages.get(DEFAULT_STAGE) if found is not None else None
        if stage is None or stage.deployed is None or stage.created >= made:
            return False
        return self._tables[id(stage.deployed)][1].match(method, path) is not None

    def has(self, api_id: str) -> bool:
        return api_id in self._apis

    async def handle_root(self, scope: Scope, receive: Receive, send: Send, api_id: str | None = None) -> None:
        """A request at the root of an API (the server's root: the root owner; or the API a Host
        `{apiId}.execute-api.localhost` names): a first segment naming one of its stages selects that
        stage, else `$default` (6.1)."""
        api_id = api_id or self.root
        assert api_id is not None
        raw = scope.get("raw_path")
        path = raw.decode("latin-1") if raw else scope["path"]
        first, _, rest = path[1:].partition("/")
        found = self._apis.get(api_id)
        if found is not None and first and first != DEFAULT_STAGE and first in found.stages:
            await self.serve(scope, receive, send, api_id, first, "/" + rest)
        else:
            await self.serve(scope, receive, send, api_id, DEFAULT_STAGE, path)

    async def serve(self, scope: Scope, receive: Receive, send: Send, api_id: str, stage: str, path: str) -> None:
        request_id = _request_id()
        found = self._apis.get(api_id)
        served = found.stages.get(stage) if found is not None else None
        if served is None or served.access_log is None or self.access_log is None:
            await self._serve(scope, receive, send, api_id, stage, path, request_id, served, {})
            return
        facts: dict[str, object] = {}
        watched = access.Watched(send)
        try:
            await self._serve(scope, receive, watched, api_id, stage, path, request_id, served, facts)
        finally:
            group, fmt = served.access_log
            context = access.context(scope, watched, request_id, api_id, stage,
                                     path if stage == DEFAULT_STAGE else f"/{stage}{path}", self.account, self.region)
            self.access_log(group, request_id, accesslog.render(fmt, {**context, **facts}))

    async def _serve(self, scope: Scope, receive: Receive, send: Send, api_id: str, stage: str, path: str,
                     request_id: str, served: HttpStage | None, facts: dict[str, object]) -> None:
        body, too_large = await read_body(receive, PAYLOAD_LIMIT)
        if too_large:
            await _answer(send, 413, "Request Entity Too Large", request_id)
            return
        if served is None or served.deployed is None:   # no such stage, or nothing deployed to it yet
            await _answer(send, 404, "Not Found", request_id)
            return
        deployed, table = self._tables[id(served.deployed)]
        method = scope["method"]
        headers = _headers(scope)
        origin = _header(headers, "origin")
        asked = _header(headers, "access-control-request-method")
        if deployed.cors is not None and method == "OPTIONS" and asked:   # a preflight: API Gateway's own (6.4)
            await send_response(send, 204, b"", [(k.encode(), v.encode("latin-1", "replace"))
                                                 for k, v in deployed.cors.preflight(origin, asked)]
                                + [(b"apigw-requestid", request_id.encode())])
            return
        match = table.match(method, path)
        throttle = served.route_throttles.get(match.key) if match is not None else None
        if not self._admit((api_id, stage, match.key if throttle is not None and match is not None else ""),
                           throttle or served.throttle):
            await _answer(send, 429, "Too Many Requests", request_id)
            return
        if match is None:
            await _answer(send, 404, "Not Found", request_id)
            return
        facts["routeKey"] = match.key
        raw_path = path if stage == DEFAULT_STAGE else f"/{stage}{path}"
        client = scope.get("client")
        epoch_ms = int(time.time() * 1000)
        integration = match.integration
        if integration.payload_format == "1.0":
            request = GatewayRequest(method, raw_path, headers, scope["query_string"].decode("latin-1"), body,
                                     source_ip=client[0] if client else "127.0.0.1")
            info = InvocationInfo(api_id, stage, request_id, request_id, epoch_ms, match.key, match.key, self.account,
                                  None, dict(served.variables) or None)
            event: dict[str, Any] = {"version": "1.0", **proxy_event_v1(request, info, match.path_parameters)}
        else:
            event = event_v2(method=method, raw_path=raw_path, raw_query=scope["query_string"].decode("latin-1"),
                             headers=headers, body=body, route_key=match.key, path_parameters=match.path_parameters,
                             stage=stage, stage_variables=served.variables, api_id=api_id,
                             account=self.account, request_id=request_id, epoch_ms=epoch_ms,
                             source_ip=client[0] if client else "127.0.0.1",
                             protocol=f"HTTP/{scope.get('http_version', '1.1')}",
                             domain=f"{api_id}.execute-api.{self.region}.amazonaws.com")
        if integration.auth is not None:
            try:
                event["requestContext"]["authorizer"] = await self._authorize(integration.auth, event, headers,
                                                                              served, api_id, stage, path)
            except AuthRefused as refused:
                if refused.status >= 500:
                    log.warning("HTTP API %s route %s: its authorizer failed: %s", api_id, match.key, refused.reason)
                await _answer(send, refused.status, refused.message, request_id, refused.headers)
                return
        cors = deployed.cors.answer(origin) if deployed.cors is not None else None
        await self._integrate(send, integration, event, request_id, api_id, match.key, cors, facts)

    async def _authorize(self, auth: RouteAuth, event: dict[str, Any], headers: tuple[tuple[str, str], ...],
                         served: HttpStage, api_id: str, stage: str, path: str) -> dict[str, Any]:
        """The route's authorizer: `requestContext.authorizer`, or AuthRefused (the answer instead)."""
        if auth.problem is not None:
            raise AuthRefused(500, "Internal Server Error", auth.problem)
        lowered = {k.lower(): v for k, v in headers}
        query = event.get("queryStringParameters") or {}
        identity = identity_values(auth.identity_source, lowered, query, served.variables, event["requestContext"])
        if identity is None:
            raise AuthRefused(401, "Unauthorized", "the authorizer's identity source is missing")
        if auth.kind == "JWT":
            return await self.jwt.check(auth, identity[0])
        context = event["requestContext"]
        method = context["http"]["method"] if "http" in context else context["httpMethod"]
        route_arn = f"arn:aws:execute-api:{self.region}:{self.account}:{api_id}/{stage}/{method}{path}"
        key = (api_id, auth.authorizer_id, tuple(identity))
        cached = self._decisions.get(key)
        if cached is not None and cached[0] > self._now():
            return cached[1]
        decided = await self._invoke_authorizer(auth, api_id, lambda_event(event, route_arn, identity), route_arn)
        if auth.ttl_s > 0:
            if len(self._decisions) > 10_000:
                self._decisions.clear()
            self._decisions[key] = (self._now() + auth.ttl_s, decided)
        return decided

    async def _invoke_authorizer(self, auth: RouteAuth, api_id: str, event: dict[str, Any],
                                 route_arn: str) -> dict[str, Any]:
        try:
            fn, invoked_arn = self.invoker.resolve(auth.function, None)
        except errors.ServiceError as e:
            raise AuthRefused(500, "Internal Server Error", f"authorizer {auth.function}: {e.message}") from None
        source = f"arn:aws:execute-api:{self.region}:{self.account}:{api_id}/authorizers/{auth.authorizer_id}"
        if self.may_invoke is not None and not self.may_invoke(invoked_arn, source):
            raise AuthRefused(500, "Internal Server Error", f"invalid permissions on authorizer {invoked_arn}")
        try:
            async with asyncio.timeout(10.0):
                result = await self.invoker.invoke(fn, invoked_arn, json.dumps(event).encode())
        except (TimeoutError, errors.TooManyRequests):
            raise AuthRefused(500, "Internal Server Error", "the authorizer timed out or was throttled") from None
        if result.function_error:
            if unauthorized_error(result.body):
                raise AuthRefused(401, "Unauthorized", "the authorizer answered Unauthorized")
            raise AuthRefused(500, "Internal Server Error", "the authorizer failed")
        return lambda_decision(auth, result.body, route_arn)

    def _source_arn(self, api_id: str, event: dict[str, Any], route: str) -> str:
        """`arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}{route path}` (`$default` for that
        route), the ARN API Gateway invokes as."""
        context = event["requestContext"]
        method = context["http"]["method"] if "http" in context else context["httpMethod"]
        where = route if route == "$default" else method + route.partition(" ")[2]
        return f"arn:aws:execute-api:{self.region}:{self.account}:{api_id}/{context['stage']}/{where}"

    def _admit(self, key: tuple[str, str, str], throttle: tuple[int, float] | None) -> bool:
        """Throttling: a token bucket of `burst`, refilled at `rate` per second of the server clock;
        one per route with RouteSettings of its own, else one for the stage (DefaultRouteSettings)."""
        if throttle is None:
            return True
        burst, rate = throttle
        now = self._now()
        bucket = self._buckets.setdefault(key, [float(burst), now])
        bucket[0] = min(float(burst), bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if bucket[0] < 1:
            return False
        bucket[0] -= 1
        return True

    async def _integrate(self, send: Send, integration: Integration, event: dict[str, Any], request_id: str,
                         api_id: str, route: str, cors: list[tuple[str, str]] | None,
                         facts: dict[str, object]) -> None:
        try:
            fn, invoked_arn = self.invoker.resolve(integration.function, None)
        except errors.ServiceError as e:
            log.warning("HTTP API %s route %s: its integration %s cannot be invoked: %s", api_id, route,
                        integration.function, e.message)
            await _answer(send, 500, "Internal Server Error", request_id)
            return
        if self.may_invoke is not None and not self.may_invoke(invoked_arn, self._source_arn(api_id, event, route)):
            log.warning("HTTP API %s route %s: invalid permissions on Lambda function %s (its policy does not let "
                        "apigateway.amazonaws.com in for this API: add_permission)", api_id, route, invoked_arn)
            await _answer(send, 500, "Internal Server Error", request_id)
            return
        payload = json.dumps(event).encode()
        if len(payload) > SYNC_PAYLOAD_LIMIT:   # Lambda refuses it: the function is not called
            log.warning("HTTP API %s route %s: the event of %d bytes is over Lambda's %d-byte limit", api_id, route,
                        len(payload), SYNC_PAYLOAD_LIMIT)
            await _answer(send, 500, "Internal Server Error", request_id)
            return
        called = time.perf_counter()
        try:
            async with asyncio.timeout(integration.timeout_ms / 1000):
                result = await self.invoker.invoke(fn, invoked_arn, payload)
        except TimeoutError:
            facts["integrationErrorMessage"] = facts["integration.error"] = "Integration timeout"
            await _answer(send, 503, "Service Unavailable", request_id)
            return
        except errors.TooManyRequests:
            facts["integration.status"] = facts["integrationStatus"] = 429
            await _answer(send, 429, "Too Many Requests", request_id)
            return
        facts["integration.latency"] = facts["integrationLatency"] = int((time.perf_counter() - called) * 1000)
        facts["integration.status"] = facts["integrationStatus"] = 200
        facts["integration.requestId"] = result.request_id
        if result.function_error:
            facts["integrationErrorMessage"] = facts["integration.error"] = "The Lambda function returned an error"
            await _answer(send, 500, "Internal Server Error", request_id)
            return
        try:
            if integration.payload_format == "1.0":
                answer = parse_proxy_response(_known_keys_only(result.body), (), None)
                status, headers, body = answer.status, answer.headers, answer.body
            else:
                status, headers, body = response_v2(result.body)
        except (ResponseError, errors.GatewayError) as e:
            log.warning("HTTP API %s route %s: the function's answer cannot be used: %s", api_id, route, e)
            await _answer(send, 500, "Internal Server Error", request_id)
            return
        if cors is not None:   # with a CorsConfiguration, API Gateway's CORS headers replace the function's
            headers = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")] + cors
        out = [(k.encode("latin-1"), v.encode("latin-1", errors="replace")) for k, v in headers]
        out.append((b"apigw-requestid", request_id.encode()))
        await send_response(send, status, body, out)


def _known_keys_only(body: bytes) -> bytes:
    """A 1.0 answer to an HTTP API: keys REST would refuse are ignored (sam-cli does the same)."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body
    if not isinstance(value, dict):
        return body
    known = ("statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded")
    return json.dumps({k: v for k, v in value.items() if k in known}).encode()


def _header(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name), None)


def _headers(scope: Scope) -> tuple[tuple[str, str], ...]:
    return tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])


def _request_id() -> str:
    """An opaque id in the style of HTTP APIs' `apigw-requestid` (`Vx3kQF1uoAMEbXw=`)."""
    return base64.b64encode(secrets.token_bytes(10)).decode()


async def _answer(send: Send, status: int, message: str, request_id: str,
                  extra: list[tuple[str, str]] | None = None) -> None:
    await send_response(send, status, json.dumps({"message": message}, separators=(",", ":")).encode(),
                        [(b"content-type", b"application/json"), (b"apigw-requestid", request_id.encode()),
                         *((k.encode(), v.encode("latin-1", "replace")) for k, v in extra or ())])
