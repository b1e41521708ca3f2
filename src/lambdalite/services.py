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
from typing import Any

from ._version import __version__
from .apis.apigateway import ApiGatewayApi
from .apis.cloudformation import CloudFormationApi
from .apis.lambda_api import LambdaApi
from .apis.logs import LogsApi
from .apis.own import OwnApi
from .apis.stacks import StacksApi
from .build.environments import Environments
from .clock import Clock, RealClock, TestClock
from .config import Settings
from .errors import BuildFailed
from .functions.archive import MB, CodeLimits
from .functions.model import FunctionVersion, Prepared
from .functions.service import FunctionService
from .gateway.control.service import GatewayService
from .gateway.data.plane import DataPlane
from .invoke.events import EventQueue
from .invoke.invoker import Invoker
from .invoke.limiter import ConcurrencyLimiter
from .invoke.schedules import Scheduler
from .invoke.specs import SpecFactory
from .observe.history import History
from .observe.recorder import Recorder
from .pool.interpreters import build_runtime_bundle, find_interpreter, python_version
from .pool.local import LocalProcessBackend
from .pool.types import Backend
from .stacks.service import StackService
from .store import DATABASE_NAME, BlobStore, Database

log = logging.getLogger(__name__)

REAP_EVERY_S = 30.0   # how often idle instances are looked for (on the server clock)


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        home = settings.home
        home.mkdir(parents=True, exist_ok=True)
        self.clock: Clock = TestClock() if settings.test_clock else RealClock()
        self.db = Database(home / DATABASE_NAME)
        self.blobs = BlobStore(home)
        self.recorder = Recorder(home / DATABASE_NAME, settings.flush_interval_s)
        self.environments = Environments(home / "envs", self.db, settings.build_timeout_s, clock=self.clock.now)
        self.backend: Backend = LocalProcessBackend(
            home / "runtime", self.blobs.code, build_runtime_bundle(home), idle_timeout_s=settings.idle_timeout_s,
            clock=self.clock.now, envs_root=self.environments.root, zygotes=settings.zygotes,
            zygote_idle_timeout_s=settings.zygote_idle_timeout_s, max_instances=settings.max_instances,
            record_modules=lambda spec, names: self.functions.init_modules.record(spec.function_name, spec.version,
                                                                                  names))
        limits = CodeLimits(settings.max_zip_mb * MB, settings.max_unzipped_mb * MB)
        self.functions = FunctionService(self.db, self.blobs, settings.region, settings.account, prepare=self.prepare,
                                         limits=limits, build_layer=self.build_layer,
                                         account_concurrency=settings.max_concurrency, warm=self.warm,
                                         provision=self.provision)
        self.specs = SpecFactory(settings.base_url, settings.region, retire=self.backend.retire,
                                 preload=self.functions.init_modules.get)
        self.functions.on_change(lambda name: self.specs.forget(name, self.functions.serving(name)))
        self.invoker = Invoker(self.functions, self.backend, self.recorder, self.specs,
                               ConcurrencyLimiter(self.functions.concurrency))
        self.events = EventQueue(self.db, self.functions, self.invoker, self.clock,
                                 settings.async_concurrency or os.cpu_count() or 1, settings.async_share)
        self.scheduler = Scheduler(self.events, self.clock, settings.region, settings.account)
        self.logs_api = LogsApi(History(self.db), settings.region, settings.account)
        self.lambda_api = LambdaApi(self.functions, self.invoker, settings.base_url, self.events)
        self.gateway = GatewayService(self.db, settings.region, settings.account)
        self.apigateway_api = ApiGatewayApi(self.gateway)
        self.data_plane = DataPlane(self.invoker, settings.account, settings.base_url)
        self.gateway.on_change(lambda: self.data_plane.publish(self.gateway.deployed_stages()))
        self.stacks = StackService(self.db, self.functions, self.gateway, settings.region, settings.account,
                                   settings.base_url, self.clock, invoker=self.invoker, scheduler=self.scheduler)
        self.stacks_api = StacksApi(self.stacks, self.functions)
        self.cloudformation_api = CloudFormationApi(self.stacks)
        self.own_api = OwnApi(self.functions, History(self.db), self.clock, self.health, self.environments.builds,
                              self.backend, self.invoker.traffic, self.invoker, self.scheduler.listing,
                              self.events.replay)
        self._reaper: asyncio.Task[None] | None = None

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
        self.stacks.load()
        self.data_plane.publish(self.gateway.deployed_stages())
        self.recorder.start()
        self._reaper = asyncio.get_running_loop().create_task(self._reap())

    async def stop(self) -> None:
        if self._reaper:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
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

    def health(self) -> dict[str, Any]:
        settings = self.settings
        return {"status": "ok", "version": __version__, "pid": os.getpid(), "region": settings.region,
                "account": settings.account, "functions": len(self.functions.names()),
                "recorderFailures": self.recorder.failures, "recorderDropped": self.recorder.dropped,
                "limits": {"maxZipBytes": self.functions.code.limits.zipped,
                           "maxUnzippedBytes": self.functions.code.limits.unzipped},
                "instanceLimits": self.backend.limits, "cores": os.cpu_count() or 1,
                "asyncEventsPending": self.events.pending}
