"""The API Gateway v2 management API under `/v2/apis`, as boto3's `apigatewayv2` sends it (REST-JSON,
member names in lower camel case, lists as `{"items": [...]}`, dates ISO 8601).

This first slice reads: GetApis, GetApi, GetRoutes, GetRoute, GetIntegrations, GetIntegration,
GetStages, GetStage; and DeleteApi. HTTP APIs are made by `lambdalite deploy` (SAM's HttpApi,
`AWS::ApiGatewayV2::Api` with a Body); the other operations answer 400 saying they are not built yet.
Errors are `{"message": ...}` with `x-amzn-ErrorType`, as API Gateway sends them.
"""

from __future__ import annotations

from typing import Any

from .. import errors
from ..gateway.control.http_apis import HttpApiService
from .http import Receive, Request, Scope, Send, answer, read_request

BODY_LIMIT = 6 * 1024 * 1024
Answer = tuple[int, Any]
BUILT = "GetApis, GetApi, GetRoutes, GetRoute, GetIntegrations, GetIntegration, GetStages, GetStage and DeleteApi"


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
        parts = request.path.strip("/").split("/")   # ["v2", "apis", id?, what?, item?]
        method = request.method
        if parts[:2] != ["v2", "apis"] or len(parts) > 5:
            raise errors.NotFoundException(f"No apigatewayv2 operation answers {method} {request.path}")
        if len(parts) == 2 and method == "GET":
            return 200, {"items": [doc["api"] for doc in self.apis.ordered()]}
        if len(parts) >= 3:
            doc = self.apis.get(parts[2])
            if len(parts) == 3 and method == "GET":
                return 200, doc["api"]
            if len(parts) == 3 and method == "DELETE":
                self.apis.delete(parts[2])
                return 204, None
            if len(parts) >= 4 and method == "GET" and parts[3] in ("routes", "integrations", "stages"):
                items = doc[parts[3]]
                if len(parts) == 4:
                    return 200, {"items": list(items.values())}
                if parts[4] not in items:
                    kind = {"routes": "Route", "integrations": "Integration", "stages": "Stage"}[parts[3]]
                    raise errors.NotFoundException(f"Invalid {kind} identifier specified {parts[4]}")
                return 200, items[parts[4]]
        raise errors.BadRequestException(f"Lambdalite's apigatewayv2 API answers {BUILT}; {method} {request.path} "
                                         "is not built yet (HTTP APIs are made with `lambdalite deploy` from SAM's "
                                         "HttpApi).")
