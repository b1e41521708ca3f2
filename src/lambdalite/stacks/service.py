"""StackService: stacks kept in the store, deployed all or nothing, described as CloudFormation does.

`deploy` checks the code, plans (`plan.build_plan`, pure), then applies the plan (`apply.Applier`):
all of it serves, or every change is undone and the previous stack keeps serving. An unchanged
redeploy (same template text, parameters, code hashes, includes and test events, and everything
the stack made still there) is a no-op. Statuses are CloudFormation's: CREATE_COMPLETE,
UPDATE_COMPLETE, UPDATE_ROLLBACK_COMPLETE (an update failed and was undone). A first create that
fails leaves no stack at all (CloudFormation would keep a ROLLBACK_COMPLETE stack that can only
be deleted; keeping nothing is simpler to use and says the same).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from .. import errors
from ..clock import Clock, RealClock
from ..errors import Problems
from ..functions import archive
from ..functions.code import NO_LIMIT
from ..functions.service import FunctionService
from ..gateway.control.http_apis import HttpApiService, root_owner
from ..gateway.control.ids import API_ID_LENGTH, new_id
from ..gateway.control.keys import KeyService
from ..gateway.control.service import GatewayService
from ..invoke.invoker import Invoker
from ..invoke.schedules import Scheduler
from ..store import Database
from . import plan as planner
from .apply import Applier, Managed, Shifting, delete_usage, permission_entry
from .model import StackPlan
from .urls import http_api_url, rewrite_urls, stage_url

log = logging.getLogger("lambdalite.stacks")

STACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]{0,127}")
HEX64 = re.compile(r"[0-9a-f]{64}")
UPLOAD_HOLD_S = 3600.0   # an uploaded archive not yet deployed is kept this long


@dataclass(frozen=True)
class StackRecord:
    """One stack as stored (a JSON document) and described."""

    name: str
    stack_id: str
    status: str
    template: str                               # as sent
    expanded: dict[str, Any]                    # CloudFormation after SAM's expansion
    parameters: dict[str, str]                  # resolved (NoEcho masked)
    outputs: dict[str, dict[str, str]]          # as planned: AWS's URLs, rewritten when described
    resources: list[dict[str, Any]]             # {logicalId, type, physicalId, supported}
    managed: dict[str, Any]                     # apply.Managed as a dict
    fingerprint: str
    created: float
    updated: float | None = None
    description: str | None = None
    warnings: list[str] = field(default_factory=list)
    status_reason: str | None = None
    code: dict[str, str] = field(default_factory=dict)   # codeuri -> sha256 hex, as deployed
    applied: dict[str, str] = field(default_factory=dict)  # function name -> its state as deployed

    @staticmethod
    def load(data: dict[str, Any]) -> StackRecord:
        return StackRecord(**data)

    @property
    def physical_ids(self) -> dict[str, str]:
        return {r["logicalId"]: r["physicalId"] for r in self.resources}

    def managed_view(self) -> Managed:
        return Managed(**self.managed)


@dataclass(frozen=True)
class DeployResult:
    stack: str
    status: str
    changed: bool
    outputs: list[dict[str, str]]
    stages: list[str]
    warnings: list[str]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class StackService:
    def __init__(self, db: Database, functions: FunctionService, gateway: GatewayService, region: str, account: str,
                 base_url: str = "http://127.0.0.1:9000", clock: Clock | None = None,
                 invoker: Invoker | None = None, scheduler: Scheduler | None = None,
                 http_apis: HttpApiService | None = None, keys: KeyService | None = None) -> None:
        self.db = db
        self.keys = keys
        self.functions = functions
        self.gateway = gateway
        self.http_apis = http_apis
        self.clock = clock or RealClock()
        self.region = region
        self.account = account
        self.base_url = base_url
        self.stacks: dict[str, StackRecord] = {}
        self._lock = asyncio.Lock()
        self._uploaded: dict[str, float] = {}     # hex -> when; held from deletion for a while
        self._deploying: set[str] = set()         # the code of the deploy under way, and what it replaces
        self._invoker = invoker                   # runs hook functions; its traffic figures judge a canary
        self._scheduler = scheduler               # runs the stacks' schedules
        self.progress: dict[str, list[str]] = {}  # stack -> the lines of its deploy under way (or last)
        self.under_way: dict[str, str] = {}       # stack -> CREATE_IN_PROGRESS / UPDATE_IN_PROGRESS
        self._background: set[asyncio.Task[None]] = set()
        functions.hold_code(self._held_code)

    def load(self) -> None:
        self.stacks = {d["name"]: StackRecord.load(d) for d in self.db.load_stacks()}
        for name, record in self.stacks.items():
            self._schedule(name, record)

    def _schedule(self, name: str, record: StackRecord | None) -> None:
        if self._scheduler is not None:
            self._scheduler.set_stack(name, list(record.managed_view().schedules.values()) if record else [])

    def _held_code(self) -> set[str]:
        now = self.clock.now()
        self._uploaded = {h: t for h, t in self._uploaded.items() if now - t < UPLOAD_HOLD_S}
        return set(self._uploaded) | self._deploying

    # code uploads ---------------------------------------------------------------------------------
    def missing_code(self, hashes: list[str]) -> list[str]:
        for h in hashes:
            _check_hex(h)
        return [h for h in dict.fromkeys(hashes) if not self.functions.code.has(h)]

    async def put_code(self, digest: str, data: bytes) -> None:
        """Keep an uploaded archive (checked against CreateFunction's limits) under its SHA-256."""
        _check_hex(digest)
        if hashlib.sha256(data).hexdigest() != digest:
            raise errors.InvalidParameterValue(
                f"The archive's SHA-256 is {hashlib.sha256(data).hexdigest()}, not {digest}: it changed in transit.")
        limits = self.functions.code.limits
        if len(data) > limits.zipped:
            raise limits.zipped_too_large(len(data))
        summary = await asyncio.to_thread(archive.inspect_zip, data, max_unzipped=NO_LIMIT)
        if summary.unzipped_size > limits.unzipped:
            raise limits.unzipped_too_large()
        self._uploaded[digest] = self.clock.now()
        await self.functions.code.keep(data)

    # deploy ---------------------------------------------------------------------------------------
    async def deploy(self, name: str, template_text: str, parameters: Mapping[str, str],
                     code_hashes: Mapping[str, str], includes: Mapping[str, Any],
                     test_events: Mapping[str, Mapping[str, str]], wait: bool = True) -> DeployResult:
        """Raises Problems (nothing changed; the previous stack keeps serving). With `wait` False, a
        template that plans is applied in the background (an alias's traffic shift may take minutes):
        the answer says *_IN_PROGRESS, and the stack's record tells how it ended."""
        check_stack_name(name)
        if name in self.under_way:
            raise Problems([f"stack {name} is being deployed already ({self.under_way[name]}; "
                            f"`lambdalite ls` shows when it is done): deploy again after that"])
        fingerprint = _fingerprint(template_text, parameters, code_hashes, includes, test_events)
        self.under_way[name] = "UPDATE_IN_PROGRESS" if name in self.stacks else "CREATE_IN_PROGRESS"
        self.progress[name] = []
        try:
            await self._lock.acquire()
        except BaseException:
            del self.under_way[name]
            raise
        released = False
        try:
            previous = self.stacks.get(name)
            if previous is not None and previous.fingerprint == fingerprint and self._intact(previous):
                return self._result(previous, changed=False,
                                    warnings=[f"stack {name} is unchanged: nothing was deployed"])
            missing = [f"CodeUri {uri}: the archive {h} was not uploaded to the server"
                       for uri, h in code_hashes.items() if not HEX64.fullmatch(h) or not self.functions.code.has(h)]
            if missing:
                raise Problems(missing)
            plan = await self._plan(name, template_text, parameters, code_hashes, includes, test_events, previous)
            if wait:
                return await self._apply(name, template_text, fingerprint, dict(code_hashes), plan, previous)
            task = asyncio.get_running_loop().create_task(
                self._apply_in_background(name, template_text, fingerprint, dict(code_hashes), plan, previous))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            released = True   # the background task holds the lock and the stack's place until it is done
            return DeployResult(stack=name, status=self.under_way[name], changed=True, outputs=[], stages=[],
                                warnings=plan.warnings)
        finally:
            if not released:
                self._lock.release()
                self.under_way.pop(name, None)

    async def _apply_in_background(self, name: str, template_text: str, fingerprint: str, code: dict[str, str],
                                   plan: StackPlan, previous: StackRecord | None) -> None:
        try:
            await self._apply(name, template_text, fingerprint, code, plan, previous)
        except Problems as e:   # recorded in the stack (status and reason) by _apply; said in the log
            log.warning("stack %s: the deploy failed: %s", name, "; ".join(e.problems))
        except Exception:   # noqa: BLE001 - a bug must not leave the stack locked
            log.exception("stack %s: the deploy failed", name)
        finally:
            self._lock.release()
            self.under_way.pop(name, None)

    def say(self, name: str, line: str) -> None:
        """A line of the deploy under way (the client prints them as they come)."""
        lines = self.progress.setdefault(name, [])
        if len(lines) < 1000:
            lines.append(line)
        log.info("stack %s: %s", name, line)

    async def _plan(self, name: str, template_text: str, parameters: Mapping[str, str],
                    code_hashes: Mapping[str, str], includes: Mapping[str, Any],
                    test_events: Mapping[str, Mapping[str, str]], previous: StackRecord | None) -> StackPlan:
        """The plan, made in a worker thread: SAM's expansion and OpenAPI parsing take a good part of a
        second on a large template, and the event loop keeps serving invocations meanwhile."""
        taken = self.gateway.api_ids() | self._http_api_ids()   # read on the loop; the planner's thread sees a copy
        layer_version = self._layer_versions()
        function_version = self._function_versions()

        def new_api_id() -> str:
            api_id = new_id(API_ID_LENGTH, taken=taken)
            taken.add(api_id)
            return api_id

        try:
            return await asyncio.to_thread(
                planner.build_plan, template_text, stack_name=name, parameters=dict(parameters), region=self.region,
                account=self.account, code=dict(code_hashes), includes=dict(includes),
                physical_ids=previous.physical_ids if previous else {}, new_api_id=new_api_id,
                test_events={k: dict(v) for k, v in test_events.items()}, layer_version=layer_version,
                function_version=function_version)
        except Problems:
            raise
        except Exception as e:  # a planner bug must not look like success or take the server down
            log.exception("stack %s: planning failed", name)
            raise Problems([f"the template could not be planned: {type(e).__name__}: {e}"]) from e

    def _layer_versions(self) -> Callable[[str, str, str | None], str]:
        """The planner's layer versions: a layer the previous deployment published with the same content
        keeps its version; any other gets the next free number (reserved for this plan)."""
        layers = self.functions.layers
        reserved: dict[str, int] = {}

        def version(name: str, digest: str, previous: str | None) -> str:
            if previous is not None and ":layer:" in previous:
                kept = layers.find(name, int(previous.rsplit(":", 1)[1]))
                if kept is not None and kept.code_hex == digest:
                    return previous
            reserved[name] = reserved.get(name, layers.next_version(name) - 1) + 1
            return f"{layers.layer_arn(name)}:{reserved[name]}"
        return version

    def _function_versions(self) -> Callable[[str, str | None], tuple[str, bool]]:
        """The planner's function versions: a Version resource the previous deployment published keeps
        its number while that version exists; a new one gets the function's next free number."""
        functions = self.functions
        reserved: dict[str, int] = {}

        def version(name: str, previous: str | None) -> tuple[str, bool]:
            if previous is not None and ":function:" in previous:
                number = previous.rsplit(":", 1)[1]
                if number.isdigit() and functions.find_version(name, number) is not None:
                    return number, True
            current = functions.get(name)
            reserved[name] = reserved.get(name, current.last_published if current is not None else 0) + 1
            return str(reserved[name]), False
        return version

    async def _apply(self, name: str, template_text: str, fingerprint: str, code: dict[str, str],
                     plan: StackPlan, previous: StackRecord | None) -> DeployResult:
        applier = Applier(self.functions, self.gateway, name, previous.managed_view() if previous else Managed(),
                          self._foreign_functions(name), self._foreign_apis(name), self._shifting(name),
                          self._invoker.budgets if self._invoker else None, self.http_apis, self.keys)
        self._deploying = applier.held_code = set(code.values())
        try:
            applier.preflight(plan)
            await applier.apply(plan)
        except Problems as e:
            failures = await applier.rollback()
            self._record_failure(previous, e.problems, failures)
            raise Problems(e.problems + failures) from None
        finally:
            self._deploying = set()
        await applier.finish(plan)
        record = self._record(name, template_text, fingerprint, code, plan, previous, applier.published)
        self.db.put_stack(name, asdict(record))
        self.stacks[name] = record
        self._schedule(name, record)
        return self._result(record, changed=True, warnings=plan.warnings + applier.warnings)

    def _shifting(self, name: str) -> Shifting | None:
        invoker = self._invoker
        if invoker is None:
            return None

        def calls(function: str, alias: str, version: str) -> tuple[int, int]:
            figures = invoker.traffic.figures(function, alias).versions.get(version)
            return (figures.invocations, figures.errors) if figures is not None else (0, 0)

        async def hook(function: str, event: dict[str, Any]) -> str | None:
            return await run_hook(invoker, function, event)

        return Shifting(sleep=self.clock.sleep, calls=calls, hook=hook, say=lambda line: self.say(name, line))

    def _record(self, name: str, template_text: str, fingerprint: str, code: dict[str, str], plan: StackPlan,
                previous: StackRecord | None, published: dict[str, str]) -> StackRecord:
        versions: dict[str, dict[str, Any]] = {
            v.logical_id: {"function": v.function_name, "version": published.get(v.logical_id, v.number),
                           "retain": v.retain} for v in plan.versions}
        managed = Managed(
            functions={f.logical_id: f.name for f in plan.functions},
            apis={a.logical_id: a.api_id for a in plan.apis},
            permissions={p.logical_id: permission_entry(p) for p in plan.permissions},
            layers={layer.logical_id: {"arn": layer.arn, "retain": layer.retain} for layer in plan.layers},
            versions=versions,
            aliases={a.logical_id: {"function": a.function_name, "name": a.name} for a in plan.aliases},
            schedules={x.logical_id: x.to_document() for x in plan.schedules},
            event_configs={c.logical_id: {"function": c.function, "qualifier": c.qualifier}
                           for c in plan.event_configs},
            http_apis={a.logical_id: a.api_id for a in plan.http_apis},
            usage={u.logical_id: {"kind": u.kind, "id": u.physical_id} for u in plan.usage},
            roles={r.logical_id: r.arn for r in plan.roles})
        physical = {lid: self.functions.arn(v["function"], v["version"]) for lid, v in versions.items()}
        resources = [{"logicalId": r.logical_id, "type": r.type,
                      "physicalId": physical.get(r.logical_id, r.physical_id), "supported": r.supported}
                     for r in plan.resources]
        now = time.time()
        return StackRecord(
            name=name, stack_id=previous.stack_id if previous else stack_arn(self.region, self.account, name),
            status="UPDATE_COMPLETE" if previous else "CREATE_COMPLETE", template=template_text,
            expanded=plan.expanded_template, parameters=dict(plan.parameters), outputs=dict(plan.outputs),
            resources=resources, managed=asdict(managed), fingerprint=fingerprint,
            created=previous.created if previous else now, updated=now if previous else None,
            description=plan.description, warnings=list(plan.warnings), code=code,
            applied={n: self._function_state(n) for n in managed.functions.values()})

    def _record_failure(self, previous: StackRecord | None, problems: list[str], failures: list[str]) -> None:
        if previous is None:
            return  # a failed first create leaves no stack
        status = "UPDATE_ROLLBACK_FAILED" if failures else "UPDATE_ROLLBACK_COMPLETE"
        record = replace(previous, status=status, updated=time.time(), status_reason="; ".join(problems)[:1000])
        self.db.put_stack(previous.name, asdict(record))
        self.stacks[previous.name] = record

    def _intact(self, record: StackRecord) -> bool:
        """Everything the stack made is still there as deployed: nobody deleted a function or an
        API, or changed a function's code or configuration, by hand since."""
        managed = record.managed_view()
        return (all(self._function_state(n) == record.applied.get(n) for n in managed.functions.values())
                and set(managed.apis.values()) <= self.gateway.api_ids()
                and set(managed.http_apis.values()) <= self._http_api_ids())

    def _function_state(self, name: str) -> str:
        fn = self.functions.get(name)
        if fn is None:
            return ""
        return json.dumps([fn.code_sha256, fn.runtime, fn.role, fn.handler, fn.config], sort_keys=True, default=str)

    def _foreign_functions(self, stack: str) -> set[str]:
        own = set(self.stacks[stack].managed_view().functions.values()) if stack in self.stacks else set()
        return set(self.functions.names()) - own

    def _foreign_apis(self, stack: str) -> set[str]:
        """The ids of REST and HTTP APIs made by other stacks or by hand."""
        managed = self.stacks[stack].managed_view() if stack in self.stacks else None
        own = set(managed.apis.values()) | set(managed.http_apis.values()) if managed else set()
        return (self.gateway.api_ids() | self._http_api_ids()) - own

    def _http_api_ids(self) -> set[str]:
        return self.http_apis.api_ids() if self.http_apis is not None else set()

    # reading --------------------------------------------------------------------------------------
    def get(self, name: str) -> StackRecord:
        record = self.stacks.get(name)
        if record is None:
            raise errors.ResourceNotFound(f"Stack with id {name} does not exist")
        return record

    def all(self) -> list[StackRecord]:
        return [self.stacks[n] for n in sorted(self.stacks)]

    def outputs(self, record: StackRecord) -> list[dict[str, str]]:
        """The stack's Outputs with execute-api URLs rewritten to where this server answers."""
        stages, owners = self.gateway.stages_by_api(), self.gateway.short_owners()
        http, root = self._http_stages()
        return [{"OutputKey": key, **{k: rewrite_urls(v, self.base_url, stages, owners, http, root)
                                      if k == "OutputValue" else v for k, v in output.items()}}
                for key, output in record.outputs.items()]

    def stage_urls(self, record: StackRecord) -> list[str]:
        stages, owners = self.gateway.stages_by_api(), self.gateway.short_owners()
        http, root = self._http_stages()
        managed = record.managed_view()
        return ([stage_url(self.base_url, api_id, stage, owners)
                 for api_id in managed.apis.values() for stage in sorted(stages.get(api_id, ()))]
                + [http_api_url(self.base_url, api_id, http[api_id], root, "/" if stage == "$default" else f"/{stage}/")
                   for api_id in managed.http_apis.values() for stage in sorted(http.get(api_id, ()))])

    def _http_stages(self) -> tuple[dict[str, set[str]], str | None]:
        """HTTP API id -> its stage names, and the API that holds the server's root."""
        if self.http_apis is None:
            return {}, None
        return ({doc["api"]["apiId"]: set(doc["stages"]) for doc in self.http_apis.documents.values()},
                root_owner(self.http_apis.served()))

    def describe(self, record: StackRecord) -> dict[str, Any]:
        """Lambdalite's JSON view of a stack (GET /_lambdalite/stacks/{name})."""
        managed = record.managed_view()
        return {"stack": record.name, "stackId": record.stack_id, "status": self.under_way.get(record.name,
                                                                                                 record.status),
                "statusReason": record.status_reason, "description": record.description,
                "created": record.created, "updated": record.updated, "parameters": record.parameters,
                "outputs": self.outputs(record), "stages": self.stage_urls(record),
                "functions": managed.functions, "apis": managed.apis, "resources": record.resources,
                "warnings": record.warnings}

    def _result(self, record: StackRecord, changed: bool, warnings: list[str]) -> DeployResult:
        return DeployResult(stack=record.name, status=record.status, changed=changed,
                            outputs=self.outputs(record), stages=self.stage_urls(record), warnings=warnings)

    # delete ---------------------------------------------------------------------------------------
    async def delete(self, name: str) -> None:
        """Remove the stack and everything it made (functions, their test events, APIs)."""
        async with self._lock:
            record = self.get(name)
            managed = record.managed_view()
            for fn_name in managed.functions.values():
                if self.functions.get(fn_name) is not None:
                    self.functions.delete(fn_name, None)   # its saved test events go with it
            for layer in managed.layers.values():   # DeletionPolicy Delete (SAM's RetentionPolicy: Delete)
                if not layer.get("retain", True):
                    layer_name, version = layer["arn"].split(":layer:", 1)[1].rsplit(":", 1)
                    self.functions.layers.delete(layer_name, int(version))
            for api_id in managed.apis.values():
                if api_id in self.gateway.api_ids():
                    self.gateway.delete_rest_api(api_id)
            for api_id in managed.http_apis.values():
                if self.http_apis is not None and api_id in self.http_apis.api_ids():
                    self.http_apis.delete(api_id)
            self._delete_usage(managed)
            for arn in managed.roles.values():
                self.functions.roles.delete(arn)
            self.db.delete_stack(name)
            self._schedule(name, None)
            del self.stacks[name]


    def _delete_usage(self, managed: Managed) -> None:
        """The stack's API keys and usage plans (plans before the keys they hold)."""
        for made in sorted(managed.usage.values(), key=lambda m: m["kind"], reverse=True):
            if self.keys is not None:
                delete_usage(self.keys, made)


def stack_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:cloudformation:{region}:{account}:stack/{name}/{uuid.uuid4()}"


def check_stack_name(name: str) -> None:
    if not STACK_NAME.fullmatch(name):
        raise errors.ValidationError(
            f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy constraint: Member "
            "must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]* (at most 128 characters)")


def _check_hex(digest: str) -> None:
    if not HEX64.fullmatch(digest):
        raise errors.ValidationError(f"{digest!r} is not a SHA-256 in lower-case hex (64 characters)")


def _fingerprint(template_text: str, parameters: Mapping[str, str], code: Mapping[str, str],
                 includes: Mapping[str, Any], test_events: Mapping[str, Mapping[str, str]]) -> str:
    text = json.dumps([template_text, dict(parameters), dict(code), dict(includes),
                       {k: dict(v) for k, v in test_events.items()}], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


async def run_hook(invoker: Invoker, function: str, event: dict[str, Any]) -> str | None:
    """A traffic shift's PreTraffic / PostTraffic hook, as Lambdalite runs it (there is no CodeDeploy
    to report to): the hook function is invoked with CodeDeploy's event; it failed when it raised or
    answered {"status": "Failed"}. None when it succeeded, else why it failed."""
    try:
        fn, arn = invoker.resolve(function, None)
        result = await invoker.invoke(fn, arn, json.dumps(event).encode())
    except errors.ServiceError as e:
        return e.message
    try:
        answer = json.loads(result.body)
    except ValueError:
        answer = None
    if result.function_error:
        if isinstance(answer, dict):
            return f"{answer.get('errorType')}: {answer.get('errorMessage')}"
        return "the hook raised"
    if isinstance(answer, dict) and str(answer.get("status", "")).lower() == "failed":
        return f"it answered {json.dumps(answer)[:300]}"
    return None
