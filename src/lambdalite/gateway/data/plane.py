"""The API Gateway data plane: a request on a stage's URL -> route -> validation -> integration.

A thin I/O shell over the pure modules beside it (routing, validation, vtl, integration, events).
It reads only the immutable `DeployedStage` snapshots the service publishes, compiled once per
deployment (route table, models); templates arrive compiled in the snapshot. The request path
asks SQLite nothing and parses no template.

URLs (DESIGN.md, "One server, one port"): `/restapis/{api}/{stage}/_user_request_/{path}` always;
`/{stage}/{path}` when exactly one API has that stage (403 listing the full URLs when several do).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from ... import errors
from ...asgi import HEADER_NAMES, Receive, Scope, Send, read_body, send_response
from ...ids import request_id as new_request_id
from ...invoke.invoker import Invoker, InvokeResult
from ..snapshot import DeployedStage
from . import integration as rules
from .events import (
    GatewayRequest,
    InvocationInfo,
    parse_proxy_response,
    proxy_event_v1,
    request_context_v1,
)
from .routing import RouteMatch, RouteTable, compile_route_table
from .validation import MethodRequest, ModelSet, compile_models, validate_request
from .vtl import CompiledTemplate, VtlContext

log = logging.getLogger("lambdalite.gateway")

PAYLOAD_LIMIT = 10 * 1024 * 1024
JSON = b"application/json"
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]   # status, headers, body
LAMBDA_URI = re.compile(r"arn:[^:]+:apigateway:[^:]+:lambda:path/2015-03-31/functions/(?P<function>.+)/invocations")
STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")


# AWS writes these answers without a space after the colon, `{"message":"Forbidden"}`, and the
# others with one, `{"message": "Internal server error"}` (the bodies as recorded, reference 1.4).
COMPACT_MESSAGES = frozenset({"Missing Authentication Token", "Forbidden", "Too Many Requests",
                              "Unsupported Media Type"})


@dataclass(frozen=True)
class CompiledStage:
    stage: DeployedStage
    routes: RouteTable
    models: ModelSet


@dataclass
class Call:
    """One request as the data plane sees it (the stage segment already taken off the path)."""

    stage: CompiledStage
    match: RouteMatch
    request: GatewayRequest
    info: InvocationInfo
    query: dict[str, str]
    headers: dict[str, str]    # lower-case names, last value wins
    context: dict[str, Any] | None = None   # $context, built on first use

    def request_context(self) -> dict[str, Any]:
        if self.context is None:
            self.context = request_context_v1(self.request, self.info)
        return self.context


class DataPlane:
    def __init__(self, invoker: Invoker, account: str) -> None:
        self.invoker = invoker
        self.account = account
        self._stages: dict[tuple[str, str], CompiledStage] = {}
        self._short: dict[str, list[CompiledStage]] = {}

    # snapshots -------------------------------------------------------------------------------
    def publish(self, deployed: Mapping[tuple[str, str], DeployedStage]) -> None:
        """Swap in what the service now serves; unchanged stages keep their compiled form."""
        compiled: dict[tuple[str, str], CompiledStage] = {}
        for key, stage in deployed.items():
            old = self._stages.get(key)
            compiled[key] = old if old is not None and old.stage is stage else compile_stage(stage)
        short: dict[str, list[CompiledStage]] = {}
        for (_, name), one in sorted(compiled.items()):
            short.setdefault(name, []).append(one)
        self._stages, self._short = compiled, short

    # entry points ----------------------------------------------------------------------------
    async def serve_full(self, scope: Scope, receive: Receive, send: Send, api_id: str, stage: str,
                         path: str) -> None:
        compiled = self._stages.get((api_id, stage))
        if compiled is None:
            await _drain(receive)
            await send_failure(send, errors.MissingAuthenticationToken(), new_request_id())
            return
        await self.serve(compiled, scope, receive, send, path)

    def short_form(self, path: str) -> tuple[list[CompiledStage], str] | None:
        """The stages a `/{stage}/...` path may mean, and the rest of the path; None if no stage."""
        name, _, rest = path[1:].partition("/")
        stages = self._short.get(name)
        return (stages, "/" + rest) if stages else None

    async def serve_short(self, scope: Scope, receive: Receive, send: Send,
                          stages: list[CompiledStage], path: str, base_url: str) -> None:
        if len(stages) == 1:
            await self.serve(stages[0], scope, receive, send, path)
            return
        await _drain(receive)
        urls = ", ".join(f"{base_url}/restapis/{s.stage.api_id}/{s.stage.stage_name}/_user_request_{path}"
                         for s in stages)
        message = (f"Stage '{stages[0].stage.stage_name}' exists in {len(stages)} APIs, so the short URL is "
                   f"ambiguous; use one of: {urls}")
        await send_failure(send, errors.GatewayForbidden(message=message), new_request_id())

    async def serve(self, compiled: CompiledStage, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        request_id = new_request_id()
        body, too_large = await read_body(receive, PAYLOAD_LIMIT)
        try:
            if too_large:
                raise errors.RequestTooLong()
            call = self._call(compiled, scope, path, body, request_id)
            status, headers, out = await self._integrate(call)
        except errors.GatewayError as failure:
            if failure.status >= 500 and failure.reason:   # the API's configuration or its function: one line
                log.warning("gateway: %s %s on stage %s of API %s answered %d: %s", scope["method"], path,
                            compiled.stage.stage_name, compiled.stage.api_id, failure.status, failure.reason)
            await send_failure(send, failure, request_id)
        except Exception:
            log.exception("gateway: unexpected error on %s %s", scope["method"], scope["path"])
            await send_failure(send, errors.GatewayError(), request_id)
        else:
            headers.append((b"x-amzn-requestid", request_id.encode()))
            await send_response(send, status, out, headers)

    # the request ------------------------------------------------------------------------------
    def _call(self, compiled: CompiledStage, scope: Scope, path: str, body: bytes, request_id: str) -> Call:
        method = scope["method"]
        match = compiled.routes.match(method, path)
        if match is None:
            raise errors.MissingAuthenticationToken()
        raw_headers = request_headers(scope)
        query_string = scope["query_string"].decode("latin-1")
        client = scope.get("client")
        request = GatewayRequest(method, path, raw_headers, query_string, body,
                                 source_ip=client[0] if client else "127.0.0.1",
                                 protocol=f"HTTP/{scope.get('http_version', '1.1')}")
        stage = compiled.stage
        info = InvocationInfo(stage.api_id, stage.stage_name, request_id, request_id[:16],
                              int(time.time() * 1000), match.resource_id, match.resource_path, self.account,
                              stage.deployment_id, stage.variables or None,
                              match.method.get("operationName"))
        query = dict(_parse_query(query_string))
        headers = {k.lower(): v for k, v in raw_headers}
        call = Call(compiled, match, request, info, query, headers)
        self._validate(call)
        return call

    def _validate(self, call: Call) -> None:
        validator_id = call.match.method.get("requestValidatorId")
        if not validator_id:
            return
        validator = call.stage.stage.validators.get(validator_id)
        validate_request(call.match.method, validator, call.stage.models,
                         MethodRequest(call.match.path_parameters, call.query, call.headers, call.request.body))

    async def _integrate(self, call: Call) -> Answer:
        integration = call.match.method.get("methodIntegration")
        if not integration:
            raise errors.IntegrationConfigurationError("the method has no integration")
        kind = integration.get("type")
        if kind == "AWS_PROXY":
            return await self._lambda_proxy(call, integration)
        if kind == "AWS":
            return await self._lambda_custom(call, integration)
        if kind == "MOCK":
            return self._mock(call, integration)
        raise errors.IntegrationConfigurationError(f"{kind} integrations are not served yet")

    # integrations -----------------------------------------------------------------------------
    async def _lambda_proxy(self, call: Call, integration: Mapping[str, Any]) -> Answer:
        stage = call.stage.stage
        event = proxy_event_v1(call.request, call.info, call.match.path_parameters, stage.binary_media_types)
        result = await self._invoke(call, integration, json.dumps(event).encode())
        if result.function_error:
            raise errors.IntegrationFailed()   # the function's own log says why; not the gateway's to repeat
        answer = parse_proxy_response(result.body, stage.binary_media_types, call.headers.get("accept"))
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
        if not any(k.lower() == b"content-type" for k, _ in headers):
            headers.append((b"content-type", JSON))
        return answer.status, headers, answer.body

    async def _lambda_custom(self, call: Call, integration: Mapping[str, Any]) -> Answer:
        payload = self._request_payload(call, integration)
        result = await self._invoke(call, integration, payload)
        selection = rules.lambda_error_message(result.body, result.function_error)
        return self._respond(call, integration, selection, result.body)

    def _mock(self, call: Call, integration: Mapping[str, Any]) -> Answer:
        rendered = self._request_payload(call, integration).decode()
        status = rules.mock_status_code(rendered)
        return self._respond(call, integration, str(status), b"")

    def _request_payload(self, call: Call, integration: Mapping[str, Any]) -> bytes:
        templates = integration.get("requestTemplates") or {}
        key = rules.select_request_template(templates, call.headers.get("content-type"),
                                            integration.get("passthroughBehavior"))
        if key is rules.PASSTHROUGH:
            return call.request.body or b"{}"
        return self._render(call, templates[key], call.request.body).encode()

    def _respond(self, call: Call, integration: Mapping[str, Any], selection: str | None,
                 body: bytes) -> Answer:
        status, response = rules.select_integration_response(integration.get("integrationResponses"), selection)
        templates = response.get("responseTemplates") or {}
        key = rules.select_response_template(templates, call.headers.get("accept"))
        stage = call.stage.stage
        parameters = response.get("responseParameters")
        mapped = rules.map_response_parameters(parameters, body=body, context=call.request_context(),
                                               stage_variables=stage.variables) if parameters else {}
        if key is not None and templates[key]:
            result = self._compiled(call, templates[key]).render_with_overrides(self._vtl(call, body))
            body = result.text.encode()
            status = result.overrides.response_status or status
            mapped.update(result.overrides.response_headers)
        content_type = rules.response_content_type(key, mapped)
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in mapped.items()
                   if k.lower() != "content-type"]
        headers.append((b"content-type", content_type.encode("latin-1")))
        return status, headers, body

    async def _invoke(self, call: Call, integration: Mapping[str, Any], payload: bytes) -> InvokeResult:
        function_arn = self._function_arn(call, integration)
        try:
            fn, invoked_arn = self.invoker.resolve(function_arn, None)
        except errors.ServiceError as e:
            raise errors.IntegrationConfigurationError(f"integration {function_arn} cannot be invoked: {e}") from None
        timeout = float(integration.get("timeoutInMillis") or 29000) / 1000
        try:
            async with asyncio.timeout(timeout):   # no extra task, unlike wait_for
                return await self.invoker.invoke(fn, invoked_arn, payload)
        except TimeoutError:
            raise errors.IntegrationTimeout() from None
        except errors.TooManyRequests:
            raise errors.GatewayThrottled() from None

    def _function_arn(self, call: Call, integration: Mapping[str, Any]) -> str:
        if str(integration.get("httpMethod") or "").upper() != "POST":
            # Lambda is only ever invoked with POST; AWS accepts another verb at PutIntegration and
            # answers the call with 500 (AWS-recorded for AWS_PROXY with GET, reference 1.1).
            raise errors.IntegrationConfigurationError(
                f"a Lambda integration must use POST, not {integration.get('httpMethod')}")
        uri = str(integration.get("uri") or "")
        if "${" in uri:
            variables = call.stage.stage.variables
            uri = STAGE_VARIABLE.sub(lambda m: variables.get(m.group(1), ""), uri)
        found = LAMBDA_URI.fullmatch(uri)
        if found is None:
            raise errors.IntegrationConfigurationError(f"{uri} is not a Lambda function URI")
        return found.group("function")

    # templates --------------------------------------------------------------------------------
    def _render(self, call: Call, text: str, body: bytes) -> str:
        return self._compiled(call, text).render(self._vtl(call, body))

    def _compiled(self, call: Call, text: str) -> CompiledTemplate:
        template = call.stage.stage.templates.get(text)
        if template is None:   # did not compile at deployment: reported then, 500 now
            raise errors.IntegrationConfigurationError("the mapping template did not compile at deployment")
        return template

    def _vtl(self, call: Call, body: bytes) -> VtlContext:
        return VtlContext(body=body.decode("utf-8", errors="replace"), path_params=call.match.path_parameters,
                          query=call.query, headers=dict(call.request.headers),
                          stage_variables=call.stage.stage.variables, context=call.request_context())


def compile_stage(stage: DeployedStage) -> CompiledStage:
    return CompiledStage(stage, compile_route_table(stage.resources), compile_models(
        {name: model.get("schema") or "{}" for name, model in stage.models.items()}))


def request_headers(scope: Scope) -> tuple[tuple[str, str], ...]:
    """The request's headers in arrival order, in the client's casing when the server kept it."""
    headers = scope["headers"]
    names = ((scope.get("extensions") or {}).get(HEADER_NAMES) or {}).get("names")
    if names is None or len(names) != len(headers):
        names = [name for name, _ in headers]
    return tuple((name.decode("latin-1"), value.decode("latin-1"))
                 for name, (_, value) in zip(names, headers, strict=True))


def _parse_query(query_string: str) -> list[tuple[str, str]]:
    return parse_qsl(query_string, keep_blank_values=True) if query_string else []


async def _drain(receive: Receive) -> None:
    await read_body(receive, 0)


async def send_failure(send: Send, failure: errors.GatewayError, request_id: str) -> None:
    separators = (",", ":") if failure.message in COMPACT_MESSAGES else (", ", ": ")
    body = json.dumps({"message": failure.message}, separators=separators).encode()
    await send_response(send, failure.status, body, [
        (b"content-type", JSON), (b"x-amzn-requestid", request_id.encode()),
        (b"x-amzn-errortype", failure.error_type.encode())])
