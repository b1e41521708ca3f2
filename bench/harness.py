"""Shared machinery of the benchmarks: servers on loopback, wrk, interleaved rounds, the table.

Every benchmark runs Lambdalite and its baseline (a raw ASGI app on the same uvicorn) in one run,
alternating them round by round, and prints medians with the ratio ours/limit.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
Row = dict[str, float]


@dataclass(frozen=True)
class Scenario:
    title: str
    ours_path: str            # path (and query) on Lambdalite
    raw_path: str             # path on the raw app
    raw_app: str              # "module:app" in bench/
    setup: Callable[[str], None]   # prepares Lambdalite (base URL) before the runs
    lua: str = ""             # wrk script (method, body, headers)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", default="1,8,64")
    return parser.parse_args()


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit("wrk is not installed: apt-get install wrk (or run this as root to install it)")
    print("installing wrk (apt-get) ...", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which("wrk") or sys.exit("wrk did not install")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ok(url: str, data: bytes | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=5) as r:
                if r.status == 200:
                    return
        time.sleep(0.1)
    sys.exit(f"{url} did not answer 200")


@contextlib.contextmanager
def process(cmd: list[str], env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    p = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env={**os.environ, **env} if env else None)
    try:
        yield p
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def addfive_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(ROOT / "examples" / "addfive" / "lambda_function.py", "lambda_function.py")
    return buf.getvalue()


def boto(base: str, service: str = "lambda"):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client(service, endpoint_url=base, region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="x")


def create_addfive(base: str) -> str:
    lam = boto(base)
    lam.create_function(FunctionName="addfive", Runtime="python3.11", Handler="lambda_function.lambda_handler",
                        Role="arn:aws:iam::000000000000:role/r", Code={"ZipFile": addfive_zip()})
    lam.get_waiter("function_active_v2").wait(FunctionName="addfive", WaiterConfig={"Delay": 1})
    return str(lam.get_function(FunctionName="addfive")["Configuration"]["FunctionArn"])


def run_wrk(wrk: str, url: str, conns: int, seconds: float, script: Path | None) -> Row:
    cmd = [wrk, f"-t{min(conns, 2)}", f"-c{conns}", f"-d{max(1, round(seconds))}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {m.group(1): _ms(m.group(2)) for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M)}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    return {"rps": rps, "p50": lat.get("50", 0.0), "p99": lat.get("99", 0.0), "errors": errors}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run(scenario: Scenario) -> None:
    args = parse_args()
    conns = [int(c) for c in args.connections.split(",")]
    wrk = ensure_wrk()
    script = None
    if scenario.lua:
        script = Path(tempfile.mkdtemp(prefix="bench-")) / "request.lua"
        script.write_text(scenario.lua)
    home = tempfile.mkdtemp(prefix="bench-home-")
    ours_port, raw_port = free_port(), free_port()
    ours, raw = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{raw_port}"
    body = b'{"num": "5"}' if scenario.lua else None
    with process([str(BIN / "lambdalite"), "serve", "--port", str(ours_port), "--home", home]), \
            process([str(BIN / "python"), "-m", "uvicorn", "--app-dir", str(HERE), scenario.raw_app,
                     "--port", str(raw_port), "--log-level", "warning", "--no-access-log"]):
        wait_ok(ours + "/_lambdalite/health")
        scenario.setup(ours)
        wait_ok(ours + scenario.ours_path, body)
        wait_ok(raw + scenario.raw_path, body)
        for c in conns:   # warm-up, not kept: instances started, caches filled
            run_wrk(wrk, ours + scenario.ours_path, c, 2, script)
            run_wrk(wrk, raw + scenario.raw_path, c, 2, script)
        rows: dict[int, dict[str, list[Row]]] = {c: {"ours": [], "limit": []} for c in conns}
        for _ in range(args.rounds):
            for c in conns:
                rows[c]["ours"].append(run_wrk(wrk, ours + scenario.ours_path, c, args.seconds, script))
                rows[c]["limit"].append(run_wrk(wrk, raw + scenario.raw_path, c, args.seconds, script))
    shutil.rmtree(home, ignore_errors=True)
    report(scenario, rows, args)


def report(scenario: Scenario, rows: dict[int, dict[str, list[Row]]], args: argparse.Namespace) -> None:
    print(f"\n{scenario.title}, {args.rounds} rounds x {args.seconds:g} s, medians "
          f"(limit: raw ASGI app calling lambda_handler in-process, same uvicorn)")
    print(f"{'conns':>5} | {'ours req/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} | "
          f"{'limit req/s':>11} {'p50 ms':>7} {'p99 ms':>7} | {'ratio':>5}")
    summary = {}
    for c, sides in rows.items():
        med = {side: {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99")}
               for side, runs in sides.items()}
        errors = sum(r["errors"] for r in sides["ours"])
        ratio = med["ours"]["rps"] / med["limit"]["rps"] if med["limit"]["rps"] else 0.0
        summary[c] = {"ours": med["ours"], "limit": med["limit"], "errors": errors, "ratio": round(ratio, 3)}
        print(f"{c:>5} | {med['ours']['rps']:>10.0f} {med['ours']['p50']:>7.3f} {med['ours']['p99']:>7.3f} "
              f"{errors:>6} | {med['limit']['rps']:>11.0f} {med['limit']['p50']:>7.3f} "
              f"{med['limit']['p99']:>7.3f} | {ratio:>5.2f}")
    print(json.dumps(summary))
