"""HttpApiService: every HTTP API (API Gateway v2) as an in-memory document, persisted, published as
snapshots the HTTP data plane serves.

One JSON document per API in apigatewayv2's wire shape: `api`, `routes` (by route id),
`integrations` (by integration id) and `stages` (by name). Every change is written to the store
before it is swapped in. This first slice makes an API whole from an OpenAPI 3 definition (what SAM's
`AWS::Serverless::HttpApi` and `AWS::ApiGatewayV2::Api` `Body` give); every stage serves the API's
current routes, as `AutoDeploy: true` stages do.

Deployments are snapshots: CreateDeployment copies the API's routes, integrations and CORS
configuration (kept beside the document under `deployed`), and a stage serves the deployment it
points at. An auto-deploying stage gets a new deployment whenever what it would serve changes, as
API Gateway makes one; a stage that does not auto-deploy serves nothing until it is given one.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from ...errors import BadRequestException, ConflictException, NotFoundException
from ...store import Database
from .. import accesslog
from ..httpapi import (
    DEFAULT_ROUTE,
    DEFAULT_STAGE,
    DEFAULT_TIMEOUT_MS,
    Cors,
    Deployed,
    HttpApiSnapshot,
    HttpStage,
    Integration,
    RouteKeyError,
    authorizers_from_openapi,
    camel_case,
    claims_first_segment,
    cors_config,
    function_of,
    parse_route_key,
    route_auth_of,
    routes_from_openapi,
)
from ..urls import http_stage_url
from . import http_authorizers, rules
from .ids import new_id
from .openapi import OpenApiImportError
from .openapi import load_document as load_openapi

Document = dict[str, Any]
# API Gateway's own texts for what auto-deploying makes (seen in GetDeployments and GetStage answers)
AUTO_DESCRIPTION = "Automatic deployment triggered by changes to the Api configuration"
INTEGRATION_KEYS = ("integrationType", "integrationUri", "integrationMethod", "payloadFormatVersion",
                    "timeoutInMillis")


def iso_now() -> str:
    """apigatewayv2's dates: ISO 8601 with a Z."""
    return iso(time.time())


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_of(date: str | None) -> float:
    try:
        return datetime.strptime(date or "", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return 0.0


class HttpApiService:
    def __init__(self, db: Database, region: str) -> None:
        self.db = db
        self.region = region
        self.documents: dict[str, Document] = {}
        self._listeners: list[Callable[[], None]] = []
        self._served: Mapping[str, HttpApiSnapshot] = MappingProxyType({})
        self._deployed: dict[tuple[str, str], Deployed] = {}   # (api, deployment) -> compiled once
        # REST stages' createdDates (set by the server): a new $default stage is dated after them all,
        # so which of a REST short form and the HTTP root came first is never a tie
        self.rest_dates: Callable[[], Iterable[int]] = lambda: ()

    def load(self) -> None:
        self.documents = {doc["api"]["apiId"]: doc for doc in self.db.load_http_apis()}
        for api_id, doc in self.documents.items():
            if "deployed" not in doc:   # stored before deployments were snapshots: every stage served the routes
                for stage in doc["stages"].values():
                    stage["autoDeploy"] = True
                self._auto_deploy(doc)
                self.db.put_http_api(api_id, doc)
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
                         stage_settings: Mapping[str, Mapping[str, Any]] | None = None,
                         route_settings: Mapping[str, Mapping[str, Any]] | None = None,
                         access_logs: Mapping[str, Mapping[str, Any]] | None = None) -> Document:
        """The API made (or remade) whole from an OpenAPI 3 definition and its auto-deploying stages
        (name -> stage variables; `stage_settings`: name -> DefaultRouteSettings; `route_settings`:
        name -> RouteSettings by route key; `access_logs`: name -> AccessLogSettings), with a
        CorsConfiguration (or the definition's
        `x-amazon-apigateway-cors`). ValueError (the definition's problem) leaves everything as it was."""
        routes = routes_from_openapi(definition)
        for stage_name in stages:
            check_http_stage_name(stage_name)
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
        authorizers = self._authorizers_of(definition, previous)
        ids = {a["name"]: a_id for a_id, a in authorizers.items()}
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
                                    "authorizationType": "NONE", "apiKeyRequired": False,
                                    **_route_security(integration["security"], authorizers, ids)}
        old_stages = previous["stages"] if previous else {}
        stage_docs = {}
        keys = {key for key, _ in routes}
        for stage_name, variables in stages.items():
            old = old_stages.get(stage_name)
            by_route = _route_settings((route_settings or {}).get(stage_name), keys)
            stage_docs[stage_name] = {
                "stageName": stage_name, "autoDeploy": True,
                "createdDate": old["createdDate"] if old else self._stage_date(stage_name),
                "lastUpdatedDate": iso_now(),
                "stageVariables": dict(variables),
                "defaultRouteSettings": {"detailedMetricsEnabled": False,
                                         **(camel_case((stage_settings or {}).get(stage_name)) or {})},
                "routeSettings": by_route, "tags": {}}
            logs = _access_log_settings((access_logs or {}).get(stage_name), ValueError)
            if logs:
                stage_docs[stage_name]["accessLogSettings"] = logs
            if old and old.get("deploymentId"):
                stage_docs[stage_name]["deploymentId"] = old["deploymentId"]
        document = {"api": api, "routes": route_docs, "integrations": integrations, "stages": stage_docs,
                    "authorizers": authorizers,
                    "deployments": previous.get("deployments", {}) if previous else {},
                    "deployed": previous.get("deployed", {}) if previous else {},
                    # when it was made, finer than createdDate's seconds: the oldest holds the root
                    "created": previous["created"] if previous else time.time()}
        self._store(api_id, document)
        return document

    @staticmethod
    def _authorizers_of(definition: Mapping[str, Any], previous: Document | None) -> dict[str, dict[str, Any]]:
        """The definition's authorizers, keeping the ids of those of the same name (ValueError if one is bad)."""
        kept = {a["name"]: a_id for a_id, a in ((previous or {}).get("authorizers") or {}).items()}
        out: dict[str, dict[str, Any]] = {}
        for name, body in authorizers_from_openapi(definition).items():
            authorizer_id = kept.get(name) or new_id(6, taken=out)
            try:
                out[authorizer_id] = http_authorizers.new_authorizer(body, authorizer_id)
            except BadRequestException as e:
                raise ValueError(f"authorizer {name}: {e.message}") from None
        return out

    def _stage_date(self, name: str) -> str:
        """A new stage's createdDate: now; a `$default` stage's at least a second after every REST stage."""
        if name != DEFAULT_STAGE:
            return iso_now()
        return iso(max([time.time(), *(t + 1 for t in self.rest_dates())]))

    def root_since(self) -> int | None:
        """When the `$default` stage of the API holding the server's root was made (whole seconds)."""
        root = root_owner(self._served)
        return int(self._served[root].stages[DEFAULT_STAGE].created) if root is not None else None

    def shadowed_by(self, name: str, created: float) -> str | None:
        """The HTTP API holding the server's root when it is older than a REST stage `name` made at
        `created` and has routes that answer paths under `/{name}/` (older owner wins), else None."""
        root = root_owner(self._served)
        if root is None:
            return None
        stage = self._served[root].stages[DEFAULT_STAGE]
        if stage.created >= created or stage.deployed is None:
            return None
        return root if claims_first_segment(stage.deployed.routes, name) else None

    def listing(self, base_url: str) -> list[dict[str, Any]]:
        """Each HTTP API with its stages and the URLs they answer at (`lambdalite apis`): the server's
        root for the root owner's `$default` stage, and every stage's long form."""
        root = root_owner(self._served)
        out = []
        for doc in self.ordered():
            api_id = doc["api"]["apiId"]
            stages = []
            for name in sorted(doc["stages"]):
                urls = [http_stage_url(base_url, api_id, name, root), http_stage_url(base_url, api_id, name, None)]
                stages.append({"stageName": name, "urls": urls if urls[0] != urls[1] else urls[1:]})
            out.append({"id": api_id, "name": doc["api"]["name"], "stages": stages})
        return out

    # the management API's writes -----------------------------------------------------------------
    def create(self, body: Mapping[str, Any], api_id: str | None = None) -> Document:
        """CreateApi: an empty HTTP API; with `target` (a function ARN), quick create: its integration,
        the route `routeKey` (default `$default`) and an auto-deploying `$default` stage."""
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise BadRequestException("Invalid input: name is required")
        if body.get("protocolType") != "HTTP":
            raise BadRequestException("Invalid input: protocolType must be HTTP (WEBSOCKET APIs are not built yet)")
        api_id = api_id or new_id(10, taken=self.documents)
        definition: dict[str, Any] = {"paths": {}}
        target = body.get("target")
        if target is not None:
            if not isinstance(target, str) or not target:
                raise BadRequestException("Invalid input: target must be a Lambda function ARN")
            key = str(body.get("routeKey") or DEFAULT_ROUTE)
            check_route_key(key)
            method, path = parse_route_key(key)
            operation = {"x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": target,
                                                             "payloadFormatVersion": "2.0"}}
            definition["paths"] = {"/$default" if not method else path: {
                "x-amazon-apigateway-any-method" if method in ("", "ANY") else method.lower(): operation}}
        try:
            return self.put_from_openapi(api_id, name, definition, {DEFAULT_STAGE: {}} if target else {},
                                         body.get("description"), body.get("corsConfiguration"))
        except ValueError as e:
            raise BadRequestException(str(e)) from None

    @staticmethod
    def read_definition(text: str) -> dict[str, Any]:
        """An OpenAPI 3 document (JSON or YAML) read, bounded (aliases cannot make it huge, nesting
        cannot overflow the stack); pure, so the API layer runs it on a worker thread."""
        try:
            definition = load_openapi(text)
        except OpenApiImportError as e:
            raise BadRequestException(f"Invalid OpenAPI definition: {e.message}") from None
        if not isinstance(definition, dict) or not str(definition.get("openapi", "")).startswith("3."):
            raise BadRequestException("Invalid OpenAPI definition: an OpenAPI 3 document is required")
        return definition

    def import_api(self, text: str, api_id: str | None = None, definition: dict[str, Any] | None = None) -> Document:
        """ImportApi / ReimportApi: an OpenAPI 3 document (JSON or YAML; `definition`: already read);
        stages are kept on reimport."""
        definition = definition if definition is not None else self.read_definition(text)
        current = self.documents.get(api_id) if api_id else None
        if api_id and current is None:
            self.get(api_id)
        stages = {n: s.get("stageVariables") or {} for n, s in current["stages"].items()} if current else {}
        name = str((definition.get("info") or {}).get("title") or (current or {}).get("api", {}).get("name") or "api")
        try:
            return self.put_from_openapi(api_id or new_id(10, taken=self.documents), name, definition, stages)
        except ValueError as e:
            raise BadRequestException(f"Invalid OpenAPI definition: {e}") from None

    def update_api(self, api_id: str, body: Mapping[str, Any]) -> Document:
        with self._editing(api_id) as doc:
            api = doc["api"]
            for key in ("name", "description", "disableExecuteApiEndpoint", "version"):
                if key in body:
                    api[key] = body[key]
            if "corsConfiguration" in body:
                try:
                    cors = cors_config(body["corsConfiguration"])
                except ValueError as e:
                    raise BadRequestException(str(e)) from None
                api.pop("corsConfiguration", None)
                if cors:
                    api["corsConfiguration"] = cors
        return self.documents[api_id]

    def create_route(self, api_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        key = body.get("routeKey")
        if not isinstance(key, str):
            raise BadRequestException("Invalid input: routeKey is required")
        check_route_key(key)
        with self._editing(api_id) as doc:
            if any(r["routeKey"] == key for r in doc["routes"].values()):
                raise ConflictException(f"Route with key {key} already exists for this API")
            route_id = new_id(7, taken=doc["routes"])
            route = {"routeId": route_id, "routeKey": key, "authorizationType": "NONE", "apiKeyRequired": False}
            route.update({k: body[k] for k in ROUTE_AUTH_KEYS if body.get(k) is not None})
            http_authorizers.check_route(route, doc.get("authorizers") or {})
            doc["routes"][route_id] = route
            self._set_target(doc, route, body.get("target"))
        return dict(route)

    def update_route(self, api_id: str, route_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._editing(api_id) as doc:
            route = _item(doc, "routes", route_id)
            if "routeKey" in body:
                check_route_key(str(body["routeKey"]))
                if any(r["routeKey"] == body["routeKey"] and r is not route for r in doc["routes"].values()):
                    raise ConflictException(f"Route with key {body['routeKey']} already exists for this API")
                route["routeKey"] = body["routeKey"]
            if "target" in body:
                self._set_target(doc, route, body["target"])
            route.update({k: body[k] for k in ROUTE_AUTH_KEYS if body.get(k) is not None})
            http_authorizers.check_route(route, doc.get("authorizers") or {})
        return dict(route)

    def create_authorizer(self, api_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._editing(api_id) as doc:
            authorizers = doc.setdefault("authorizers", {})
            authorizer = http_authorizers.new_authorizer(body, new_id(6, taken=authorizers))
            authorizers[authorizer["authorizerId"]] = authorizer
        return dict(authorizer)

    def update_authorizer(self, api_id: str, authorizer_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._editing(api_id) as doc:
            authorizer = _item(doc, "authorizers", authorizer_id)
            http_authorizers.update_authorizer(authorizer, body)
        return dict(authorizer)

    def create_integration(self, api_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._editing(api_id) as doc:
            integration_id = new_id(7, taken=doc["integrations"])
            integration = {"integrationId": integration_id, "connectionType": "INTERNET", "integrationMethod": "POST",
                           "timeoutInMillis": DEFAULT_TIMEOUT_MS}
            _integration_fields(integration, body, creating=True)
            doc["integrations"][integration_id] = integration
        return dict(integration)

    def update_integration(self, api_id: str, integration_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._editing(api_id) as doc:
            integration = _item(doc, "integrations", integration_id)
            _integration_fields(integration, body, creating=False)
        return dict(integration)

    def create_stage(self, api_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        name = body.get("stageName")
        if not isinstance(name, str):
            raise BadRequestException("Invalid input: stageName is required")
        check_http_stage_name(name)
        with self._editing(api_id) as doc:
            if name in doc["stages"]:
                raise ConflictException(f"Stage {name} already exists")
            stage = {"stageName": name, "autoDeploy": bool(body.get("autoDeploy")),
                     "createdDate": self._stage_date(name), "lastUpdatedDate": iso_now(),
                     "stageVariables": _variables(body.get("stageVariables")),
                     "defaultRouteSettings": {"detailedMetricsEnabled": False,
                                              **_settings(body.get("defaultRouteSettings"))},
                     "routeSettings": _checked_route_settings(doc, body.get("routeSettings")), "tags": {}}
            if body.get("deploymentId") is not None:
                stage["deploymentId"] = _deployment_of(doc, body["deploymentId"])
            if logs := _access_log_settings(body.get("accessLogSettings")):
                stage["accessLogSettings"] = logs
            doc["stages"][name] = stage
        return dict(doc["stages"][name])

    def update_stage(self, api_id: str, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._editing(api_id) as doc:
            stage = _item(doc, "stages", name)
            if "autoDeploy" in body:
                stage["autoDeploy"] = bool(body["autoDeploy"])
            if "stageVariables" in body:
                stage["stageVariables"] = _variables(body["stageVariables"])
            if "defaultRouteSettings" in body:
                stage["defaultRouteSettings"] = {**stage.get("defaultRouteSettings", {}),
                                                 **_settings(body["defaultRouteSettings"])}
            if "routeSettings" in body:
                stage["routeSettings"] = {**stage.get("routeSettings", {}),
                                          **_checked_route_settings(doc, body["routeSettings"])}
            if body.get("deploymentId") is not None:
                stage["deploymentId"] = _deployment_of(doc, body["deploymentId"])
            if "accessLogSettings" in body:
                stage.pop("accessLogSettings", None)
                if logs := _access_log_settings(body["accessLogSettings"]):
                    stage["accessLogSettings"] = logs
            stage["lastUpdatedDate"] = iso_now()
        return dict(doc["stages"][name])

    def get_item(self, api_id: str, kind: str, item_id: str) -> dict[str, Any]:
        """GetRoute / GetIntegration / GetStage / GetDeployment."""
        return _item(self.get(api_id), kind, item_id)

    def delete_item(self, api_id: str, kind: str, item_id: str) -> None:
        """DeleteRoute / DeleteIntegration / DeleteStage / DeleteDeployment."""
        with self._editing(api_id) as doc:
            _item(doc, kind, item_id)
            if kind == "authorizers" and any(r.get("authorizerId") == item_id for r in doc["routes"].values()):
                raise ConflictException(f"Authorizer {item_id} is used by a route: change the route's "
                                        "authorization first")   # UNCONFIRMED text
            if kind == "integrations" and any(r.get("target") == f"integrations/{item_id}"
                                              for r in doc["routes"].values()):
                raise ConflictException(f"Integration {item_id} is used by a route: delete the route or change "
                                        "its target first")
            if kind == "deployments":
                users = sorted(n for n, s in doc["stages"].items() if s.get("deploymentId") == item_id)
                if users:
                    raise BadRequestException(f"Deployment {item_id} is used by stage {users[0]}: point the stage "
                                              "at another deployment (or delete it) first")
                doc.get("deployed", {}).pop(item_id, None)
            del doc[kind][item_id]

    def create_deployment(self, api_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """A snapshot of the API's routes, integrations and CORS configuration as they are now; with
        `stageName`, that stage serves it from now on."""
        with self._editing(api_id) as doc:
            stage = body.get("stageName")
            if stage is not None and stage not in doc["stages"]:
                raise NotFoundException(f"Invalid stage identifier specified {stage}")
            description = body.get("description")
            deployment_id = _new_deployment(doc, description if isinstance(description, str) else None, auto=False)
            if stage is not None:
                _point(doc["stages"][stage], deployment_id)
        return dict(doc["deployments"][deployment_id])

    def _set_target(self, doc: Document, route: dict[str, Any], target: Any) -> None:
        if target is None:
            route.pop("target", None)
            return
        if not isinstance(target, str) or target.removeprefix("integrations/") not in doc["integrations"]:
            raise BadRequestException(f"Invalid target {target!r}: it must be integrations/{{integrationId}} of an "
                                      "integration of this API")
        route["target"] = target

    @contextmanager
    def _editing(self, api_id: str) -> Iterator[Document]:
        """A working copy of the API, stored and swapped in only when the block finishes cleanly."""
        work = copy.deepcopy(self.get(api_id))
        yield work
        self._store(api_id, work)

    def delete(self, api_id: str) -> None:
        self.get(api_id)
        self.db.delete_http_api(api_id)
        del self.documents[api_id]
        self._publish()

    def _store(self, api_id: str, document: Document) -> None:
        self._auto_deploy(document)
        self.db.put_http_api(api_id, document)
        self.documents[api_id] = document
        self._publish()

    @staticmethod
    def _auto_deploy(doc: Document) -> None:
        """Each auto-deploying stage whose deployment no longer matches the API gets a new one (one
        for all of them per change), as API Gateway deploys such a stage on every change."""
        content = _deployable(doc)
        fresh: str | None = None
        for stage in doc["stages"].values():
            current = doc.get("deployed", {}).get(stage.get("deploymentId") or "")
            if not stage.get("autoDeploy") or (current is not None and _same(current, content)):
                continue
            fresh = fresh or _new_deployment(doc, AUTO_DESCRIPTION, auto=True, content=content)
            _point(stage, fresh)

    def _publish(self) -> None:
        served = {}
        compiled: dict[tuple[str, str], Deployed] = {}
        for doc in self.documents.values():
            api_id = doc["api"]["apiId"]
            stages = {}
            for name, stage in doc["stages"].items():
                deployment_id = stage.get("deploymentId")
                deployed = None
                if deployment_id and deployment_id in doc.get("deployed", {}):
                    deployed = self._deployed.get((api_id, deployment_id)) or _compile(
                        deployment_id, doc["deployed"][deployment_id])
                    compiled[(api_id, deployment_id)] = deployed
                stages[name] = HttpStage(
                    name, deployed, epoch_of(stage.get("createdDate")),
                    MappingProxyType(dict(stage.get("stageVariables") or {})),
                    _throttle(stage.get("defaultRouteSettings") or {}),
                    MappingProxyType({key: throttle for key, settings in (stage.get("routeSettings") or {}).items()
                                      if (throttle := _throttle(settings)) is not None}),
                    accesslog.settings_of(stage.get("accessLogSettings")))
            served[api_id] = HttpApiSnapshot(api_id, doc["api"]["name"], float(doc["created"]),
                                             MappingProxyType(stages))
        self._deployed = compiled
        self._served = MappingProxyType(served)
        for listener in self._listeners:
            listener()


def check_http_stage_name(name: str) -> None:
    """`$default`, or a name REST's rules allow (and no path the platform owns)."""
    if name != DEFAULT_STAGE:
        rules.check_stage_name(name)


def check_route_key(key: str) -> None:
    try:
        parse_route_key(key)
    except RouteKeyError as e:
        raise BadRequestException(str(e)) from None


KINDS = {"routes": "Route", "integrations": "Integration", "stages": "Stage", "deployments": "Deployment",
         "authorizers": "Authorizer"}
ROUTE_AUTH_KEYS = ("authorizationType", "authorizerId", "authorizationScopes")


def _item(doc: Document, kind: str, item_id: str) -> dict[str, Any]:
    item: dict[str, Any] | None = (doc.get(kind) or {}).get(item_id)
    if item is None:
        raise NotFoundException(f"Invalid {KINDS[kind]} identifier specified {item_id}")
    return item


def _variables(given: Any) -> dict[str, str]:
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise BadRequestException("Invalid input: stageVariables must be a map of strings")
    return {str(k): str(v) for k, v in given.items()}


def _route_security(security: list[tuple[str, list[str]]], authorizers: Mapping[str, Mapping[str, Any]],
                    ids: Mapping[str, str]) -> dict[str, Any]:
    """A route's authorization from its operation's `security` naming one of the authorizers."""
    for name, scopes in security:
        authorizer = authorizers.get(ids.get(name, ""))
        if authorizer is not None:
            kind = "JWT" if authorizer["authorizerType"] == "JWT" else "CUSTOM"
            return {"authorizationType": kind, "authorizerId": authorizer["authorizerId"],
                    **({"authorizationScopes": scopes} if scopes and kind == "JWT" else {})}
    return {}


def _integration_fields(integration: dict[str, Any], body: Mapping[str, Any], creating: bool) -> None:
    kind = body.get("integrationType", integration.get("integrationType") if not creating else None)
    if kind != "AWS_PROXY":
        raise BadRequestException(f"Invalid integration type {kind!r}: Lambdalite serves AWS_PROXY (Lambda) "
                                  "integrations; HTTP_PROXY, MOCK and private integrations are not built yet")
    integration["integrationType"] = kind
    for key in ("integrationUri", "payloadFormatVersion", "timeoutInMillis", "description"):
        if key in body:
            integration[key] = body[key]
    if not isinstance(integration.get("integrationUri"), str) or not integration["integrationUri"]:
        raise BadRequestException("Invalid input: integrationUri (the Lambda function's ARN) is required")
    if integration.get("payloadFormatVersion") not in ("1.0", "2.0"):
        raise BadRequestException("Invalid input: payloadFormatVersion must be 1.0 or 2.0 for a Lambda integration")
    timeout = integration.get("timeoutInMillis")
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 50 <= timeout <= 30_000:
        raise BadRequestException("Invalid input: timeoutInMillis must be between 50 and 30000")


def _deployable(doc: Document) -> dict[str, Any]:
    """What a deployment of the API made now would hold: routes (by key) with their integrations,
    and the CORS configuration."""
    routes = []
    for route in doc["routes"].values():
        integration = doc["integrations"].get((route.get("target") or "").removeprefix("integrations/"))
        if integration is not None:
            auth = http_authorizers.route_auth(route, doc.get("authorizers") or {})
            routes.append([route["routeKey"], {"integrationId": integration["integrationId"],
                                               **{k: integration[k] for k in INTEGRATION_KEYS if k in integration},
                                               **({"auth": auth} if auth else {})}])
    content: dict[str, Any] = {"routes": sorted(routes, key=lambda r: r[0])}
    if doc["api"].get("corsConfiguration"):
        content["cors"] = doc["api"]["corsConfiguration"]
    return content


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two deployments serve the same (ids aside: a SAM redeploy names its integrations anew)."""
    def bare(content: Mapping[str, Any]) -> Any:
        return ([[key, {k: v for k, v in i.items() if k != "integrationId"}] for key, i in content["routes"]],
                content.get("cors"))
    return bool(bare(a) == bare(b))


def _new_deployment(doc: Document, description: str | None, auto: bool,
                    content: dict[str, Any] | None = None) -> str:
    deployments = doc.setdefault("deployments", {})
    deployment_id = new_id(6, taken=deployments)
    deployment = {"deploymentId": deployment_id, "deploymentStatus": "DEPLOYED", "createdDate": iso_now(),
                  "autoDeployed": auto}
    if description is not None:
        deployment["description"] = description
    deployments[deployment_id] = deployment
    doc.setdefault("deployed", {})[deployment_id] = content if content is not None else _deployable(doc)
    return deployment_id


def _point(stage: dict[str, Any], deployment_id: str) -> None:
    stage["deploymentId"] = deployment_id
    stage["lastDeploymentStatusMessage"] = f"Successfully deployed stage with deployment ID '{deployment_id}'"
    stage["lastUpdatedDate"] = iso_now()


def _deployment_of(doc: Document, deployment_id: Any) -> str:
    if not isinstance(deployment_id, str) or deployment_id not in (doc.get("deployments") or {}):
        raise NotFoundException(f"Invalid Deployment identifier specified {deployment_id}")
    return deployment_id


def _compile(deployment_id: str, content: Mapping[str, Any]) -> Deployed:
    routes = tuple((key, Integration(i["integrationId"], function_of(i["integrationUri"]),
                                     i.get("payloadFormatVersion", "2.0"),
                                     int(i.get("timeoutInMillis", DEFAULT_TIMEOUT_MS)),
                                     route_auth_of(i.get("auth"))))
                   for key, i in content["routes"])
    return Deployed(deployment_id, routes, Cors.of(content["cors"]) if content.get("cors") else None)


def _settings(given: Any) -> dict[str, Any]:
    """Route settings (DefaultRouteSettings or one of RouteSettings) in the wire's camelCase."""
    try:
        return camel_case(given) or {}
    except ValueError:
        raise BadRequestException("Invalid input: route settings must be an object (throttlingBurstLimit, "
                                  "throttlingRateLimit, detailedMetricsEnabled, ...)") from None


def _route_settings(given: Any, keys: set[str]) -> dict[str, dict[str, Any]]:
    """RouteSettings by route key, each key a route of the API; ValueError with API Gateway's text."""
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise ValueError("RouteSettings must be a map of route key to its settings")
    out = {}
    for key, settings in given.items():
        if key not in keys:   # AWS's 404 text, as public CloudFormation/CDK failure reports quote it
            raise ValueError(f"Unable to find Route by key {key} within the provided RouteSettings")
        out[str(key)] = _settings(settings)
    return out


def _checked_route_settings(doc: Document, given: Any) -> dict[str, dict[str, Any]]:
    if given is not None and not isinstance(given, Mapping):
        raise BadRequestException("Invalid input: routeSettings must be a map of route key to its settings")
    try:
        return _route_settings(given, {r["routeKey"] for r in doc["routes"].values()})
    except ValueError as e:   # a key with no route: NotFoundException (404), as AWS answers it
        raise NotFoundException(str(e)) from None


def _access_log_settings(given: Any, error: type[Exception] = BadRequestException) -> dict[str, str] | None:
    """A stage's accessLogSettings in the wire shape, checked; None to log nothing."""
    wire = camel_case(given) if isinstance(given, Mapping) else given
    try:
        settings = accesslog.settings_of(wire)
    except ValueError as e:
        raise error(str(e)) from None
    if settings is None:
        return None
    assert isinstance(wire, dict)
    return {"destinationArn": str(wire["destinationArn"]), "format": settings[1]}


def _throttle(settings: Mapping[str, Any]) -> tuple[int, float] | None:
    burst, rate = settings.get("throttlingBurstLimit"), settings.get("throttlingRateLimit")
    if isinstance(burst, int | float) and isinstance(rate, int | float) and not isinstance(burst, bool):
        return int(burst), float(rate)
    return None


def root_owner(served: Mapping[str, HttpApiSnapshot]) -> str | None:
    """The HTTP API that serves the server's root `/`: the one whose `$default` stage is the oldest."""
    candidates = sorted((s.stages[DEFAULT_STAGE].created, s.created, s.api_id) for s in served.values()
                        if DEFAULT_STAGE in s.stages)
    return candidates[0][2] if candidates else None
