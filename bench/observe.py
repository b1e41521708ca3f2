"""What observing costs: records, logs and metrics on vs off on the warm path, FilterLogEvents over a
million stored lines, and a Prometheus scrape with 2,000 functions.

    .venv/bin/python bench/observe.py [--seconds 4] [--rounds 5] [--lines 1000000] [--functions 2000]
                                      [--only overhead,filter,scrape]

1. Overhead (issue 20: at most 5% of warm-path throughput at c=1 and c=8). Two servers, one as it
   ships and one with `--no-records` (no invocation records, log lines or metrics; the cost is still
   charged), each with the guide's addfive; wrk POSTs Invoke to one then the other, round by round
   (`--rounds`, at least 5), and the medians are compared.
2. FilterLogEvents (goal: <= 200 ms for a recent window over 1,000,000 stored lines). The lines are
   written into a home's store as the recorder writes them (one row per invocation, five lines
   each), spread over the last 24 hours; the server then answers boto3's FilterLogEvents for the last
   5 minutes with a term, and for the whole day, median of 5 each.
3. Scrape (goal: < 100 ms with 2,000 functions). 2,000 functions are created and invoked once (on a
   server with `--idle-timeout 0`, so their instances stop); /_lambdalite/metrics is fetched 5 times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import BIN, ROOT, addfive_zip, boto, create_addfive, ensure_wrk, free_port, process, run_wrk, wait_ok

sys.path.insert(0, str(ROOT / "src"))
INVOKE = "/2015-03-31/functions/addfive/invocations"
LUA = 'wrk.method = "POST"\nwrk.body = \'{"num": "5"}\'\n'


def serve(home: str, port: int, *extra: str) -> list[str]:
    return [str(BIN / "lambdalite"), "serve", "--port", str(port), "--home", home, *extra]


def overhead(args: argparse.Namespace) -> None:
    wrk = ensure_wrk()
    script = Path(tempfile.mkdtemp(prefix="bench-")) / "invoke.lua"
    script.write_text(LUA)
    on_port, off_port = free_port(), free_port()
    on, off = f"http://127.0.0.1:{on_port}", f"http://127.0.0.1:{off_port}"
    with process(serve(tempfile.mkdtemp(prefix="bench-on-"), on_port)), \
            process(serve(tempfile.mkdtemp(prefix="bench-off-"), off_port, "--no-records")):
        for base in (on, off):
            wait_ok(base + "/_lambdalite/health")
            create_addfive(base)
        conns = (1, 8)
        for base in (on, off):   # warm-up
            for c in conns:
                run_wrk(wrk, base + INVOKE, c, 2, script)
        rows: dict[int, dict[str, list[float]]] = {c: {"on": [], "off": []} for c in conns}
        for _ in range(args.rounds):
            for c in conns:
                rows[c]["on"].append(run_wrk(wrk, on + INVOKE, c, args.seconds, script)["rps"])
                rows[c]["off"].append(run_wrk(wrk, off + INVOKE, c, args.seconds, script)["rps"])
    print(f"\n1. warm Invoke of addfive, records/logs/metrics on vs --no-records, {args.rounds} alternating "
          f"rounds x {args.seconds:g} s, medians")
    print(f"{'conns':>5} | {'on req/s':>9} | {'off req/s':>9} | {'cost':>6}   rounds on / off")
    for c, sides in rows.items():
        a, b = statistics.median(sides["on"]), statistics.median(sides["off"])
        print(f"{c:>5} | {a:>9.0f} | {b:>9.0f} | {(1 - a / b) * 100:>5.1f}%   "
              f"{[round(x) for x in sides['on']]} / {[round(x) for x in sides['off']]}")


def fill(home: Path, lines: int) -> tuple[int, int]:
    """`lines` log lines of function `busy` over the last 24 h, written as the recorder writes them."""
    from lambdalite.store import Database, LogEvent
    home.mkdir(parents=True, exist_ok=True)
    db = Database(home / "lambdalite.db")
    now_ms = int(time.time() * 1000)
    rows = lines // 5
    step = 86_400_000 / rows
    batch: list[LogEvent] = []
    for i in range(rows):
        rid = f"{i:08d}-0000-4000-8000-000000000000"
        text = (f"START RequestId: {rid} Version: $LATEST\nprocessing order {i}\nEND RequestId: {rid}\n"
                f"REPORT RequestId: {rid}\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\t"
                f"Max Memory Used: 40 MB\t\n{'ERROR order failed' if i % 100 == 0 else 'ok'}\n")
        stream = f"2026/12/07/[$LATEST]{i % 50:032x}"
        batch.append(LogEvent("busy", now_ms - 86_400_000 + int(i * step), rid, text, stream))
        if len(batch) == 10_000:
            db.append([], batch)
            batch = []
    db.append([], batch)
    db.close()
    return rows, now_ms


def filter_logs(args: argparse.Namespace) -> None:
    home = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    started = time.perf_counter()
    rows, now_ms = fill(home, args.lines)
    print(f"\n2. FilterLogEvents over {rows * 5:,} stored lines ({rows:,} invocations, 24 h; written in "
          f"{time.perf_counter() - started:.0f} s)")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with process(serve(str(home), port)):
        wait_ok(base + "/_lambdalite/health")
        logs = boto(base, "logs")
        cases = [("last 5 min, term ERROR", {"startTime": now_ms - 300_000, "filterPattern": "ERROR"}),
                 ("last 5 min, no pattern", {"startTime": now_ms - 300_000}),
                 ("last 1 h, phrase", {"startTime": now_ms - 3_600_000, "filterPattern": '"order failed"'}),
                 ("24 h, term ERROR (first page)", {"filterPattern": "ERROR"})]
        print(f"{'window':<32} | {'events':>6} | {'median ms':>9} | {'max ms':>7}")
        for title, query in cases:
            times, found = [], 0
            for _ in range(5):
                t = time.perf_counter()
                found = len(logs.filter_log_events(logGroupName="/aws/lambda/busy", **query)["events"])
                times.append((time.perf_counter() - t) * 1000)
            print(f"{title:<32} | {found:>6} | {statistics.median(times):>9.1f} | {max(times):>7.1f}")


def scrape(args: argparse.Namespace) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with process(serve(tempfile.mkdtemp(prefix="bench-fns-"), port, "--idle-timeout", "0")):
        wait_ok(base + "/_lambdalite/health")
        code = addfive_zip()
        started = time.perf_counter()

        def one(i: int) -> None:
            lam = boto(base)
            name = f"fn-{i:04d}"
            lam.create_function(FunctionName=name, Runtime="python3.11", Handler="lambda_function.lambda_handler",
                                Role="arn:aws:iam::000000000000:role/r", Code={"ZipFile": code})
            lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2})
            lam.invoke(FunctionName=name, Payload=b'{"num": "1"}')["Payload"].read()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(one, range(args.functions)))
        made = time.perf_counter() - started
        times, size, series = [], 0, 0
        for _ in range(5):
            t = time.perf_counter()
            with urllib.request.urlopen(base + "/_lambdalite/metrics", timeout=60) as r:
                text = r.read()
            times.append((time.perf_counter() - t) * 1000)
            size = len(text)
            series = sum(1 for line in text.splitlines() if line.startswith(b"lambdalite_invocations_total{"))
    print(f"\n3. GET /_lambdalite/metrics with {args.functions:,} functions, each invoked once (made in {made:.0f} s)")
    print(f"invocation series {series} (bound 1,000 + _other) | {size / 1e6:.2f} MB | "
          f"median {statistics.median(times):.1f} ms | max {max(times):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--functions", type=int, default=2000)
    parser.add_argument("--only", default="overhead,filter,scrape")
    args = parser.parse_args()
    parts = args.only.split(",")
    if "overhead" in parts:
        overhead(args)
    if "filter" in parts:
        filter_logs(args)
    if "scrape" in parts:
        scrape(args)
    print(json.dumps({"done": parts}))


if __name__ == "__main__":
    main()
