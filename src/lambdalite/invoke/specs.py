"""One immutable InstanceSpec per serving function snapshot: handler, runtime, code and environment.

Built once when a snapshot is first invoked, then read from a dict keyed by (name, version): two
versions of one function have a spec each. A newer snapshot of the same version replaces the spec
and retires the older one's instances; so does a function going away. The spec names code by hash
and carries no path of this machine: the backend resolves those.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable, Iterable

from ..functions.model import FunctionVersion
from ..pool.types import InstanceSpec

# Set by the platform; a function's own variables never override them (AWS's rule).
PATH = "/usr/local/bin:/usr/bin/:/bin"
SNAPSHOT_VARIABLE = "LAMBDALITE_SNAPSHOT"
SHADOW = ":shadow"      # a shadow call's instances: a pool of their own (the key + this), run niced
SHADOW_NICE = 10


class SpecFactory:
    def __init__(self, base_url: str, region: str, retire: Callable[[str], object] | None = None,
                 preload: Callable[[str, str], tuple[str, ...]] = lambda name, version: ()) -> None:
        self._base_url = base_url
        self._region = region
        self._retire = retire
        self._preload = preload   # (name, version) -> the modules its inits imported before
        self._specs: dict[tuple[str, str], InstanceSpec] = {}   # (name, version) -> its serving snapshot's
        self._shadows: dict[str, InstanceSpec] = {}             # spec key -> the spec of its shadow calls
        self._revisions: dict[tuple[str, str], str] = {}        # (name, version) -> the revision last seen
        self._retiring: set[asyncio.Task[object]] = set()

    def spec_for(self, fn: FunctionVersion) -> InstanceSpec:
        at = (fn.name, fn.version)
        spec = self._specs.get(at)
        if spec is not None and self._revisions.get(at) == fn.revision_id:
            return spec   # the hot path: the revision seen last time
        if spec is None or spec.key != spec_key(fn):
            if spec is not None:
                self._retire_instances(spec)   # an older snapshot of this version: its instances go
            spec = self._specs[at] = self.build(fn)
        self._revisions[at] = fn.revision_id
        return spec

    def shadow_spec_for(self, fn: FunctionVersion) -> InstanceSpec:
        """The spec shadow calls of `fn` run on: the same code and configuration, instances of their
        own at a lower CPU priority."""
        spec = self.spec_for(fn)
        shadow = self._shadows.get(spec.key)
        if shadow is None:
            shadow = self._shadows[spec.key] = dataclasses.replace(spec, key=spec.key + SHADOW, nice=SHADOW_NICE)
        return shadow

    def forget(self, name: str, still_serving: Iterable[FunctionVersion] = ()) -> None:
        """The function changed or went away: the instances of its snapshots that no longer serve
        stop (busy ones when they finish); those of `still_serving` go on."""
        keep = {spec_key(fn) for fn in still_serving}
        for key in [k for k in self._specs if k[0] == name]:
            spec = self._specs[key]
            if spec.key not in keep:
                del self._specs[key]
                self._revisions.pop(key, None)
                self._retire_instances(spec)

    def _retire_instances(self, spec: InstanceSpec) -> None:
        if self._retire is None:
            return
        shadow = self._shadows.pop(spec.key, None)
        if shadow is not None:
            self._retire_key(shadow.key)
        self._retire_key(spec.key)

    def _retire_key(self, key: str) -> None:
        assert self._retire is not None
        result = self._retire(key)
        if asyncio.iscoroutine(result):
            task: asyncio.Task[object] = asyncio.ensure_future(result)
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)

    async def drain(self) -> None:
        """Wait for the retirements under way (shutdown)."""
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)

    def build(self, fn: FunctionVersion) -> InstanceSpec:
        return InstanceSpec(
            key=spec_key(fn), function_name=fn.name, version=fn.version, handler=fn.handler, runtime=fn.runtime,
            code=fn.code_hex, env=self.environment(fn), memory_mb=fn.memory_size, timeout_s=float(fn.timeout),
            environment=fn.environment, layers=tuple(zip(fn.layer_code, _padded(fn.layer_environments,
                                                                                 len(fn.layer_code)), strict=True)),
            snapshot=wants_snapshot(fn), preload=self._preload(fn.name, fn.version),
            ephemeral_mb=int((fn.config.get("EphemeralStorage") or {}).get("Size") or 512), role=fn.role)

    def environment(self, fn: FunctionVersion) -> dict[str, str]:
        stream = time.strftime("%Y/%m/%d/", time.gmtime()) + f"[{fn.version}]{secrets.token_hex(16)}"
        platform = {
            "_HANDLER": fn.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_VERSION": fn.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start" if wants_snapshot(fn) else "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": fn.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_REGION": self._region,
            "AWS_DEFAULT_REGION": self._region,
            # AWS_ACCESS_KEY_ID, _SECRET_ACCESS_KEY and _SESSION_TOKEN: each instance's own, made by the
            # pool when it starts (access.credentials; docs/security.md says what they may do)
            "AWS_ENDPOINT_URL_LAMBDA": self._base_url,
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PATH": os.environ.get("LAMBDALITE_FUNCTION_PATH", PATH),
        }
        if fn.log_format == "JSON":
            logging = fn.config.get("LoggingConfig") or {}
            platform["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
            platform["AWS_LAMBDA_LOG_LEVEL"] = str(logging.get("ApplicationLogLevel") or "INFO")
        return {**fn.variables, **platform}


def wants_snapshot(fn: FunctionVersion) -> bool:
    """LAMBDALITE_SNAPSHOT=init: instances are forked from a template that has run init."""
    return fn.variables.get(SNAPSHOT_VARIABLE, "").strip().lower() == "init"


def _padded(values: list[str | None], size: int) -> list[str | None]:
    return (values + [None] * size)[:size]


def spec_key(fn: FunctionVersion) -> str:
    """Instances are shared between snapshots with equal keys: the same function version running
    the same code, configuration, layers and dependency environment. A new revision that changed
    none of that (a state transition, tags) keeps its instances and its snapshot template."""
    content = json.dumps([fn.code_hex, fn.handler, fn.runtime, fn.config, fn.layer_code, fn.layer_environments,
                          fn.environment], sort_keys=True, default=str)
    return f"{fn.name}:{fn.version}:{hashlib.sha256(content.encode()).hexdigest()[:20]}"
