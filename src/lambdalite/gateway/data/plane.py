"""The API Gateway data plane: a request on a stage's URL -> route -> validation -> integration.

A thin I/O shell over the pure modules beside it (routing, validation, vtl, integration, events).
It reads only the immutable stages the control plane publishes, compiled once per (deployment,
stage) by `compiled.compile_stage`: the route table, the models, each method's validator, function
ARN (stage variables resolved), timeout and template choices. The request path asks SQLite
nothing, parses no template and no integration URI, and parses the query string once.

Execution logs, as API Gateway's execution logging writes them (log group
`API-Gateway-Execution-Logs_{apiId}/{stage}`, each line `(request id) ...`): at the stage's level
ERROR (the default here) a failed request's lines say why it failed; at INFO every request is
traced step by step (bodies too with data trace). A request that succeeds at ERROR costs nothing.

URLs (DESIGN.md, "One server, one port"; `gateway/urls.py`): `/restapis/{api}/{stage}/_user_request_/
{path}` always; `/{stage}/{path}` for the API whose stage of that name is the oldest (`urls.short_owners`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ... import errors
from ...asgi import HEADER_NAMES, Receive, Scope, Send, read_body, send_response
from ...ids import request_id as new_request_id
from ...invoke.invoker import SYNC_PAYLOAD_LIMIT, Invoker, InvokeResult
from .. import accesslog
from ..snapshot import DeployedStage
from ..urls import parse_full_path, parse_short_path, short_owners
from ..usage import KeyTable, UsageMeter
from . import access
from . import authorizers as auth
from . import integration as rules
from .compiled import CompiledIntegration, CompiledMethod, CompiledStage, compile_stage
from .events import (
    GatewayRequest,
    InvocationInfo,
    amended,
    parse_proxy_response,
    proxy_event_v1,
    request_context_v1,
)
from .policy import Decision, parse_decision, unauthorized_error
from .routing import RouteMatch
from .validation import MethodRequest, validate_request
from .vtl import CompiledTemplate, RenderResult, VtlContext

log = logging.getLogger("lambdalite.gateway")

PAYLOAD_LIMIT = 10 * 1024 * 1024
JSON = b"application/json"
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]   # status, headers, body

# AWS writes these answers without a space after the colon, `{"message":"Forbidden"}`, and the
# others with one, `{"message": "Internal server error"}` (the bodies as recorded, reference 1.4).
COMPACT_MESSAGES = frozenset({"Missing Authentication Token", "Forbidden", "Unsupported Media Type"})
AUTHORIZER_TIMEOUT_S = 10.0   # how long an authorizer function may take (UNCONFIRMED: AWS documents none)
TRACE_LIMIT = 1024   # a body or header map in an execution log line is cut after this many characters
ExecutionLog = Callable[[str, str, str, list[str]], None]   # (api id, stage, request id, lines)


@dataclass
class Call:
    """One request as the data plane sees it (the stage segment already taken off the path)."""

    stage: CompiledStage
    match: RouteMatch
    method: CompiledMethod
    request: GatewayRequest
    info: InvocationInfo
    headers: dict[str, str]    # lower-case names, last value wins
    context: dict[str, Any] | None = None   # $context, built on first use
    trace: list[str] | None = None          # execution log lines, at logging level INFO

    def log(self, line: str, data: bool = False) -> None:
        """An INFO line of the execution log (`data`: only with data trace, cut to TRACE_LIMIT)."""
        if self.trace is not None and (not data or self.stage.stage.data_trace):
            self.trace.append(line if len(line) <= TRACE_LIMIT else line[:TRACE_LIMIT] + " [TRUNCATED]")

    def request_context(self) -> dict[str, Any]:
        if self.context is None:
            self.context = request_context_v1(self.request, self.info)
        return self.context


class DataPlane:
    def __init__(self, invoker: Invoker, account: str, base_url: str,
                 execution_log: ExecutionLog | None = None,
                 access_log: Callable[[str, str, str], None] | None = None, region: str = "us-east-1",
                 may_invoke: Callable[[str, str], bool] | None = None,
                 clock: Callable[[], float] = time.monotonic, meter: UsageMeter | None = None) -> None:
        self.invoker = invoker
        self.clock = clock   # the server clock: authorizer decisions expire on it
        self.meter = meter or UsageMeter(clock, time.time)
        self.keys = KeyTable()   # published by the control plane's KeyService
        self.decisions = auth.DecisionCache()
        self.account = account
        self.region = region
        self.access_log = access_log   # (log group, request id, line): a stage's access log
        # (invoked function ARN, execute-api source ARN) -> whether the function's policy lets API Gateway in
        self.may_invoke = may_invoke
        self.base_url = base_url
        self.execution_log = execution_log
        self._stages: dict[tuple[str, str], CompiledStage] = {}
        self._short: dict[str, CompiledStage] = {}   # stage name -> the stage that owns its short URL

    # snapshots -------------------------------------------------------------------------------
    def publish(self, deployed: Mapping[tuple[str, str], DeployedStage]) -> None:
        """Swap in what the service now serves; unchanged stages keep their compiled form."""
        compiled: dict[tuple[str, str], CompiledStage] = {}
        for key, stage in deployed.items():
            old = self._stages.get(key)
            compiled[key] = old if old is not None and old.stage is stage else compile_stage(stage)
        owners = short_owners((api_id, name, one.stage.created) for (api_id, name), one in compiled.items())
        self._stages = compiled
        self._short = {name: compiled[(api_id, name)] for name, api_id in owners.items()}

    def use_keys(self, table: KeyTable) -> None:
        """The API keys and usage plans the control plane now has (`usage.KeyTable`)."""
        self.keys = table

    async def test_invoke_authorizer(self, api_id: str, authorizer: Mapping[str, Any],
                                     body: Mapping[str, Any]) -> dict[str, Any]:
        """TestInvokeAuthorizer: the authorizer (as it is now, deployed or not) run on the request the body
        describes; `clientStatus` 200, 401, 403 or 500 as a caller would get, the policy as JSON text."""
        variables = {str(k): str(v) for k, v in (body.get("stageVariables") or {}).items()}
        compiled = auth.compile_authorizer(authorizer, variables)
        headers = [(str(k), str(v)) for k, v in (body.get("headers") or {}).items()]
        path, _, query = str(body.get("pathWithQueryString") or "/").partition("?")
        request = GatewayRequest("GET", path or "/", tuple(headers), query, str(body.get("body") or "").encode())
        info = InvocationInfo(api_id, "test-invoke-stage", new_request_id(), "", int(time.time() * 1000), "",
                              path or "/", self.account, None, variables or None)
        arn = auth.method_arn(self.region, self.account, api_id, "ESTestInvoke-stage", "GET", path or "/")
        started = time.perf_counter()
        answer: dict[str, Any] = {"clientStatus": 200, "authorization": {}, "claims": {}}
        try:
            if compiled.problem is not None:
                raise errors.AuthorizerConfigurationError(compiled.problem)
            identity = auth.identity_of(compiled, {k.lower(): v for k, v in headers}, request.query, variables,
                                        request_context_v1(request, info))
            if identity is None and (compiled.sources or compiled.kind == "TOKEN"):
                raise errors.Unauthorized("the identity source is missing or fails its validation")
            event = (auth.token_event((identity or ("",))[0], arn) if compiled.kind == "TOKEN"
                     else auth.request_event(proxy_event_v1(request, info, {}), arn))
            decision = await self._invoke_authorizer(compiled, api_id, event)
            answer["principalId"] = decision.principal_id
            answer["policy"] = json.dumps({"Version": "2012-10-17", "Statement": [
                {"Action": list(st.actions), "Effect": st.effect, "Resource": list(st.resources)}
                for st in decision.statements]})
            answer["log"] = f"Client token: {(identity or ('',))[0]}\nPolicy: {answer['policy']}"
        except errors.GatewayError as failure:
            answer["clientStatus"] = failure.status
            answer["log"] = failure.reason or str(failure.message)
        answer["latency"] = int((time.perf_counter() - started) * 1000)
        return answer

    async def test_invoke_method(self, deployed: DeployedStage, verb: str, resource_path: str,
                                 body: Mapping[str, Any]) -> dict[str, Any]:
        """TestInvokeMethod: one request through the method as the API is now (not a stage's deployment),
        with no authorizer and no API key (API Gateway's test skips both), answered as AWS's shape:
        status, body, headers, multiValueHeaders, log (the execution log, bodies included), latency."""
        compiled = compile_stage(deployed)
        path, _, query = str(body.get("pathWithQueryString") or resource_path).partition("?")
        headers: list[tuple[bytes, bytes]] = [(str(k).lower().encode("latin-1"), str(v).encode("latin-1"))
                                              for k, v in (body.get("headers") or {}).items()]
        for name, values in (body.get("multiValueHeaders") or {}).items():
            headers += [(str(name).lower().encode("latin-1"), str(v).encode("latin-1")) for v in values or []]
        scope = {"method": verb, "headers": headers, "query_string": query.encode("latin-1"),
                 "client": ("test-invoke-source-ip", 0), "http_version": "1.1"}
        request_id = new_request_id()
        trace: list[str] = []
        started = time.perf_counter()
        answer: dict[str, Any]
        try:
            call = self._call(compiled, scope, path or "/", str(body.get("body") or "").encode(), request_id, trace)
            if call.method.validator:
                self._validate(call)
            status, out_headers, out = await self._integrate(call)
            pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in out_headers]
            trace += ["Method response body after transformations: " + out.decode("utf-8", "replace"),
                      "Successfully completed execution", f"Method completed with status: {status}"]
            answer = {"status": status, "body": out.decode("utf-8", "replace")}
        except errors.GatewayError as failure:
            trace += failure_lines(failure)
            pairs = [("Content-Type", "application/json"), ("x-amzn-ErrorType", failure.error_type)]
            answer = {"status": failure.status, "body": json.dumps({failure.message_key: failure.message})}
        multi: dict[str, list[str]] = {}
        for name, value in pairs:   # names as AWS's answer spells them: Content-Type
            multi.setdefault("-".join(p.capitalize() for p in name.split("-")) if name.islower() else name,
                             []).append(value)
        stamp = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime())
        log_text = f"Execution log for request {request_id}\n" + "".join(f"{stamp} : {line}\n" for line in trace)
        answer.update(headers={k: v[-1] for k, v in multi.items()}, multiValueHeaders=multi, log=log_text,
                      latency=int((time.perf_counter() - started) * 1000))
        return answer

    def claims(self, path: str) -> bool:
        """Whether the path is a REST stage's: its full form, or a short form some API owns (the
        server's root is otherwise an HTTP API's)."""
        return parse_full_path(path) is not None or parse_short_path(path)[0] in self._short

    def short_claim(self, path: str) -> float | None:
        """When the stage owning the path's short form `/{stage}/...` was made; None when no stage
        owns it (or the path is a full form)."""
        if parse_full_path(path) is not None:
            return None
        owner = self._short.get(parse_short_path(path)[0])
        return owner.stage.created if owner is not None else None

    def has(self, api_id: str) -> bool:
        return any(key[0] == api_id for key in self._stages)

    async def handle_api(self, scope: Scope, receive: Receive, send: Send, api_id: str) -> None:
        """`/{stage}/{path}` of one API (a Host `{apiId}.execute-api.localhost` named it)."""
        raw = scope.get("raw_path")
        stage, rest = parse_short_path(raw.decode("latin-1") if raw else scope["path"])
        compiled = self._stages.get((api_id, stage))
        if compiled is None:
            await _drain(receive)
            await send_failure(send, errors.MissingAuthenticationToken(), new_request_id())
            return
        await self.serve(compiled, scope, receive, send, rest)

    # the entry point -------------------------------------------------------------------------
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """API traffic: `/restapis/{id}/{stage}/_user_request_/...` and the short `/{stage}/...`.

        The path is taken raw (not percent-decoded), as API Gateway passes it on."""
        raw = scope.get("raw_path")
        path = raw.decode("latin-1") if raw else scope["path"]
        full = parse_full_path(path)
        if full is not None:
            api_id, stage, rest = full
            compiled = self._stages.get((api_id, stage))
        else:
            name, rest = parse_short_path(path)
            compiled = self._short.get(name)
        if compiled is None:
            await _drain(receive)
            await send_failure(send, errors.MissingAuthenticationToken(), new_request_id())
            return
        await self.serve(compiled, scope, receive, send, rest)

    async def serve(self, compiled: CompiledStage, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        request_id = new_request_id()
        settings = compiled.stage.access_log
        if settings is None or self.access_log is None:
            await self._serve(compiled, scope, receive, send, path, request_id, {})
            return
        facts: dict[str, object] = {}
        watched = access.Watched(send)
        try:
            await self._serve(compiled, scope, receive, watched, path, request_id, facts)
        finally:
            stage = compiled.stage
            context = access.context(scope, watched, request_id, stage.api_id, stage.stage_name,
                                     f"/{stage.stage_name}{path}", self.account, self.region)
            self.access_log(settings[0], request_id, accesslog.render(settings[1], {**context, **facts}))

    async def _serve(self, compiled: CompiledStage, scope: Scope, receive: Receive, send: Send, path: str,
                     request_id: str, facts: dict[str, object]) -> None:
        body, too_large = await read_body(receive, PAYLOAD_LIMIT)
        level = compiled.stage.logging_level if self.execution_log else "OFF"
        trace: list[str] | None = [] if level == "INFO" else None
        try:
            if too_large:
                raise errors.RequestTooLong()
            call = self._call(compiled, scope, path, body, request_id, trace)
            facts["resourcePath"], facts["resourceId"] = call.match.resource_path, call.match.resource_id
            status, headers, out = await self._answer(call)
        except errors.GatewayError as failure:
            if failure.status >= 500 and failure.reason:   # the API's configuration or its function: one line
                log.warning("gateway: %s %s on stage %s of API %s answered %d: %s", scope["method"], path,
                            compiled.stage.stage_name, compiled.stage.api_id, failure.status, failure.reason)
            if level != "OFF":
                self._log(compiled, request_id, [*(trace or []), *failure_lines(failure)])
            await send_failure(send, failure, request_id)
        except Exception:
            log.exception("gateway: unexpected error on %s %s", scope["method"], scope["path"])
            if level != "OFF":
                self._log(compiled, request_id, [*(trace or []), "Execution failed due to an internal error",
                                                 "Method completed with status: 500"])
            await send_failure(send, errors.GatewayError(), request_id)
        else:
            headers.append((b"x-amzn-requestid", request_id.encode()))
            if trace is not None:
                call.log("Method response body after transformations: " + out.decode("utf-8", "replace"), data=True)
                call.log("Method response headers: " + _pairs((k.decode("latin-1"), v.decode("latin-1"))
                                                             for k, v in headers), data=True)
                trace += ["Successfully completed execution", f"Method completed with status: {status}"]
                self._log(compiled, request_id, trace)
            await send_response(send, status, out, headers)

    def _log(self, compiled: CompiledStage, request_id: str, lines: list[str]) -> None:
        assert self.execution_log is not None
        stage = compiled.stage
        self.execution_log(stage.api_id, stage.stage_name, request_id, [f"({request_id}) {line}" for line in lines])

    # the request ------------------------------------------------------------------------------
    def _call(self, compiled: CompiledStage, scope: Scope, path: str, body: bytes, request_id: str,
              trace: list[str] | None = None) -> Call:
        method = scope["method"]
        match = compiled.routes.match(method, path)
        if match is None:
            if trace is not None:
                trace.append(f"No method matches {method} {path}")
            raise errors.MissingAuthenticationToken()
        raw_headers = request_headers(scope)
        client = scope.get("client")
        request = GatewayRequest(method, path, raw_headers, scope["query_string"].decode("latin-1"), body,
                                 source_ip=client[0] if client else "127.0.0.1",
                                 protocol=f"HTTP/{scope.get('http_version', '1.1')}")
        stage = compiled.stage
        compiled_method: CompiledMethod = match.method
        info = InvocationInfo(stage.api_id, stage.stage_name, request_id, request_id[:16],
                              int(time.time() * 1000), match.resource_id, match.resource_path, self.account,
                              stage.deployment_id, stage.variables or None, compiled_method.operation_name)
        call = Call(compiled, match, compiled_method, request, info, {k.lower(): v for k, v in raw_headers},
                    trace=trace)
        if trace is not None:
            call.log(f"Starting execution for request: {request_id}")
            call.log(f"HTTP Method: {method}, Resource Path: {match.resource_path}")
            call.log(f"Method request path: {_pairs(match.path_parameters.items())}")
            call.log(f"Method request query string: {_pairs(request.query.items())}")
            call.log(f"Method request headers: {_pairs(raw_headers)}", data=True)
            call.log("Method request body before transformations: " + body.decode("utf-8", "replace"), data=True)
        return call

    async def _answer(self, call: Call) -> Answer:
        """Who may call (authorizer, API key), then the method request's validation, then the integration."""
        if call.method.authorizer is not None or call.method.api_key_required:
            await self._admit(call)
        if call.method.validator:
            self._validate(call)
        return await self._integrate(call)

    @staticmethod
    def _validate(call: Call) -> None:
        """The method request validator, once the caller is admitted (AWS checks who before what)."""
        assert call.method.validator is not None
        validate_request(call.method.method, call.method.validator, call.stage.models,
                         MethodRequest(call.match.path_parameters, call.request.query, call.headers, call.request.body))

    # who may call: a Lambda authorizer, then the API key and its usage plan (AWS's order, reference 1.7)
    async def _admit(self, call: Call) -> None:
        usage_key: str | None = None
        if call.method.authorizer is not None:
            decision, latency_ms = await self._authorize(call, call.method.authorizer)
            extra = {**call.info.extra_context, "authorizer": decision.authorizer_context(latency_ms)}
            call.info = amended(call.info, extra_context=extra)
            call.context = None
            usage_key = decision.usage_key
        if call.method.api_key_required:
            stage = call.stage.stage
            value = usage_key if stage.api_key_source == "AUTHORIZER" else call.headers.get("x-api-key")
            found = self.keys.plan_for(stage.api_id, stage.stage_name, value)
            if found is None:
                raise errors.InvalidApiKey("API Key not authorized for this stage" if value else "API Key missing")
            key, plan = found
            refused = self.meter.admit(key.key_id, plan)
            if refused == "throttled":
                raise errors.UsageThrottled(f"API Key {key.key_id} is over usage plan {plan.plan_id}'s rate")
            if refused == "quota":
                raise errors.QuotaExceeded(f"API Key {key.key_id} used up usage plan {plan.plan_id}'s quota")
            call.info = amended(call.info, identity_extra={"apiKey": key.value, "apiKeyId": key.key_id})
            call.context = None
            if call.trace is not None:
                call.log(f"API Key {key.key_id} authorized through usage plan {plan.plan_id}")

    async def _authorize(self, call: Call, authorizer: auth.CompiledAuthorizer) -> tuple[Decision, int]:
        """The authorizer's decision for this request (cached by identity), checked against the method ARN."""
        if authorizer.problem is not None:
            raise errors.AuthorizerConfigurationError(authorizer.problem)
        stage = call.stage.stage
        identity = auth.identity_of(authorizer, call.headers, call.request.query, stage.variables,
                                    call.request_context() if any(k == "context" for k, _ in authorizer.sources)
                                    else None)
        if identity is None and (authorizer.sources or authorizer.kind == "TOKEN"):
            raise errors.Unauthorized("the authorizer's identity source is missing or fails its validation")
        arn = auth.method_arn(self.region, self.account, stage.api_id, stage.stage_name, call.request.http_method,
                              call.request.path)
        key = (stage.api_id, stage.stage_name, authorizer.authorizer_id, identity or ())
        now = self.clock()
        decision = self.decisions.get(key, now) if identity else None
        latency_ms = 0
        if decision is None:
            started = time.perf_counter()
            if authorizer.kind == "TOKEN":
                event = auth.token_event((identity or ("",))[0], arn)
            else:
                event = auth.request_event(proxy_event_v1(call.request, call.info, call.match.path_parameters), arn)
            decision = await self._invoke_authorizer(authorizer, stage.api_id, event)
            latency_ms = int((time.perf_counter() - started) * 1000)
            if identity:
                self.decisions.put(key, decision, authorizer.ttl_s, now)
        decision.check(arn)
        if call.trace is not None:
            call.log(f"Authorizer {authorizer.authorizer_id} allowed {arn} for principal {decision.principal_id}")
        return decision, latency_ms

    async def _invoke_authorizer(self, authorizer: auth.CompiledAuthorizer, api_id: str,
                                 event: dict[str, Any]) -> Decision:
        """Invoke the authorizer function: 401 for its error `Unauthorized`, 500 for anything else wrong."""
        try:
            fn, invoked_arn = self.invoker.resolve(authorizer.function, None)
        except errors.ServiceError as e:
            raise errors.AuthorizerConfigurationError(f"authorizer {authorizer.function} cannot be invoked: {e}") \
                from None
        source = f"arn:aws:execute-api:{self.region}:{self.account}:{api_id}/authorizers/{authorizer.authorizer_id}"
        if self.may_invoke is not None and not self.may_invoke(invoked_arn, source):
            raise errors.AuthorizerConfigurationError("Invalid permissions on Lambda function (authorizer "
                                                      f"{authorizer.function})")
        try:
            async with asyncio.timeout(AUTHORIZER_TIMEOUT_S):
                result = await self.invoker.invoke(fn, invoked_arn, json.dumps(event).encode())
        except TimeoutError:
            raise errors.AuthorizerConfigurationError("the authorizer timed out") from None
        except errors.TooManyRequests:
            raise errors.AuthorizerConfigurationError("Lambda throttled the authorizer") from None
        if result.function_error:
            if unauthorized_error(result.body):
                raise errors.Unauthorized("the authorizer answered Unauthorized")
            raise errors.AuthorizerConfigurationError(f"the authorizer failed: {_error_text(result.body)}")
        return parse_decision(result.body)

    async def _integrate(self, call: Call) -> Answer:
        integration = call.method.integration
        if integration is None:
            raise errors.IntegrationConfigurationError(call.method.problem or "the method cannot be served")
        if integration.kind == "AWS_PROXY":
            return await self._lambda_proxy(call, integration)
        if integration.kind == "AWS":
            return await self._lambda_custom(call, integration)
        return await self._mock(call, integration)

    # integrations -----------------------------------------------------------------------------
    async def _lambda_proxy(self, call: Call, integration: CompiledIntegration) -> Answer:
        stage = call.stage.stage
        event = proxy_event_v1(call.request, call.info, call.match.path_parameters, stage.binary_media_types)
        result = await self._invoke(integration, json.dumps(event).encode(), call)
        if result.function_error:   # the function's own log has the traceback; the execution log says which
            raise errors.IntegrationFailed(f"Lambda execution failed with status 200 due to customer function "
                                           f"error: {_error_text(result.body)}. Lambda request id: "
                                           f"{result.request_id}")
        answer = parse_proxy_response(result.body, stage.binary_media_types, call.headers.get("accept"))
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
        if not any(k.lower() == b"content-type" for k, _ in headers):
            headers.append((b"content-type", JSON))
        return answer.status, headers, answer.body

    async def _lambda_custom(self, call: Call, integration: CompiledIntegration) -> Answer:
        payload = await self._request_payload(call, integration)
        result = await self._invoke(integration, payload, call)
        selection = rules.lambda_error_message(result.body, result.function_error)
        return await self._respond(call, integration, selection, result.body)

    async def _mock(self, call: Call, integration: CompiledIntegration) -> Answer:
        rendered = (await self._request_payload(call, integration)).decode()
        status = rules.mock_status_code(rendered)
        return await self._respond(call, integration, str(status), b"")

    @staticmethod
    async def _render(template: CompiledTemplate, variables: VtlContext) -> RenderResult:
        """A template with a loop renders on a worker thread (bounded by its own limits, `vtl`): the
        event loop keeps answering meanwhile."""
        if template.heavy:
            return await asyncio.to_thread(template.render_with_overrides, variables)
        return template.render_with_overrides(variables)

    async def _request_payload(self, call: Call, integration: CompiledIntegration) -> bytes:
        key = integration.request_template(call.headers.get("content-type"))
        if key is rules.PASSTHROUGH:
            return call.request.body or b"{}"
        template = integration.template(integration.request_templates[key])
        if template.simple is not None:   # only $input.params('x'): no VTL on the request path
            return template.render_params(call.match.path_parameters, call.request.query,
                                          call.request.headers).encode()
        return (await self._render(template, self._vtl(call, call.request.body))).text.encode()

    async def _respond(self, call: Call, integration: CompiledIntegration, selection: str | None,
                       body: bytes) -> Answer:
        status, response = integration.response_for(selection)
        templates = response.get("responseTemplates") or {}
        key = rules.select_response_template(templates, call.headers.get("accept"))
        stage = call.stage.stage
        parameters = response.get("responseParameters")
        mapped = rules.map_response_parameters(parameters, body=body, context=call.request_context(),
                                               stage_variables=stage.variables) if parameters else {}
        if key is not None and templates[key]:
            result = await self._render(integration.template(templates[key]), self._vtl(call, body))
            body = result.text.encode()
            status = result.overrides.response_status or status
            mapped.update(result.overrides.response_headers)
        content_type = rules.response_content_type(key, mapped)
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in mapped.items()
                   if k.lower() != "content-type"]
        headers.append((b"content-type", content_type.encode("latin-1")))
        return status, headers, body

    def _source_arn(self, call: Call) -> str:
        """The ARN API Gateway invokes a function as (what AddPermission's SourceArn is matched against):
        `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}{resource path}`."""
        info = call.info
        return (f"arn:aws:execute-api:{self.region}:{self.account}:{info.api_id}/{info.stage}/"
                f"{call.request.http_method}{info.resource_path}")

    async def _invoke(self, integration: CompiledIntegration, payload: bytes, call: Call) -> InvokeResult:
        try:
            fn, invoked_arn = self.invoker.resolve(integration.function, None)
        except errors.ServiceError as e:
            raise errors.IntegrationConfigurationError(
                f"integration {integration.function} cannot be invoked: {e}") from None
        if self.may_invoke is not None and not self.may_invoke(invoked_arn, self._source_arn(call)):
            raise errors.IntegrationConfigurationError("Invalid permissions on Lambda function")
        if len(payload) > SYNC_PAYLOAD_LIMIT:   # Lambda refuses it; the caller gets a 502 (the function is not called)
            raise errors.IntegrationFailed(f"Execution failed: the integration request of {len(payload)} bytes is over "
                                           f"Lambda's {SYNC_PAYLOAD_LIMIT}-byte limit for a synchronous invocation")
        if call.trace is not None:
            call.log(f"Endpoint request URI: {invoked_arn}")
            call.log("Endpoint request body after transformations: " + payload.decode("utf-8", "replace"), data=True)
            started = time.perf_counter()
        try:
            async with asyncio.timeout(integration.timeout_s):   # no extra task, unlike wait_for
                result = await self.invoker.invoke(fn, invoked_arn, payload)
            if call.trace is not None:
                call.log(f"Received response. Status: 200, Integration latency: "
                         f"{(time.perf_counter() - started) * 1000:.0f} ms")
                call.log("Endpoint response body before transformations: "
                         + result.body.decode("utf-8", "replace"), data=True)
            return result
        except TimeoutError:
            raise errors.IntegrationTimeout() from None
        except errors.TooManyRequests as e:
            reason = e.extra.get("Reason", "ConcurrentInvocationLimitExceeded")
            raise errors.IntegrationThrottled(
                f"Lambda throttled {integration.function} ({reason}): Execution failed due to limit exceeded") from None

    def _vtl(self, call: Call, body: bytes) -> VtlContext:
        return VtlContext(body=body.decode("utf-8", errors="replace"), path_params=call.match.path_parameters,
                          query=call.request.query, headers=dict(call.request.headers),
                          stage_variables=call.stage.stage.variables, context=call.request_context())


def request_headers(scope: Scope) -> tuple[tuple[str, str], ...]:
    """The request's headers in arrival order, in the client's casing when the server kept it."""
    headers = scope["headers"]
    names = ((scope.get("extensions") or {}).get(HEADER_NAMES) or {}).get("names")
    if names is None or len(names) != len(headers):
        names = [name for name, _ in headers]
    return tuple((name.decode("latin-1"), value.decode("latin-1"))
                 for name, (_, value) in zip(names, headers, strict=True))


async def _drain(receive: Receive) -> None:
    await read_body(receive, 0)


async def send_failure(send: Send, failure: errors.GatewayError, request_id: str) -> None:
    separators = (",", ":") if failure.message in COMPACT_MESSAGES else (", ", ": ")
    body = json.dumps({failure.message_key: failure.message}, separators=separators).encode()
    await send_response(send, failure.status, body, [
        (b"content-type", JSON), (b"x-amzn-requestid", request_id.encode()),
        (b"x-amzn-errortype", failure.error_type.encode())])


def failure_lines(failure: errors.GatewayError) -> list[str]:
    """What API Gateway's execution log says about a request that failed, and its status."""
    reason = failure.reason or failure.message or failure.error_type
    if isinstance(failure, errors.IntegrationTimeout):
        lines = ["Execution failed due to a timeout error"]
    elif isinstance(failure, errors.IntegrationFailed):
        lines = [reason]
    elif isinstance(failure, errors.ProxyResponseError):
        lines = [f"Execution failed due to configuration error: Malformed Lambda proxy response: {reason}"]
    elif failure.status >= 500:
        lines = [f"Execution failed due to configuration error: {reason}"]
    else:
        lines = [f"{failure.message}: {failure.reason}" if failure.reason and failure.reason != failure.message
                 else reason]
    return [*lines, f"Method completed with status: {failure.status}"]


def _error_text(body: bytes) -> str:
    try:
        error = json.loads(body)
        return f"{error.get('errorType')}: {error.get('errorMessage')}"
    except (ValueError, AttributeError):
        return body.decode("utf-8", "replace")[:TRACE_LIMIT]


def _pairs(items: Any) -> str:
    """{a=1, b=2}, as API Gateway's execution log prints maps."""
    pairs = items.items() if isinstance(items, Mapping) else items
    return "{" + ", ".join(f"{k}={v}" for k, v in pairs) + "}"
