"""Cold starts: a new instance to its answer, through Invoke over loopback, fresh vs zygote vs fork.

    .venv/bin/python bench/cold_start.py [--rounds 21] [--no-iris]

Two servers run side by side: one with `--no-zygotes` (every instance a fresh interpreter, the
baseline) and one with the default (instances forked from a zygote per dependency environment).
Each round changes the function's configuration (an environment variable), which retires its
instances, then times the next Invoke over a new loopback connection, as
../shared/checks/cold-start does; the first round is dropped (it also starts the zygote). The
floor is a bare `os.fork()` of this process, the child exiting at once, waited for.
With iris (the default): examples/iris/app (scikit-learn, pandas, a joblib model) the same way.
Targets (issue 17): addfive via zygote <= 3 ms p50; iris via zygote <= 60 ms, via a snapshot
(LAMBDALITE_SNAPSHOT=init, a third function on the default server) <= 20 ms and >= 50x fresh.
The walls (issue 24): as root the default server runs each function as a user of its own and checks
its code folder's stamp before each cold start; a fourth server with LAMBDALITE_ISOLATION=off is the
baseline (target: the default within 10% of it). Not root: both rows are the same mode.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator

from harness import BIN, ROOT, addfive_zip, boto, free_port, process, wait_ok

IRIS = ROOT / "examples" / "iris" / "app"


def iris_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in ("app.py", "model.joblib", "requirements.txt"):
            z.write(IRIS / name, name)
    return buf.getvalue()


def invoke(port: int, name: str, payload: bytes) -> tuple[float, str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    conn.request("POST", f"/2015-03-31/functions/{name}/invocations", body=payload,
                 headers={"X-Amz-Log-Type": "Tail", "Content-Type": "application/json"})
    resp = conn.getresponse()
    body = resp.read().decode()
    ms = (time.perf_counter() - started) * 1000
    log = base64.b64decode(resp.getheader("X-Amz-Log-Result") or "").decode(errors="replace")
    conn.close()
    if resp.status != 200 or "errorType" in body:
        sys.exit(f"{name}: {resp.status} {body[:300]}")
    return ms, body, log


def settle(lam, name: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(6000):
        conf = lam.get_function_configuration(FunctionName=name)
        if conf.get("LastUpdateStatus") != "InProgress" and conf.get("State") != "Pending":
            return
        time.sleep(0.05)


def cold(lam, port: int, name: str, payload: bytes, rounds: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    variables = lam.get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {})
    for i in range(rounds):
        lam.update_function_configuration(FunctionName=name, Environment={"Variables": {**variables, "ROUND": str(i)}})
        settle(lam, name)
        ms, _, log = invoke(port, name, payload)
        if "Init Duration" not in log and "Restore Duration" not in log:
            sys.exit(f"{name}: round {i} was not a cold start")
        times.append(ms)
    return times[1:]


def bare_fork(rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        times.append((time.perf_counter() - started) * 1000)
    return times


@contextlib.contextmanager
def server(*flags: str, env: dict[str, str] | None = None) -> Iterator[tuple[int, object]]:
    home = tempfile.mkdtemp(prefix="bench-cold-")
    port = free_port()
    try:
        with process([str(BIN / "lambdalite"), "serve", "--port", str(port), "--home", home, *flags], env=env):
            wait_ok(f"http://127.0.0.1:{port}/_lambdalite/health")
            yield port, boto(f"http://127.0.0.1:{port}")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def stats(times: list[float]) -> str:
    q = statistics.quantiles(times, n=10)
    return f"{statistics.median(times):>8.2f} {q[8]:>8.2f} {min(times):>8.2f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--no-iris", action="store_true")
    args = parser.parse_args()
    rows: list[tuple[str, list[float]]] = [("bare os.fork() + exit + wait (floor)", bare_fork(args.rounds))]
    role = "arn:aws:iam::000000000000:role/r"
    runs: list[tuple[str, tuple[str, ...], dict[str, str] | None]] = [
        ("fresh interpreter (--no-zygotes)", ("--no-zygotes",), None),
        ("zygote, no walls (ISOLATION=off)", (), {"LAMBDALITE_ISOLATION": "off"}),
        ("zygote (default)", (), None)]
    for label, flags, env in runs:
        with server(*flags, env=env) as (port, lam):
            lam.create_function(FunctionName="addfive", Runtime="python3.11", Role=role,  # type: ignore[attr-defined]
                                Handler="lambda_function.lambda_handler", Code={"ZipFile": addfive_zip()})
            settle(lam, "addfive")
            invoke(port, "addfive", b'{"num": "1"}')
            rows.append((f"addfive, {label}", cold(lam, port, "addfive", b'{"num": "5"}', args.rounds)))
            if not args.no_iris and env is None:
                lam.create_function(FunctionName="iris", Runtime="python3.11", Role=role, MemorySize=1024,  # type: ignore[attr-defined]
                                    Timeout=60, Handler="app.lambda_handler", Code={"ZipFile": iris_zip()})
                print(f"building iris's environment for {label} ...", file=sys.stderr)
                settle(lam, "iris")
                payload = b'{"features": [5.1, 3.5, 1.4, 0.2]}'
                invoke(port, "iris", payload)
                rows.append((f"iris, {label}", cold(lam, port, "iris", payload, max(6, args.rounds // 3))))
                if not flags:   # snapshots are the default server's (a function setting)
                    lam.create_function(FunctionName="iris-snap", Runtime="python3.11", Role=role,  # type: ignore[attr-defined]
                                        MemorySize=1024, Timeout=60, Handler="app.lambda_handler",
                                        Code={"ZipFile": iris_zip()},
                                        Environment={"Variables": {"LAMBDALITE_SNAPSHOT": "init"}})
                    settle(lam, "iris-snap")
                    invoke(port, "iris-snap", payload)
                    rows.append(("iris, snapshot (LAMBDALITE_SNAPSHOT=init)",
                                 cold(lam, port, "iris-snap", payload, max(6, args.rounds // 3))))
    print(f"\ncold start: a new instance to its answer, Invoke over a new loopback connection "
          f"({args.rounds - 1} rounds for addfive)")
    print(f"{'':<48} {'p50 ms':>8} {'p90 ms':>8} {'min ms':>8}")
    for label, times in rows:
        print(f"{label:<48} {stats(times)}")


if __name__ == "__main__":
    main()
