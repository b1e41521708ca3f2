"""GatewayService: every REST API as an in-memory document, persisted, published as stage snapshots.

One JSON document per REST API (`api`, `resources`, `validators`, `models`, `deployments`,
`stages`), objects in their wire shape. Every change is made on a copy of the document, written to
the store, and only then swapped in: a refused call changes nothing, and an answered one survives a
kill -9. Deployments are immutable snapshots (`snapshot.freeze`); what stages serve is published as
a read-only mapping of `DeployedStage`s that listeners (the data plane) are told about.

AWS's behaviour and texts: reference `apigateway-sam.md` section 13 (cited there per text).
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

from ...errors import BadRequestException, ConflictException, NotFoundException
from ...store import Database
from ..data.vtl import CompiledTemplate
from ..snapshot import DeployedStage, access_log_of, compile_templates, deployed_stage, freeze, logging_settings
from ..urls import full_stage_path, short_owners
from . import authorizers, patch, rules, shapes
from .ids import API_ID_LENGTH, new_id, now
from .importer import api_fields, apply_import, parse
from .openapi import ImportedApi as Imported
from .rules import NO_INTEGRATION, NO_RESOURCE, NO_STATUS

TEST_STAGE, TEST_DEPLOYMENT = "test-invoke-stage", "test-invoke-deployment-id"   # TestInvokeMethod's, as AWS names them
log = logging.getLogger("lambdalite.gateway")

Document = dict[str, Any]


class GatewayService:
    def __init__(self, db: Database, region: str, account: str) -> None:
        self.db = db
        self.region = region
        self.account = account
        self.documents: dict[str, Document] = {}
        self._listeners: list[Callable[[], None]] = []
        self._deployed: Mapping[tuple[str, str], DeployedStage] = MappingProxyType({})
        self._templates: dict[tuple[str, str], dict[str, CompiledTemplate]] = {}  # (api, deployment) -> compiled
        # The HTTP API that holds the server's root, seen from here (set by the server; none without HTTP
        # APIs): when its $default stage was made, and whether it answers a short form made after it.
        self.root_since: Callable[[], int | None] = lambda: None
        self.shadowed_by: Callable[[str, float], str | None] = lambda name, created: None

    # loading, snapshots, listeners --------------------------------------------------------------
    def load(self) -> None:
        self.documents = {doc["api"]["id"]: doc for doc in self.db.load_rest_apis()}
        self._republish()

    def on_change(self, listener: Callable[[], None]) -> None:
        """`listener()` runs after anything that changes what is served (stages, deployments, APIs)."""
        self._listeners.append(listener)

    def deployed_stages(self) -> Mapping[tuple[str, str], DeployedStage]:
        """(api id, stage name) -> what that stage serves; a new read-only mapping after each change."""
        return self._deployed

    def api_ids(self) -> set[str]:
        return set(self.documents)

    def stages_by_api(self) -> dict[str, set[str]]:
        """api id -> the names of its stages."""
        return {api_id: set(doc["stages"]) for api_id, doc in self.documents.items()}

    def short_owners(self) -> dict[str, str]:
        """stage name -> the API whose short URL /{stage}/... it is (`urls.short_owners`), leaving out a
        short form that an older HTTP API holding the server's root answers (`shadowed`)."""
        shadowed = self.shadowed()
        return {name: api_id for name, api_id in self._oldest().items() if name not in shadowed}

    def shadowed(self) -> dict[str, str]:
        """stage name -> the HTTP API that answers its short form instead (it holds the server's root,
        is older than the REST stage and has routes under /{stage}/: the older owner wins)."""
        out = {}
        for name, api_id in self._oldest().items():
            http = self.shadowed_by(name, float(self.documents[api_id]["stages"][name].get("createdDate") or 0))
            if http is not None:
                out[name] = http
        return out

    def _oldest(self) -> dict[str, str]:
        return short_owners((api_id, name, float(stage.get("createdDate") or 0))
                            for api_id, doc in self.documents.items() for name, stage in doc["stages"].items())

    def _republish(self) -> None:
        """A new mapping; a stage whose serving facts did not change keeps its DeployedStage object
        (the data plane can tell by identity that it has nothing to recompile)."""
        previous = self._deployed
        stages: dict[tuple[str, str], DeployedStage] = {}
        for api_id, doc in self.documents.items():
            for name, stage in doc["stages"].items():
                old = previous.get((api_id, name))
                if (old is not None and old.deployment_id == stage["deploymentId"]
                        and old.api_name == doc["api"]["name"] and old.variables == (stage.get("variables") or {})
                        and (old.logging_level, old.data_trace) == logging_settings(stage)
                        and old.access_log == access_log_of(stage)
                        and old.api_key_source == (doc["api"].get("apiKeySource") or "HEADER")
                        and old.created == float(stage.get("createdDate") or 0)):
                    stages[(api_id, name)] = old
                    continue
                templates = self._compiled(api_id, doc, stage["deploymentId"])
                stages[(api_id, name)] = deployed_stage(doc, stage, templates)
        self._deployed = MappingProxyType(stages)
        for listener in self._listeners:
            listener()

    def _compiled(self, api_id: str, doc: Document, deployment_id: str) -> dict[str, CompiledTemplate]:
        key = (api_id, deployment_id)
        if key not in self._templates:
            self._templates[key], _ = compile_templates(doc["deployments"][deployment_id]["snapshot"])
        return self._templates[key]

    # the one way to change a document -----------------------------------------------------------
    @contextmanager
    def _editing(self, api_id: str, missing: str | None = None) -> Iterator[Document]:
        """A working copy of the API; written and swapped in only when the block finishes cleanly."""
        current = self._document(api_id, missing)
        work = {k: copy.deepcopy(v) for k, v in current.items() if k != "deployments"}
        work["deployments"] = dict(current["deployments"])  # a deployment is never changed in place
        yield work
        self.db.put_rest_api(api_id, work)
        before = _serving_key(current)
        self.documents[api_id] = work
        if _serving_key(work) != before:
            self._republish()

    def _document(self, api_id: str, missing: str | None = None) -> Document:
        doc = self.documents.get(api_id)
        if doc is None:
            if missing is not None:
                raise NotFoundException(missing)
            raise NotFoundException(f"Invalid API identifier specified {self.account}:{api_id}")
        return doc

    def _ordered(self) -> list[Document]:
        return sorted(self.documents.values(), key=lambda d: (d["api"]["createdDate"], d["api"]["id"]))

    # RestApi --------------------------------------------------------------------------------------
    def create_rest_api(self, body: dict[str, Any], api_id: str | None = None) -> dict[str, Any]:
        """CreateRestApi; `api_id` is given by a stack, whose plan allocated it (`new_api_id`)."""
        if api_id is not None and api_id in self.documents:
            raise ConflictException(f"REST API {api_id} already exists")
        doc = self._new_document(body, api_id)
        self.db.put_rest_api(doc["api"]["id"], doc)
        self.documents[doc["api"]["id"]] = doc
        return shapes.render_rest_api(doc["api"])

    def _new_document(self, body: dict[str, Any], api_id: str | None = None) -> Document:
        """A new API: its root resource and the two models every API starts with (Empty, Error)."""
        api_id = api_id or new_id(API_ID_LENGTH, self.documents)
        root_id = new_id(API_ID_LENGTH)
        api = shapes.new_rest_api(body, api_id, root_id, now())
        return {"api": api, "resources": {root_id: {"id": root_id, "path": "/"}}, "validators": {},
                "models": shapes.default_models(new_id), "deployments": {}, "stages": {}}

    def saved_document(self, api_id: str) -> Document | None:
        """A copy of the API's whole document (None when there is none), for `restore_document`."""
        doc = self.documents.get(api_id)
        return copy.deepcopy(doc) if doc is not None else None

    def restore_document(self, api_id: str, saved: Document | None) -> None:
        """Put back what `saved_document` returned: a stack rolling a failed deploy back."""
        if saved is None:
            if api_id in self.documents:
                self.delete_rest_api(api_id)
            return
        self.db.put_rest_api(api_id, saved)
        self.documents[api_id] = saved
        self._templates = {k: v for k, v in self._templates.items() if k[0] != api_id}
        self._republish()

    def get_rest_api(self, api_id: str) -> dict[str, Any]:
        return shapes.render_rest_api(self._document(api_id)["api"], with_tags=True)

    def get_rest_apis(self) -> list[dict[str, Any]]:
        return [shapes.render_rest_api(doc["api"]) for doc in self._ordered()]

    def update_rest_api(self, api_id: str, operations: list[dict[str, Any]]) -> dict[str, Any]:
        with self._editing(api_id) as doc:
            patch.apply_rest_api(doc["api"], operations)
        return shapes.render_rest_api(doc["api"], with_tags=True)

    def delete_rest_api(self, api_id: str) -> None:
        had_stages = bool(self._document(api_id)["stages"])
        self.db.delete_rest_api(api_id)
        del self.documents[api_id]
        self._templates = {k: v for k, v in self._templates.items() if k[0] != api_id}
        if had_stages:
            self._republish()

    # Resources ------------------------------------------------------------------------------------
    def get_resources(self, api_id: str, embed: bool) -> list[dict[str, Any]]:
        doc = self._document(api_id)
        return [shapes.render_resource(r, embed) for r in doc["resources"].values()]

    def get_resource(self, api_id: str, resource_id: str, embed: bool) -> dict[str, Any]:
        doc = self._document(api_id, NO_RESOURCE)
        return shapes.render_resource(rules.resource_of(doc, resource_id), embed)

    def create_resource(self, api_id: str, parent_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._editing(api_id, NO_RESOURCE) as doc:
            parent = rules.resource_of(doc, parent_id)
            part = shapes.check_path_part(body.get("pathPart"))
            rules.check_child(doc, parent, part)
            resource_id = new_id(taken=doc["resources"])
            path = f"{parent['path'].rstrip('/')}/{part}"
            resource = {"id": resource_id, "parentId": parent_id, "pathPart": part, "path": path}
            doc["resources"][resource_id] = resource
        return shapes.render_resource(resource, embed=False)

    def update_resource(self, api_id: str, resource_id: str, operations: list[dict[str, Any]]) -> dict[str, Any]:
        with self._editing(api_id, NO_RESOURCE) as doc:
            resource = rules.resource_of(doc, resource_id)
            for op in patch.check_ops(operations, "updateResourceInput"):
                rules.update_resource(doc, resource, dict(op))
        return shapes.render_resource(resource, embed=False)

    def delete_resource(self, api_id: str, resource_id: str) -> None:
        with self._editing(api_id, NO_RESOURCE) as doc:
            resource = rules.resource_of(doc, resource_id)
            if "parentId" not in resource:
                raise BadRequestException("Cannot delete root resource")
            doomed = {resource_id}
            grown = True
            while grown:  # the whole subtree, found by current parentId
                children = {r["id"] for r in doc["resources"].values() if r.get("parentId") in doomed}
                grown = not children <= doomed
                doomed |= children
            for rid in doomed:
                del doc["resources"][rid]

    # Methods --------------------------------------------------------------------------------------
    def put_method(self, api_id: str, resource_id: str, verb: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._editing(api_id, NO_RESOURCE) as doc:
            resource = rules.resource_of(doc, resource_id)
            shapes.check_http_method(verb)
            methods = resource.setdefault("resourceMethods", {})
            if verb in methods:
                raise ConflictException("Method already exists for this resource")
            method = shapes.new_method(verb, body)
            rules.check_method_references(doc, method)
            methods[verb] = method
        return shapes.render_method(method)

    def get_method(self, api_id: str, resource_id: str, verb: str) -> dict[str, Any]:
        doc = self._document(api_id, NO_RESOURCE)
        return shapes.render_method(rules.method_of(doc, resource_id, verb))

    def test_stage(self, api_id: str, resource_id: str, verb: str,
                   variables: Mapping[str, str]) -> tuple[DeployedStage, str]:
        """TestInvokeMethod's stage: the API as it is now (deployed or not), logging everything, and the
        method's resource path. NotFoundException for a method the resource lacks."""
        doc = self._document(api_id, NO_RESOURCE)
        rules.method_of(doc, resource_id, verb)
        frozen = freeze(doc)
        templates, _ = compile_templates(frozen)
        draft = {"api": doc["api"], "deployments": {TEST_DEPLOYMENT: {"snapshot": frozen}}}
        stage = {"stageName": TEST_STAGE, "deploymentId": TEST_DEPLOYMENT, "variables": dict(variables),
                 "methodSettings": {"*/*": {"loggingLevel": "INFO", "dataTraceEnabled": True}}}
        return deployed_stage(draft, stage, templates), str(doc["resources"][resource_id]["path"])

    def update_method(self, api_id: str, resource_id: str, verb: str,
                      operations: list[dict[str, Any]]) -> dict[str, Any]:
        with self._editing(api_id, NO_RESOURCE) as doc:
            method = rules.method_of(doc, resource_id, verb)
            patch.apply_method(method, operations, lambda m: m in doc["models"],
                               lambda v: v in doc["validators"], lambda a: a in (doc.get("authorizers") or {}))
        return shapes.render_method(method)

    def delete_method(self, api_id: str, resource_id: str, verb: str) -> None:
        with self._editing(api_id, NO_RESOURCE) as doc:
            rules.method_of(doc, resource_id, verb)
            methods = doc["resources"][resource_id]["resourceMethods"]
            del methods[verb]
            if not methods:
                del doc["resources"][resource_id]["resourceMethods"]

    # Method responses -----------------------------------------------------------------------------
    def put_method_response(self, api_id: str, resource_id: str, verb: str, code: str,
                            body: dict[str, Any]) -> dict[str, Any]:
        shapes.check_status_code(code)
        with self._editing(api_id, NO_RESOURCE) as doc:
            method = rules.method_of(doc, resource_id, verb)
            response = shapes.new_method_response(code, body)
            method.setdefault("methodResponses", {})[code] = response
        return copy.deepcopy(response)

    def get_method_response(self, api_id: str, resource_id: str, verb: str, code: str) -> dict[str, Any]:
        shapes.check_status_code(code)
        method = rules.method_of(self._document(api_id, NO_RESOURCE), resource_id, verb)
        return copy.deepcopy(rules.entry_of(method.get("methodResponses"), code, NO_STATUS))

    def update_method_response(self, api_id: str, resource_id: str, verb: str, code: str,
                               operations: list[dict[str, Any]]) -> dict[str, Any]:
        # AWS-recorded: a bad op and a bad status code are one ValidationException, before any lookup
        patch.check_ops(operations, "updateMethodResponseInput", shapes.status_code_problems(code))
        with self._editing(api_id, NO_RESOURCE) as doc:
            response = rules.entry_of(rules.method_of(doc, resource_id, verb).get("methodResponses"), code, NO_STATUS)
            patch.apply_method_response(response, operations)
        return copy.deepcopy(response)

    def delete_method_response(self, api_id: str, resource_id: str, verb: str, code: str) -> None:
        shapes.check_status_code(code)
        with self._editing(api_id, NO_RESOURCE) as doc:
            method = rules.method_of(doc, resource_id, verb)
            rules.entry_of(method.get("methodResponses"), code, NO_STATUS)
            rules.drop_entry(method, "methodResponses", code)

    # Integrations ---------------------------------------------------------------------------------
    def put_integration(self, api_id: str, resource_id: str, verb: str, body: dict[str, Any]) -> dict[str, Any]:
        """Replaces the whole integration, its integration responses included (AWS's upsert)."""
        for member in ("requestParameters", "requestTemplates"):   # the body's deserialization comes first
            shapes.check_template_values(body.get(member))
        shapes.check_integration_type(body)
        with self._editing(api_id, NO_RESOURCE) as doc:
            method = rules.method_of(doc, resource_id, verb)
            integration = shapes.new_integration(body, resource_id, self.region)
            method["methodIntegration"] = integration
        return copy.deepcopy(integration)

    def get_integration(self, api_id: str, resource_id: str, verb: str) -> dict[str, Any]:
        return copy.deepcopy(rules.integration_of(self._document(api_id, NO_RESOURCE), resource_id, verb))

    def update_integration(self, api_id: str, resource_id: str, verb: str,
                           operations: list[dict[str, Any]]) -> dict[str, Any]:
        with self._editing(api_id, NO_RESOURCE) as doc:
            integration = rules.integration_of(doc, resource_id, verb)
            patch.apply_integration(integration, operations)
        return copy.deepcopy(integration)

    def delete_integration(self, api_id: str, resource_id: str, verb: str) -> None:
        with self._editing(api_id, NO_RESOURCE) as doc:
            rules.integration_of(doc, resource_id, verb)
            del rules.method_of(doc, resource_id, verb)["methodIntegration"]

    def put_integration_response(self, api_id: str, resource_id: str, verb: str, code: str,
                                 body: dict[str, Any]) -> dict[str, Any]:
        shapes.check_status_code(code)
        with self._editing(api_id, NO_RESOURCE) as doc:
            integration = rules.integration_of(doc, resource_id, verb)
            response = shapes.new_integration_response(code, body)
            integration.setdefault("integrationResponses", {})[code] = response
        return copy.deepcopy(response)

    def get_integration_response(self, api_id: str, resource_id: str, verb: str, code: str) -> dict[str, Any]:
        shapes.check_status_code(code)   # AWS-recorded: the code's pattern before any lookup
        integration = rules.integration_of(self._document(api_id, NO_RESOURCE), resource_id, verb)
        return copy.deepcopy(rules.entry_of(integration.get("integrationResponses"), code, NO_STATUS))

    def update_integration_response(self, api_id: str, resource_id: str, verb: str, code: str,
                                    operations: list[dict[str, Any]]) -> dict[str, Any]:
        patch.check_ops(operations, "updateIntegrationResponseInput", shapes.status_code_problems(code))
        with self._editing(api_id, NO_RESOURCE) as doc:
            integration = rules.integration_of(doc, resource_id, verb)
            response = rules.entry_of(integration.get("integrationResponses"), code, NO_STATUS)
            patch.apply_integration_response(response, operations)
        return copy.deepcopy(response)

    def delete_integration_response(self, api_id: str, resource_id: str, verb: str, code: str) -> None:
        with self._editing(api_id, NO_RESOURCE) as doc:
            rules.resource_of(doc, resource_id)   # AWS-recorded: an unknown resource is named as such
            try:
                integration = rules.integration_of(doc, resource_id, verb)
            except NotFoundException:  # AWS: even an unknown method answers this one
                raise NotFoundException(NO_INTEGRATION) from None
            rules.entry_of(integration.get("integrationResponses"), code, NO_STATUS)
            rules.drop_entry(integration, "integrationResponses", code)

    # Request validators and models ----------------------------------------------------------------
    def create_request_validator(self, api_id: str, body: dict[str, Any]) -> dict[str, Any]:
        if api_id not in self.documents:  # AWS answers 400 here, not the usual 404
            raise BadRequestException("Invalid REST API identifier specified")
        with self._editing(api_id) as doc:
            validator = shapes.new_validator(body, new_id(taken=doc["validators"]))
            doc["validators"][validator["id"]] = validator
        return dict(validator)

    def get_request_validators(self, api_id: str) -> list[dict[str, Any]]:
        return [dict(v) for v in self._document(api_id)["validators"].values()]

    def get_request_validator(self, api_id: str, validator_id: str) -> dict[str, Any]:
        # AWS-recorded: on an unknown API, Get/DeleteRequestValidator name the validator, not the API
        return dict(rules.validator_of(self._document(api_id, rules.NO_VALIDATOR), validator_id))

    def update_request_validator(self, api_id: str, validator_id: str,
                                 operations: list[dict[str, Any]]) -> dict[str, Any]:
        with self._editing(api_id, rules.NO_VALIDATOR) as doc:
            validator = rules.validator_of(doc, validator_id)
            patch.apply_validator(validator, operations)
        return dict(validator)

    def delete_request_validator(self, api_id: str, validator_id: str) -> None:
        with self._editing(api_id, rules.NO_VALIDATOR) as doc:
            rules.validator_of(doc, validator_id)
            del doc["validators"][validator_id]

    def create_model(self, api_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._editing(api_id) as doc:
            name = body.get("name")
            if not name:
                raise BadRequestException("Model name must be non-empty")
            if name in doc["models"]:
                raise ConflictException("Model name already exists for this REST API")
            rules.check_model_schema(body.get("schema"))
            model = shapes.new_model(body, new_id(taken={m["id"] for m in doc["models"].values()}))
            doc["models"][name] = model
        return dict(model)

    def get_models(self, api_id: str) -> list[dict[str, Any]]:
        return [dict(m) for m in self._document(api_id)["models"].values()]

    def get_model(self, api_id: str, name: str) -> dict[str, Any]:
        return dict(rules.model_of(self._document(api_id, rules.no_model(name)), name))

    def update_model(self, api_id: str, name: str, operations: list[dict[str, Any]]) -> dict[str, Any]:
        # AWS-recorded: on an unknown API, Get/Update/DeleteModel name the model, not the API
        with self._editing(api_id, rules.no_model(name)) as doc:
            model = rules.model_of(doc, name)
            patch.apply_model(model, operations, rules.check_model_schema)
        return dict(model)

    def delete_model(self, api_id: str, name: str) -> None:
        with self._editing(api_id, rules.no_model(name)) as doc:
            rules.model_of(doc, name)
            # AWS-recorded (TestApiGatewayApiMethod::test_put_method_model): of two methods using the
            # model, the newer resource's is named
            for resource in reversed(doc["resources"].values()):
                for verb, method in (resource.get("resourceMethods") or {}).items():
                    if name in (method.get("requestModels") or {}).values():
                        raise ConflictException(f"Cannot delete model '{name}', is referenced in method request: "
                                                f"{resource['path']}/{verb}")
            del doc["models"][name]

    # Authorizers ----------------------------------------------------------------------------------
    def create_authorizer(self, api_id: str, body: dict[str, Any]) -> dict[str, Any]:
        if api_id not in self.documents:   # AWS-recorded (test_authorizer_crud_no_api): this 409, not a 404
            raise ConflictException("Unable to complete operation due to concurrent modification. Please try "
                                    "again later.")
        with self._editing(api_id) as doc:
            existing = doc.setdefault("authorizers", {})
            authorizer = authorizers.new_authorizer(body, new_id(taken=existing))
            existing[authorizer["id"]] = authorizer
        return dict(authorizer)

    def get_authorizers(self, api_id: str) -> list[dict[str, Any]]:
        return [dict(a) for a in (self._document(api_id).get("authorizers") or {}).values()]

    def get_authorizer(self, api_id: str, authorizer_id: str) -> dict[str, Any]:
        return authorizers.authorizer_of(self._document(api_id), authorizer_id)

    def update_authorizer(self, api_id: str, authorizer_id: str, operations: list[dict[str, Any]]) -> dict[str, Any]:
        with self._editing(api_id) as doc:
            authorizer = authorizers.authorizer_of(doc, authorizer_id)
            authorizers.apply(authorizer, operations)
            doc["authorizers"][authorizer_id] = authorizer
        return dict(authorizer)

    def delete_authorizer(self, api_id: str, authorizer_id: str) -> None:
        with self._editing(api_id) as doc:
            authorizers.authorizer_of(doc, authorizer_id)
            users = authorizers.users_of(doc, authorizer_id)
            if users:   # UNCONFIRMED text, shaped as DeleteModel's recorded one
                raise ConflictException(f"Cannot delete authorizer '{authorizer_id}', is referenced in method: "
                                        f"{users[0]}")
            del doc["authorizers"][authorizer_id]

    # Deployments ----------------------------------------------------------------------------------
    def create_deployment(self, api_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The new deployment and its warnings (templates that do not compile, an ambiguous stage)."""
        stage_name = body.get("stageName")
        if stage_name:
            rules.check_stage_name(stage_name)
        with self._editing(api_id) as doc:
            rules.check_deployable(doc)
            frozen = freeze(doc)
            templates, warnings = compile_templates(frozen)
            deployment: dict[str, Any] = {"id": new_id(taken=doc["deployments"]), "createdDate": now()}
            if body.get("description"):
                deployment["description"] = body["description"]
            doc["deployments"][deployment["id"]] = {**deployment, "snapshot": frozen, "warnings": warnings}
            self._templates[(api_id, deployment["id"])] = templates
            if stage_name:
                warnings = warnings + self._point_stage(doc, stage_name, deployment["id"], body)
        for warning in warnings:
            log.warning("REST API %s deployment %s: %s", api_id, deployment["id"], warning)
        return deployment, warnings

    def _point_stage(self, doc: Document, name: str, deployment_id: str, body: dict[str, Any]) -> list[str]:
        stage = doc["stages"].get(name)
        if stage is None:
            stage_body = {"description": body.get("stageDescription"), "variables": body.get("variables"),
                          "cacheClusterEnabled": body.get("cacheClusterEnabled"),
                          "cacheClusterSize": body.get("cacheClusterSize"),
                          "tracingEnabled": body.get("tracingEnabled")}
            patch.check_variables(stage_body.get("variables") or {})
            doc["stages"][name] = shapes.new_stage(name, deployment_id, stage_body, self._stage_created(name))
            return self._ambiguity(doc, name)
        stage["deploymentId"] = deployment_id
        stage["lastUpdatedDate"] = now()
        if body.get("variables"):
            patch.check_variables(body["variables"])
            stage["variables"] = {**(stage.get("variables") or {}), **body["variables"]}
        return self._ambiguity(doc, name)

    def get_deployments(self, api_id: str) -> list[dict[str, Any]]:
        return [shapes.render_deployment(d) for d in self._document(api_id)["deployments"].values()]

    def get_deployment(self, api_id: str, deployment_id: str, api_summary: bool = False) -> dict[str, Any]:
        return shapes.render_deployment(rules.deployment_of(self._document(api_id), deployment_id), api_summary)

    def delete_deployment(self, api_id: str, deployment_id: str) -> None:
        with self._editing(api_id) as doc:
            rules.deployment_of(doc, deployment_id)
            if any(s["deploymentId"] == deployment_id for s in doc["stages"].values()):
                raise BadRequestException("Active stages pointing to this deployment must be moved or deleted")
            del doc["deployments"][deployment_id]
        self._templates.pop((api_id, deployment_id), None)

    # Stages ---------------------------------------------------------------------------------------
    def create_stage(self, api_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        name = str(body.get("stageName") or "")
        with self._editing(api_id) as doc:
            rules.check_stage_name(name)
            deployment_id = str(body.get("deploymentId") or "")
            rules.deployment_of(doc, deployment_id)
            if name in doc["stages"]:
                raise ConflictException("Stage already exists")
            patch.check_variables(body.get("variables") or {})
            stage = shapes.new_stage(name, deployment_id, body, self._stage_created(name))
            doc["stages"][name] = stage
        warnings = self._ambiguity(self.documents[api_id], name)
        for warning in warnings:
            log.warning("REST API %s stage %s: %s", api_id, name, warning)
        return copy.deepcopy(stage), warnings

    def get_stages(self, api_id: str, deployment_id: str | None) -> list[dict[str, Any]]:
        stages = self._document(api_id)["stages"].values()
        return [copy.deepcopy(s) for s in stages if not deployment_id or s["deploymentId"] == deployment_id]

    def get_stage(self, api_id: str, name: str) -> dict[str, Any]:
        return copy.deepcopy(rules.stage_of(self._document(api_id), name))

    def update_stage(self, api_id: str, name: str, operations: list[dict[str, Any]]) -> dict[str, Any]:
        with self._editing(api_id) as doc:
            stage = rules.stage_of(doc, name)
            patch.apply_stage(stage, operations, lambda d: d in doc["deployments"])
            stage["lastUpdatedDate"] = now()
        return copy.deepcopy(stage)

    def delete_stage(self, api_id: str, name: str) -> None:
        with self._editing(api_id) as doc:
            rules.stage_of(doc, name)
            del doc["stages"][name]

    def _stage_created(self, name: str) -> int:
        """A new stage's createdDate: now, or a second after the newest other stage of that name when
        that is later (dates are whole seconds), so the order of stages of one name is their age's."""
        others = [int(d["stages"][name].get("createdDate") or 0) for d in self.documents.values()
                  if name in d["stages"]]
        root = self.root_since()   # and after the HTTP root's claim, so which came first is never a tie
        return max([now(), *(t + 1 for t in others), *([root + 1] if root is not None else [])])

    def _ambiguity(self, doc: Document, name: str) -> list[str]:
        """Warnings when this stage (of the API being edited) does not get its short URL."""
        api_id = doc["api"]["id"]
        owner = self.short_owners().get(name)
        shadow = self.shadowed_by(name, float(doc["stages"][name].get("createdDate") or 0))
        if owner is None and shadow is not None:
            return [f"The server's root belongs to HTTP API {shadow}, older than this stage, whose routes answer "
                    f"paths under /{name}/; this stage answers at {full_stage_path(api_id, name)}... (each path "
                    f"the HTTP API has no route for still reaches this stage at /{name}/...)."]
        if owner is None or owner == api_id:
            return []
        other = self.documents[owner]["api"]
        return [f"Stage name '{name}' is also used by REST API {owner} ({other['name']}), which keeps the short "
                f"URL /{name}/...; this stage answers at {full_stage_path(api_id, name)}... (or choose a stage "
                "name no other API uses)."]

    # Import (OpenAPI) -----------------------------------------------------------------------------
    def build_import(self, document: bytes, query: Mapping[str, str]) -> tuple[Document, Imported]:
        """ImportRestApi's work that touches nothing served: the document read and the API built whole
        in memory (seconds for a large YAML document: the API layer runs it on a worker thread)."""
        imported = parse(document, query, mode="import")
        doc = self._new_document(api_fields(imported, query))
        doc["models"] = {}   # AWS-recorded (test_apigateway_import.py): only the document's models, no Empty/Error
        apply_import(doc, imported, overwrite=False, new_id=new_id, region=self.region)
        return doc, imported

    def import_rest_api(self, document: bytes, query: Mapping[str, str],
                        built: tuple[Document, Imported] | None = None) -> dict[str, Any]:
        """ImportRestApi: the API is built whole in memory (`build_import`), then stored once (a refused one
        leaves nothing)."""
        doc, imported = built or self.build_import(document, query)
        if doc["api"]["id"] in self.documents:   # taken meanwhile (built on another thread): a new id
            doc["api"]["id"] = new_id(API_ID_LENGTH, taken=self.documents)
        self.db.put_rest_api(doc["api"]["id"], doc)
        self.documents[doc["api"]["id"]] = doc
        return {**shapes.render_rest_api(doc["api"]), **_warnings(imported.warnings)}

    def put_rest_api(self, api_id: str, document: bytes, query: Mapping[str, str],
                     imported: Imported | None = None) -> dict[str, Any]:
        """PutRestApi: mode merge (the default) or overwrite; stages keep serving their deployments.
        `imported`: the document already read (`parse_put`, on a worker thread)."""
        mode = query.get("mode") or "merge"
        imported = imported or parse(document, query, mode=mode)
        with self._editing(api_id) as doc:
            apply_import(doc, imported, overwrite=mode == "overwrite", new_id=new_id, region=self.region)
        return {**shapes.render_rest_api(doc["api"], with_tags=True), **_warnings(imported.warnings)}


def _serving_key(doc: Document) -> str:
    return json.dumps([doc["api"]["name"], doc["api"].get("apiKeySource"), doc["stages"]], sort_keys=True)


def _warnings(warnings: list[str]) -> dict[str, Any]:
    return {"warnings": list(warnings)} if warnings else {}
