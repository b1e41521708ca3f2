"""HttpApiService: every HTTP API (API Gateway v2) as an in-memory document, persisted, published as
snapshots the HTTP data plane serves.

One JSON document per API in apigatewayv2's wire shape: `api`, `routes` (by route id),
`integrations` (by integration id) and `stages` (by name). Every change is written to the store
before it is swapped in. This first slice makes an API whole from an OpenAPI 3 definition (what SAM's
`AWS::Serverless::HttpApi` and `AWS::ApiGatewayV2::Api` `Body` give); every stage serves the API's
current routes, as `AutoDeploy: true` stages do.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from ...errors import NotFoundException
from ...store import Database
from ..httpapi import (
    DEFAULT_STAGE,
    Cors,
    HttpApiSnapshot,
    Integration,
    cors_config,
    function_of,
    routes_from_openapi,
)
from .ids import new_id

Document = dict[str, Any]


def iso_now() -> str:
    """apigatewayv2's dates: ISO 8601 with a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class HttpApiService:
    def __init__(self, db: Database, region: str) -> None:
        self.db = db
        self.region = region
        self.documents: dict[str, Document] = {}
        self._listeners: list[Callable[[], None]] = []
        self._served: Mapping[str, HttpApiSnapshot] = MappingProxyType({})

    def load(self) -> None:
        self.documents = {doc["api"]["apiId"]: doc for doc in self.db.load_http_apis()}
        self._publish()

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def served(self) -> Mapping[str, HttpApiSnapshot]:
        """api id -> what it serves (a new read-only mapping after each change)."""
        return self._served

    def api_ids(self) -> set[str]:
        return set(self.documents)

    def ordered(self) -> list[Document]:
        """The APIs, the oldest first (the first with a $default stage serves the server's root)."""
        return sorted(self.documents.values(), key=lambda d: (d["created"], d["api"]["apiId"]))

    def get(self, api_id: str) -> Document:
        doc = self.documents.get(api_id)
        if doc is None:
            raise NotFoundException(f"Invalid API identifier specified {api_id}")
        return doc

    def saved(self, api_id: str) -> Document | None:
        doc = self.documents.get(api_id)
        return copy.deepcopy(doc) if doc is not None else None

    def restore(self, api_id: str, saved: Document | None) -> None:
        """Put back what `saved` returned (a stack rolling a failed deploy back)."""
        if saved is None:
            if api_id in self.documents:
                self.delete(api_id)
            return
        self._store(api_id, saved)

    def put_from_openapi(self, api_id: str, name: str, definition: Mapping[str, Any],
                         stages: Mapping[str, Mapping[str, str]], description: str | None = None,
                         cors: Mapping[str, Any] | None = None,
                         stage_settings: Mapping[str, Mapping[str, Any]] | None = None) -> Document:
        """The API made (or remade) whole from an OpenAPI 3 definition and its stages (name ->
        stage variables; `stage_settings`: name -> DefaultRouteSettings), with a CorsConfiguration
        (or the definition's `x-amazon-apigateway-cors`). ValueError (the definition's problem)
        leaves everything as it was."""
        routes = routes_from_openapi(definition)
        cors_wire = cors_config(cors) or cors_config(definition.get("x-amazon-apigateway-cors"))
        previous = self.documents.get(api_id)
        created = previous["api"]["createdDate"] if previous else iso_now()
        api: dict[str, Any] = {
            "apiId": api_id, "name": name, "protocolType": "HTTP", "createdDate": created,
            "apiEndpoint": f"https://{api_id}.execute-api.{self.region}.amazonaws.com",
            "routeSelectionExpression": "${request.method} ${request.path}",
            "apiKeySelectionExpression": "$request.header.x-api-key", "disableExecuteApiEndpoint": False,
            "tags": {}}
        if description:
            api["description"] = description
        if cors_wire:
            api["corsConfiguration"] = cors_wire
        integrations: dict[str, dict[str, Any]] = {}
        by_target: dict[tuple[str, str, int], str] = {}
        route_docs: dict[str, dict[str, Any]] = {}
        for key, integration in routes:
            target = (integration["integrationUri"], integration["payloadFormatVersion"],
                      integration["timeoutInMillis"])
            integration_id = by_target.get(target)
            if integration_id is None:
                integration_id = by_target[target] = new_id(7, taken=integrations)
                integrations[integration_id] = {
                    "integrationId": integration_id, "integrationType": "AWS_PROXY", "integrationMethod": "POST",
                    "integrationUri": integration["integrationUri"], "connectionType": "INTERNET",
                    "payloadFormatVersion": integration["payloadFormatVersion"],
                    "timeoutInMillis": integration["timeoutInMillis"]}
            route_id = new_id(7, taken=route_docs)
            route_docs[route_id] = {"routeId": route_id, "routeKey": key, "target": f"integrations/{integration_id}",
                                    "authorizationType": "NONE", "apiKeyRequired": False}
        old_stages = previous["stages"] if previous else {}
        stage_docs = {}
        for stage_name, variables in stages.items():
            old = old_stages.get(stage_name)
            stage_docs[stage_name] = {
                "stageName": stage_name, "autoDeploy": True,
                "createdDate": old["createdDate"] if old else iso_now(), "lastUpdatedDate": iso_now(),
                "stageVariables": dict(variables),
                "defaultRouteSettings": {"detailedMetricsEnabled": False,
                                         **(cors_config((stage_settings or {}).get(stage_name)) or {})},
                "routeSettings": {}, "tags": {}}
        document = {"api": api, "routes": route_docs, "integrations": integrations, "stages": stage_docs,
                    # when it was made, finer than createdDate's seconds: the oldest holds the root
                    "created": previous["created"] if previous else time.time()}
        self._store(api_id, document)
        return document

    def delete(self, api_id: str) -> None:
        self.get(api_id)
        self.db.delete_http_api(api_id)
        del self.documents[api_id]
        self._publish()

    def _store(self, api_id: str, document: Document) -> None:
        self.db.put_http_api(api_id, document)
        self.documents[api_id] = document
        self._publish()

    def _publish(self) -> None:
        served = {}
        for doc in self.documents.values():
            integrations = {i["integrationId"]: Integration(i["integrationId"], function_of(i["integrationUri"]),
                                                            i["payloadFormatVersion"], int(i["timeoutInMillis"]))
                            for i in doc["integrations"].values()}
            routes = tuple((r["routeKey"], integrations[r["target"].removeprefix("integrations/")])
                           for r in doc["routes"].values() if r["target"].removeprefix("integrations/") in integrations)
            cors = doc["api"].get("corsConfiguration")
            served[doc["api"]["apiId"]] = HttpApiSnapshot(
                doc["api"]["apiId"], doc["api"]["name"], float(doc["created"]), routes,
                MappingProxyType({name: dict(s.get("stageVariables") or {}) for name, s in doc["stages"].items()}),
                Cors.of(cors) if cors else None,
                MappingProxyType({name: throttle for name, s in doc["stages"].items()
                                  if (throttle := _throttle(s.get("defaultRouteSettings") or {})) is not None}))
        self._served = MappingProxyType(served)
        for listener in self._listeners:
            listener()


def _throttle(settings: Mapping[str, Any]) -> tuple[int, float] | None:
    burst, rate = settings.get("throttlingBurstLimit"), settings.get("throttlingRateLimit")
    if isinstance(burst, int | float) and isinstance(rate, int | float) and not isinstance(burst, bool):
        return int(burst), float(rate)
    return None


def root_owner(served: Mapping[str, HttpApiSnapshot]) -> str | None:
    """The HTTP API that serves the server's root `/`: the oldest with a `$default` stage."""
    candidates = sorted((s.created, s.api_id) for s in served.values() if DEFAULT_STAGE in s.stages)
    return candidates[0][1] if candidates else None
