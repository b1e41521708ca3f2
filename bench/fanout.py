"""Fan-out and async events: Client.map vs a local process pool, and how fast Event invokes are
accepted durably and drained, in one run.

    .venv/bin/python bench/fanout.py [--rounds 3]

Rows (best of `rounds` each, baselines in the same run):
- 1,000 tiny chunks (about 1 ms each): multiprocessing.Pool(cores), ProcessPoolExecutor(cores),
  Client.map. Target (issue 19): Client.map <= 1.3x Pool.
- 16 heavy chunks (about 0.6 s each): the same three. Target <= 1.05x Pool.
- Event invokes of a no-op function from wrk at 8 connections for 3 s: accepted per second (each
  committed to the store before its 202; target >= 2,000/s), then how fast the queue drains.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from harness import BIN, boto, ensure_wrk, free_port, process, wait_ok

CHUNK = """
def handler(event, context):
    total = 0
    for i in range(event["n"]):
        total += i * i % 7
    return [event["i"], total]
"""
NOOP = "def handler(event, context):\n    return None\n"
EVENT_LUA = ('wrk.method = "POST"\nwrk.body = \'{"x": 1}\'\n'
             'wrk.headers["X-Amz-Invocation-Type"] = "Event"\nwrk.headers["Content-Type"] = "application/json"\n')


def chunk(event: dict[str, int]) -> list[int]:
    total = 0
    for i in range(event["n"]):
        total += i * i % 7
    return [event["i"], total]


def zip_of(source: str) -> bytes:
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", source)
    return buf.getvalue()


def create(base: str, name: str, source: str) -> None:
    lam = boto(base)
    lam.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler", Timeout=60,
                        Role="arn:aws:iam::000000000000:role/r", Code={"ZipFile": zip_of(source)})
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2})


def best(rounds: int, call: Callable[[], Any]) -> tuple[float, Any]:
    found: tuple[float, Any] | None = None
    for _ in range(rounds):
        started = time.perf_counter()
        result = call()
        took = time.perf_counter() - started
        if found is None or took < found[0]:
            found = (took, result)
    assert found is not None
    return found


def pending(base: str) -> int:
    with urllib.request.urlopen(base + "/_lambdalite/health", timeout=10) as r:
        return int(json.loads(r.read()).get("asyncEventsPending") or 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    wrk = ensure_wrk()
    cores = len(os.sched_getaffinity(0))
    home = tempfile.mkdtemp(prefix="bench-home-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    rows: list[tuple[str, float, float, float]] = []
    with process([str(BIN / "lambdalite"), "serve", "--port", str(port), "--home", home]):
        wait_ok(base + "/_lambdalite/health")
        create(base, "chunk", CHUNK)
        create(base, "noop", NOOP)
        from lambdalite import Client
        with Client(base) as client, multiprocessing.get_context("fork").Pool(cores) as pool, \
                ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("fork")) as executor:
            for label, items in (("1,000 tiny chunks (~1 ms)", [{"i": i, "n": 20000} for i in range(1000)]),
                                 ("16 heavy chunks (~0.6 s)", [{"i": i, "n": 12_000_000} for i in range(16)])):
                client.map("chunk", items[:8])   # instances started
                pool_s, local = best(args.rounds, lambda items=items: pool.map(chunk, items, chunksize=1))
                exec_s, _ = best(args.rounds, lambda items=items: list(executor.map(chunk, items)))
                ours_s, ours = best(args.rounds, lambda items=items: client.map("chunk", items))
                assert ours == local, "Client.map's results differ from the pool's"
                rows.append((label, pool_s, exec_s, ours_s))
        script = Path(tempfile.mkdtemp(prefix="bench-")) / "event.lua"
        script.write_text(EVENT_LUA)
        url = f"{base}/2015-03-31/functions/noop/invocations"
        out = subprocess.run([wrk, "-t2", "-c8", "-d3s", "-s", str(script), url], capture_output=True, text=True,
                             check=True).stdout
        accepted_rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        accepted = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        started, left = time.perf_counter(), pending(base)
        while (now_left := pending(base)) > 0:
            time.sleep(0.2)
        drain_s = time.perf_counter() - started
    shutil.rmtree(home, ignore_errors=True)
    print(f"\nfan-out on {cores} cores, best of {args.rounds} (baselines: the local pools, same run)")
    print("| work | multiprocessing.Pool | ProcessPoolExecutor | Client.map | map / Pool |")
    print("|---|---|---|---|---|")
    for label, pool_s, exec_s, ours_s in rows:
        print(f"| {label} | {pool_s:.2f} s | {exec_s:.2f} s | {ours_s:.2f} s | x{ours_s / pool_s:.2f} |")
    print(f"\nEvent invokes (no-op function, wrk -c8, 3 s): {accepted} accepted, {accepted_rate:.0f}/s while "
          f"draining (target >= 2,000/s); {left} were still queued then, drained in {drain_s:.1f} s "
          f"({left / drain_s if drain_s else 0:.0f}/s); {now_left} left")


if __name__ == "__main__":
    main()
