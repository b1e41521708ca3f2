"""The local process backend: each instance is a worker process on this machine.

Per spec key, a `_KeyPool` keeps idle instances (most recently used first), the instances busy
with an invocation, and the invocations waiting for one. An invocation takes an idle instance;
when there is none it starts one and takes whichever is ready first: the new instance, or a busy
one of the same key that frees up (the new one then joins the idle set).

A spec names its code and dependency environment by hash; this backend resolves them (once per key)
to a `Launch`: the code's folder under `code_root`, the environment under `envs_root` (its .pth
files honoured), an installed interpreter for the runtime, the runtime bundle.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import errors
from ..access import CredentialBook
from ..access.credentials import LIFETIME_S
from .cgroups import Cgroups, InstanceGroup
from .instance import Instance
from .interpreters import find_interpreter, python_version
from .launch import Launch, ensure_launcher, spawn
from .process import ChildProcess, WorkerProcess
from .tmpdirs import TempDirs, usage_mb
from .types import InstanceInfo, InstanceSpec, Invocation, Outcome
from .walls import Walls
from .zygote import Zygote, zygote_environment

log = logging.getLogger(__name__)

_Waiter = asyncio.Future["Instance | Outcome"]
_Worker = tuple[WorkerProcess, socket.socket, int, "InstanceGroup | None"]
WATCHDOG_S = 0.1          # how often busy instances' memory is looked at where no cgroup limits it
ARM_AFTER_S = 0.02          # a new spare is armed this long after one was taken
SPARE_PATIENCE_S = 0.05    # a fork waits this long at most for a spare being armed (instead of a new child)
SPARE_YOUNG_S = 0.05       # a spare taken sooner after it was forked may still be joining its cgroups ...
SPARES_WHEN_BUSY = 2       # ... and its zygote keeps this many spares from then on (until it stops)
TMP_CHECK_S = 1.0          # an instance's TMPDIR is measured at most this often (after an invocation)
SPARE_MEMORY_MB = 10240   # a spare's group until it is taken (then its function's MemorySize)
SNAPSHOT_INIT_S = 130.0   # a snapshot's init may take max(130 s, the timeout), as SnapStart allows
MAX_ZYGOTE_DEATHS = 3   # a zygote that dies this often in a row is not started again for its key
STOP_TIMEOUT_S = 10.0   # SIGKILL is not refused; this only guards against a process stuck in the kernel
# An instance is stopped (when idle, or after its invocation) before its session credentials expire.
MAX_INSTANCE_AGE_S = LIFETIME_S - 3600.0


class _KeyPool:
    def __init__(self, key: str, spec: InstanceSpec) -> None:
        self.key = key
        self.spec = spec
        self.idle: list[Instance] = []
        self.busy: set[Instance] = set()
        self.waiters: collections.deque[_Waiter] = collections.deque()
        self.starting = 0                 # instances being started (spawned or forked, then init)
        self.retired = False
        self.duration_s = 0.0             # recent invocations' duration (moving average)
        self.init_s: float | None = None  # the last init's duration (None: none finished yet)
        self.patience: asyncio.TimerHandle | None = None
        self.provisioned = 0              # instances to keep (provisioned concurrency)

    def waiting(self) -> int:
        return sum(1 for w in self.waiters if not w.done())


class LocalProcessBackend:
    """pool.types.Backend on local processes. `reap_idle()` is meant to be called periodically by
    the server; idle age is measured with the injected `clock`. `code_root/<sha256 hex>/` holds each
    archive unpacked; `bundle` is the runtime bundle (boto3) every function can import."""

    def __init__(self, runtime_dir: Path, code_root: Path, bundle: Path, idle_timeout_s: float = 600,
                 clock: Callable[[], float] = time.monotonic, envs_root: Path | None = None,
                 zygotes: bool = True, zygote_idle_timeout_s: float = 600, cgroups: bool = True,
                 max_instances: int | None = None, cores: int | None = None,
                 record_modules: Callable[[InstanceSpec, list[str]], object] | None = None,
                 credentials: CredentialBook | None = None, walls: Walls | None = None,
                 verify_code: Callable[[str], str | None] | None = None) -> None:
        self._launcher = ensure_launcher(Path(runtime_dir))
        self._tmp = TempDirs(Path(runtime_dir))
        self._code_root = code_root
        self._bundle = bundle
        self._envs_root = envs_root or runtime_dir / "envs"
        self._launches: dict[str, Launch] = {}
        self._idle_timeout_s = idle_timeout_s
        self._clock = clock
        self._pools: dict[str, _KeyPool] = {}
        self._instances: set[Instance] = set()
        self._starting: set[asyncio.Task[None]] = set()
        self._in_flight = 0
        self._drained: asyncio.Event | None = None
        self._closing = False
        self._use_zygotes = zygotes
        self._zygote_idle_timeout_s = zygote_idle_timeout_s
        self._zygotes: dict[object, Zygote] = {}
        self._zygote_starts: dict[object, asyncio.Future[Zygote | None]] = {}
        self._modules: dict[object, list[str]] = {}      # per zygote key: what inits imported, in order
        self._banned: dict[object, set[str]] = {}        # per zygote key: modules never to preload
        self._seeded: set[str] = set()                   # spec keys whose stored preload is in _modules
        self._zygote_deaths: dict[object, int] = {}      # per zygote key: deaths not followed by a fork
        self._fresh_logged: set[object] = set()
        self._templates: dict[str, Zygote] = {}                     # per spec key: its snapshot template
        self._template_starts: dict[str, asyncio.Future[Zygote]] = {}
        self._cgroups = Cgroups.detect() if cgroups else None
        self._cores = cores or os.cpu_count() or 1
        self._start_slots = max(2, self._cores)
        self._max_instances = max_instances
        self._watchdog: asyncio.TimerHandle | None = None   # MemorySize where no cgroup enforces it
        self._report_modules = record_modules   # keeps what each init imported with its function version
        self._provision_slots = asyncio.Semaphore(self._start_slots)
        self._credentials = credentials   # each instance's keys (None: the placeholders any server takes)
        self._walls = walls               # per-function users (None: instances run as the server's user)
        self._verify_code = verify_code   # digest -> why its folder was unpacked again, or None (intact)
        if walls is not None:
            walls.open_to_all(self._tmp.root.parent)
            os.chmod(self._tmp.root, 0o711)
            walls.open_to_all(self._launcher)
            walls.open_to_all(bundle)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def limits(self) -> str:
        return "cgroup-v1" if self._cgroups is not None else "watchdog"

    def instance_pids(self, key: str | None = None) -> list[int]:
        """The pids of the live instances (of one key, or all): for tests, metrics and the console."""
        return [i.pid for i in self._instances if key is None or i.spec.key == key]

    def instances(self) -> list[InstanceInfo]:
        busy = {i for pool in self._pools.values() for i in pool.busy}
        return [InstanceInfo(i.pid, i.spec.function_name, i.spec.version, i in busy, i.zygote_pid)
                for i in self._instances if i.alive]

    async def prepare(self, spec: InstanceSpec) -> Outcome | None:
        if not spec.snapshot:
            return None
        try:
            await self._template(spec)
        except errors.SnapshotInitFailed as failed:
            return _init_error(failed)
        return None

    # -- Backend ---------------------------------------------------------------------------------

    async def invoke(self, spec: InstanceSpec, invocation: Invocation) -> Outcome:
        if self._closing:
            raise errors.ServiceFailure("The server is shutting down.")
        self._in_flight += 1
        try:
            pool = self._pool(spec)
            got = self._take_idle(pool) or await self._wait_for_instance(pool)
            if isinstance(got, Outcome):
                return got   # the new instance failed its init: that is this invocation's answer
            return await self._run(pool, got, invocation)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0 and self._drained is not None:
                self._drained.set()

    async def retire(self, key: str) -> None:
        template = self._templates.pop(key, None)
        if template is not None:
            template.kill("its function version changed")
        self._launches.pop(key, None)
        pool = self._pools.pop(key, None)
        if pool is None:
            return
        pool.retired = True
        pool.provisioned = 0
        idle, pool.idle = pool.idle, []
        await self._stop(idle)

    async def reap_idle(self) -> int:
        """Stop the instances idle for idle_timeout_s or longer; returns how many were stopped."""
        now = self._clock()
        old: list[Instance] = []
        for pool in self._pools.values():
            keep = [i for i in pool.idle if not self._expired(i, now)]
            old += [i for i in pool.idle if self._expired(i, now)]
            pool.idle = keep
        await self._stop(old)
        tables: tuple[dict[Any, Zygote], ...] = (self._zygotes, self._templates)
        for table in tables:
            for key, zygote in list(table.items()):
                if not zygote.children and now - zygote.empty_since >= self._zygote_idle_timeout_s:
                    del table[key]
                    zygote.kill("idle")
        return len(old)

    def _expired(self, instance: Instance, now: float) -> bool:
        """Idle past the idle timeout (unless provisioned), or so old its keys are about to expire."""
        if _too_old(instance, now):
            return True
        return not instance.provisioned and now - instance.last_used >= self._idle_timeout_s

    async def close(self, drain_s: float = 5.0) -> None:
        """Refuse new invocations, let running ones finish for up to drain_s, then kill them all."""
        self._closing = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._in_flight:
            self._drained = asyncio.Event()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._drained.wait(), drain_s)
        await self._stop(list(self._instances))
        if self._starting:
            await asyncio.gather(*self._starting, return_exceptions=True)
        await self._stop(list(self._instances))   # any that finished starting meanwhile
        self._pools.clear()
        zygotes = [*self._zygotes.values(), *self._templates.values()]
        self._zygotes.clear()
        self._templates.clear()
        for zygote in zygotes:
            zygote.kill("the server is closing")
        if zygotes:
            await asyncio.wait([asyncio.shield(z.exited) for z in zygotes], timeout=STOP_TIMEOUT_S)
        if self._cgroups is not None:
            self._cgroups.close()
        self._tmp.close()

    # -- acquiring and releasing -----------------------------------------------------------------

    def _pool(self, spec: InstanceSpec) -> _KeyPool:
        pool = self._pools.get(spec.key)
        if pool is None:
            pool = self._pools[spec.key] = _KeyPool(spec.key, spec)
        return pool

    @staticmethod
    def _take_idle(pool: _KeyPool) -> Instance | None:
        while pool.idle:
            instance = pool.idle.pop()
            if instance.alive:
                pool.busy.add(instance)
                return instance
        return None

    async def _wait_for_instance(self, pool: _KeyPool) -> Instance | Outcome:
        """Queue for the next instance of the key that is free: a busy one that finishes, or one
        that `_scale` starts. The first init error of an instance started meanwhile may be the answer."""
        waiter: _Waiter = asyncio.get_running_loop().create_future()
        pool.waiters.append(waiter)
        self._scale(pool)
        try:
            return await waiter
        except asyncio.CancelledError:
            # Cancelled just after an instance was handed over: give it back, do not leak it.
            if waiter.done() and not waiter.cancelled() and isinstance(waiter.result(), Instance):
                self._release(pool, waiter.result())  # type: ignore[arg-type]
            raise
        finally:
            with contextlib.suppress(ValueError):
                pool.waiters.remove(waiter)

    def _scale(self, pool: _KeyPool, patient: bool = True) -> None:
        """Start instances for the invocations waiting without one, as the machine allows.

        The rule (docs/instances.md, "How many"): at most `start_slots` instances of a key start at
        once (an init is CPU work: more at once only slows each); at most `max_instances` live per
        key when set; and when the key already has `cores` busy instances that finish faster than
        an instance starts, a waiting invocation first waits that long for one of them (`patient`)
        before an instance is started for it."""
        if self._closing:
            return
        need = pool.waiting() - pool.starting
        while need > 0 and pool.starting < self._start_slots:
            if self._max_instances is not None and \
                    len(pool.busy) + len(pool.idle) + pool.starting >= self._max_instances:
                return   # a busy instance will free up and serve the next waiter
            if patient and len(pool.busy) >= self._cores and pool.init_s is not None \
                    and pool.duration_s < pool.init_s:
                if pool.patience is None:
                    wait = min(pool.init_s, max(0.001, 2 * pool.duration_s))
                    pool.patience = asyncio.get_running_loop().call_later(wait, self._impatient, pool)
                return
            pool.starting += 1
            need -= 1
            task = asyncio.create_task(self._start(pool.spec, pool))
            self._starting.add(task)
            task.add_done_callback(self._starting.discard)

    def _impatient(self, pool: _KeyPool) -> None:
        pool.patience = None
        self._scale(pool, patient=False)

    def _answer_first(self, pool: _KeyPool, answer: Instance | Outcome | BaseException) -> None:
        """Give `answer` to the invocation that has waited longest (an init error, a failed start)."""
        for waiter in pool.waiters:
            if not waiter.done():
                _answer(waiter, answer)
                return
        if isinstance(answer, BaseException):
            log.info("instance start failed after the invocations it was for were served: %s", answer)

    async def _start(self, spec: InstanceSpec, pool: _KeyPool) -> None:
        """Start an instance; once ready it serves the first waiting invocation (or goes idle). Its
        init failure is the answer of the invocation that has waited longest."""
        started = asyncio.get_running_loop().time()
        try:
            failure = await self._start_instance(spec, pool)
            if failure is not None:
                self._answer_first(pool, failure)
        finally:
            pool.starting -= 1
            took = asyncio.get_running_loop().time() - started
            pool.init_s = took if pool.init_s is None else 0.5 * pool.init_s + 0.5 * took
            if pool.waiters:
                self._scale(pool)

    async def _start_instance(self, spec: InstanceSpec, pool: _KeyPool,
                              provisioned: bool = False) -> Outcome | BaseException | None:
        """Start an instance and hand it to the pool once it is ready: None, or why it could not
        start (init's error as an Outcome, or an InstanceFailure)."""
        extra_env = {"AWS_LAMBDA_INITIALIZATION_TYPE": "provisioned-concurrency"} if provisioned else {}
        instance = await self._spawn(spec, extra_env)
        if not isinstance(instance, Instance):
            return instance
        launch = self._launch(spec)
        self._instances.add(instance)
        instance.on_dead = lambda dead: self._forget(pool, dead)
        instance.on_free = lambda free: self._release(pool, free)
        try:
            init_error = await instance.wait_ready(max(spec.init_timeout_s, spec.timeout_s))
        except Exception as failure:   # InstanceFailure; anything else must not leave a waiter hanging
            instance.kill()
            self._forget(pool, instance)
            return failure if isinstance(failure, errors.InstanceFailure) \
                else errors.InstanceFailure(f"instance start failed: {failure!r}")
        if init_error is not None:
            self._forget(pool, instance)
            return init_error
        if instance.init_modules:
            self._inited(launch, spec, instance.init_modules)
        if provisioned:
            instance.provisioned = True
            instance.forget_init()   # its first invocation had no init to wait for
        self._release(pool, instance)
        return None

    async def _spawn(self, spec: InstanceSpec, extra_env: dict[str, str]) -> Instance | Outcome | BaseException:
        """A new instance of `spec`, its init under way; or why none could start."""
        tmp = None
        try:
            launch = self._launch(spec)
            self._check_code(spec, launch)
            tmp = self._tmp.make(launch.identity.uid if launch.identity is not None else None)
            stream = instance_stream(spec.version)   # each instance writes a log stream of its own
            own = {**extra_env, "TMPDIR": str(tmp), "AWS_LAMBDA_LOG_STREAM_NAME": stream}
            issued = self._issue(spec)
            own.update(issued)
            key_id = issued.get("AWS_ACCESS_KEY_ID")
            try:
                process, sock, pipe_fd, group = await self._new_worker(launch, spec, own)
            except BaseException:
                self._revoke(key_id)
                raise
            try:
                instance = await Instance.start(spec, process, sock, pipe_fd)
            except BaseException:
                self._revoke(key_id)
                if group is not None:
                    group.discard(asyncio.get_running_loop())
                raise
            instance.zygote_pid = getattr(process, "zygote_pid", None)
            instance.group = group
            instance.tmp = tmp
            instance.log_stream = stream
            instance.key_id = key_id
            instance.started_at = self._clock()
            if spec.nice:
                _lower_priority(instance.pid, spec.nice)
            return instance
        except errors.SnapshotInitFailed as failed:   # the template's init failed: that is the answer
            if tmp is not None:
                self._tmp.remove(tmp)
            return _init_error(failed)
        except Exception as exc:   # could not even spawn (no such interpreter, no code dir)
            if tmp is not None:
                self._tmp.remove(tmp)
            return errors.InstanceFailure(f"could not start a worker for {spec.function_name}: {exc}")

    def _check_code(self, spec: InstanceSpec, launch: Launch) -> None:
        """Before an instance starts: its code and layer folders are as unpacked (else unpacked again
        from their archives, and said why), and each folder it reads is its group's (a folder removed
        as unused and unpacked or built again is a new one)."""
        digests = (spec.code, *(d for d, _ in spec.layers))
        if self._verify_code is not None:
            for digest in digests:
                reason = self._verify_code(digest)
                if reason is not None:
                    log.warning("the code folder %s of %s was unpacked again from its archive before a cold start: "
                                "%s", digest[:12], spec.function_name, reason)
        if self._walls is not None:
            for folder in (*(self._code_root / d for d in digests), *(Path(p) for p in launch.site_dirs)):
                self._walls.own(folder)

    def _issue(self, spec: InstanceSpec) -> dict[str, str]:
        """An instance's AWS_ACCESS_KEY_ID / _SECRET_ACCESS_KEY / _SESSION_TOKEN: its own session keys,
        or placeholders where the server checks no signature (boto3 needs some to sign with)."""
        if self._credentials is None:
            return {"AWS_ACCESS_KEY_ID": "lambdalite", "AWS_SECRET_ACCESS_KEY": "lambdalite",
                    "AWS_SESSION_TOKEN": "lambdalite"}
        return self._credentials.issue(spec.function_name, spec.role).environment()

    def _revoke(self, key_id: str | None) -> None:
        if key_id is not None and self._credentials is not None:
            self._credentials.revoke(key_id)

    # -- provisioned concurrency ------------------------------------------------------------------

    async def provision(self, spec: InstanceSpec, count: int) -> Outcome | None:
        """Keep `count` instances of `spec` started, initialised and never reaped (0: none; those
        there were become ordinary ones). None once they are ready, else the first one's failure."""
        pool = self._pool(spec)
        pool.provisioned = count
        have = [i for i in self._instances if i.spec.key == spec.key and i.provisioned and i.alive]
        for extra in have[count:]:
            extra.provisioned = False
            extra.last_used = self._clock()
        need = count - len(have)
        if need <= 0:
            return None
        results = await asyncio.gather(*(self._start_provisioned(spec, pool) for _ in range(need)))
        failure = next((r for r in results if r is not None), None)
        if failure is None:
            return None
        if isinstance(failure, Outcome):
            return failure
        return Outcome(body=json.dumps({"errorType": "Runtime.Unknown", "errorMessage": str(failure)}).encode(),
                       function_error=True, error_type="Runtime.Unknown", output="", duration_ms=0.0,
                       max_memory_mb=0)

    async def _start_provisioned(self, spec: InstanceSpec, pool: _KeyPool) -> Outcome | BaseException | None:
        async with self._provision_slots:   # as many inits at once as the cores can run
            return await self._start_instance(spec, pool, provisioned=True)

    def _replace_provisioned(self, pool: _KeyPool) -> None:
        """A provisioned instance ended (crashed, timed out): start another, as Lambda does."""
        live = sum(1 for i in self._instances if i.spec.key == pool.key and i.provisioned and i.alive)
        if self._closing or pool.retired or live >= pool.provisioned:
            return
        task = asyncio.get_running_loop().create_task(self._replace_one(pool))
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _replace_one(self, pool: _KeyPool) -> None:
        failure = await self._start_provisioned(pool.spec, pool)
        if failure is not None:   # not retried: an init that fails would fail again
            log.warning("a provisioned instance of %s could not be replaced: %s", pool.spec.function_name, failure)

    def _inited(self, launch: Launch, spec: InstanceSpec, modules: list[str]) -> None:
        """An init imported `modules`: its zygote imports them ahead of the next forks, and the
        function version keeps them (for the zygote after a restart)."""
        if self._use_zygotes:
            self._record_modules(launch.zygote_key, modules)
        if self._report_modules is not None:
            try:
                self._report_modules(spec, modules)
            except Exception:   # the store refused: the zygote still has them in memory
                log.exception("could not keep the modules init imported for %s", spec.function_name)

    # -- zygotes ----------------------------------------------------------------------------------

    async def _new_worker(self, launch: Launch, spec: InstanceSpec, extra_env: dict[str, str]) -> _Worker:
        """A worker for `launch` and its cgroups (None where the machine has none): forked from
        its snapshot template (a snapshot spec), else from its zygote when there is one, else a
        fresh interpreter. It is in its cgroups before any of the function's code runs."""
        if spec.snapshot:
            template = await self._template(spec)   # errors.SnapshotInitFailed: init fails now
            try:
                return await self._fork(template, launch, spec, extra_env)
            except errors.ZygoteUnavailable as exc:
                self._log_fresh(spec.key, f"its snapshot template is gone: {exc}")
        if self._use_zygotes:
            if spec.preload and spec.key not in self._seeded:   # what its inits imported before a restart
                self._seeded.add(spec.key)
                self._record_modules(launch.zygote_key, list(spec.preload))
            zygote = await self._zygote(launch)
            if zygote is not None:
                try:
                    forked = await self._fork(zygote, launch, spec, extra_env)
                except errors.ZygoteUnavailable as exc:
                    self._log_fresh(launch.zygote_key, str(exc))
                else:
                    self._zygote_deaths.pop(launch.zygote_key, None)
                    return forked
        group = self._cgroups.create(spec.memory_mb, _uid(launch)) if self._cgroups is not None else None
        cgroups = tuple(str(d) for d in group.dirs) if group is not None else ()
        try:
            spawned = spawn(launch, self._launcher, cgroups, group.peak_file if group is not None else None, extra_env)
        except BaseException:
            if group is not None:
                group.discard(asyncio.get_running_loop())
            raise
        return ChildProcess(spawned.process, asyncio.get_running_loop()), spawned.sock, spawned.pipe_fd, group

    async def _fork(self, zygote: Zygote, launch: Launch, spec: InstanceSpec, extra_env: dict[str, str]) -> _Worker:
        """Fork from `zygote` (or a template): its spare when it has one ready (already in its
        cgroups: the slow part of a cold start is done), else a new child that joins new ones."""
        # While it imports what a preload named, a fork goes through the zygote (ordered after the
        # imports): a spare, forked before them, would lack them.
        spare = await zygote.next_spare(SPARE_PATIENCE_S) if self._cgroups is not None and not zygote.preloading \
            else None
        if spare is not None:
            if zygote.spares_taken and asyncio.get_running_loop().time() - spare.armed_at < SPARE_YOUNG_S:
                zygote.spare_target = SPARES_WHEN_BUSY   # it may still be joining: keep one more ahead from now on
            zygote.spares_taken += 1   # (the first is armed with the zygote, and taken young by its first fork)
            try:
                spare.group.limit(spec.memory_mb)
            except OSError as exc:   # not expected (a spare uses next to nothing): do without it
                log.warning("a spare of zygote %s could not take MemorySize %s: %s", zygote.pid, spec.memory_mb, exc)
                spare.sock.close()
                spare.process.kill()
                spare.group.discard(asyncio.get_running_loop())
                spare = None
        group: InstanceGroup | None
        if spare is not None:
            group = spare.group
        else:
            group = self._cgroups.create(spec.memory_mb, _uid(launch)) if self._cgroups is not None else None
        try:
            # With a spare, the cgroups are named too: the zygote may have dropped that spare (a
            # preload came first) and then forks a new child, which must join the same group.
            process, sock, pipe_fd = await zygote.fork(
                launch, tuple(str(d) for d in group.dirs) if group is not None else (),
                group.peak_file if group is not None else None, spare=spare, extra_env=extra_env)
        except BaseException:
            if group is not None:
                group.discard(asyncio.get_running_loop())
            raise
        asyncio.get_running_loop().call_later(ARM_AFTER_S, self._arm, zygote)   # off this cold start's path
        return process, sock, pipe_fd, group

    def _arm(self, zygote: Zygote) -> None:
        """Keep a spare ready per zygote and template, two for those whose cold starts came faster
        than a spare joins its cgroups (only worth it with cgroups: joining them is what a spare
        does ahead of time)."""
        if self._cgroups is None or self._closing:
            return
        for _ in range(zygote.spare_target - zygote.spares_coming):
            if not zygote.alive:
                return
            try:
                zygote.arm(self._cgroups.create(SPARE_MEMORY_MB, zygote.owner))
            except OSError as exc:
                log.info("no spare for zygote %s: %s", zygote.pid, exc)
                return

    def _spare_lost(self, zygote: Zygote) -> None:
        now = self._clock()
        if now - zygote.rearmed_at >= 1.0:   # never a tight loop of spares dying
            zygote.rearmed_at = now
            self._arm(zygote)

    async def _zygote(self, launch: Launch) -> Zygote | None:
        key = launch.zygote_key
        zygote = self._zygotes.get(key)
        if zygote is not None and zygote.alive:
            return zygote
        starting = self._zygote_starts.get(key)
        if starting is None:
            if self._zygote_deaths.get(key, 0) >= MAX_ZYGOTE_DEATHS or self._closing:
                return None   # it keeps dying before it could fork: fresh interpreters from now on
            starting = self._zygote_starts[key] = asyncio.get_running_loop().create_future()
            try:
                zygote = await Zygote.start(key, launch, self._launcher, zygote_environment(launch.env),
                                            self._clock)
            except (errors.ZygoteUnavailable, OSError) as exc:
                self._zygote_deaths[key] = self._zygote_deaths.get(key, 0) + 1
                self._log_fresh(key, f"the zygote could not start: {exc}")
                zygote = None
            else:
                zygote.owner = _uid(launch)
                zygote.banned = self._banned.setdefault(key, set())
                zygote.on_dead = self._zygote_died
                zygote.on_spare_lost = self._spare_lost
                self._zygotes[key] = zygote
                self._arm(zygote)
                zygote.preload(self._modules.get(key, []))
            finally:
                del self._zygote_starts[key]
            starting.set_result(zygote)
            return zygote
        return await asyncio.shield(starting)

    async def _template(self, spec: InstanceSpec) -> Zygote:
        """The snapshot template of `spec`, started (its init run) when there is none."""
        template = self._templates.get(spec.key)
        if template is not None and template.alive:
            return template
        starting = self._template_starts.get(spec.key)
        if starting is not None:
            return await asyncio.shield(starting)
        starting = self._template_starts[spec.key] = asyncio.get_running_loop().create_future()
        try:
            launch = self._launch(spec)
            self._check_code(spec, launch)   # its init imports the code: checked first, as a cold start's
        except BaseException as exc:
            del self._template_starts[spec.key]
            starting.set_exception(exc)
            starting.exception()
            raise
        issued = self._issue(spec)   # the keys its init signs with (each instance forked gets its own)
        key_id = issued.get("AWS_ACCESS_KEY_ID")
        launch = dataclasses.replace(launch, env={**launch.env, **issued})
        try:
            template = await Zygote.start(spec.key, launch, self._launcher, {}, self._clock,
                                          template_timeout_s=max(SNAPSHOT_INIT_S, spec.timeout_s))
        except BaseException as exc:
            self._revoke(key_id)
            starting.set_exception(exc)
            starting.exception()   # retrieved here: concurrent waiters re-raise it
            raise
        finally:
            del self._template_starts[spec.key]
        self._templates[spec.key] = template
        template.owner = _uid(launch)
        template.on_dead = lambda dead, reason: self._revoke(key_id)
        template.on_spare_lost = self._spare_lost
        self._arm(template)
        starting.set_result(template)
        return template

    def _zygote_died(self, zygote: Zygote, reason: str) -> None:
        if self._zygotes.get(zygote.key) is zygote:
            del self._zygotes[zygote.key]
        if not self._closing and not reason.startswith("the zygote was killed: "):
            self._zygote_deaths[zygote.key] = self._zygote_deaths.get(zygote.key, 0) + 1
            log.warning("a zygote (pid %s) died: %s; the next instance starts another", zygote.pid, reason)

    def _record_modules(self, key: object, names: list[str]) -> None:
        known = self._modules.setdefault(key, [])
        seen = set(known)
        known.extend(n for n in names if n not in seen)
        zygote = self._zygotes.get(key)
        if zygote is not None:
            zygote.preload(known)

    def _log_fresh(self, key: object, reason: str) -> None:
        if key not in self._fresh_logged:
            self._fresh_logged.add(key)
            log.warning("instances of %s start as fresh interpreters: %s", key[1] if isinstance(key, tuple) else key,
                        reason)

    def zygote_pids(self) -> list[int]:
        """The zygotes and the snapshot templates."""
        return [z.pid for z in (*self._zygotes.values(), *self._templates.values()) if z.alive]

    def _launch(self, spec: InstanceSpec) -> Launch:
        """The spec resolved to this machine, once per key."""
        launch = self._launches.get(spec.key)
        if launch is None:
            code = self._code_root / spec.code
            if not code.is_dir():
                raise FileNotFoundError(f"the code {spec.code} is not unpacked in {self._code_root}")
            env = {  # what the runtime's context reads, when the spec's variables lack it
                "AWS_LAMBDA_FUNCTION_NAME": spec.function_name, "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb), "_HANDLER": spec.handler,
                **spec.env, "LAMBDA_TASK_ROOT": str(code), "LAMBDA_RUNTIME_DIR": str(self._bundle)}
            site = () if spec.environment is None else (str(self._envs_root / spec.environment),)
            if site and not Path(site[0]).is_dir():
                raise FileNotFoundError(f"the dependency environment {spec.environment} is not built")
            python, version = find_interpreter(spec.runtime)[0], python_version(spec.runtime)
            layers, layer_sites = [], []
            for digest, environment in spec.layers:
                layers += self._layer_path(digest, version)
                if environment is not None:   # its requirements, built as `sam build` puts them in python/
                    layers.append(str(self._envs_root / environment))
                    layer_sites.append(layers[-1])
            identity = None
            if self._walls is not None:   # its user, in the groups of every folder it reads
                python = self._walls.interpreter(python, version)
                folders = [code, *(self._code_root / d for d, _ in spec.layers), *(Path(p) for p in site),
                           *(Path(p) for p in layer_sites)]
                identity = self._walls.identity(spec.function_name, folders)
            launch = self._launches[spec.key] = Launch(
                python=python, cwd=str(code), sys_path=(str(code), *site, *layers, str(self._bundle)),
                env=env, handler=spec.handler, site_dirs=(*site, *layer_sites), identity=identity)
        return launch

    def _layer_path(self, digest: str, version: str) -> list[str]:
        """A layer's entries, as AWS puts /opt's: python/lib/python3.X/site-packages, then python/."""
        root = self._code_root / digest
        if not root.is_dir():
            raise FileNotFoundError(f"the layer {digest} is not unpacked in {self._code_root}")
        python = root / "python"
        return [str(p) for p in (python / "lib" / f"python{version}" / "site-packages", python) if p.is_dir()]

    def _release(self, pool: _KeyPool, instance: Instance) -> None:
        pool.busy.discard(instance)
        if not instance.alive:
            return
        if self._closing:
            self._stop_soon(instance)
            return
        while pool.waiters and not instance.retiring:   # a retired key's instances serve those waiting
            waiter = pool.waiters.popleft()
            if not waiter.done():
                pool.busy.add(instance)
                waiter.set_result(instance)
                return
        if pool.retired or instance.retiring or self._idle_timeout_s <= 0 \
                or _too_old(instance, self._clock()):   # --idle-timeout 0: one call at most
            self._stop_soon(instance)
            return
        instance.last_used = self._clock()
        pool.idle.append(instance)

    def _forget(self, pool: _KeyPool, instance: Instance) -> None:
        if instance.provisioned and instance.ready and instance in self._instances:
            instance.provisioned = False
            asyncio.get_running_loop().call_soon(self._replace_provisioned, pool)
        if instance.tmp is not None and not instance.alive:
            self._tmp.remove(instance.tmp)
            instance.tmp = None
        if not instance.alive:
            self._revoke(instance.key_id)
            instance.key_id = None
        self._instances.discard(instance)
        pool.busy.discard(instance)
        with contextlib.suppress(ValueError):
            pool.idle.remove(instance)
        if pool.waiters:   # room for another instance
            self._scale(pool)

    async def _run(self, pool: _KeyPool, instance: Instance, invocation: Invocation) -> Outcome:
        # InstanceFailure: the instance is gone
        if self._cgroups is None and self._watchdog is None:
            self._watchdog = asyncio.get_running_loop().call_later(WATCHDOG_S, self._watch)
        outcome = await instance.invoke(invocation, spin=self._in_flight == 1)
        pool.duration_s = 0.8 * pool.duration_s + 0.2 * outcome.duration_ms / 1000
        self._release(pool, instance)
        if instance.tmp is not None:
            now = asyncio.get_running_loop().time()
            if now - instance.tmp_checked >= TMP_CHECK_S:
                instance.tmp_checked = now
                self._check_tmp(pool, instance, instance.tmp)
        return outcome

    def _check_tmp(self, pool: _KeyPool, instance: Instance, tmp: Path) -> None:
        """Measure the instance's TMPDIR off the loop; over EphemeralStorage, the instance stops
        (now when idle, else after its invocation) and its folder goes with it."""
        task = asyncio.get_running_loop().run_in_executor(None, usage_mb, tmp)

        def measured(done: asyncio.Future[float]) -> None:
            if done.cancelled() or done.exception() is not None or not instance.alive:
                return
            used = done.result()
            if used <= instance.spec.ephemeral_mb:
                return
            log.warning("an instance of %s (pid %s) holds %.0f MB in its TMPDIR, over its EphemeralStorage of %s MB: "
                        "it is stopped, its files go with it", instance.spec.function_name, instance.pid, used,
                        instance.spec.ephemeral_mb)
            instance.retiring = True
            if instance not in pool.busy:
                with contextlib.suppress(ValueError):
                    pool.idle.remove(instance)
                self._stop_soon(instance)
        task.add_done_callback(measured)

    def _watch(self) -> None:
        """Every WATCHDOG_S while invocations run: busy instances over their MemorySize are killed
        (only where no cgroup enforces it; a peak between two looks is caught after the reply)."""
        self._watchdog = None
        busy = [i for pool in self._pools.values() for i in pool.busy if i.alive]
        for instance in busy:
            instance.check_memory()
        if busy and not self._closing:
            self._watchdog = asyncio.get_running_loop().call_later(WATCHDOG_S, self._watch)

    # -- stopping --------------------------------------------------------------------------------

    def _stop_soon(self, instance: Instance) -> None:
        instance.kill()

    async def _stop(self, instances: list[Instance]) -> None:
        for instance in instances:
            instance.kill()
        if instances:
            await asyncio.wait([asyncio.shield(i.dead) for i in instances], timeout=STOP_TIMEOUT_S)


def instance_stream(version: str) -> str:
    """A log stream name as Lambda gives each execution environment: YYYY/MM/DD/[version]<32 hex>."""
    return time.strftime("%Y/%m/%d/", time.gmtime()) + f"[{version}]{secrets.token_hex(16)}"


def _too_old(instance: Instance, now: float) -> bool:
    """Started so long ago that its session keys are about to expire: it is stopped, not reused."""
    return now - instance.started_at >= MAX_INSTANCE_AGE_S


def _uid(launch: Launch) -> int | None:
    return launch.identity.uid if launch.identity is not None else None


def _lower_priority(pid: int, nice: int) -> None:
    """Run `pid` after everything else: SCHED_IDLE where the kernel has it (a normal task that wakes up
    takes the core at once), else only a higher nice value. Lowering is allowed for our own children."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, pid, nice)
        os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))


def _init_error(failed: errors.SnapshotInitFailed) -> Outcome:
    """A template's init error as the Outcome an on-demand instance's init error would be."""
    error_type = failed.error.get("errorType") if isinstance(failed.error.get("errorType"), str) else None
    return Outcome(body=json.dumps(failed.error).encode(), function_error=True, error_type=error_type,
                   output=failed.output, duration_ms=0.0, max_memory_mb=0, init_duration_ms=failed.init_ms)


def _answer(waiter: _Waiter, answer: Instance | Outcome | BaseException) -> None:
    """Give `answer` to the invocation that started an instance, if it is still waiting; an
    answer nobody waits for any more is dropped (that invocation was served by another one)."""
    if waiter.done():
        if isinstance(answer, BaseException):
            log.info("instance start failed after its invocation was served: %s", answer)
        return
    if isinstance(answer, BaseException):
        waiter.set_exception(answer)
    else:
        waiter.set_result(answer)
