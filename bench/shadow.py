"""Shadow traffic's cost to the caller: an alias invoked open-loop at half the measured maximum
throughput, its shadow off vs on, in one run (rounds interleaved).

    .venv/bin/python bench/shadow.py [--seconds 6] [--rounds 2] [--work-ms 2]

The function burns about `--work-ms` of CPU per call (a small model). The maximum is wrk's closed
loop at 8 connections on the alias; the open loop then sends a request every 1/(max/2) s on its own
schedule (a late answer never delays the next request), over keep-alive connections. Goals (issue
18): the shadow adds at most 5% to the caller's p50 at that load, and at least half of the shadow
calls run (the rest are dropped under load, counted).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

from harness import BIN, boto, ensure_wrk, free_port, process, wait_ok

MODEL = """
import time
def handler(event, context):
    end = time.perf_counter() + %(work)f
    n = 0
    while time.perf_counter() < end:
        n += 1
    return {"class": "setosa" if event.get("x", 0) < %(edge)d else "virginica"}
"""
PATH = "/2015-03-31/functions/model/invocations?Qualifier=live"
LUA = 'wrk.method = "POST"\nwrk.body = \'{"x": 3}\'\nwrk.headers["Content-Type"] = "application/json"\n'


def zip_of(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", source)
    return buf.getvalue()


def setup(base: str, work_ms: float) -> None:
    lam = boto(base)
    lam.create_function(FunctionName="model", Runtime="python3.11", Handler="app.handler",
                        Role="arn:aws:iam::000000000000:role/r",
                        Code={"ZipFile": zip_of(MODEL % {"work": work_ms / 1000, "edge": 5})})
    lam.get_waiter("function_active_v2").wait(FunctionName="model", WaiterConfig={"Delay": 0.2})
    lam.publish_version(FunctionName="model")
    lam.update_function_code(FunctionName="model", ZipFile=zip_of(MODEL % {"work": work_ms / 1000, "edge": 4}))
    lam.get_waiter("function_updated_v2").wait(FunctionName="model", WaiterConfig={"Delay": 0.2})
    lam.publish_version(FunctionName="model")
    lam.create_alias(FunctionName="model", Name="live", FunctionVersion="1")


def shadow(base: str, on: bool) -> None:
    url = f"{base}/_lambdalite/functions/model/aliases/live/shadow"
    data = json.dumps({"Version": "2"}).encode() if on else None
    request = urllib.request.Request(url, data=data, method="PUT" if on else "DELETE")
    urllib.request.urlopen(request, timeout=10).read()


def traffic(base: str) -> dict:  # type: ignore[type-arg]
    with urllib.request.urlopen(f"{base}/_lambdalite/traffic?function=model&alias=live", timeout=10) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


def closed_loop_max(wrk: str, base: str, seconds: float, script: Path) -> float:
    out = subprocess.run([wrk, "-t2", "-c8", f"-d{max(1, round(seconds))}s", "-s", str(script), base + PATH],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


async def open_loop(port: int, rate: float, seconds: float) -> tuple[list[float], int]:
    """Latencies (ms) of requests sent every 1/rate s for `seconds`, and how many failed."""
    body = b'{"x": 7}'
    request = (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    latencies: list[float] = []
    failed = 0

    async def one(sent_at: float) -> None:
        nonlocal failed
        conn = idle.pop() if idle else await asyncio.open_connection("127.0.0.1", port)
        reader, writer = conn
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            if not head.startswith(b"HTTP/1.1 200"):
                failed += 1
            latencies.append((time.perf_counter() - sent_at) * 1000)
            idle.append(conn)
        except (OSError, asyncio.IncompleteReadError):
            failed += 1
            writer.close()

    tasks = []
    start = time.perf_counter()
    n = 0
    while (now := time.perf_counter()) - start < seconds:
        due = start + n / rate
        if now < due:
            await asyncio.sleep(due - now)
        tasks.append(asyncio.create_task(one(start + n / rate)))   # latency from when it was due
        n += 1
    await asyncio.gather(*tasks)
    for _, writer in idle:
        writer.close()
    return latencies, failed


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work-ms", type=float, default=2.0)
    args = parser.parse_args()
    wrk = ensure_wrk()
    script = Path(tempfile.mkdtemp(prefix="bench-")) / "request.lua"
    script.write_text(LUA)
    home = tempfile.mkdtemp(prefix="bench-home-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with process([str(BIN / "lambdalite"), "serve", "--port", str(port), "--home", home]):
        wait_ok(base + "/_lambdalite/health")
        setup(base, args.work_ms)
        wait_ok(base + PATH, b"{}")
        closed_loop_max(wrk, base, 2, script)   # warm-up: instances started
        maximum = statistics.median(closed_loop_max(wrk, base, args.seconds, script) for _ in range(2))
        rate = maximum / 2
        rows: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
        for _ in range(args.rounds):
            for mode in ("off", "on"):
                shadow(base, mode == "on")
                before = traffic(base)["shadow"] or {}
                latencies, failed = asyncio.run(open_loop(port, rate, args.seconds))
                time.sleep(0.5)   # the shadow queue drains
                after = traffic(base)["shadow"] or {}
                offered = (after.get("queued", 0) + after.get("droppedQueueFull", 0)) - \
                    (before.get("queued", 0) + before.get("droppedQueueFull", 0))
                ran = after.get("ran", 0) - before.get("ran", 0)
                rows[mode].append({"p50": pct(latencies, 0.5), "p99": pct(latencies, 0.99), "n": len(latencies),
                                   "failed": failed, "share": ran / offered if offered else 0.0})
    shutil.rmtree(home, ignore_errors=True)

    def med(mode: str, key: str) -> float:
        return statistics.median(r[key] for r in rows[mode])

    print(f"\nshadow traffic, open loop at half the closed-loop maximum ({maximum:.0f} req/s -> {rate:.0f} req/s), "
          f"{args.work_ms:g} ms of CPU per call, {args.rounds} rounds x {args.seconds:g} s, medians")
    print("| shadow | caller p50 ms | caller p99 ms | calls | failed | shadow calls run |")
    print("|---|---|---|---|---|---|")
    for mode in ("off", "on"):
        share = f"{med(mode, 'share'):.0%}" if mode == "on" else "-"
        print(f"| {mode} | {med(mode, 'p50'):.2f} | {med(mode, 'p99'):.2f} | {med(mode, 'n'):.0f} | "
              f"{med(mode, 'failed'):.0f} | {share} |")
    added = med("on", "p50") / med("off", "p50") - 1 if med("off", "p50") else 0.0
    print(f"shadow adds {added:+.1%} to the caller's p50 (goal <= +5%); {med('on', 'share'):.0%} of the shadow "
          "calls ran (goal >= 50%)")


if __name__ == "__main__":
    main()
