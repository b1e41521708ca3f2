"""The console's pages with a big store: 1,000 functions and 1,000,000 invocation records.

    .venv/bin/python bench/console.py [--functions 1000] [--records 1000000] [--rounds 21]

The functions are made through the Lambda API; the records are written straight into the store,
through `Database.append` as the recorder writes them (records and their per-minute counts): half of
them one busy function's, the rest spread over the others, all within the last hour so that the
list's last-hour columns count them. Then the server is started again on that home. Each page is
fetched `rounds` times over loopback; the baseline is ListFunctions' first page (50) on the same
server. Target (issue 21): every page <= 200 ms.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import requests
from harness import BIN, addfive_zip, boto, free_port, process, wait_ok


def seed_records(db: Path, names: list[str], count: int) -> None:
    """Written as the recorder writes them (Database.append: the records and their per-minute counts)."""
    from lambdalite.store import Database
    from lambdalite.store.db import InvocationRecord

    now = int(time.time() * 1000)
    store = Database(db)
    try:
        for first in range(0, count, 50_000):
            store.append([InvocationRecord(
                f"bench-{i}", names[0] if i % 2 == 0 else names[1 + i % (len(names) - 1)], "$LATEST",
                now - (i % 3_500_000), 1.0 + (i % 997) / 10, 2, 128, 30, None, "error" if i % 50 == 0 else "ok", None)
                for i in range(first, min(count, first + 50_000))], [])
    finally:
        store.close()


def timed(url: str, rounds: int) -> list[float]:
    session = requests.Session()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        r = session.get(url, timeout=60)
        times.append((time.perf_counter() - started) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{url}: {r.status_code} {r.text[:200]}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--functions", type=int, default=1000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-console-"))
    names = [f"fn-{i:04d}" for i in range(args.functions)]
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        cmd = [str(BIN / "lambdalite"), "serve", "--port", str(port), "--home", str(home)]
        started = time.perf_counter()
        with process(cmd):
            wait_ok(f"{base}/_lambdalite/health")
            lam = boto(base)
            code = addfive_zip()
            for name in names:
                lam.create_function(FunctionName=name, Runtime="python3.11", Role="arn:aws:iam::000000000000:role/r",
                                    Handler="lambda_function.lambda_handler", Code={"ZipFile": code})
        print(f"{args.functions} functions made in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        seed_records(home / "lambdalite.db", names, args.records)
        print(f"{args.records} records written in {time.perf_counter() - started:.1f} s", flush=True)
        with process(cmd):
            wait_ok(f"{base}/_lambdalite/health", timeout=120)
            last = max(1, args.functions // 50)
            pages = [
                ("ListFunctions, first 50 (baseline)", f"{base}/2015-03-31/functions/?MaxItems=50"),
                ("console: functions, page 1", f"{base}/_lambdalite/console/"),
                (f"console: functions, page {last}", f"{base}/_lambdalite/console/?page={last}"),
                (f"console: {names[0]} (half the records)", f"{base}/_lambdalite/console/functions/{names[0]}"),
                (f"console: {names[-1]}", f"{base}/_lambdalite/console/functions/{names[-1]}"),
                ("console: APIs", f"{base}/_lambdalite/console/apis"),
            ]
            rows = [(label, timed(url, args.rounds)) for label, url in pages]
        print(f"\nconsole pages, {args.functions} functions, {args.records} records ({args.rounds} rounds; target "
              "<= 200 ms)")
        print(f"{'':<44} {'p50 ms':>8} {'p90 ms':>8} {'max ms':>8}")
        for label, times in rows:
            q = statistics.quantiles(times, n=10)
            print(f"{label:<44} {statistics.median(times):>8.1f} {q[8]:>8.1f} {max(times):>8.1f}")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
