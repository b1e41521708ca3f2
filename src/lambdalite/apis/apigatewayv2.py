"""The API Gateway v2 management API under `/v2/apis`, as boto3's `apigatewayv2` sends it (REST-JSON,
member names in lower camel case, lists as `{"items": [...]}`, dates ISO 8601).

Apis (Create with quick create's `target`, Get, Update, Delete, Import and Reimport from OpenAPI 3),
routes, integrations (AWS_PROXY to Lambda) and stages (Create, Get, Update, Delete), deployments
(snapshots: a stage serves the one it points at; auto-deploying stages get one per change);
`lambdalite deploy` makes them from SAM's HttpApi too. Anything else answers 400 saying it is not built yet.
Errors are `{"message": ...}` with `x-amzn-ErrorType`, as API Gateway sends them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .. import errors
from ..gateway.control.http_apis import KINDS, HttpApiService
from .http import Receive, Request, Scope, Send, answer, read_request

BODY_LIMIT = 6 * 1024 * 1024
Answer = tuple[int, Any]


def handles(path: str) -> bool:
    return path == "/v2/apis" or path.startswith("/v2/")


class ApiGatewayV2Api:
    def __init__(self, apis: HttpApiService) -> None:
        self.apis = apis

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request, too_large = await read_request(scope, receive, BODY_LIMIT)
        error = None if not too_large else errors.BadRequestException(
            f"Request body must be smaller than {BODY_LIMIT} bytes")
        await answer(send, request, error, self._route)

    async def _route(self, request: Request) -> Answer:
        parts = request.path.strip("/").split("/")   # ["v2", "apis", id?, kind?, item?]
        if parts[:2] != ["v2", "apis"] or len(parts) > 5:
            raise errors.NotFoundException(f"No apigatewayv2 operation answers {request.method} {request.path}")
        if request.method == "PUT" and len(parts) <= 3:   # Import / ReimportApi: read off the event loop
            definition = await asyncio.to_thread(self.apis.read_definition, _definition(request))
            api_id = parts[2] if len(parts) == 3 else None
            return 201, self.apis.import_api("", api_id, definition)["api"]
        if len(parts) == 2:
            return self.apis_call(request)
        if len(parts) == 3:
            return self.api_call(request, parts[2])
        if parts[3] not in KINDS:
            raise errors.NotFoundException(f"No apigatewayv2 operation answers {request.method} {request.path}")
        if len(parts) == 4:
            return self.kind_call(request, parts[2], parts[3])
        return self.item_call(request, parts[2], parts[3], parts[4])

    def apis_call(self, request: Request) -> Answer:
        if request.method == "GET":   # GetApis
            return 200, {"items": [doc["api"] for doc in self.apis.ordered()]}
        if request.method == "POST":   # CreateApi (quick create with target)
            return 201, self.apis.create(request.json())["api"]
        raise _not_built(request)

    def api_call(self, request: Request, api_id: str) -> Answer:
        if request.method == "GET":
            return 200, self.apis.get(api_id)["api"]
        if request.method == "PATCH":
            return 200, self.apis.update_api(api_id, request.json())["api"]
        if request.method == "DELETE":
            self.apis.delete(api_id)
            return 204, None
        raise _not_built(request)

    def kind_call(self, request: Request, api_id: str, kind: str) -> Answer:
        if request.method == "GET":
            return 200, {"items": list((self.apis.get(api_id).get(kind) or {}).values())}
        if request.method == "POST":
            create = {"routes": self.apis.create_route, "integrations": self.apis.create_integration,
                      "stages": self.apis.create_stage, "deployments": self.apis.create_deployment,
                      "authorizers": self.apis.create_authorizer}[kind]
            return 201, create(api_id, request.json())
        raise _not_built(request)

    def item_call(self, request: Request, api_id: str, kind: str, item_id: str) -> Answer:
        if request.method == "GET":
            return 200, self.apis.get_item(api_id, kind, item_id)
        if request.method == "DELETE":
            self.apis.delete_item(api_id, kind, item_id)
            return 204, None
        if request.method == "PATCH" and kind != "deployments":
            update = {"routes": self.apis.update_route, "integrations": self.apis.update_integration,
                      "stages": self.apis.update_stage, "authorizers": self.apis.update_authorizer}[kind]
            return 200, update(api_id, item_id, request.json())
        raise _not_built(request)


def _definition(request: Request) -> str:
    body = request.json().get("body")
    if not isinstance(body, str) or not body.strip():
        raise errors.BadRequestException("Invalid input: body (the OpenAPI 3 definition) is required")
    return body


def _not_built(request: Request) -> errors.ServiceError:
    return errors.BadRequestException(f"Lambdalite's apigatewayv2 API does not answer {request.method} "
                                      f"{request.path} yet (see docs/http-apis.md for what it answers)")
