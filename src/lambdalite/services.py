"""The running services, wired together once at startup and closed at shutdown.

Everything the server serves hangs off `Services`: the store, the functions, the pool backend and
the invoker, API Gateway's control and data planes, stacks, and the AWS protocol modules over them.
Nothing here answers a request; `server.py` routes requests to the protocol modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import time
from typing import Any

from ._version import __version__
from .access import CredentialBook, RolePolicy
from .apis.apigateway import ApiGatewayApi
from .apis.apigatewayv2 import ApiGatewayV2Api
from .apis.cloudformation import CloudFormationApi
from .apis.cloudwatch import CloudWatchApi
from .apis.lambda_api import LambdaApi
from .apis.logs import LogsApi
from .apis.observe import ObserveApi
from .apis.own import OwnApi
from .apis.stacks import StacksApi
from .build.environments import Environments
from .clock import Clock, RealClock, TestClock, wall_time
from .config import Settings
from .console import Console
from .errors import BuildFailed
from .functions.archive import MB, CodeLimits
from .functions.model import FunctionVersion, Prepared
from .functions.service import FunctionService
from .gateway.control.http_apis import HttpApiService, root_owner
from .gateway.control.keys import KeyService
from .gateway.control.service import GatewayService
from .gateway.data.http_plane import HttpPlane
from .gateway.data.plane import DataPlane
from .gateway.usage import UsageMeter
from .invoke.events import EventQueue
from .invoke.invoker import Invoker
from .invoke.limiter import ConcurrencyLimiter
from .invoke.schedules import Scheduler
from .invoke.specs import SpecFactory
from .observe.history import History
from .observe.metrics import Live, Metrics
from .observe.pricing import PriceTable
from .observe.recorder import Recorder
from .observe.spending import SERVER, Budgets, Spending
from .pool.interpreters import build_runtime_bundle, find_interpreter, python_version
from .pool.local import LocalProcessBackend
from .pool.types import Backend
from .pool.walls import Walls, runtime_files
from .stacks.service import StackService
from .store import DATABASE_NAME, BlobStore, Database, LogEvent

log = logging.getLogger(__name__)

REAP_EVERY_S = 30.0   # how often idle instances are looked for (on the server clock)
EXPIRE_EVERY_S = 3600.0   # how often records and log lines past their retention are deleted (server clock)
EXECUTION_LOG_GROUP = "API-Gateway-Execution-Logs_"   # + "{api id}/{stage}"
BUDGET_GROUP = "/lambdalite/budgets"   # the log group of budget warnings (a function's go to its own too)


class Services:
    def __init__(self, settings: Settings, signed: bool = False) -> None:
        """`signed`: the server checks signatures, so each function instance gets keys of its own."""
        self.settings = settings
        home = settings.home
        home.mkdir(parents=True, exist_ok=True)
        self.clock: Clock = TestClock() if settings.test_clock else RealClock()
        self.db = Database(home / DATABASE_NAME)
        self.blobs = BlobStore(home)
        self.metrics = Metrics(settings.max_metric_series)
        self.recorder = Recorder(home / DATABASE_NAME, settings.flush_interval_s, self.metrics, settings.records)
        self.spending = Spending(PriceTable.load(settings.price_table), settings.free_tier, wall_time(self.clock))
        self.budgets = Budgets(self.db, self.spending, self._budget_warning)
        self.environments = Environments(home / "envs", self.db, settings.build_timeout_s, clock=self.clock.now)
        self.credentials = CredentialBook(wall_time(self.clock), settings.account) if signed else None
        bundle = build_runtime_bundle(home)
        self.walls, self.isolation = Walls.detect(home, self.db.principal_number, must_read=runtime_files(bundle))
        if self.walls is not None:
            self.walls.secure_home()
        else:
            log.warning("function instances run as the server's own user (%s): a function can read what the "
                        "server can; docs/security.md says what that leaves open", self.isolation)
        self.backend: Backend = LocalProcessBackend(
            home / "runtime", self.blobs.code, bundle, idle_timeout_s=settings.idle_timeout_s,
            clock=self.clock.now, envs_root=self.environments.root, zygotes=settings.zygotes,
            zygote_idle_timeout_s=settings.zygote_idle_timeout_s, max_instances=settings.max_instances,
            record_modules=lambda spec, names: self.functions.init_modules.record(spec.function_name, spec.version,
                                                                                  names),
            credentials=self.credentials, walls=self.walls,
            verify_code=lambda digest: self.functions.code.verify(digest))
        limits = CodeLimits(settings.max_zip_mb * MB, settings.max_unzipped_mb * MB)
        self.functions = FunctionService(self.db, self.blobs, settings.region, settings.account, prepare=self.prepare,
                                         limits=limits, build_layer=self.build_layer,
                                         account_concurrency=settings.max_concurrency, warm=self.warm,
                                         provision=self.provision)
        self.specs = SpecFactory(settings.base_url, settings.region, retire=self.backend.retire,
                                 preload=self.functions.init_modules.get)
        self.functions.on_change(lambda name: self.specs.forget(name, self.functions.serving(name)))
        self.functions.on_change(self._maybe_deleted)
        self.invoker = Invoker(self.functions, self.backend, self.recorder, self.specs,
                               ConcurrencyLimiter(self.functions.concurrency), self.budgets)
        self.events = EventQueue(self.db, self.functions, self.invoker, self.clock,
                                 settings.async_concurrency or os.cpu_count() or 1, settings.async_share)
        self.scheduler = Scheduler(self.events, self.clock, settings.region, settings.account)
        caught_up = History(self.db, self.recorder.sync)
        self.logs_api = LogsApi(caught_up, settings.region, settings.account)
        self.cloudwatch_api = CloudWatchApi(caught_up)
        self.observe_api = ObserveApi(self.functions, caught_up, self.metrics, self.live, self.budgets)
        self.lambda_api = LambdaApi(self.functions, self.invoker, settings.base_url, self.events)
        self.gateway = GatewayService(self.db, settings.region, settings.account)
        # API keys' rates refill on the server clock; their quota periods turn with its wall time
        self.usage_meter = UsageMeter(self.clock.now, wall_time(self.clock))
        self.keys = KeyService(self.db, settings.account, lambda api_id, stage: stage in (
            self.gateway.documents.get(api_id) or {}).get("stages", {}))
        self.data_plane = DataPlane(self.invoker, settings.account, settings.base_url, self._execution_log,
                                    self._access_log, settings.region, self._apigateway_may_invoke,
                                    clock=self.clock.now, meter=self.usage_meter)
        self.apigateway_api = ApiGatewayApi(self.gateway, self.keys, self.usage_meter,
                                            self.data_plane.test_invoke_authorizer, self._test_invoke_method)
        self.keys.on_change(self.data_plane.use_keys)
        self.keys.on_key_left = self.usage_meter.reset
        self.gateway.on_change(lambda: self.data_plane.publish(self.gateway.deployed_stages()))
        self.gateway.on_change(lambda: self.keys.forget_missing(self.gateway.api_ids()))
        self.http_apis = HttpApiService(self.db, settings.region)
        self.http_plane = HttpPlane(self.invoker, settings.account, settings.region, self.clock.now, self._access_log,
                                    self._apigateway_may_invoke)
        self.http_apis.on_change(lambda: self.http_plane.publish(self.http_apis.served(),
                                                                 root_owner(self.http_apis.served())))
        # a REST short form /{stage}/... and the HTTP root: the older owner wins (docs/http-apis.md)
        self.gateway.root_since = self.http_apis.root_since
        self.gateway.shadowed_by = self.http_apis.shadowed_by
        self.http_apis.rest_dates = lambda: (int(stage.get("createdDate") or 0)
                                             for doc in self.gateway.documents.values()
                                             for stage in doc["stages"].values())
        self.apigatewayv2_api = ApiGatewayV2Api(self.http_apis)
        self.stacks = StackService(self.db, self.functions, self.gateway, settings.region, settings.account,
                                   settings.base_url, self.clock, invoker=self.invoker, scheduler=self.scheduler,
                                   http_apis=self.http_apis, keys=self.keys)
        self.stacks_api = StacksApi(self.stacks, self.functions)
        prices = self.spending.prices
        self.console = Console(self.functions, self.gateway, caught_up, settings.base_url, self.stacks,
                               (prices.per_request, (prices.tiers.get("x86_64") or next(iter(prices.tiers.values())))[0]
                                .per_gb_second))

        self.cloudformation_api = CloudFormationApi(self.stacks)
        self.own_api = OwnApi(self.functions, caught_up, self.clock, self.health, self.environments.builds,
                              self.backend, self.invoker.traffic, self.invoker, self.scheduler.listing,
                              self.events.replay, lambda: {"apis": self.http_apis.listing(settings.base_url),
                                                           "shadows": self.gateway.shadowed()})
        self._reaper: asyncio.Task[None] | None = None
        self._expirer: asyncio.Task[None] | None = None
        self._execution_stream = secrets.token_hex(16)   # the execution logs' stream, one per server run

    def prepare(self, fn: FunctionVersion) -> Prepared:
        """The functions' prepare hook (in a worker thread): the interpreter, and the dependency
        environment of the code's requirements.txt, built (or found) before the function is Active."""
        python, warning = find_interpreter(fn.runtime)
        requirements = self.blobs.code_dir(fn.code_hex) / "requirements.txt"
        if not requirements.is_file():
            return Prepared(warning=warning)
        try:
            key, lock = self.environments.prepare(requirements.read_text(errors="replace"), python,
                                                  python_version(fn.runtime), fn.name)
        except BuildFailed as e:
            return Prepared(warning=warning, failure=str(e), reason_code="DependencyBuildFailed")
        return Prepared(warning=warning, environment=key, requirements_lock=lock)

    async def warm(self, fn: FunctionVersion) -> Prepared | None:
        """The functions' warm hook: a function with LAMBDALITE_SNAPSHOT=init gets its snapshot
        template (init run) before it is Active; init's error fails the create or update."""
        spec = self.specs.build(fn)
        if not spec.snapshot:
            return None
        failed = await self.backend.prepare(spec)
        if failed is None:
            return None
        try:
            error = json.loads(failed.body)
            reason = f"Init error: {error.get('errorType')}: {error.get('errorMessage')}"
        except (ValueError, AttributeError):
            reason = "Init error"
        timed_out = failed.error_type == "Sandbox.Timedout"
        code = "FunctionError.InitTimeout" if timed_out else "FunctionError.RuntimeInitError"
        if failed.output:
            log.warning("function %s: its snapshot's init failed:\n%s", fn.name, failed.output.rstrip())
        return Prepared(failure=reason, reason_code=code)

    async def provision(self, fn: FunctionVersion, count: int) -> str | None:
        """The functions' provision hook: `count` instances of a version kept ready; None, or why not."""
        failed = await self.backend.provision(self.specs.spec_for(fn), count)
        if failed is None:
            return None
        try:
            error = json.loads(failed.body)
            return f"Init error: {error.get('errorType')}: {error.get('errorMessage')}"
        except (ValueError, AttributeError):
            return "Init error"

    def build_layer(self, digest: str, runtime: str) -> str:
        """A layer's requirements.txt built (a SAM layer's BuildMethod: python3.X); BuildFailed otherwise."""
        requirements = self.blobs.code_dir(digest) / "requirements.txt"
        text = requirements.read_text(errors="replace") if requirements.is_file() else ""
        key, _ = self.environments.prepare(text, find_interpreter(runtime)[0], python_version(runtime),
                                           f"layer {digest[:12]}")
        return key

    async def start(self) -> None:
        self.environments.start()
        self.functions.load()
        self.events.start()
        self.scheduler.start()
        self.gateway.load()
        self.keys.load()
        self.http_apis.load()
        self.stacks.load()
        self.data_plane.publish(self.gateway.deployed_stages())
        self.spending.load(self.db)
        self.budgets.load()
        self.recorder.start()
        self._reaper = asyncio.get_running_loop().create_task(self._reap())
        self._expirer = asyncio.get_running_loop().create_task(self._expire())

    async def stop(self) -> None:
        for task in (self._reaper, self._expirer):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.scheduler.close()
        await self.events.close()
        await self.functions.drain()
        await self.invoker.traffic.close()
        await self.specs.drain()
        await self.backend.close()
        self.recorder.stop()
        self.db.close()

    async def _reap(self) -> None:
        every = min(REAP_EVERY_S, max(self.settings.idle_timeout_s, 1.0))
        while True:
            await self.clock.sleep(every)
            await self.backend.reap_idle()
            snapshots = self.functions.snapshots()
            in_use = {e for fn in snapshots for e in (fn.environment, *fn.layer_environments) if e}
            in_use |= self.functions.layers.environments()
            await asyncio.to_thread(self.environments.remove_unused, in_use)

    async def _expire(self) -> None:
        """Records and log lines past their retention (or the row cap) deleted, every hour on the server
        clock; the first pass at startup."""
        settings = self.settings
        while True:
            before_ms = int((time.time() - settings.retention_days * 86400) * 1000)
            try:
                records, lines = await asyncio.to_thread(self.db.expire, before_ms, settings.max_records,
                                                         settings.max_records)
                if records or lines:
                    log.info("retention: %d invocation records and %d invocations' log lines deleted", records, lines)
            except Exception:  # a busy or full disk: try again next time
                log.exception("retention: could not delete old records")
            await self.clock.sleep(EXPIRE_EVERY_S)

    def _execution_log(self, api_id: str, stage: str, request_id: str, lines: list[str]) -> None:
        """API Gateway's execution log of one request, in its group of the Logs API."""
        self.recorder.note(LogEvent(f"{EXECUTION_LOG_GROUP}{api_id}/{stage}", int(time.time() * 1000), request_id,
                                    "\n".join(lines) + "\n", self._execution_stream))

    def _apigateway_may_invoke(self, invoked_arn: str, source_arn: str) -> bool:
        """Whether the invoked function's resource policy (its alias's or version's when qualified) lets
        API Gateway invoke it from `source_arn`."""
        parts = invoked_arn.split(":")   # arn aws lambda region account function name [qualifier]
        name, qualifier = parts[6], (parts[7] if len(parts) > 7 else None)
        key = name if qualifier in (None, "$LATEST") else f"{name}:{qualifier}"
        return self.functions.policies.service_may_invoke(key, "apigateway.amazonaws.com", source_arn)

    def _access_log(self, group: str, request_id: str, line: str) -> None:
        """One request's line in an API stage's access log group (its AccessLogSettings)."""
        self.recorder.note(LogEvent(group, int(time.time() * 1000), request_id, line + "\n", self._execution_stream))

    def _budget_warning(self, scope: str, text: str) -> None:
        now_ms = int(time.time() * 1000)
        self.metrics.budget_warnings += 1
        self.recorder.note(LogEvent(BUDGET_GROUP, now_ms, "", text, "warnings"))
        if scope != SERVER:
            self.recorder.note(LogEvent(scope, now_ms, "", text, "lambdalite/budget"))

    def _maybe_deleted(self, name: str) -> None:
        if self.functions.get(name) is None:
            self.metrics.forget(name)
            self.budgets.forget(name)

    def live(self) -> Live:
        """The gauges of /_lambdalite/metrics, read now."""
        concurrent: dict[str, int] = {}
        instances: dict[tuple[str, str], int] = {}
        for i in self.backend.instances():
            instances[(i.function_name, i.version)] = instances.get((i.function_name, i.version), 0) + 1
            if i.busy:
                concurrent[i.function_name] = concurrent.get(i.function_name, 0) + 1
        builds: dict[str, int] = {}
        for build in self.environments.builds():
            phase = str(build.get("phase"))
            builds[phase] = builds.get(phase, 0) + 1
        budgets = {b["function"] or SERVER: b["usedRatio"] for b in self.budgets.listing()
                   if b["usedRatio"] is not None}
        return Live(concurrent, instances, len(self.backend.zygote_pids()), self.events.pending,
                    self.events.oldest_age(), builds, budgets, self.metrics.budget_warnings, self.recorder.dropped,
                    self.recorder.failures)

    async def _test_invoke_method(self, api_id: str, resource_id: str, verb: str,
                                  body: dict[str, Any]) -> dict[str, Any]:
        """TestInvokeMethod: the method as the API is now, run through the data plane."""
        variables = {str(k): str(v) for k, v in (body.get("stageVariables") or {}).items()}
        stage, path = self.gateway.test_stage(api_id, resource_id, verb, variables)
        return await self.data_plane.test_invoke_method(stage, verb, path, body)

    def role_policy(self, arn: str) -> RolePolicy | None:
        """What an execution role a stack defined states; None for a role no stack defined."""
        return self.functions.roles.get(arn)

    def health(self) -> dict[str, Any]:
        settings = self.settings
        return {"status": "ok", "version": __version__, "pid": os.getpid(), "region": settings.region,
                "account": settings.account, "functions": len(self.functions.names()),
                "recorderFailures": self.recorder.failures, "recorderDropped": self.recorder.dropped,
                "limits": {"maxZipBytes": self.functions.code.limits.zipped,
                           "maxUnzippedBytes": self.functions.code.limits.unzipped},
                "instanceLimits": self.backend.limits, "cores": os.cpu_count() or 1,
                "isolation": "users" if self.walls is not None else f"none: {self.isolation}",
                "asyncEventsPending": self.events.pending}
