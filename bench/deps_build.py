"""Dependencies: building pandas + scikit-learn, redeploying, and serving the iris model.

    .venv/bin/python bench/deps_build.py [--seconds 5] [--rounds 3] [--connections 1,8]

1. The first build of examples/iris/app/requirements.txt (scikit-learn, pandas, ...) with cold caches:
   uv (what the server runs: resolve, then install) against `pip install --isolated --target`, the
   way a user builds a Lambda zip by hand. Goal (issue 16): uv at least 5x faster.
2. `lambdalite deploy examples/iris` on a fresh home with a cold uv cache, then again unchanged
   (goal: <= 1 s, no resolver run), then a second function with the same requirements through
   CreateFunction (goal: no new build, <= 1 s to Active).
3. POST /Prod/predict: the first call after the deploy (a fresh instance: imports + model load),
   then warm throughput and latency against the same handler called in-process by a raw ASGI app
   (the limit), both on uvicorn, with the same environment.
Needs network access to the package index; wrk (apt-get) for part 3.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

from harness import BIN, ROOT, boto, ensure_wrk, free_port, parse_args, process, report, run_wrk, wait_ok

IRIS = ROOT / "examples" / "iris"
REQUIREMENTS = IRIS / "app" / "requirements.txt"
PREDICT_LUA = ('wrk.method = "POST"\nwrk.body = \'{"features": [5.1, 3.5, 1.4, 0.2]}\'\n'
               'wrk.headers["Content-Type"] = "application/json"\n')


def uv() -> str:
    from uv import find_uv_bin

    return str(find_uv_bin())


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    started = time.monotonic()
    subprocess.run(cmd, check=True, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def cold_builds() -> tuple[float, float]:
    work = Path(tempfile.mkdtemp(prefix="bench-build-"))
    try:
        cache = {"UV_CACHE_DIR": str(work / "uv-cache")}
        lock = work / "lock.txt"
        started = time.monotonic()
        subprocess.run([uv(), "pip", "compile", str(REQUIREMENTS), "-o", str(lock), "--quiet",
                        "--python-version", f"{sys.version_info.major}.{sys.version_info.minor}"],
                       check=True, env={**os.environ, **cache})
        subprocess.run([uv(), "pip", "install", "--target", str(work / "uv"), "--python", sys.executable,
                        "--no-deps", "-r", str(lock), "--quiet"], check=True, env={**os.environ, **cache})
        uv_s = time.monotonic() - started
        pip_s = timed([sys.executable, "-m", "pip", "install", "--isolated", "--no-cache-dir", "--quiet",
                       "--disable-pip-version-check", "--target", str(work / "pip"), "-r", str(REQUIREMENTS)])
        return uv_s, pip_s
    finally:
        shutil.rmtree(work, ignore_errors=True)


def deploy(base: str) -> float:
    started = time.monotonic()
    subprocess.run([str(BIN / "lambdalite"), "deploy", str(IRIS), "--stack-name", "iris"], check=True,
                   env={**os.environ, "LAMBDALITE_ENDPOINT": base}, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def second_function(base: str) -> float:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "import sklearn\ndef handler(e, c):\n    return sklearn.__version__\n")
        z.write(REQUIREMENTS, "requirements.txt")
    lam = boto(base)
    started = time.monotonic()
    lam.create_function(FunctionName="second", Runtime="python3.11", Handler="app.handler",
                        Role="arn:aws:iam::000000000000:role/r", Code={"ZipFile": buf.getvalue()})
    lam.get_waiter("function_active_v2").wait(FunctionName="second",
                                              WaiterConfig={"Delay": 0.05, "MaxAttempts": 2000})
    return time.monotonic() - started


def post(url: str) -> float:
    started = time.monotonic()
    request = urllib.request.Request(url, data=b'{"features": [5.1, 3.5, 1.4, 0.2]}',
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as answer:
        assert b"setosa" in answer.read()
    return time.monotonic() - started


RAW_APP = '''
import json, sys
sys.path.insert(0, {app!r})
import app as iris

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    event = {{"body": body.decode(), "requestContext": {{}}}}
    answer = iris.lambda_handler(event, None)
    data = answer["body"].encode()
    await send({{"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]}})
    await send({{"type": "http.response.body", "body": data}})
'''


def limit_server(work: Path) -> tuple[list[str], str]:
    """A raw ASGI app calling the iris handler in-process, in a venv with the same requirements."""
    venv = work / "limit-venv"
    subprocess.run([uv(), "venv", "-q", "-p", sys.executable, str(venv)], check=True)
    subprocess.run([uv(), "pip", "install", "-q", "--python", str(venv / "bin" / "python"), "uvicorn[standard]",
                    "-r", str(REQUIREMENTS)], check=True)
    (work / "raw_iris_app.py").write_text(RAW_APP.format(app=str(IRIS / "app")))
    port = free_port()
    cmd = [str(venv / "bin" / "python"), "-m", "uvicorn", "--app-dir", str(work), "raw_iris_app:app",
           "--port", str(port), "--log-level", "warning", "--no-access-log"]
    return cmd, f"http://127.0.0.1:{port}/predict"


def main() -> None:
    args = parse_args()
    conns = [int(c) for c in args.connections.split(",")]
    uv_s, pip_s = cold_builds()
    print("\nfirst build of examples/iris/app/requirements.txt, cold caches")
    print(f"{'uv (resolve + install)':>28} | {'pip --isolated --target':>24} | {'pip / uv':>8}")
    print(f"{uv_s:>26.2f} s | {pip_s:>22.2f} s | {pip_s / uv_s:>7.1f}x")
    wrk = ensure_wrk()
    work = Path(tempfile.mkdtemp(prefix="bench-deps-"))
    script = work / "predict.lua"
    script.write_text(PREDICT_LUA)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    limit_cmd, limit_url = limit_server(work)
    os.environ["UV_CACHE_DIR"] = str(work / "server-uv-cache")   # a cold cache for the server's first build
    with process([str(BIN / "lambdalite"), "serve", "--port", str(port), "--home", str(work / "home")]), \
            process(limit_cmd):
        wait_ok(base + "/_lambdalite/health")
        first_deploy = deploy(base)
        stack = json.loads(urllib.request.urlopen(base + "/_lambdalite/stacks/iris").read())
        url = stack["outputs"][0]["OutputValue"]
        cold = post(url)
        again = statistics.median(deploy(base) for _ in range(3))
        second = second_function(base)
        wait_ok(limit_url, b'{"features": [5.1, 3.5, 1.4, 0.2]}', timeout=120)
        print(f"\nlambdalite deploy examples/iris: first (cold uv cache) {first_deploy:.2f} s; unchanged again "
              f"{again:.2f} s (goal <= 1 s); a second function with the same requirements Active in "
              f"{second:.2f} s (goal <= 1 s); first POST /Prod/predict (fresh instance) {cold * 1000:.0f} ms")
        for c in conns:   # warm-up
            run_wrk(wrk, url, c, 2, script)
            run_wrk(wrk, limit_url, c, 2, script)
        rows: dict[int, dict[str, list[dict[str, float]]]] = {c: {"ours": [], "limit": []} for c in conns}
        for _ in range(args.rounds):
            for c in conns:
                rows[c]["ours"].append(run_wrk(wrk, url, c, args.seconds, script))
                rows[c]["limit"].append(run_wrk(wrk, limit_url, c, args.seconds, script))

    class Title:
        title = "warm POST /Prod/predict (iris, proxy integration, scikit-learn + pandas)"

    report(Title(), rows, args)   # type: ignore[arg-type]
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
