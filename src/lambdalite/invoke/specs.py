"""One immutable InstanceSpec per function revision: interpreter, import path and environment.

Built once when a revision is first invoked, then read from a dict; a change to the function
drops it and retires that revision's instances.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from ..functions.model import FunctionVersion
from ..pool.types import InstanceSpec

# Set by the platform; a function's own variables never override them (AWS's rule).
PATH = "/usr/local/bin:/usr/bin/:/bin"


class SpecFactory:
    def __init__(self, code_dir: Callable[[FunctionVersion], Path], interpreter: Callable[[str], str],
                 bundle: Path, base_url: str, region: str,
                 retire: Callable[[str], object] | None = None) -> None:
        self._code_dir = code_dir
        self._interpreter = interpreter
        self._bundle = bundle
        self._base_url = base_url
        self._region = region
        self._retire = retire
        self._specs: dict[tuple[str, str], InstanceSpec] = {}   # (name, version) -> the newest revision's
        self._retiring: set[asyncio.Task[object]] = set()

    def spec_for(self, fn: FunctionVersion) -> InstanceSpec:
        spec = self._specs.get((fn.name, fn.version))
        if spec is None or spec.key != _key(fn):
            if spec is not None:
                self._retire_instances(spec)   # an older revision of this version: its instances go
            spec = self._specs[(fn.name, fn.version)] = self.build(fn)
        return spec

    def forget(self, name: str, still_serving: Iterable[FunctionVersion] = ()) -> None:
        """The function changed or went away: the instances of its snapshots that no longer serve
        stop (busy ones when they finish); those of `still_serving` go on."""
        keep = {_key(fn) for fn in still_serving}
        for key in [k for k in self._specs if k[0] == name]:
            spec = self._specs[key]
            if spec.key not in keep:
                del self._specs[key]
                self._retire_instances(spec)

    def _retire_instances(self, spec: InstanceSpec) -> None:
        if self._retire is None:
            return
        result = self._retire(spec.key)
        if asyncio.iscoroutine(result):
            task: asyncio.Task[object] = asyncio.ensure_future(result)
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)

    async def drain(self) -> None:
        """Wait for the retirements under way (shutdown)."""
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)

    def build(self, fn: FunctionVersion) -> InstanceSpec:
        code = str(self._code_dir(fn))
        return InstanceSpec(
            key=_key(fn), function_name=fn.name, version=fn.version, handler=fn.handler,
            python=self._interpreter(fn.runtime), code_dir=code, sys_path=(code, str(self._bundle)),
            env=self.environment(fn, code), memory_mb=fn.memory_size, timeout_s=float(fn.timeout))

    def environment(self, fn: FunctionVersion, code: str) -> dict[str, str]:
        stream = time.strftime("%Y/%m/%d/", time.gmtime()) + f"[{fn.version}]{secrets.token_hex(16)}"
        log_group = (fn.config.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{fn.name}"
        platform = {
            "_HANDLER": fn.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_VERSION": fn.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "AWS_REGION": self._region,
            "AWS_DEFAULT_REGION": self._region,
            # Credentials of the "execution role": any key is accepted by this server, and boto3
            # inside the function needs some to sign its calls to AWS_ENDPOINT_URL_LAMBDA.
            "AWS_ACCESS_KEY_ID": "lambdalite",
            "AWS_SECRET_ACCESS_KEY": "lambdalite",
            "AWS_SESSION_TOKEN": "lambdalite",
            "AWS_ENDPOINT_URL_LAMBDA": self._base_url,
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "LAMBDA_TASK_ROOT": code,
            "LAMBDA_RUNTIME_DIR": str(self._bundle),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PATH": os.environ.get("LAMBDALITE_FUNCTION_PATH", PATH),
        }
        return {**fn.variables, **platform}


def _key(fn: FunctionVersion) -> str:
    return f"{fn.name}:{fn.version}:{fn.revision_id}"
