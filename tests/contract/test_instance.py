"""The local backend's instance, driven directly: orderings the backend cannot force on purpose."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from lambdalite.pool.instance import Instance
from lambdalite.pool.launch import Launch, ensure_launcher, spawn
from lambdalite.pool.process import ChildProcess

from .conftest import invocation


async def test_a_worker_ready_before_anyone_waits_is_not_a_protocol_error(make_spec, code_root: Path,
                                                                           bundle: Path, runtime_dir: Path) -> None:
    # Under load the loop may read the worker's READY frame before wait_ready runs: CI once
    # answered "worker broke the protocol: unexpected frame 'S' while init".
    spec = make_spec("def handler(event, context):\n    return 7\n")
    code = str(code_root / spec.code)
    launch = Launch(python=sys.executable, cwd=code, sys_path=(code, str(bundle)), env=dict(spec.env),
                    handler=spec.handler)
    spawned = spawn(launch, ensure_launcher(runtime_dir))
    process = ChildProcess(spawned.process, asyncio.get_running_loop())
    instance = await Instance.start(spec, process, spawned.sock, spawned.pipe_fd)
    try:
        await asyncio.sleep(1.0)   # the worker has long sent READY, and the loop has read it
        assert await instance.wait_ready(5.0) is None
        outcome = await instance.invoke(invocation())
        assert outcome.body == b"7" and not outcome.function_error
        assert outcome.init_duration_ms is not None
    finally:
        instance.kill()
        await asyncio.wait_for(asyncio.shield(instance.dead), 5)
