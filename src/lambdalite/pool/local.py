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
import logging
import time
from collections.abc import Callable
from pathlib import Path

from .. import errors
from .instance import Instance
from .interpreters import find_interpreter, python_version
from .launch import Launch, ensure_launcher
from .types import InstanceSpec, Invocation, Outcome

log = logging.getLogger(__name__)

_Waiter = asyncio.Future["Instance | Outcome"]
STOP_TIMEOUT_S = 10.0   # SIGKILL is not refused; this only guards against a process stuck in the kernel


class _KeyPool:
    def __init__(self, key: str) -> None:
        self.key = key
        self.idle: list[Instance] = []
        self.busy: set[Instance] = set()
        self.waiters: collections.deque[_Waiter] = collections.deque()
        self.retired = False


class LocalProcessBackend:
    """pool.types.Backend on local processes. `reap_idle()` is meant to be called periodically by
    the server; idle age is measured with the injected `clock`. `code_root/<sha256 hex>/` holds each
    archive unpacked; `bundle` is the runtime bundle (boto3) every function can import."""

    def __init__(self, runtime_dir: Path, code_root: Path, bundle: Path, idle_timeout_s: float = 600,
                 clock: Callable[[], float] = time.monotonic, envs_root: Path | None = None) -> None:
        self._launcher = ensure_launcher(Path(runtime_dir))
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

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def instance_pids(self, key: str | None = None) -> list[int]:
        """The pids of the live instances (of one key, or all): for tests, metrics and the console."""
        return [i.pid for i in self._instances if key is None or i.spec.key == key]

    # -- Backend ---------------------------------------------------------------------------------

    async def invoke(self, spec: InstanceSpec, invocation: Invocation) -> Outcome:
        if self._closing:
            raise errors.ServiceFailure("The server is shutting down.")
        self._in_flight += 1
        try:
            pool = self._pool(spec.key)
            got = self._take_idle(pool) or await self._start_and_wait(spec, pool)
            if isinstance(got, Outcome):
                return got   # the new instance failed its init: that is this invocation's answer
            return await self._run(pool, got, invocation)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0 and self._drained is not None:
                self._drained.set()

    async def retire(self, key: str) -> None:
        self._launches.pop(key, None)
        pool = self._pools.pop(key, None)
        if pool is None:
            return
        pool.retired = True
        idle, pool.idle = pool.idle, []
        await self._stop(idle)

    async def reap_idle(self) -> int:
        """Stop the instances idle for idle_timeout_s or longer; returns how many were stopped."""
        now = self._clock()
        old: list[Instance] = []
        for pool in self._pools.values():
            keep = [i for i in pool.idle if now - i.last_used < self._idle_timeout_s]
            old += [i for i in pool.idle if now - i.last_used >= self._idle_timeout_s]
            pool.idle = keep
        await self._stop(old)
        return len(old)

    async def close(self, drain_s: float = 5.0) -> None:
        """Refuse new invocations, let running ones finish for up to drain_s, then kill them all."""
        self._closing = True
        if self._in_flight:
            self._drained = asyncio.Event()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._drained.wait(), drain_s)
        await self._stop(list(self._instances))
        if self._starting:
            await asyncio.gather(*self._starting, return_exceptions=True)
        await self._stop(list(self._instances))   # any that finished starting meanwhile
        self._pools.clear()

    # -- acquiring and releasing -----------------------------------------------------------------

    def _pool(self, key: str) -> _KeyPool:
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _KeyPool(key)
        return pool

    @staticmethod
    def _take_idle(pool: _KeyPool) -> Instance | None:
        while pool.idle:
            instance = pool.idle.pop()
            if instance.alive:
                pool.busy.add(instance)
                return instance
        return None

    async def _start_and_wait(self, spec: InstanceSpec, pool: _KeyPool) -> Instance | Outcome:
        waiter: _Waiter = asyncio.get_running_loop().create_future()
        pool.waiters.append(waiter)
        task = asyncio.create_task(self._start(spec, pool, waiter))
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)
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

    async def _start(self, spec: InstanceSpec, pool: _KeyPool, waiter: _Waiter) -> None:
        """Start an instance for `waiter`; once ready it serves the first waiting invocation (or
        goes idle). Its init failure is the answer of `waiter` when that one still waits."""
        try:
            instance = await Instance.start(spec, self._launch(spec), self._launcher)
        except Exception as exc:   # could not even spawn (no such interpreter, no code dir)
            _answer(waiter, errors.InstanceFailure(f"could not start a worker for {spec.function_name}: {exc}"))
            return
        self._instances.add(instance)
        instance.on_dead = lambda dead: self._forget(pool, dead)
        instance.on_free = lambda free: self._release(pool, free)
        try:
            init_error = await instance.wait_ready(max(spec.init_timeout_s, spec.timeout_s))
        except Exception as failure:   # InstanceFailure; anything else must not leave `waiter` hanging
            instance.kill()
            self._forget(pool, instance)
            _answer(waiter, failure if isinstance(failure, errors.InstanceFailure)
                    else errors.InstanceFailure(f"instance start failed: {failure!r}"))
            return
        if init_error is not None:
            self._forget(pool, instance)
            _answer(waiter, init_error)
            return
        self._release(pool, instance)

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
            launch = self._launches[spec.key] = Launch(
                python=python, cwd=str(code), sys_path=(str(code), *site, *layers, str(self._bundle)),
                env=env, handler=spec.handler, site_dirs=(*site, *layer_sites))
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
        if pool.retired or self._closing:
            self._stop_soon(instance)
            return
        while pool.waiters:
            waiter = pool.waiters.popleft()
            if not waiter.done():
                pool.busy.add(instance)
                waiter.set_result(instance)
                return
        if self._idle_timeout_s <= 0:   # --idle-timeout 0: an instance serves one invocation at most
            self._stop_soon(instance)
            return
        instance.last_used = self._clock()
        pool.idle.append(instance)

    def _forget(self, pool: _KeyPool, instance: Instance) -> None:
        self._instances.discard(instance)
        pool.busy.discard(instance)
        with contextlib.suppress(ValueError):
            pool.idle.remove(instance)

    async def _run(self, pool: _KeyPool, instance: Instance, invocation: Invocation) -> Outcome:
        # InstanceFailure: the instance is gone
        outcome = await instance.invoke(invocation, spin=self._in_flight == 1)
        self._release(pool, instance)
        return outcome

    # -- stopping --------------------------------------------------------------------------------

    def _stop_soon(self, instance: Instance) -> None:
        instance.kill()

    async def _stop(self, instances: list[Instance]) -> None:
        for instance in instances:
            instance.kill()
        if instances:
            await asyncio.wait([asyncio.shield(i.dead) for i in instances], timeout=STOP_TIMEOUT_S)


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
