"""One worker driven straight over its socket: what an invocation costs the worker, without the server.

    .venv/bin/python bench/worker_roundtrip.py [--calls 20000]

Spawns a real worker (as the pool does) on examples/addfive, then sends the same Invoke frame and
reads the reply, back to back, blocking. The baseline in the same run: a ping-pong of one byte
between this process and a forked child over a Unix socket pair (the floor of any hand-off).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

from harness import ROOT

from lambdalite.pool.launch import Launch, ensure_launcher, spawn
from lambdalite.runtime import protocol


def ping_pong(calls: int) -> float:
    a, b = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        a.close()
        while data := b.recv(64):
            b.send(data)
        os._exit(0)
    b.close()
    started = time.perf_counter()
    for _ in range(calls):
        a.send(b"x")
        a.recv(64)
    took = (time.perf_counter() - started) / calls * 1e6
    a.close()
    os.waitpid(pid, 0)
    return took


def worker(calls: int) -> float:
    work = Path(tempfile.mkdtemp(prefix="bench-worker-"))
    try:
        code = work / "code"
        code.mkdir()
        shutil.copy(ROOT / "examples" / "addfive" / "lambda_function.py", code)
        env = {"PATH": "/usr/bin:/bin", "AWS_LAMBDA_FUNCTION_NAME": "addfive", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
               "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}
        launch = Launch(python=sys.executable, cwd=str(code), sys_path=(str(code),), env=env,
                        handler="lambda_function.lambda_handler")
        spawned = spawn(launch, ensure_launcher(work / "runtime"))
        sock = spawned.sock
        sock.setblocking(True)
        reader = sock.makefile("rb")

        def reply() -> int:
            size, kind = protocol.FRAME.unpack(reader.read(protocol.FRAME.size))
            reader.read(size)
            return kind

        assert reply() == protocol.READY
        header = json.dumps({"id": "0" * 36, "deadline_ms": int(time.time() * 1000) + 600_000,
                             "arn": "arn:aws:lambda:us-east-1:000000000000:function:addfive",
                             "client_context": None, "trace_id": None}).encode()
        frame = protocol.headed_frame(protocol.INVOKE, header, b'{"num": "5"}')
        for _ in range(1000):
            sock.sendall(frame)
            reply()
        started = time.perf_counter()
        for _ in range(calls):
            sock.sendall(frame)
            if reply() != protocol.RESULT:
                sys.exit("the worker did not answer a result")
        took = (time.perf_counter() - started) / calls * 1e6
        reader.close()
        sock.close()
        spawned.process.wait(10)
        os.close(spawned.pipe_fd)
        return took
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    floor, ours = ping_pong(args.calls), worker(args.calls)
    print(f"\none invocation, worker driven over its socket ({args.calls} calls, blocking)")
    print(f"{'':<40} {'us per call':>11}")
    print(f"{'one-byte ping-pong between 2 processes':<40} {floor:>11.1f}")
    print(f"{'addfive through a real worker':<40} {ours:>11.1f}")


if __name__ == "__main__":
    main()
