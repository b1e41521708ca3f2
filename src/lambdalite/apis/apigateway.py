"""The API Gateway management API (REST-JSON, 2015-07-09) under `/restapis`, `/apikeys` and `/usageplans`, as
boto3's `apigateway` sends it.

Parse the path and query, call `GatewayService`, render AWS's answer: lists as `{"item": [...],
"position": ...}` (GetStages: `item` only), 201/202/204 where AWS answers them, errors as
`{"message": ...}` with `x-amzn-ErrorType` (reference section 13). Paths arrive percent-decoded.
`/restapis/{id}/{stage}/_user_request_/...` is the data plane and never reaches this module.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any

from .. import errors
from ..gateway.control.importer import parse as parse_import
from ..gateway.control.keys import KeyService
from ..gateway.control.service import GatewayService
from ..gateway.usage import UsageMeter
from .http import Receive, Request, Scope, Send, answer, read_request

BODY_LIMIT = 6 * 1024 * 1024   # an OpenAPI document for ImportRestApi/PutRestApi fits easily
DEFAULT_LIMIT = 25
MAX_LIMIT = 500
Answer = tuple[int, Any]


TestAuthorizer = Callable[[str, dict[str, Any], dict[str, Any]], Awaitable[dict[str, Any]]]
# (api id, resource id, HTTP method, request body) -> TestInvokeMethod's answer
TestMethod = Callable[[str, str, str, dict[str, Any]], Awaitable[dict[str, Any]]]


class ApiGatewayApi:
    def __init__(self, gateway: GatewayService, keys: KeyService | None = None, meter: UsageMeter | None = None,
                 test_authorizer: TestAuthorizer | None = None, test_method: TestMethod | None = None) -> None:
        self.gateway = gateway
        self.keys = keys
        self.meter = meter
        self.test_authorizer = test_authorizer   # (api id, authorizer, request body) -> TestInvokeAuthorizer's answer
        self.test_method = test_method

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request, too_large = await read_request(scope, receive, BODY_LIMIT)
        error = None if not too_large else errors.BadRequestException(
            f"Request body must be smaller than {BODY_LIMIT} bytes")
        await answer(send, request, error, self._route)

    async def _route(self, request: Request) -> Answer:
        """A document to import is read (and a new API built) on a worker thread: a large YAML document
        takes seconds, which the event loop spends answering others meanwhile."""
        path = request.path.rstrip("/")
        if request.method == "POST" and path == "/restapis" and request.query.get("mode") == "import":
            built = await asyncio.to_thread(self.gateway.build_import, request.body, request.query)
            return 201, self.gateway.import_rest_api(request.body, request.query, built)
        if request.method == "PUT" and path.count("/") == 2 and path.startswith("/restapis/"):
            mode = request.query.get("mode") or "merge"
            imported = await asyncio.to_thread(parse_import, request.body, request.query, mode)
            return 200, self.gateway.put_rest_api(path.rsplit("/", 1)[1], request.body, request.query, imported)
        parts = path.strip("/").split("/")
        if request.method == "POST" and len(parts) == 4 and parts[0] == "restapis" and parts[2] == "authorizers" \
                and self.test_authorizer is not None:   # TestInvokeAuthorizer invokes the function
            authorizer = self.gateway.get_authorizer(parts[1], parts[3])
            return 200, await self.test_authorizer(parts[1], authorizer, request.json())
        if request.method == "POST" and len(parts) == 6 and parts[0] == "restapis" and parts[2] == "resources" \
                and parts[4] == "methods" and self.test_method is not None:   # TestInvokeMethod runs the method
            return 200, await self.test_method(parts[1], parts[3], parts[5], request.json())
        if parts[0] in ("apikeys", "usageplans"):
            return self.usage(request, parts)
        return self.route(request)

    def route(self, request: Request) -> Answer:
        parts = request.path.strip("/").split("/")[1:]  # after "restapis"
        if not parts:
            return self.rest_apis(request)
        api_id, rest = parts[0], parts[1:]
        if not rest:
            return self.rest_api(request, api_id)
        what = rest[0]
        if what == "resources":
            return self.resources(request, api_id, rest[1:])
        if what == "requestvalidators":
            return self.validators(request, api_id, rest[1:])
        if what == "models":
            return self.models(request, api_id, rest[1:])
        if what == "deployments":
            return self.deployments(request, api_id, rest[1:])
        if what == "stages":
            return self.stages(request, api_id, rest[1:])
        if what == "authorizers":
            return self.authorizers(request, api_id, rest[1:])
        return unknown(request)

    # RestApi --------------------------------------------------------------------------------------
    def rest_apis(self, request: Request) -> Answer:
        if request.method == "POST" and request.query.get("mode") == "import":
            return 201, self.gateway.import_rest_api(request.body, request.query)
        if request.method == "POST":
            return 201, self.gateway.create_rest_api(request.json())
        if request.method == "GET":
            return 200, page(self.gateway.get_rest_apis(), request)
        return unknown(request)

    def rest_api(self, request: Request, api_id: str) -> Answer:
        method = request.method
        if method == "GET":
            return 200, self.gateway.get_rest_api(api_id)
        if method == "PATCH":
            return 200, self.gateway.update_rest_api(api_id, operations(request))
        if method == "DELETE":
            self.gateway.delete_rest_api(api_id)
            return 202, None
        if method == "PUT":
            return 200, self.gateway.put_rest_api(api_id, request.body, request.query)
        return unknown(request)

    # Resources, methods, integrations ---------------------------------------------------------------
    def resources(self, request: Request, api_id: str, rest: list[str]) -> Answer:
        method, gw = request.method, self.gateway
        embed = "methods" in request.query.get("embed", "").split(",")
        if not rest and method == "GET":
            return 200, page(gw.get_resources(api_id, embed), request)
        if len(rest) == 1:
            resource_id = rest[0]
            if method == "GET":
                return 200, gw.get_resource(api_id, resource_id, embed)
            if method == "POST":
                return 201, gw.create_resource(api_id, resource_id, request.json())
            if method == "PATCH":
                return 200, gw.update_resource(api_id, resource_id, operations(request))
            if method == "DELETE":
                gw.delete_resource(api_id, resource_id)
                return 202, None
        if len(rest) >= 3 and rest[1] == "methods":
            return self.method(request, api_id, rest[0], rest[2], rest[3:])
        return unknown(request)

    def method(self, request: Request, api_id: str, resource_id: str, verb: str, rest: list[str]) -> Answer:
        method, gw = request.method, self.gateway
        if not rest:
            if method == "PUT":
                return 201, gw.put_method(api_id, resource_id, verb, request.json())
            if method == "GET":
                return 200, gw.get_method(api_id, resource_id, verb)
            if method == "PATCH":
                return 200, gw.update_method(api_id, resource_id, verb, operations(request))
            if method == "DELETE":
                gw.delete_method(api_id, resource_id, verb)
                return 204, None
        elif rest[0] == "responses" and len(rest) == 2:
            return self.method_response(request, api_id, resource_id, verb, rest[1])
        elif rest[0] == "integration" and len(rest) == 1:
            return self.integration(request, api_id, resource_id, verb)
        elif rest[0] == "integration" and len(rest) == 3 and rest[1] == "responses":
            return self.integration_response(request, api_id, resource_id, verb, rest[2])
        return unknown(request)

    def method_response(self, request: Request, api_id: str, resource_id: str, verb: str, code: str) -> Answer:
        method, gw = request.method, self.gateway
        if method == "PUT":
            return 201, gw.put_method_response(api_id, resource_id, verb, code, request.json())
        if method == "GET":
            return 200, gw.get_method_response(api_id, resource_id, verb, code)
        if method == "PATCH":  # AWS answers UpdateMethodResponse with 201 (recorded)
            return 201, gw.update_method_response(api_id, resource_id, verb, code, operations(request))
        if method == "DELETE":
            gw.delete_method_response(api_id, resource_id, verb, code)
            return 204, None
        return unknown(request)

    def integration(self, request: Request, api_id: str, resource_id: str, verb: str) -> Answer:
        method, gw = request.method, self.gateway
        if method == "PUT":
            return 201, gw.put_integration(api_id, resource_id, verb, request.json())
        if method == "GET":
            return 200, gw.get_integration(api_id, resource_id, verb)
        if method == "PATCH":
            return 200, gw.update_integration(api_id, resource_id, verb, operations(request))
        if method == "DELETE":
            gw.delete_integration(api_id, resource_id, verb)
            return 204, None
        return unknown(request)

    def integration_response(self, request: Request, api_id: str, resource_id: str, verb: str,
                             code: str) -> Answer:
        method, gw = request.method, self.gateway
        if method == "PUT":
            return 201, gw.put_integration_response(api_id, resource_id, verb, code, request.json())
        if method == "GET":
            return 200, gw.get_integration_response(api_id, resource_id, verb, code)
        if method == "PATCH":
            return 200, gw.update_integration_response(api_id, resource_id, verb, code, operations(request))
        if method == "DELETE":
            gw.delete_integration_response(api_id, resource_id, verb, code)
            return 204, None
        return unknown(request)

    # Validators, models, deployments, stages --------------------------------------------------------
    def validators(self, request: Request, api_id: str, rest: list[str]) -> Answer:
        method, gw = request.method, self.gateway
        if not rest and method == "POST":
            return 201, gw.create_request_validator(api_id, request.json())
        if not rest and method == "GET":
            return 200, page(gw.get_request_validators(api_id), request)
        if len(rest) == 1:
            if method == "GET":
                return 200, gw.get_request_validator(api_id, rest[0])
            if method == "PATCH":
                return 200, gw.update_request_validator(api_id, rest[0], operations(request))
            if method == "DELETE":
                gw.delete_request_validator(api_id, rest[0])
                return 202, None
        return unknown(request)

    def models(self, request: Request, api_id: str, rest: list[str]) -> Answer:
        method, gw = request.method, self.gateway
        if not rest and method == "POST":
            return 201, gw.create_model(api_id, request.json())
        if not rest and method == "GET":
            return 200, page(gw.get_models(api_id), request)
        if len(rest) == 1:
            if method == "GET":
                return 200, gw.get_model(api_id, rest[0])
            if method == "PATCH":
                return 200, gw.update_model(api_id, rest[0], operations(request))
            if method == "DELETE":
                gw.delete_model(api_id, rest[0])
                return 202, None
        return unknown(request)

    def deployments(self, request: Request, api_id: str, rest: list[str]) -> Answer:
        method, gw = request.method, self.gateway
        if not rest and method == "POST":
            deployment, warnings = gw.create_deployment(api_id, request.json())
            # `warnings` is not in AWS's Deployment shape: boto3 drops it, raw HTTP clients see it
            return 201, {**deployment, **({"warnings": warnings} if warnings else {})}
        if not rest and method == "GET":
            return 200, page(gw.get_deployments(api_id), request)
        if len(rest) == 1:
            if method == "GET":
                summary = "apisummary" in request.query.get("embed", "").split(",")
                return 200, gw.get_deployment(api_id, rest[0], summary)
            if method == "DELETE":
                gw.delete_deployment(api_id, rest[0])
                return 202, None
        return unknown(request)

    def stages(self, request: Request, api_id: str, rest: list[str]) -> Answer:
        method, gw = request.method, self.gateway
        if not rest and method == "POST":
            stage, warnings = gw.create_stage(api_id, request.json())
            return 201, {**stage, **({"warnings": warnings} if warnings else {})}
        if not rest and method == "GET":  # GetStages: `item`, no paging (AWS's exception)
            return 200, {"item": gw.get_stages(api_id, request.query.get("deploymentId"))}
        if len(rest) == 1:
            if method == "GET":
                return 200, gw.get_stage(api_id, rest[0])
            if method == "PATCH":
                return 200, gw.update_stage(api_id, rest[0], operations(request))
            if method == "DELETE":
                gw.delete_stage(api_id, rest[0])
                return 202, None
        return unknown(request)


    def authorizers(self, request: Request, api_id: str, rest: list[str]) -> Answer:
        method, gw = request.method, self.gateway
        if not rest and method == "POST":
            return 201, gw.create_authorizer(api_id, request.json())
        if not rest and method == "GET":
            return 200, page(gw.get_authorizers(api_id), request)
        if len(rest) == 1:
            if method == "GET":
                return 200, gw.get_authorizer(api_id, rest[0])
            if method == "PATCH":
                return 200, gw.update_authorizer(api_id, rest[0], operations(request))
            if method == "DELETE":
                gw.delete_authorizer(api_id, rest[0])
                return 202, None
        return unknown(request)

    # API keys, usage plans -------------------------------------------------------------------------
    def usage(self, request: Request, parts: list[str]) -> Answer:
        if self.keys is None:
            return unknown(request)
        if parts[0] == "apikeys":
            return self.api_keys(request, self.keys, parts[1:])
        return self.usage_plans(request, self.keys, parts[1:])

    def api_keys(self, request: Request, keys: KeyService, rest: list[str]) -> Answer:
        method, query = request.method, request.query
        if not rest and method == "POST":
            return 201, keys.create_api_key(request.json())
        if not rest and method == "GET":
            found = keys.get_api_keys(query.get("name"), query.get("customerId"), query.get("includeValues") == "true")
            return 200, page(found, request)
        if len(rest) == 1:
            if method == "GET":
                return 200, keys.get_api_key(rest[0], query.get("includeValue") == "true")
            if method == "PATCH":
                return 200, keys.update_api_key(rest[0], operations(request))
            if method == "DELETE":
                keys.delete_api_key(rest[0])
                return 202, None
        return unknown(request)

    def usage_plans(self, request: Request, keys: KeyService, rest: list[str]) -> Answer:
        method, query = request.method, request.query
        if not rest and method == "POST":
            return 201, keys.create_usage_plan(request.json())
        if not rest and method == "GET":
            return 200, page(keys.get_usage_plans(query.get("keyId")), request)
        if len(rest) == 1:
            if method == "GET":
                return 200, keys.get_usage_plan(rest[0])
            if method == "PATCH":
                return 200, keys.update_usage_plan(rest[0], operations(request))
            if method == "DELETE":
                keys.delete_usage_plan(rest[0])
                return 202, None
        if len(rest) == 2 and rest[1] == "usage" and method == "GET" and self.meter is not None:
            return 200, keys.get_usage(rest[0], self.meter, query.get("startDate", ""), query.get("endDate", ""),
                                       query.get("keyId"))
        if len(rest) >= 2 and rest[1] == "keys":
            return self.usage_plan_keys(request, keys, rest[0], rest[2:])
        return unknown(request)

    def usage_plan_keys(self, request: Request, keys: KeyService, plan_id: str, rest: list[str]) -> Answer:
        method = request.method
        if not rest and method == "POST":
            return 201, keys.create_usage_plan_key(plan_id, request.json())
        if not rest and method == "GET":
            return 200, page(keys.get_usage_plan_keys(plan_id, request.query.get("name")), request)
        if len(rest) == 1:
            if method == "GET":
                return 200, keys.get_usage_plan_key(plan_id, rest[0])
            if method == "DELETE":
                keys.delete_usage_plan_key(plan_id, rest[0])
                return 202, None
        return unknown(request)


def operations(request: Request) -> list[dict[str, Any]]:
    ops = request.json().get("patchOperations") or []
    if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
        raise errors.BadRequestException("patchOperations must be a list of objects")
    return ops


def page(items: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    """`{"item": [...], "position": token}`; `position` names where the next page starts, absent on the last."""
    limit = parse_limit(request.query.get("limit"))
    start = 0
    position = request.query.get("position")
    if position:
        start = decode_position(position, items)
    chunk = items[start:start + limit]
    out: dict[str, Any] = {"item": chunk}
    if start + limit < len(items):
        out["position"] = base64.urlsafe_b64encode(f"{start + limit}:{items[start + limit].get('id', '')}"
                                                   .encode()).decode()
    return out


def parse_limit(raw: str | None) -> int:
    if not raw:
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise errors.BadRequestException(f"Invalid limit: {raw} is not a number") from None
    if value < 1:
        raise errors.BadRequestException("Invalid limit: it must be at least 1")
    return min(value, MAX_LIMIT)


def decode_position(position: str, items: list[dict[str, Any]]) -> int:
    """Back to the item whose id the token names (items may have come or gone), else its index."""
    try:
        index_text, item_id = base64.urlsafe_b64decode(position.encode()).decode().split(":", 1)
        index = int(index_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.BadRequestException("Invalid position: use the position of the previous page") from None
    for i, item in enumerate(items):
        if item.get("id") == item_id:
            return i
    return min(index, len(items))


def unknown(request: Request) -> Answer:
    raise errors.NotFoundRoute(f"Lambdalite's API Gateway management API has no operation at {request.method} "
                               f"{request.path}.")
