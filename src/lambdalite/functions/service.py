"""The functions service: create, read, update and delete functions, their policies and their
saved test events; and the snapshots invocations run on.

Two views of each function version, both immutable `FunctionVersion` snapshots replaced whole:
- its configuration, as the API reports it (with `State` and `LastUpdateStatus`);
- what invocations run (`runnable`): the last snapshot that was prepared successfully. While an
  update is in progress, and after one that failed, the previous snapshot keeps serving (AWS's
  rule); a function being created, or whose creation failed, serves nothing (409).
Both are kept per (name, version); a qualifier is resolved to a version in one place
(`_version_of`). Every change is written through the store before the answer.

State machine, as on AWS: CreateFunction answers `State: Pending`; a task then prepares the
function (the `prepare` hook: finds its interpreter; later builds its environment) and makes it
`Active`, or `Failed` with the hook's reason. Updates answer `LastUpdateStatus: InProgress` and
become `Successful` or `Failed` the same way. Each transition gets a new RevisionId. `settled(name)`
waits for the transition, woken by it rather than polling.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .. import errors
from ..store import BlobStore, Database
from . import names, permissions, provisioned, validate
from .aliases import Alias, AliasBook, check_alias_body, is_alias_name
from .archive import CodeLimits
from .code import Code, CodeStore, decode_zip, to_hex, update_code_source
from .concurrency import ConcurrencyBook, unreserved_minimum
from .eventconfig import EventConfig, EventConfigBook
from .eventconfig import check_body as check_event_config
from .layers import LayerBook
from .model import LATEST, FunctionVersion, Policy, Prepared
from .policies import PolicyBook, new_revision
from .preload import InitModuleBook
from .provisioned import ProvisionedBook, ProvisionedConfig
from .roles import Roles
from .timefmt import aws_timestamp

log = logging.getLogger("lambdalite.functions")

IN_PROGRESS_REASON = "The function is being created."
NO_SUCH_FUNCTION = "The function doesn't exist."
DEFAULT_ACCOUNT_CONCURRENCY = 1000   # AWS's account limit; the server passes its --max-concurrency
SERVING = "serving"   # the stored document's key for the snapshot that serves while an update settles
Key = tuple[str, str]   # (name, version)


class FunctionService:
    def __init__(self, db: Database, blobs: BlobStore, region: str, account: str,
                 prepare: Callable[[FunctionVersion], Prepared] | None = None,
                 limits: CodeLimits | None = None, build_layer: Callable[[str, str], str] | None = None,
                 account_concurrency: int = DEFAULT_ACCOUNT_CONCURRENCY,
                 warm: Callable[[FunctionVersion], Awaitable[Prepared | None]] | None = None,
                 provision: Callable[[FunctionVersion, int], Awaitable[str | None]] | None = None) -> None:
        self.db = db
        self.code = CodeStore(blobs, limits)
        self.region = region
        self.account = account
        self.policies = PolicyBook(db)
        self.roles = Roles(db)
        self.layers = LayerBook(db, self.code, region, account, build_layer)
        self.concurrency = ConcurrencyBook(db, account_concurrency)
        self.init_modules = InitModuleBook(db)
        self.aliases = AliasBook(db, self.arn, lambda name, version: (name, version) in self._configured)
        self.provisioned = ProvisionedBook(db)
        self.event_configs = EventConfigBook(db)
        self._provision = provision   # (version, n): keep n instances of it initialised; None or init's error
        self._configured: dict[Key, FunctionVersion] = {}
        self._serving: dict[Key, FunctionVersion] = {}
        self._prepare = prepare
        self._warm = warm   # after preparing: make what instances start from (a snapshot's template)
        self._listeners: list[Callable[[str], None]] = []
        self._refs: dict[tuple[str, str | None], tuple[str, str | None, str]] = {}   # see runnable()
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._code_holders: list[Callable[[], set[str]]] = []

    # loading, listeners, code holders -------------------------------------------------------
    def load(self) -> None:
        for document in self.db.load_functions():
            serving = document.pop(SERVING, None)
            fn = FunctionVersion.from_document(document)
            self._configured[(fn.name, fn.version)] = fn
            if serving is not None:
                self._serving[(fn.name, fn.version)] = FunctionVersion.from_document(serving)
            elif fn.runnable:
                self._serving[(fn.name, fn.version)] = fn
            if fn.settling:
                self._schedule_settle(fn.name)   # a kill -9 came between the change and its settling
        self.policies.load()
        self.layers.load()
        self.concurrency.load()
        self.init_modules.load()
        self.aliases.load()
        self.event_configs.load()
        for config in self.provisioned.load():   # kept across restarts: provisioned again, IN_PROGRESS till then
            self.provisioned.put(config.with_changes(status="IN_PROGRESS", allocated=0, status_reason=None))
            self._schedule_provision(config.function, {self._provisioned_version(config)})

    def on_change(self, listener: Callable[[str], None]) -> None:
        """`listener(name)` runs after a function's snapshots changed or went away."""
        self._listeners.append(listener)

    def hold_code(self, holder: Callable[[], set[str]]) -> None:
        """`holder()` names archives (hex SHA-256) that must outlive their last function: code
        uploaded for a deploy that has not happened yet, or kept to roll a deploy back."""
        self._code_holders.append(holder)

    # reading --------------------------------------------------------------------------------
    def arn(self, name: str, qualifier: str | None = None) -> str:
        return names.function_arn(self.region, self.account, name, qualifier)

    def get(self, name: str) -> FunctionVersion | None:
        """The function's `$LATEST` configuration, or None."""
        return self._configured.get((name, LATEST))

    def serving_version(self, name: str, version: str) -> FunctionVersion | None:
        """What invocations of a version run on now (None: no such version, or nothing runnable)."""
        return self._serving.get((name, version))

    def find_version(self, name: str, version: str) -> FunctionVersion | None:
        """A published version (or `$LATEST`) of `name`, or None."""
        return self._configured.get((name, version))

    def names(self) -> list[str]:
        return sorted(name for name, version in self._configured if version == LATEST)

    def list(self) -> list[FunctionVersion]:
        return [self._configured[(n, LATEST)] for n in self.names()]

    def snapshots(self) -> builtins.list[FunctionVersion]:
        """Every snapshot kept: each version's configuration, and what serves while it settles."""
        return [*self._configured.values(), *self._serving.values()]

    def serving(self, name: str) -> builtins.list[FunctionVersion]:
        """The snapshots invocations of `name` run on now (one per version that has one)."""
        return [fn for (n, _), fn in self._serving.items() if n == name]

    def statement_ids(self, name: str, qualifier: str | None = None) -> set[str]:
        return self.policies.statement_ids(_policy_key(name, qualifier))

    async def code_archive(self, digest: str) -> bytes:
        """A stored code archive by its SHA-256 (hex): GetFunction's Code.Location serves it."""
        return await self.code.read(digest)

    def _version_of(self, name: str, qualifier: str | None, routed: bool = False) -> str | None:
        """The version a qualifier names: the one place qualifiers are resolved. `$LATEST` or none,
        a version number, or an alias: its version, or with `routed` the one this invocation runs on
        (weighted, when the alias routes to a second version). None: no such version or alias."""
        if qualifier is None or qualifier == LATEST:
            return LATEST
        if qualifier.isdigit():
            return qualifier
        alias = self.aliases.get(name, qualifier)
        if alias is None:
            return None
        return alias.pick(self.aliases.draw) if routed else alias.function_version

    def resolve(self, ref: str, qualifier: str | None, mutating: bool = False) -> tuple[FunctionVersion, str | None]:
        """The configuration a name or ARN (+ qualifier) names, or AWS's 404."""
        name, qualifier = names.parse_function_ref(ref, qualifier, self.region, self.account, mutating=mutating)
        version = self._version_of(name, qualifier)
        fn = self._configured.get((name, version)) if version else None
        if fn is None:
            raise errors.ResourceNotFound(f"Function not found: {self.arn(name, qualifier)}")
        return fn, qualifier

    def runnable(self, ref: str, qualifier: str | None) -> tuple[FunctionVersion, str]:
        """The invoke path's resolve: the snapshot to run and the ARN as invoked (qualified only when
        the caller gave a qualifier); AWS's 404, or its 409 while nothing can run. Parsing a reference
        is pure, so its result is kept per string."""
        parsed = self._refs.get((ref, qualifier))
        if parsed is None:
            name, q = names.parse_function_ref(ref, qualifier, self.region, self.account)
            if len(self._refs) > 10_000:
                self._refs.clear()
            parsed = self._refs[(ref, qualifier)] = (name, q, self.arn(name, q))
        name, q, invoked_arn = parsed
        version = self._version_of(name, q, routed=True)
        key = (name, version or "")
        serving = self._serving.get(key)
        if serving is not None:
            return serving, invoked_arn
        configured = self._configured.get(key)
        if configured is None:   # Invoke names the version it looked for (AWS-recorded: ...:my-function:$LATEST)
            raise errors.ResourceNotFound(f"Function not found: {self.arn(name, q or LATEST)}")
        raise errors.ResourceConflict("The operation cannot be performed at this time. The function is currently "
                                      f"in the following state: {configured.state}")

    # create / update / delete ----------------------------------------------------------------
    async def create(self, body: dict[str, Any], *, stored_code: str | None = None) -> FunctionVersion:
        """CreateFunction. `stored_code`: the hex SHA-256 of an archive already in the store, in place
        of the body's Code (a stack's code, uploaded before the deploy)."""
        spec = validate.validate_create(body, region=self.region, account=self.account,
                                        code_in_store=stored_code is not None)
        name = spec["FunctionName"]
        for arn in spec.get("Layers") or []:
            self.layers.check_region(arn)
        self._refuse_existing(name)
        self._layers(spec.get("Layers"))   # unknown layers are refused before the code is unpacked
        code = await self._code(spec.get("Code"), stored_code)
        self._refuse_existing(name)   # created by a concurrent request while the code was unpacked
        config = {k: v for k, v in spec.items() if k not in _TOP_LEVEL}
        config["Layers"], layer_code, layer_envs = self._layers(config.get("Layers"))
        self._check_total_size(code.sha256, layer_code)
        fn = FunctionVersion(
            name=name, version=LATEST, runtime=spec["Runtime"], role=spec["Role"], handler=spec["Handler"],
            code_sha256=code.sha256, code_size=code.size, config=config, revision_id=new_revision(),
            last_modified=aws_timestamp(time.time()), tags=dict(spec.get("Tags") or {}), layer_code=layer_code,
            layer_environments=layer_envs,
        )
        self._put(fn)
        self._schedule_settle(name)
        return fn

    async def update_code(self, ref: str, body: dict[str, Any], *, stored_code: str | None = None) -> FunctionVersion:
        """UpdateFunctionCode (`stored_code` as for `create`)."""
        fn, _ = self.resolve(ref, None, mutating=True)
        validate.check_revision(body.get("RevisionId"), fn.revision_id)
        self._refuse_if_in_progress(fn)
        code = await self._code(update_code_source(body) if stored_code is None else None, stored_code)
        fn, _ = self.resolve(fn.name, None, mutating=True)   # deleted while the code was unpacked: 404
        self._refuse_if_in_progress(fn)   # another update started meanwhile
        self._check_total_size(code.sha256, fn.layer_code)
        updated = fn.with_changes(code_sha256=code.sha256, code_size=code.size, **self._in_progress())
        self._put(updated)
        self._schedule_settle(fn.name)
        return updated

    def update_configuration(self, ref: str, body: dict[str, Any]) -> FunctionVersion:
        fn, _ = self.resolve(ref, None, mutating=True)
        validate.check_revision(body.get("RevisionId"), fn.revision_id)
        self._refuse_if_in_progress(fn)
        merged = validate.validate_update_configuration(body, as_config(fn))
        config = {k: v for k, v in merged.items() if k not in _TOP_LEVEL}
        layer_code, layer_envs = fn.layer_code, fn.layer_environments
        if "Layers" in body:   # a layer version deleted since keeps serving the functions that had it
            config["Layers"], layer_code, layer_envs = self._layers(body["Layers"])
            self._check_total_size(fn.code_sha256, layer_code)
        updated = fn.with_changes(
            runtime=merged.get("Runtime", fn.runtime), role=merged.get("Role", fn.role),
            handler=merged.get("Handler", fn.handler), config=config, layer_code=layer_code,
            layer_environments=layer_envs, **self._in_progress())
        self._put(updated)
        self._schedule_settle(fn.name)
        return updated

    def delete(self, ref: str, qualifier: str | None) -> None:
        name, given = names.parse_function_ref(ref, qualifier, self.region, self.account)
        if given == LATEST:   # refused before the function is looked for (AWS-recorded)
            raise errors.InvalidParameterValue("$LATEST version cannot be deleted without deleting the function.")
        if given is not None and not given.isdigit():
            if given.startswith("$"):   # not an alias name ("$latest"): the function is looked for first
                self.resolve(name, None)
            # DeleteFunction takes a version; an alias goes with DeleteAlias (AWS's text, recorded).
            raise errors.InvalidParameterValue("Deletion of aliases is not currently supported.")
        if given is not None and given.isdigit() and (name, given) not in self._configured:
            self.resolve(name, None)   # the function must exist; a version that does not is already deleted
            return
        fn, qualifier = self.resolve(ref, qualifier)
        if qualifier is not None:
            self._delete_version(fn)
            return
        self.db.delete_function(fn.name)   # every version, alias, policy, test event and reservation
        self.policies.forget(fn.name)
        self.concurrency.forget(fn.name)
        self.init_modules.forget(fn.name)
        self.aliases.forget(fn.name)
        self.provisioned.forget(fn.name)
        self.event_configs.forget(fn.name)
        for key in [k for k in self._configured if k[0] == fn.name]:
            self._configured.pop(key, None)
            self._serving.pop(key, None)
        self._changed(fn.name)
        self._remove_unused_code()

    def _delete_version(self, fn: FunctionVersion) -> None:
        using = [a.name for a in self.aliases.of(fn.name, fn.version)]
        if using:
            raise errors.ResourceConflict("Unable to delete version because the following aliases reference it: "
                                          f"[{', '.join(using)}]")
        self.db.delete_function_version(fn.name, fn.version)
        self.policies.drop(_policy_key(fn.name, fn.version))
        self.provisioned.forget_one(fn.name, fn.version)
        self.event_configs.delete_kept(fn.name, fn.version)
        self._configured.pop((fn.name, fn.version), None)
        self._serving.pop((fn.name, fn.version), None)
        self._changed(fn.name)
        self._remove_unused_code()

    def _remove_unused_code(self) -> None:
        kept = (*self._configured.values(), *self._serving.values())
        in_use = {f.code_hex for f in kept} | {h for f in kept for h in f.layer_code} | self.layers.in_use()
        for holder in self._code_holders:
            in_use |= holder()
        self.code.remove_unused(in_use)

    # versions -------------------------------------------------------------------------------
    def publish(self, ref: str, body: dict[str, Any]) -> FunctionVersion:
        """PublishVersion: `$LATEST` as it is now, as the next version number (never reused); when
        $LATEST was not updated since the newest published version, that version, and no new one (a
        Description given to PublishVersion does not make a new one: AWS-recorded)."""
        validate.check_types(body, {"CodeSha256": str, "Description": str, "RevisionId": str})
        fn, _ = self.resolve(ref, None, mutating=True)
        if body.get("CodeSha256") is not None and body["CodeSha256"] != fn.code_sha256:
            raise errors.InvalidParameterValue(
                f"CodeSHA256 ({body['CodeSha256']}) is different from current CodeSHA256 in $LATEST "
                f"({fn.code_sha256}). Please try again with the CodeSHA256 in $LATEST.")
        validate.check_revision(body.get("RevisionId"), fn.revision_id)
        self._refuse_if_in_progress(fn)
        if not fn.runnable:
            raise errors.ResourceConflict("The operation cannot be performed at this time. The function is "
                                          f"currently in the following state: {fn.state}")
        newest = self.newest_version(fn.name)
        # $LATEST updated since (its Description too, AWS-recorded test_version_lifecycle) is a new version
        if (newest is not None and _published_content(newest) == _published_content(fn)
                and fn.last_modified <= newest.last_modified):
            return newest
        number = fn.last_published + 1
        config = dict(fn.config)
        if body.get("Description") is not None:
            config["Description"] = body["Description"]
        version = fn.with_changes(version=str(number), config=config, revision_id=new_revision(),
                                  last_modified=aws_timestamp(time.time()), last_published=0)
        self._put(fn.with_changes(last_published=number, revision_id=new_revision()))   # AWS: a new revision
        self._put(version)
        return version

    def versions(self, ref: str) -> builtins.list[FunctionVersion]:
        """ListVersionsByFunction: `$LATEST`, then the published versions in order."""
        fn, _ = self.resolve(ref, None)
        published = sorted((v for (n, ver), v in self._configured.items() if n == fn.name and ver != LATEST),
                           key=lambda v: int(v.version))
        return [fn, *published]

    def newest_version(self, name: str) -> FunctionVersion | None:
        """The highest-numbered published version there is, or None."""
        numbers = [int(v) for (n, v) in self._configured if n == name and v != LATEST]
        return self._configured[(name, str(max(numbers)))] if numbers else None

    async def publish_when_settled(self, fn: FunctionVersion) -> FunctionVersion:
        """`Publish: true` on CreateFunction / UpdateFunctionCode: the version, once the change has settled."""
        settled = await self.settled(fn.name)
        if not settled.runnable:
            raise errors.ResourceConflict(
                "The function could not be published: its update failed: "
                f"{settled.last_update_status_reason or settled.state_reason}")
        return self.publish(fn.name, {})

    # aliases ----------------------------------------------------------------------------------
    def create_alias(self, ref: str, body: dict[str, Any]) -> Alias:
        name, given = names.parse_function_ref(ref, None, self.region, self.account)
        if given is None and self.get(name) is None:
            # AWS-recorded (test_notfound_and_invalid_routingconfigs "routing_config_exc_fn_doesnotexist"):
            # a missing function is named with the version the alias was to point to
            check_alias_body(body, creating=True)
            raise errors.ResourceNotFound(f"Function not found: {self.arn(name, body.get('FunctionVersion'))}")
        fn, _ = self.resolve(ref, None, mutating=True)
        alias = self.aliases.create(fn.name, body)
        self._changed(fn.name)
        return alias

    def get_alias(self, ref: str, name: str) -> Alias:
        fn, _ = self.resolve(ref, None)
        return self.aliases.find(fn.name, name)

    def update_alias(self, ref: str, name: str, body: dict[str, Any]) -> Alias:
        fn, _ = self.resolve(ref, None, mutating=True)
        before = self.aliases.find(fn.name, name, "Alias not found: {arn}").function_version
        alias = self.aliases.update(fn.name, name, body)
        self._changed(fn.name)
        config = self.provisioned.find(fn.name, name)
        if config is not None and alias.function_version != before:   # its instances move to the new version
            self.provisioned.put(config.with_changes(status="IN_PROGRESS", allocated=0, status_reason=None))
            self._schedule_provision(fn.name, {before, alias.function_version})
        return alias

    def set_shadow(self, ref: str, name: str, version: str | None, compare: str | None = None) -> Alias:
        fn, _ = self.resolve(ref, None, mutating=True)
        alias = self.aliases.set_shadow(fn.name, name, version, compare)
        self._changed(fn.name)
        return alias

    def delete_alias(self, ref: str, name: str) -> None:
        fn, _ = self.resolve(ref, None, mutating=True)
        alias = self.aliases.get(fn.name, name)
        self.aliases.delete(fn.name, name)
        self.policies.drop(_policy_key(fn.name, name))
        self.event_configs.delete_kept(fn.name, name)
        if self.provisioned.forget_one(fn.name, name) is not None and alias is not None:
            self._schedule_provision(fn.name, {alias.function_version})
        self._changed(fn.name)

    def list_aliases(self, ref: str, version: str | None) -> builtins.list[Alias]:
        fn, _ = self.resolve(ref, None)
        return self.aliases.of(fn.name, version)

    # provisioned concurrency (on a published version or an alias) -----------------------------
    def put_provisioned(self, ref: str, qualifier: str | None, body: dict[str, Any]) -> ProvisionedConfig:
        count = provisioned.check_request(body)
        name, q = self._provisioned_target(ref, qualifier, provisioned.UNPUBLISHED)
        reserved = self.concurrency.get(name)
        total = self.provisioned.total(name, leaving_out=q) + count
        if reserved is not None and total > reserved:
            raise errors.InvalidParameterValue(
                "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution "
                "for function")
        if reserved is None:
            self._check_unreserved_room(name, q, count)
        self._refuse_overlapping_provisioned(name, q)
        config = self.provisioned.put(ProvisionedConfig(name, q, count, last_modified=provisioned.timestamp()))
        self._schedule_provision(name, {self._provisioned_version(config)})
        return config

    def _check_unreserved_room(self, name: str, qualifier: str, count: int) -> None:
        """Provisioned instances of a function without a reservation come out of the account's
        unreserved concurrency, which keeps its minimum (AWS's texts, recorded:
        test_provisioned_concurrency_limits)."""
        unreserved = self.concurrency.unreserved
        if count > unreserved:
            raise errors.InvalidParameterValue(
                f"Specified ConcurrentExecutions for function is greater than account's unreserved concurrency "
                f"[{unreserved}].")
        others = sum(c.requested for c in self.provisioned.every()
                     if (c.function, c.qualifier) != (name, qualifier) and self.concurrency.get(c.function) is None)
        minimum = unreserved_minimum(self.concurrency.account_limit)
        if unreserved - others - count < minimum:
            raise errors.InvalidParameterValue(
                "Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "
                f"below its minimum value of [{minimum}].")

    def _refuse_overlapping_provisioned(self, name: str, qualifier: str) -> None:
        """A version gets provisioned instances through itself or through one alias, not both (AWS's 409s)."""
        if qualifier.isdigit():
            for config in self.provisioned.of(name):
                if not config.qualifier.isdigit() and self._provisioned_version(config) == qualifier:
                    raise errors.ResourceConflict("Version is pointed by a Provisioned Concurrency alias")
            return
        version = self._version_of(name, qualifier)
        if any(c.qualifier != qualifier and self._provisioned_version(c) == version for c in self.provisioned.of(name)):
            raise errors.ResourceConflict(
                "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version")

    async def provisioned_settled(self, name: str, qualifier: str, timeout_s: float = 900) -> ProvisionedConfig:
        """The config once it is no longer IN_PROGRESS (READY or FAILED)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            config = self.provisioned.get(name, qualifier)
            if config.status != "IN_PROGRESS" or asyncio.get_running_loop().time() > deadline:
                return config
            await asyncio.sleep(0.05)

    def get_provisioned(self, ref: str, qualifier: str | None) -> ProvisionedConfig:
        name, q = self._provisioned_target(ref, qualifier, provisioned.NOT_A_VERSION)
        return self.provisioned.get(name, q)

    def delete_provisioned(self, ref: str, qualifier: str | None) -> None:
        name, q = self._provisioned_target(ref, qualifier, provisioned.NOT_A_VERSION)
        config = self.provisioned.delete(name, q)
        if config is not None:   # its instances become ordinary ones (stopped when idle)
            self._schedule_provision(name, {self._provisioned_version(config)})

    def list_provisioned(self, ref: str) -> builtins.list[ProvisionedConfig]:
        fn, _ = self.resolve(ref, None)
        return self.provisioned.of(fn.name)

    def _provisioned_target(self, ref: str, qualifier: str | None, latest: str) -> tuple[str, str]:
        name, q = names.parse_function_ref(ref, qualifier, self.region, self.account)
        if q is None:
            raise errors.ValidationError(names.validation_message(
                [names.constraint_violation("qualifier", None, "Member must not be null")]))
        if q == LATEST:
            raise errors.InvalidParameterValue(latest)
        if not q.isdigit() and self.aliases.get(name, q) is None:
            raise errors.ResourceNotFound(f"Cannot find alias arn: {self.arn(name, q)}")
        fn, _ = self.resolve(name, q)
        return fn.name, q

    def _provisioned_version(self, config: ProvisionedConfig) -> str:
        if config.qualifier.isdigit():
            return config.qualifier
        alias = self.aliases.get(config.function, config.qualifier)
        return alias.function_version if alias is not None else config.qualifier

    def _schedule_provision(self, name: str, versions: set[str]) -> None:
        """Bring the provisioned instances of each of `versions` to what the configs ask (their sum)."""
        if self._provision is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        for version in versions:
            task = loop.create_task(self._provision_version(name, version))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _provision_version(self, name: str, version: str) -> None:
        assert self._provision is not None
        configs = [c for c in self.provisioned.of(name) if self._provisioned_version(c) == version]
        fn = self._serving.get((name, version))
        if fn is None:
            return
        try:
            failure = await self._provision(fn, sum(c.requested for c in configs))
        except Exception as e:  # noqa: BLE001 - a config must never stay IN_PROGRESS because the pool broke
            log.exception("function %s: provisioning version %s raised", name, version)
            failure = f"Lambdalite could not start the instances: {type(e).__name__}: {e}"
        for config in configs:
            current = self.provisioned.find(name, config.qualifier)
            if current is None or current != config:
                continue   # changed or deleted meanwhile: that change reports itself
            if failure is None:
                self.provisioned.put(config.with_changes(status="READY", allocated=config.requested,
                                                         status_reason=None))
            else:
                self.provisioned.put(config.with_changes(status="FAILED", status_reason=failure))

    # event invoke configs (asynchronous invocations' retries, age and destinations) -----------
    def put_event_config(self, ref: str, qualifier: str | None, body: dict[str, Any],
                         merge: bool = False) -> tuple[EventConfig, str]:
        """PutFunctionEventInvokeConfig (replaces), or UpdateFunctionEventInvokeConfig (`merge`). The
        body is checked before the function is looked for; a missing function, version or alias is
        "The function doesn't exist." (AWS-recorded: test_lambda_eventinvokeconfig_exceptions)."""
        name, q = names.parse_function_ref(ref, qualifier, self.region, self.account)
        given = check_event_config(body, self.arn(name))
        try:
            self.resolve(name, q)
        except errors.ResourceNotFound:
            raise errors.ResourceNotFound(NO_SUCH_FUNCTION) from None
        q = q or LATEST
        if merge and self.event_configs.find(name, q) is None:
            raise errors.ResourceNotFound(f"The function {self.arn(name, q)} doesn't have an EventInvokeConfig")
        for key in ("OnSuccess", "OnFailure"):
            self._check_destination(given.get(key))
        return self.event_configs.put(name, q, given, merge), self.arn(name, q)

    def get_event_config(self, ref: str, qualifier: str | None) -> tuple[EventConfig, str]:
        """Not looking for the function: AWS names the config missing, the function there or not (recorded)."""
        name, q = names.parse_function_ref(ref, qualifier, self.region, self.account)
        config = self.event_configs.find(name, q or LATEST)
        if config is None:
            raise errors.ResourceNotFound(f"The function {self.arn(name, q or LATEST)} doesn't have an "
                                          "EventInvokeConfig")
        return config, self.arn(name, q or LATEST)

    def delete_event_config(self, ref: str, qualifier: str | None) -> None:
        name, q = names.parse_function_ref(ref, qualifier, self.region, self.account)
        if not self.event_configs.delete(name, q or LATEST):
            raise errors.ResourceNotFound(f"The function {self.arn(name, q or LATEST)} doesn't have an "
                                          "EventInvokeConfig")

    def list_event_configs(self, ref: str) -> builtins.list[tuple[EventConfig, str, str]]:
        """(config, its FunctionArn, its qualifier) for each, by qualifier."""
        try:
            fn, _ = self.resolve(ref, None)
        except errors.ResourceNotFound:
            raise errors.ResourceNotFound(NO_SUCH_FUNCTION) from None
        return [(config, self.arn(fn.name, q), q) for q, config in self.event_configs.of(fn.name)]

    def event_config_for(self, name: str, qualifier: str | None) -> EventConfig:
        """What an async invocation of `name` (as qualified) follows: its qualifier's config, or AWS's defaults."""
        return self.event_configs.find(name, qualifier or LATEST) or EventConfig()

    def _check_destination(self, arn: str | None) -> None:
        """A Lambda destination must exist (other kinds are kept as records: no service here)."""
        if arn and ":lambda:" in arn and ":function:" in arn:
            name, _, qualifier = arn.split(":function:", 1)[1].partition(":")
            if self.get(name) is None or (qualifier and self._version_of(name, qualifier) is None):
                raise errors.InvalidParameterValue(f"The destination ARN {arn} is invalid.")

    # tags (the function's, on $LATEST's record) ------------------------------------------------
    def tags(self, arn: str) -> dict[str, str]:
        return dict(self._tagged(arn).tags)

    def tag(self, arn: str, tags: Any) -> None:
        fn = self._tagged(arn)
        if not isinstance(tags, dict) or not tags:
            raise errors.InvalidParameterValue("An error occurred and the request cannot be processed.")
        merged = {**fn.tags, **{str(k): str(v) for k, v in tags.items()}}
        if len(merged) > MAX_TAGS:
            raise errors.InvalidParameterValue("Number of tags exceeds resource tag limit.")
        self._put(fn.with_changes(tags=merged, revision_id=new_revision()))   # AWS: tagging is a change

    def untag(self, arn: str, keys: builtins.list[str]) -> None:
        fn = self._tagged(arn)
        if not keys:
            raise errors.ValidationError(names.validation_message(
                [names.constraint_violation("tagKeys", None, "Member must not be null")]))
        self._put(fn.with_changes(tags={k: v for k, v in fn.tags.items() if k not in set(keys)},
                                  revision_id=new_revision()))

    def _tagged(self, arn: str) -> FunctionVersion:
        """Tags belong to the function: its unqualified ARN names it (AWS refuses the others). The
        ARN is checked against the model's pattern first; event source mappings and capacity
        providers are not built, so there are none (AWS's not-found texts, recorded:
        TestLambdaTag::test_tag_exceptions)."""
        if not _TAGGABLE.fullmatch(arn):
            raise errors.ValidationError(names.validation_message([names.constraint_violation(
                "resource", arn, f"Member must satisfy regular expression pattern: {TAGGABLE_PATTERN}")]))
        kind = arn.split(":")[5]
        if kind in _NOT_TAGGABLE_HERE:
            raise errors.ResourceNotFound(f"{_NOT_TAGGABLE_HERE[kind]} not found: {arn}")
        if kind != "function":
            raise errors.NotBuilt(f"Lambdalite does not tag {kind} resources yet; tags are kept on functions.")
        name, qualifier = names.parse_function_ref(arn, None, self.region, self.account)
        if qualifier is not None:
            raise errors.InvalidParameterValue(
                "Tags on function aliases and versions are not supported. Please specify a function ARN.")
        fn = self.get(name)
        if fn is None:
            raise errors.ResourceNotFound(f"Function not found: {self.arn(name)}")
        return fn

    # policies (stored and returned; enforced for API Gateway) --------------------------------
    def add_permission(self, ref: str, qualifier: str | None, body: dict[str, Any]) -> dict[str, Any]:
        """A statement on the function's policy, or on a version's or alias's own (AWS keeps one
        policy per qualifier)."""
        permissions.check_statement(body)
        if qualifier == LATEST or ref.endswith(":$LATEST"):
            names.parse_function_ref(ref, qualifier, self.region, self.account)
            raise errors.InvalidParameterValue("We currently do not support adding policies for $LATEST.")
        fn, qualifier = self._policy_owner(ref, qualifier)
        # A first statement is checked against the function's (version's, alias's) RevisionId
        # (AWS-recorded: test_lambda_permission_fn_versioning adds to an alias with the alias's)
        alias = self.aliases.get(fn.name, qualifier) if qualifier is not None else None
        owner_revision = alias.revision_id if alias is not None else fn.revision_id
        return self.policies.add(_policy_key(fn.name, qualifier), body, self.arn(fn.name, qualifier),
                                 owner_revision)

    def remove_permission(self, ref: str, qualifier: str | None, sid: str, revision: str | None) -> None:
        try:
            fn, qualifier = self._policy_owner(ref, qualifier)
        except errors.ResourceNotFound as e:
            if e.message.startswith("Cannot find alias arn"):
                raise
            name, q = names.parse_function_ref(ref, qualifier, self.region, self.account)
            raise errors.ResourceNotFound(f"No policy found for: {self.arn(name, q)}") from None
        self.policies.remove(_policy_key(fn.name, qualifier), sid, revision)

    def _policy_owner(self, ref: str, qualifier: str | None) -> tuple[FunctionVersion, str | None]:
        """resolve(), but a missing alias of a function there is is named as an alias (AWS-recorded:
        test_permission_exceptions add_/remove_permission_fn_alias_doesnotexist)."""
        try:
            return self.resolve(ref, qualifier, mutating=True)
        except errors.ResourceNotFound:
            name, q = names.parse_function_ref(ref, qualifier, self.region, self.account, mutating=True)
            if q is not None and self.get(name) is not None and is_alias_name(q):
                raise errors.ResourceNotFound(f"Cannot find alias arn: {self.arn(name, q)}") from None
            raise

    def get_policy(self, ref: str, qualifier: str | None) -> Policy:
        try:
            fn, qualifier = self.resolve(ref, qualifier)
        except errors.ResourceNotFound:
            raise errors.ResourceNotFound("The resource you requested does not exist.") from None
        return self.policies.get(_policy_key(fn.name, qualifier))

    # reserved concurrency (the function's, never a version's) ------------------------------
    def put_concurrency(self, ref: str, body: dict[str, Any]) -> int:
        name = self._unqualified(ref, putting=True)
        provisioned_total = self.provisioned.total(name)
        value = body.get("ReservedConcurrentExecutions")
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < provisioned_total:
            raise errors.InvalidParameterValue(   # AWS's text, its spaces included (recorded)
                f" ReservedConcurrentExecutions  {value} should not be lower than function's total provisioned "
                f"concurrency [{provisioned_total}].")
        return self.concurrency.put(name, body)

    def get_concurrency(self, ref: str) -> int | None:
        return self.concurrency.get(self._unqualified(ref))

    def delete_concurrency(self, ref: str) -> None:
        self.concurrency.delete(self._unqualified(ref))

    def _unqualified(self, ref: str, *, putting: bool = False) -> str:
        """The function's name; `putting`: PutFunctionConcurrency, whose 404 names $LATEST (AWS-recorded:
        test_function_concurrency_exceptions; GetFunctionConcurrency's does not)."""
        name, qualifier = names.parse_function_ref(ref, None, self.region, self.account)
        if qualifier is not None:
            raise errors.InvalidParameterValue(
                "This operation is permitted on Lambda functions only. Aliases and versions do not support "
                "this operation. Please specify either a function name or an unqualified function ARN.")
        if putting and self.get(name) is None:
            raise errors.ResourceNotFound(f"Function not found: {self.arn(name, LATEST)}")
        fn, _ = self.resolve(name, None)
        return fn.name

    # saved test events (the console's; they go with their function) ---------------------------
    def put_test_event(self, function: str, event: str, body: str) -> None:
        self._known(function)
        validate.check_test_event(event, body)
        self.db.put_test_event(function, event, body)

    def test_events(self, function: str) -> dict[str, str]:
        self._known(function)
        return self.db.test_events(function)

    def test_event(self, function: str, event: str) -> str:
        events = self.test_events(function)
        if event not in events:
            saved = ", ".join(sorted(events)) or "none"
            raise errors.ResourceNotFound(f"Function {function} has no saved test event {event} (saved: {saved})")
        return events[event]

    def put_test_events(self, function: str, events: dict[str, str]) -> None:
        """Save several test events at once (a stack's events/*.json): all of them, or none."""
        self._known(function)
        for event, body in events.items():
            validate.check_test_event(event, body)
        for event, body in events.items():
            self.db.put_test_event(function, event, body)

    def _known(self, name: str) -> None:
        if self.get(name) is None:
            raise errors.ResourceNotFound(f"Function not found: {self.arn(name)}")

    # settling -----------------------------------------------------------------------------------
    async def settled(self, name: str) -> FunctionVersion:
        """The function once its create or update has settled (Active or Failed either way);
        ResourceNotFound when it went away meanwhile. Bounded by the preparation's own timeouts."""
        while True:
            fn = self.get(name)
            if fn is None:
                raise errors.ResourceNotFound(f"Function not found: {self.arn(name)}")
            if not fn.settling:
                return fn
            woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(name, []).append(woken)
            await woken

    def _schedule_settle(self, name: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._settle(name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle(self, name: str) -> None:
        """Pending -> Active | Failed and InProgress -> Successful | Failed, after preparing it."""
        fn = self.get(name)
        if fn is None:
            return
        prepared = await self._prepared(fn)
        latest = self.get(name)
        if latest is None or latest.revision_id != fn.revision_id:
            return  # changed meanwhile: that change settles itself
        if prepared.failure is None and self._warm is not None:
            warmed = await self._warmed(latest.with_changes(environment=prepared.environment,
                                                            requirements_lock=prepared.requirements_lock))
            latest = self.get(name)
            if latest is None or latest.revision_id != fn.revision_id:
                return
            if warmed is not None:
                prepared = warmed
        if prepared.warning:
            log.warning("function %s: %s", name, prepared.warning)
        if prepared.failure is None:
            self._put(latest.with_changes(
                state="Active", state_reason=None, state_reason_code=None, last_update_status="Successful",
                last_update_status_reason=None, last_update_status_reason_code=None, revision_id=new_revision(),
                environment=prepared.environment, requirements_lock=prepared.requirements_lock))
            return
        log.warning("function %s: preparing it failed: %s", name, prepared.failure)
        failed = {"last_update_status": "Failed", "last_update_status_reason": prepared.failure,
                  "last_update_status_reason_code": prepared.reason_code, "revision_id": new_revision()}
        if latest.state == "Pending":
            failed.update(state="Failed", state_reason=prepared.failure, state_reason_code=prepared.reason_code)
        self._put(latest.with_changes(**failed))

    async def _warmed(self, fn: FunctionVersion) -> Prepared | None:
        assert self._warm is not None
        try:
            return await self._warm(fn)
        except Exception as e:  # noqa: BLE001 - as for preparing: never stay Pending
            log.exception("function %s: making its snapshot raised", fn.name)
            return Prepared(failure=f"Lambdalite could not make the function's snapshot: {type(e).__name__}: {e}")

    async def _prepared(self, fn: FunctionVersion) -> Prepared:
        if self._prepare is None:
            return Prepared()
        try:
            return await asyncio.to_thread(self._prepare, fn)
        except Exception as e:  # noqa: BLE001 - a function must never stay Pending because preparing broke
            log.exception("function %s: preparing it raised", fn.name)
            return Prepared(failure=f"Lambdalite could not prepare the function: {type(e).__name__}: {e}")

    async def drain(self) -> None:
        """Let pending state transitions finish (shutdown)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)

    # internals -------------------------------------------------------------------------------
    def _put(self, fn: FunctionVersion) -> None:
        """Store and publish a new snapshot of a version's configuration; it serves once it is
        runnable, until then the previous runnable one goes on serving (and is stored with it)."""
        key = (fn.name, fn.version)
        serving = fn if fn.runnable else self._serving.get(key)
        document = fn.to_document()
        if serving is not None and serving is not fn:
            document[SERVING] = serving.to_document()
        self.db.put_function(fn.name, fn.version, document)
        self._configured[key] = fn
        if serving is not None:
            self._serving[key] = serving
        self._changed(fn.name)

    def _changed(self, name: str) -> None:
        for listener in self._listeners:
            listener(name)
        for woken in self._waiters.pop(name, []):
            if not woken.done():
                woken.set_result(None)

    async def _code(self, given: dict[str, Any] | None, stored: str | None) -> Code:
        if stored is not None:
            return await self.code.from_store(stored)
        return await self.code.from_zip(decode_zip(given or {}))

    def _layers(self, given: Any) -> tuple[builtins.list[dict[str, Any]], builtins.list[str],
                                           builtins.list[str | None]]:
        """A function's Layers as AWS shows them ({Arn, CodeSize}), their archives and environments."""
        arns = [item["Arn"] if isinstance(item, dict) and "Arn" in item else item for item in given or []]
        layers = self.layers.for_function(arns)
        return ([{"Arn": self.layers.arn(v), "CodeSize": v.code_size} for v in layers], [v.code_hex for v in layers],
                [v.environment for v in layers])

    def _check_total_size(self, code_sha256: str, layer_code: builtins.list[str]) -> None:
        """The code and its layers together, unzipped, within the limit (AWS: 250 MB with the layers)."""
        total = self.code.unzipped_size(to_hex(code_sha256))
        for digest in layer_code:
            total += self.code.unzipped_size(digest)
        if total > self.code.limits.unzipped:
            raise self.code.limits.unzipped_too_large("The function's code and layers unzipped")

    def _refuse_existing(self, name: str) -> None:
        if self.get(name) is not None:
            raise errors.ResourceConflict(f"Function already exist: {name}")

    def _in_progress(self) -> dict[str, Any]:
        return {"revision_id": new_revision(), "last_modified": aws_timestamp(time.time()),
                "last_update_status": "InProgress", "last_update_status_reason": IN_PROGRESS_REASON,
                "last_update_status_reason_code": "Creating"}

    def _refuse_if_in_progress(self, fn: FunctionVersion) -> None:
        if fn.settling:
            raise errors.ResourceConflict(
                "The operation cannot be performed at this time. An update is in progress for resource: "
                + self.arn(fn.name))


MAX_TAGS = validate.MAX_TAGS
# What TagResource, UntagResource and ListTags take (the model's pattern; AWS-recorded in its messages)
TAGGABLE_PATTERN = (r"arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
                    r"(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|"
                    r"code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-"
                    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)")
_TAGGABLE = re.compile(TAGGABLE_PATTERN)
_NOT_TAGGABLE_HERE = {"event-source-mapping": "Event source mapping", "capacity-provider": "Capacity provider"}


def _policy_key(name: str, qualifier: str | None) -> str:
    """Where a policy is kept: the function's under its name, a version's or alias's as name:qualifier."""
    return name if qualifier is None else f"{name}:{qualifier}"


def _published_content(fn: FunctionVersion) -> tuple[Any, ...]:
    """What makes a version differ from another: code, configuration, layers, dependencies."""
    return (fn.code_sha256, fn.runtime, fn.role, fn.handler, {k: v for k, v in fn.config.items() if k != "Description"},
            fn.layer_code, fn.environment, fn.requirements_lock)


_TOP_LEVEL = {"FunctionName", "Runtime", "Role", "Handler", "Code", "Tags", "Publish", "RevisionId"}


def as_config(fn: FunctionVersion) -> dict[str, Any]:
    """The function's configuration as UpdateFunctionConfiguration's validation merges into."""
    return {**fn.config, "FunctionName": fn.name, "Runtime": fn.runtime, "Role": fn.role, "Handler": fn.handler}
