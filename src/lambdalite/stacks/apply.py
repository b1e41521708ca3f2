"""Applying a `StackPlan` all or nothing, through the same services the Lambda and API Gateway APIs call.

Order (as CloudFormation does it, so that nothing points at what is not ready):
  1. preflight: every function body and OpenAPI definition is checked without changing anything;
  2. functions: created, or updated (configuration, then code) where they changed, each awaited
     until it settled (Active / Successful, or Failed: a problem);
  3. versions: published where the template has a Version resource new to the stack; aliases
     created or moved (their provisioned concurrency awaited until READY);
  4. APIs: PutRestApi (overwrite) from the definition, then a deployment per stage;
  5. permissions: statements the stack no longer has removed, new ones added.
Each change pushes its undo; on the first failure `rollback()` runs them in reverse, so the
previous stack keeps serving. Only after success does `finish()` delete what the template no longer
has (functions, aliases, versions not retained, APIs, old deployments) and save the test events.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .. import errors
from ..access import RolePolicy
from ..codezip import inline_code_zip, sha256_hex
from ..errors import Problems
from ..functions import permissions, validate
from ..functions.model import FunctionVersion
from ..functions.service import FunctionService, as_config
from ..gateway.control import rules
from ..gateway.control.http_apis import HttpApiService
from ..gateway.control.importer import parse
from ..gateway.control.keys import KEYS, PLANS, KeyService
from ..gateway.control.service import GatewayService
from ..observe.spending import Budgets
from .model import (
    PlannedAlias,
    PlannedApi,
    PlannedEventConfig,
    PlannedFunction,
    PlannedHttpApi,
    PlannedLayer,
    PlannedPermission,
    PlannedRole,
    PlannedUsage,
    PlannedVersion,
    StackPlan,
)

log = logging.getLogger("lambdalite.stacks")

# UpdateFunctionConfiguration merges; a member the template dropped goes back to Lambda's default.
CONFIG_RESET: dict[str, Any] = {"Description": "", "Timeout": 3, "MemorySize": 128, "Environment": {"Variables": {}}}
NOT_CONFIG = ("FunctionName", "Code", "Tags", "Publish", "PackageType")

Undo = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Shifting:
    """What shifting an alias's traffic needs from the server: its clock, the calls and errors each
    version behind an alias had, a way to run a hook function, and a line of progress for the deploy."""

    sleep: Callable[[float], Awaitable[None]]
    calls: Callable[[str, str, str], tuple[int, int]]          # (function, alias, version) -> (calls, errors)
    hook: Callable[[str, dict[str, Any]], Awaitable[str | None]]   # (function, event) -> None, or why it failed
    say: Callable[[str], None] = lambda line: None


@dataclass
class Managed:
    """What a deployed stack made: function logical id -> name, api logical id -> id, permissions."""

    functions: dict[str, str] = field(default_factory=dict)
    apis: dict[str, str] = field(default_factory=dict)
    permissions: dict[str, dict[str, Any]] = field(default_factory=dict)  # logical id -> {function, statement}
    layers: dict[str, dict[str, Any]] = field(default_factory=dict)       # logical id -> {arn, retain}
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)     # logical id -> {function, version, retain}
    aliases: dict[str, dict[str, Any]] = field(default_factory=dict)      # logical id -> {function, name}
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)    # logical id -> PlannedSchedule document
    event_configs: dict[str, dict[str, Any]] = field(default_factory=dict)  # logical id -> {function, qualifier}
    http_apis: dict[str, str] = field(default_factory=dict)               # logical id -> HTTP API id
    usage: dict[str, dict[str, str]] = field(default_factory=dict)        # logical id -> {kind, id}: keys, plans
    roles: dict[str, str] = field(default_factory=dict)                   # logical id -> role ARN


class Applier:
    def __init__(self, functions: FunctionService, gateway: GatewayService, stack: str, previous: Managed,
                 foreign_functions: set[str], foreign_apis: set[str], shifting: Shifting | None = None,
                 budgets: Budgets | None = None, http_apis: HttpApiService | None = None,
                 keys: KeyService | None = None) -> None:
        self.functions = functions
        self.keys = keys
        self.budgets = budgets
        self.http_apis = http_apis
        self.gateway = gateway
        self.stack = stack
        self.previous = previous
        self.foreign_functions = foreign_functions   # names made by other stacks or by hand
        self.foreign_apis = foreign_apis
        self.undo: list[tuple[str, Undo]] = []
        self.warnings: list[str] = []
        self.held_code: set[str] = set()   # archives a rollback may need again (hex)
        self.published: dict[str, str] = {}   # Version logical id -> the version number it is
        self.shifting = shifting

    # 1. preflight ---------------------------------------------------------------------------------
    def preflight(self, plan: StackPlan) -> None:
        problems: list[str] = []
        for fn in plan.functions:
            problems += self._check_function(fn)
        for api in plan.apis:
            problems += self._check_api(api)
        for http_api in plan.http_apis:
            if http_api.api_id in self.foreign_apis:
                problems.append(f"{http_api.logical_id} (AWS::ApiGatewayV2::Api {http_api.api_id}): an API with id "
                                f"{http_api.api_id} exists outside stack {self.stack}")
        for permission in plan.permissions:
            try:
                permissions.check_statement(permission.statement)
            except errors.ServiceError as e:
                problems.append(f"{permission.logical_id} (AWS::Lambda::Permission): {e.message}")
        if problems:
            raise Problems(problems)

    def _check_function(self, fn: PlannedFunction) -> list[str]:
        where = f"{fn.logical_id} (AWS::Lambda::Function {fn.name})"
        if fn.name in self.foreign_functions:
            return [f"{where}: a function named {fn.name} already exists and is not part of stack "
                    f"{self.stack}; delete it (`lambdalite rm {fn.name}`) or give the resource another "
                    "FunctionName"]
        try:
            validate.validate_create(fn.create, region=self.functions.region, account=self.functions.account,
                                     code_in_store=True)
        except errors.ServiceError as e:
            return [f"{where}: {e.message}"]
        if fn.inline_code is None and (fn.code_sha256 is None or not self.functions.code.has(fn.code_sha256)):
            return [f"{where}: its code (CodeUri) was not uploaded to the server"]
        return []

    def _check_api(self, api: PlannedApi) -> list[str]:
        where = f"{api.logical_id} (AWS::ApiGateway::RestApi {api.api_id})"
        if api.api_id in self.foreign_apis:
            return [f"{where}: a REST API with id {api.api_id} exists outside stack {self.stack}"]
        problems: list[str] = []
        try:
            parse(definition_bytes(api), {}, mode="overwrite")
        except errors.ServiceError as e:
            problems.append(f"{where}: its OpenAPI definition was refused: {e.message}")
        for stage in api.stages:
            try:
                rules.check_stage_name(stage)
            except errors.ServiceError as e:
                problems.append(f"{where}: stage {stage!r}: {e.message}")
        return problems

    # 2.-4. apply ----------------------------------------------------------------------------------
    async def apply(self, plan: StackPlan) -> None:
        for layer in plan.layers:   # before the functions that name them
            await self._step(f"{layer.logical_id} (AWS::Lambda::LayerVersion {layer.arn})", self._layer(layer))
        for fn in plan.functions:
            where = f"{fn.logical_id} (AWS::Lambda::Function {fn.name})"
            await self._step(where, self._function(fn))
            await self._step(where, self._concurrency(fn))
            await self._step(where, self._budget(fn))
        for version in plan.versions:
            await self._step(f"{version.logical_id} (AWS::Lambda::Version of {version.function_name})",
                             self._version(version))
        for alias in plan.aliases:
            await self._step(f"{alias.logical_id} (AWS::Lambda::Alias {alias.function_name}:{alias.name})",
                             self._alias(alias))
        for config in plan.event_configs:
            await self._step(f"{config.logical_id} (AWS::Lambda::EventInvokeConfig {config.function})",
                             self._event_config(config))
        for api in plan.apis:
            await self._step(f"{api.logical_id} (AWS::ApiGateway::RestApi {api.api_id})", self._api(api))
        for http_api in plan.http_apis:
            await self._step(f"{http_api.logical_id} (AWS::ApiGatewayV2::Api {http_api.api_id})",
                             self._http_api(http_api))
        await self._permissions(plan.permissions)
        self._roles(plan.roles)
        for usage in plan.usage:   # after the APIs: a plan names their stages
            await self._step(f"{usage.logical_id} ({usage.kind} {usage.physical_id})", self._usage(usage))

    async def _usage(self, usage: PlannedUsage) -> None:
        keys = self.keys
        if keys is None:
            raise errors.UnsupportedOperation("this server has no API key service")
        table = KEYS if usage.kind.endswith("ApiKey") else PLANS
        saved = keys.saved(table, usage.physical_id)

        async def restore() -> None:
            keys.restore(table, usage.physical_id, saved)
        self.undo.append((f"restore {usage.kind} {usage.physical_id}", restore))
        if table == KEYS:
            keys.put_api_key(usage.physical_id, dict(usage.body))
        else:
            keys.put_usage_plan(usage.physical_id, dict(usage.body), list(usage.key_ids))

    def _roles(self, planned: list[PlannedRole]) -> None:
        """Each role's statements kept by its ARN (what its functions' keys may do); the roles the
        stack no longer has forgotten. A rollback puts back what was there."""
        book = self.functions.roles
        wanted = {role.arn: RolePolicy(role.statements, role.managed) for role in planned}
        for arn in set(self.previous.roles.values()) | set(wanted):
            before = book.get(arn)
            if arn in wanted:
                book.put(arn, wanted[arn])
            elif before is not None:
                book.delete(arn)
            self.undo.append((f"restore role {arn}", self._restore_role_later(arn, before)))

    def _restore_role_later(self, arn: str, before: RolePolicy | None) -> Undo:
        async def restore() -> None:
            if before is None:
                self.functions.roles.delete(arn)
            else:
                self.functions.roles.put(arn, before)
        return restore

    async def _step(self, where: str, work: Awaitable[None]) -> None:
        try:
            await work
        except Problems as e:   # a Problems is a ServiceError too: its own lines, each with where
            raise Problems([f"{where}: {p}" for p in e.problems]) from e
        except errors.ServiceError as e:
            raise Problems([f"{where}: {e.message}"]) from e

    async def _layer(self, layer: PlannedLayer) -> None:
        book = self.functions.layers
        existing = book.find(layer.name, layer.version)
        if existing is not None and existing.code_hex == layer.code_sha256:
            return   # published by an earlier deployment of this stack, with this content
        await book.publish_stored(layer.name, layer.publish, layer.code_sha256, layer.version, layer.build_method)
        self.undo.append((f"delete layer version {layer.arn}", self._delete_layer_later(layer.name, layer.version)))

    def _delete_layer_later(self, name: str, version: int) -> Undo:
        async def delete() -> None:
            self.functions.layers.delete(name, version)
        return delete

    async def _function(self, fn: PlannedFunction) -> None:
        digest = await self._code_of(fn)
        current = self.functions.get(fn.name)
        if current is None:
            await self.functions.create(fn.create, stored_code=digest)
            self.undo.append((f"delete function {fn.name}", lambda: self._delete_function(fn.name)))
            await self.settled(fn.name)
            return
        current = await self.waited(fn.name)   # a failed earlier update does not stop this one
        wanted = {**CONFIG_RESET, **{k: v for k, v in fn.create.items() if k not in NOT_CONFIG}}
        if validate.validate_update_configuration(wanted, as_config(current)) != as_config(current):
            restore = {k: v for k, v in as_config(current).items() if k not in NOT_CONFIG}
            self.functions.update_configuration(fn.name, wanted)
            self.undo.append((f"restore configuration of {fn.name}", lambda: self._update(fn.name, restore)))
            await self.settled(fn.name)
        before = current.code_hex
        if before != digest:
            self.held_code.add(before)
            await self.functions.update_code(fn.name, {}, stored_code=digest)
            self.undo.append((f"restore code of {fn.name}", lambda: self._update_code(fn.name, before)))
            await self.settled(fn.name)

    async def _version(self, planned: PlannedVersion) -> None:
        fns = self.functions
        if planned.existing and fns.find_version(planned.function_name, planned.number) is not None:
            self.published[planned.logical_id] = planned.number
        else:
            await self.waited(planned.function_name)
            body = {"Description": planned.description} if planned.description else {}
            newest = fns.newest_version(planned.function_name)
            version = fns.publish(planned.function_name, body)
            self.published[planned.logical_id] = version.version
            if newest is None or newest.version != version.version:   # a new one (not the unchanged newest)
                self.undo.append((f"delete version {planned.function_name}:{version.version}",
                                  self._delete_version_later(planned.function_name, version.version)))
            if version.version != planned.number:
                self.warnings.append(f"{planned.logical_id}: published as version {version.version}, not "
                                     f"{planned.number} as planned (nothing had changed since version "
                                     f"{version.version}); references resolved in the plan name {planned.number}")
        await self._provisioned(planned.function_name, self.published[planned.logical_id], planned.provisioned)

    async def _alias(self, planned: PlannedAlias) -> None:
        fns = self.functions
        version = self.published.get(planned.version_from or "", planned.version)
        body: dict[str, Any] = {"FunctionVersion": version, "Description": planned.description,
                                "RoutingConfig": {"AdditionalVersionWeights": dict(planned.weights)}}
        current = fns.aliases.get(planned.function_name, planned.name)
        if current is None:
            fns.create_alias(planned.function_name, {**body, "Name": planned.name})
            self.undo.append((f"delete alias {planned.function_name}:{planned.name}",
                              self._delete_alias_later(planned.function_name, planned.name)))
        elif (current.function_version, current.weights, current.description) != \
                (version, dict(planned.weights), planned.description):
            before = {"FunctionVersion": current.function_version, "Description": current.description,
                      "RoutingConfig": {"AdditionalVersionWeights": dict(current.weights)}}
            self.undo.append((f"restore alias {planned.function_name}:{planned.name}",
                              self._update_alias_later(planned.function_name, planned.name, before)))
            if planned.shift is not None and current.function_version != version and self.shifting is not None:
                await self._shift(planned, current.function_version, version, body)
            else:
                fns.update_alias(planned.function_name, planned.name, body)
        if planned.shadow is not None:
            await self._shadow(planned.function_name, planned.name, planned.shadow)
        await self._provisioned(planned.function_name, planned.name, planned.provisioned)

    async def _shadow(self, name: str, alias: str, shadow: tuple[str, str | None]) -> None:
        """The alias's shadow as the function's Metadata names it (Lambdalite's extension)."""
        current = self.functions.aliases.find(name, alias)
        if (current.shadow, current.shadow_compare) == shadow:
            return
        before = (current.shadow, current.shadow_compare)
        self.functions.set_shadow(name, alias, *shadow)

        async def restore() -> None:
            if self.functions.aliases.get(name, alias) is not None:
                self.functions.set_shadow(name, alias, *before)
        self.undo.append((f"restore the shadow of {name}:{alias}", restore))

    async def _shift(self, planned: PlannedAlias, old: str, new: str, body: dict[str, Any]) -> None:
        """Move the alias from version `old` to `new` as its DeploymentPreference says: the PreTraffic
        hook, each step's share for its time (the new version's error rate over it checked), all of
        the traffic, the PostTraffic hook. Any failure is a Problems: the whole update rolls back."""
        assert planned.shift is not None and self.shifting is not None
        shift, shifting, fns = planned.shift, self.shifting, self.functions
        name, alias = planned.function_name, planned.name
        where = f"{name}:{alias}"
        if shift.pre_hook:
            await self._hook(shift.pre_hook, "PreTraffic", where)
        for share, seconds in shift.steps:
            fns.update_alias(name, alias, {**body, "FunctionVersion": old,
                                           "RoutingConfig": {"AdditionalVersionWeights": {new: share}}})
            shifting.say(f"{where}: {share:.0%} of the calls go to version {new} for {seconds:g} s ({shift.config}; "
                         f"back to version {old} if more than {shift.rollback_error_rate:.0%} of them fail)")
            calls_before, errors_before = shifting.calls(name, alias, new)
            await shifting.sleep(seconds)
            calls, errors_seen = shifting.calls(name, alias, new)
            calls, errors_seen = calls - calls_before, errors_seen - errors_before
            if calls and errors_seen / calls > shift.rollback_error_rate:
                shifting.say(f"{where}: version {new} failed {errors_seen} of {calls} calls: rolling back")
                raise Problems([f"{where}: version {new} failed {errors_seen} of its {calls} calls "
                                f"({errors_seen / calls:.0%}) while it had {share:.0%} of the traffic, over the "
                                f"rollback threshold of {shift.rollback_error_rate:.0%} (Metadata: Lambdalite: "
                                f"RollbackOnErrorRate): the alias went back to version {old} and the update was "
                                "rolled back"])
        fns.update_alias(name, alias, body)
        shifting.say(f"{where}: all calls go to version {new}")
        if shift.post_hook:
            await self._hook(shift.post_hook, "PostTraffic", where)

    async def _hook(self, function: str, kind: str, where: str) -> None:
        assert self.shifting is not None
        self.shifting.say(f"{where}: running the {kind} hook {function} ...")
        event = {"DeploymentId": f"d-{self.stack}", "LifecycleEventHookExecutionId": f"{kind}-{where}"}
        failed = await self.shifting.hook(function, event)
        if failed is not None:
            raise Problems([f"{where}: the {kind} hook {function} failed: {failed}; the update was rolled back"])

    async def _provisioned(self, name: str, qualifier: str, wanted: int | None) -> None:
        """The qualifier's provisioned concurrency as the template has it, awaited until READY (as
        CloudFormation waits for it); none: any config goes."""
        fns = self.functions
        current = fns.provisioned.find(name, qualifier)
        if wanted is None:
            if current is not None:
                fns.delete_provisioned(name, qualifier)
                self.undo.append((f"restore provisioned concurrency of {name}:{qualifier}",
                                  self._provision_later(name, qualifier, current.requested)))
            return
        if current is None or current.requested != wanted or current.status == "FAILED":
            fns.put_provisioned(name, qualifier, {"ProvisionedConcurrentExecutions": wanted})
            self.undo.append((f"restore provisioned concurrency of {name}:{qualifier}",
                              self._provision_later(name, qualifier, current.requested if current else None)))
        config = await fns.provisioned_settled(name, qualifier)
        if config.status == "FAILED":
            raise Problems([f"provisioned concurrency of {name}:{qualifier} failed: {config.status_reason}"])

    def _provision_later(self, name: str, qualifier: str, requested: int | None) -> Undo:
        async def restore() -> None:
            fns = self.functions
            if fns.get(name) is None:
                return
            if requested is None:
                fns.delete_provisioned(name, qualifier)
            else:
                fns.put_provisioned(name, qualifier, {"ProvisionedConcurrentExecutions": requested})
        return restore

    def _delete_version_later(self, name: str, version: str) -> Undo:
        async def delete() -> None:
            if self.functions.find_version(name, version) is not None:
                self.functions.delete(name, version)
        return delete

    def _delete_alias_later(self, name: str, alias: str) -> Undo:
        async def delete() -> None:
            if self.functions.get(name) is not None:
                self.functions.delete_alias(name, alias)
        return delete

    def _update_alias_later(self, name: str, alias: str, body: dict[str, Any]) -> Undo:
        async def restore() -> None:
            if self.functions.aliases.get(name, alias) is not None:
                self.functions.update_alias(name, alias, body)
        return restore

    async def _event_config(self, planned: PlannedEventConfig) -> None:
        """The function's event invoke config as the template has it (Put: it replaces the old one)."""
        fns = self.functions
        before = fns.event_configs.find(planned.function, planned.qualifier)
        fns.put_event_config(planned.function, planned.qualifier, dict(planned.body))

        async def restore() -> None:
            if fns.get(planned.function) is None:
                return
            if before is None:
                fns.event_configs.delete(planned.function, planned.qualifier)
            else:
                fns.event_configs.restore(planned.function, planned.qualifier, before)
        self.undo.append((f"restore the event invoke config of {planned.function}", restore))

    async def _concurrency(self, fn: PlannedFunction) -> None:
        """The function's reserved concurrency as the template has it (none: no reservation)."""
        before = self.functions.concurrency.get(fn.name)
        if fn.reserved_concurrency == before:
            return
        self._set_concurrency(fn.name, fn.reserved_concurrency)
        self.undo.append((f"restore reserved concurrency of {fn.name}", self._restore_concurrency(fn.name, before)))

    async def _budget(self, fn: PlannedFunction) -> None:
        """The function's monthly budget as its Metadata has it (none there: left as it is)."""
        budgets = self.budgets
        if budgets is None or fn.monthly_budget is None or budgets.limits.get(fn.name) == fn.monthly_budget:
            return
        before = budgets.limits.get(fn.name)
        budgets.set(fn.name, fn.monthly_budget)

        async def restore() -> None:
            if before is None:
                budgets.clear(fn.name)
            else:
                budgets.set(fn.name, before)
        self.undo.append((f"restore the budget of {fn.name}", restore))

    def _set_concurrency(self, name: str, value: int | None) -> None:
        book = self.functions.concurrency
        if value is None:
            book.delete(name)
        else:
            book.put(name, {"ReservedConcurrentExecutions": value})

    def _restore_concurrency(self, name: str, value: int | None) -> Undo:
        async def restore() -> None:
            if self.functions.get(name) is not None:   # not when this deploy's undo removed it first
                self._set_concurrency(name, value)
        return restore

    async def _code_of(self, fn: PlannedFunction) -> str:
        """The hex SHA-256 of the function's archive in the store (InlineCode is zipped and kept)."""
        if fn.inline_code is None:
            return fn.code_sha256 or ""
        zip_bytes = inline_code_zip(fn.inline_code)
        await self.functions.code.from_zip(zip_bytes)
        return sha256_hex(zip_bytes)

    async def _delete_function(self, name: str) -> None:
        await self.waited(name)
        self.functions.delete(name, None)

    async def _update(self, name: str, body: dict[str, Any]) -> None:
        await self.waited(name)
        self.functions.update_configuration(name, body)
        await self.settled(name)

    async def _update_code(self, name: str, digest: str) -> None:
        await self.waited(name)
        await self.functions.update_code(name, {}, stored_code=digest)
        await self.settled(name)

    async def waited(self, name: str) -> FunctionVersion:
        """The function once a create or update under way has settled, however it ended."""
        try:
            return await self.functions.settled(name)
        except errors.ResourceNotFound:
            raise Problems([f"function {name} went away while the stack was being deployed"]) from None

    async def settled(self, name: str) -> FunctionVersion:
        """Wait until the change this deploy made settled; ending Failed is a problem."""
        fn = await self.waited(name)
        if fn.state == "Failed" or fn.last_update_status == "Failed":
            reason = fn.state_reason or fn.last_update_status_reason or "no reason given"
            raise Problems([f"function {name} failed to become ready: {reason}"])
        return fn

    async def _api(self, api: PlannedApi) -> None:
        saved = self.gateway.saved_document(api.api_id)
        self.undo.append((f"restore REST API {api.api_id}", self._restore_api(api.api_id, saved)))
        if saved is None:
            self.gateway.create_rest_api({"name": api.name}, api_id=api.api_id)
        answer = self.gateway.put_rest_api(api.api_id, definition_bytes(api), {"mode": "overwrite"})
        self.warnings += [f"{api.logical_id}: {w}" for w in answer.get("warnings") or []]
        for stage, variables in api.stages.items():
            _, warnings = self.gateway.create_deployment(
                api.api_id, {"stageName": stage, "variables": dict(variables) or None,
                             "description": f"stack {self.stack}"})
            self.warnings += [f"{api.logical_id}: {w}" for w in warnings]
            self._exact_variables(api.api_id, stage, variables)
        for stage in [s["stageName"] for s in self.gateway.get_stages(api.api_id, None)]:
            if stage not in api.stages:
                self.gateway.delete_stage(api.api_id, stage)

    async def _http_api(self, api: PlannedHttpApi) -> None:
        service = self.http_apis
        if service is None:
            raise errors.UnsupportedOperation("this server has no HTTP API service")
        saved = service.saved(api.api_id)

        async def restore() -> None:
            service.restore(api.api_id, saved)
        self.undo.append((f"restore HTTP API {api.api_id}", restore))
        try:
            service.put_from_openapi(api.api_id, api.name, api.definition, api.stages, api.description, api.cors,
                                     api.stage_settings, api.route_settings, api.access_logs)
        except ValueError as e:
            raise Problems([f"its OpenAPI definition cannot be served: {e}"]) from None

    def _exact_variables(self, api_id: str, stage: str, variables: dict[str, str]) -> None:
        """CreateDeployment merges stage variables; a variable the template dropped goes too."""
        stale = set(self.gateway.get_stage(api_id, stage).get("variables") or {}) - set(variables)
        if stale:
            self.gateway.update_stage(api_id, stage, [{"op": "remove", "path": f"/variables/{k}"} for k in stale])

    def _restore_api(self, api_id: str, saved: dict[str, Any] | None) -> Undo:
        async def restore() -> None:
            self.gateway.restore_document(api_id, saved)
        return restore

    async def _permissions(self, planned: list[PlannedPermission]) -> None:
        """Statements are matched by logical id; a changed or dropped one is removed, a new one added."""
        wanted: dict[str, dict[str, Any]] = {p.logical_id: permission_entry(p) for p in planned}
        for logical_id, old in self.previous.permissions.items():
            if wanted.get(logical_id) != old and self._has_statement(old):
                await self._step(f"{logical_id} (AWS::Lambda::Permission)", self._drop_permission(logical_id, old))
        for logical_id, new in wanted.items():
            if self.previous.permissions.get(logical_id) != new or not self._has_statement(new):
                await self._step(f"{logical_id} (AWS::Lambda::Permission)", self._add_permission(logical_id, new))

    async def _drop_permission(self, logical_id: str, entry: dict[str, Any]) -> None:
        self._remove_permission(entry)
        self.undo.append((f"restore permission {logical_id}", self._add_permission_later(entry)))

    async def _add_permission(self, logical_id: str, entry: dict[str, Any]) -> None:
        self.functions.add_permission(entry["function"], entry.get("qualifier"), dict(entry["statement"]))
        self.undo.append((f"remove permission {logical_id}", self._remove_permission_later(entry)))

    def _has_statement(self, entry: dict[str, Any]) -> bool:
        return entry["statement"].get("StatementId") in self.functions.statement_ids(entry["function"],
                                                                                     entry.get("qualifier"))

    def _remove_permission(self, entry: dict[str, Any]) -> None:
        if self._has_statement(entry):
            self.functions.remove_permission(entry["function"], entry.get("qualifier"),
                                             entry["statement"]["StatementId"], None)

    def _remove_permission_later(self, entry: dict[str, Any]) -> Undo:
        async def remove() -> None:
            self._remove_permission(entry)
        return remove

    def _add_permission_later(self, entry: dict[str, Any]) -> Undo:
        async def add() -> None:
            if self.functions.get(entry["function"]) is not None and not self._has_statement(entry):
                self.functions.add_permission(entry["function"], entry.get("qualifier"), dict(entry["statement"]))
        return add

    # rollback and the end -------------------------------------------------------------------------
    async def rollback(self) -> list[str]:
        """Undo every change in reverse; what could not be undone, one line each (also logged)."""
        failures: list[str] = []
        for what, undo in reversed(self.undo):
            try:
                await undo()
            except Exception as e:  # noqa: BLE001 - keep undoing the rest; each failure is reported
                log.exception("stack %s: rollback step failed: %s", self.stack, what)
                failures.append(f"rollback could not {what}: {e}")
        self.undo.clear()
        return failures

    async def finish(self, plan: StackPlan) -> None:
        """After success: what the template no longer has goes; the saved test events are written."""
        kept_functions = {fn.name for fn in plan.functions}
        for name in sorted(set(self.previous.functions.values()) - kept_functions):
            await self._quietly(f"delete function {name}", self._delete_removed_function(name))
        await self._finish_versions(plan)
        await self._quietly("drop event invoke configs", self._finish_event_configs(plan))
        kept_layers = {layer.arn for layer in plan.layers}
        for old in self.previous.layers.values():   # a replaced version goes unless its DeletionPolicy is Retain
            if old["arn"] not in kept_layers and not old.get("retain", True):
                name, version = old["arn"].split(":layer:", 1)[1].rsplit(":", 1)
                delete = self._delete_layer_later(name, int(version))
                await self._quietly(f"delete layer version {old['arn']}", delete())
        kept_apis = {api.api_id for api in plan.apis}
        for api_id in sorted(set(self.previous.apis.values()) - kept_apis):
            await self._quietly(f"delete REST API {api_id}", self._delete_api(api_id))
        for api in plan.apis:
            await self._quietly(f"drop old deployments of {api.api_id}", self._drop_old_deployments(api.api_id))
        await self._finish_usage(plan)
        kept_http = {api.api_id for api in plan.http_apis}
        for api_id in sorted(set(self.previous.http_apis.values()) - kept_http):
            await self._quietly(f"delete HTTP API {api_id}", self._delete_http_api(api_id))
        for fn in plan.functions:
            if fn.test_events:
                await self._quietly(f"save the test events of {fn.name}", self._save_events(fn))

    async def _finish_usage(self, plan: StackPlan) -> None:
        """Keys and plans the template dropped go (plans before the keys they hold)."""
        kept = {u.logical_id for u in plan.usage}
        for lid, old in sorted(self.previous.usage.items(), key=lambda item: item[1]["kind"], reverse=True):
            if lid not in kept and self.keys is not None:
                await self._quietly(f"delete {old['kind']} {old['id']}", self._delete_usage(old))

    async def _delete_usage(self, old: dict[str, str]) -> None:
        assert self.keys is not None
        delete_usage(self.keys, old)

    async def _finish_event_configs(self, plan: StackPlan) -> None:
        kept = {c.logical_id for c in plan.event_configs}
        for lid, old in self.previous.event_configs.items():
            if lid not in kept and self.functions.get(old["function"]) is not None:
                self.functions.event_configs.delete(old["function"], old["qualifier"])

    async def _finish_versions(self, plan: StackPlan) -> None:
        """Aliases the template dropped go; then versions it dropped, unless retained (SAM's are)."""
        kept_aliases = {a.logical_id for a in plan.aliases}
        for lid, old in self.previous.aliases.items():
            if lid not in kept_aliases and self.functions.get(old["function"]) is not None:
                await self._quietly(f"delete alias {old['function']}:{old['name']}",
                                    self._delete_alias_later(old["function"], old["name"])())
        kept_versions = {v.logical_id for v in plan.versions}
        for lid, old in self.previous.versions.items():
            if lid not in kept_versions and not old.get("retain") and self.functions.get(old["function"]) is not None:
                await self._quietly(f"delete version {old['function']}:{old['version']}",
                                    self._delete_version_later(old["function"], old["version"])())

    async def _quietly(self, what: str, work: Awaitable[None]) -> None:
        try:
            await work
        except Exception as e:  # noqa: BLE001 - the new stack serves; a leftover is only a warning
            log.exception("stack %s: could not %s", self.stack, what)
            self.warnings.append(f"could not {what}: {e}")

    async def _save_events(self, fn: PlannedFunction) -> None:
        self.functions.put_test_events(fn.name, fn.test_events)

    async def _delete_removed_function(self, name: str) -> None:
        if self.functions.get(name) is not None:
            await self._delete_function(name)   # its saved test events go with it

    async def _delete_api(self, api_id: str) -> None:
        if self.gateway.saved_document(api_id) is not None:
            self.gateway.delete_rest_api(api_id)

    async def _delete_http_api(self, api_id: str) -> None:
        if self.http_apis is not None and api_id in self.http_apis.api_ids():
            self.http_apis.delete(api_id)

    async def _drop_old_deployments(self, api_id: str) -> None:
        serving = {s["deploymentId"] for s in self.gateway.get_stages(api_id, None)}
        for deployment in self.gateway.get_deployments(api_id):
            if deployment["id"] not in serving:
                self.gateway.delete_deployment(api_id, deployment["id"])


def permission_entry(p: PlannedPermission) -> dict[str, Any]:
    entry: dict[str, Any] = {"function": p.function_name, "statement": p.statement}
    if p.qualifier:
        entry["qualifier"] = p.qualifier
    return entry


def definition_bytes(api: PlannedApi) -> bytes:
    """The definition to import, named as the plan names the API, with its binary media types."""
    definition = dict(api.definition)
    definition["info"] = {**(definition.get("info") or {}), "title": api.name}
    if api.binary_media_types and not definition.get("x-amazon-apigateway-binary-media-types"):
        definition["x-amazon-apigateway-binary-media-types"] = list(api.binary_media_types)
    return json.dumps(definition).encode()





def delete_usage(keys: KeyService, made: dict[str, str]) -> None:
    """Remove a key or plan a stack made, when it is still there."""
    if made["kind"].endswith("ApiKey"):
        if made["id"] in keys.keys:
            keys.delete_api_key(made["id"])
    elif made["id"] in keys.plans:
        keys.delete_usage_plan(made["id"])
