"""Burst from zero: 50 concurrent Invokes on a function with no instance, then the same again warm.

    .venv/bin/python bench/burst.py [--calls 50] [--no-iris]

Per server setting, in one run: the default (instances started as the pool's rule allows) and the
baseline `--max-instances $(nproc)` (instances sized to the cores). Functions: examples/iris/app
(scikit-learn + pandas, a slow init; the issue's case) and a handler that sleeps 0.2 s (I/O-bound:
it needs many instances). Columns: wall time until all answered, errors, p50 of the calls, peak
instances, peak memory of the server and all its descendants as PSS (sampled every 50 ms).
Target (issue 17): every call answered, warm faster than cold, wall time within 1.2x the baseline.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from cold_start import iris_zip, settle
from harness import BIN, boto, free_port, process, wait_ok

SLEEP = b"import time\ndef handler(event, context):\n    time.sleep(0.2)\n    return 'ok'\n"


def zip_of(source: bytes) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", source)
    return buf.getvalue()


def call(port: int, name: str, payload: bytes) -> tuple[float, bool]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    conn.request("POST", f"/2015-03-31/functions/{name}/invocations", body=payload)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return time.perf_counter() - started, resp.status == 200 and b"errorType" not in body


def descendants(root: int) -> list[int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                parents[int(entry)] = int(stat[stat.rindex(")") + 2:].split()[1])
    found, frontier = [root], [root]
    while frontier:
        frontier = [p for p, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def pss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
    return total / 1024


class Sampler(threading.Thread):
    def __init__(self, server_pid: int, port: int) -> None:
        super().__init__(daemon=True)
        self.server_pid, self.port = server_pid, port
        self.peak_pss = self.peak_instances = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak_pss = max(self.peak_pss, pss_mb(descendants(self.server_pid)))
            with contextlib.suppress(OSError, ValueError):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/_lambdalite/instances")
                count = len(json.loads(conn.getresponse().read())["instances"])
                conn.close()
                self.peak_instances = max(self.peak_instances, count)
            self.stop.wait(0.05)


def burst(port: int, server_pid: int, name: str, payload: bytes, calls: int) -> dict[str, float]:
    sampler = Sampler(server_pid, port)
    sampler.start()
    with concurrent.futures.ThreadPoolExecutor(calls) as pool:
        started = time.monotonic()
        results = list(pool.map(lambda _: call(port, name, payload), range(calls)))
        wall = time.monotonic() - started
    sampler.stop.set()
    sampler.join()
    return {"wall": wall, "errors": sum(1 for _, ok in results if not ok),
            "p50": statistics.median(t for t, _ in results), "instances": sampler.peak_instances,
            "pss": sampler.peak_pss}


@contextlib.contextmanager
def server(*flags: str) -> Iterator[tuple[int, int]]:
    home = tempfile.mkdtemp(prefix="bench-burst-")
    port = free_port()
    try:
        with process([str(BIN / "lambdalite"), "serve", "--port", str(port), "--home", home, *flags]) as p:
            wait_ok(f"http://127.0.0.1:{port}/_lambdalite/health")
            yield port, p.pid
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--no-iris", action="store_true")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    functions = [("sleep 0.2 s", "sleepy", zip_of(SLEEP), "app.handler", b"{}")]
    if not args.no_iris:
        functions.insert(0, ("iris (scikit-learn)", "iris", iris_zip(), "app.lambda_handler",
                             b'{"features": [5.1, 3.5, 1.4, 0.2]}'))
    rows = []
    for label, flags in ((f"--max-instances {cores} (baseline)", ("--max-instances", str(cores))),
                         ("default", ())):
        with server(*flags) as (port, pid):
            lam = boto(f"http://127.0.0.1:{port}")
            for title, name, code, handler, payload in functions:
                lam.create_function(FunctionName=name, Runtime="python3.11", Role="arn:aws:iam::000000000000:role/r",
                                    Handler=handler, Code={"ZipFile": code}, MemorySize=1024, Timeout=60)
                print(f"{label}: preparing {name} ...", file=sys.stderr)
                settle(lam, name)
                for phase in ("cold", "warm"):
                    rows.append((title, label, phase, burst(port, pid, name, payload, args.calls)))
    print(f"\nburst of {args.calls} concurrent Invokes from zero instances, then again warm ({cores} cores)")
    print(f"{'function':<20} {'server':<28} {'phase':<5} {'wall s':>7} {'errors':>6} {'p50 s':>7} "
          f"{'instances':>9} {'PSS MB':>7}")
    for title, label, phase, r in rows:
        print(f"{title:<20} {label:<28} {phase:<5} {r['wall']:>7.2f} {r['errors']:>6.0f} {r['p50']:>7.3f} "
              f"{r['instances']:>9.0f} {r['pss']:>7.0f}")


if __name__ == "__main__":
    main()
