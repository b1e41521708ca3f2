"""`lambdalite serve` and `./scripts/serve` as a new user meets them: one server per home, a port
checked before anything else, settings of 0 honoured, and a clock tests can drive."""

from __future__ import annotations

import base64
import concurrent.futures
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from lambdalite.store.schema import LATEST
from tests.conftest import (
    DETACH,
    LAMBDALITE,
    Server,
    alive,
    boto_client,
    create_function,
    descendants,
    free_port,
    function_instances,
    instance_pids,
    zygote_pids,
)

ROOT = Path(__file__).resolve().parents[2]
HELLO = "def handler(event, context):\n    return 'hi'\n"


def serve(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`lambdalite serve ARGS` that is expected to refuse to start (it must end by itself)."""
    return subprocess.run([LAMBDALITE, "serve", *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


def reports(lam, name: str) -> str:  # type: ignore[no-untyped-def]
    """The REPORT line of one invocation (LogType Tail)."""
    out = lam.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
    assert out["Payload"].read() == b'"hi"'
    tail = base64.b64decode(out["LogResult"]).decode()
    return next(line for line in tail.splitlines() if line.startswith("REPORT"))


def test_a_second_server_on_the_same_home_refuses_naming_the_first(own_server: Server) -> None:
    own_server.start()
    done = serve("--port", str(free_port()), "--home", str(own_server.home))
    assert done.returncode == 4, done
    assert f"pid {own_server.proc.pid}, port {own_server.port}" in done.stderr  # type: ignore[union-attr]
    assert "one server per home" in done.stderr and "another --home" in done.stderr
    assert "listening" not in done.stdout
    assert requests.get(own_server.base + "/_lambdalite/health", timeout=5).json()["status"] == "ok"


def test_a_killed_server_leaves_no_lock_behind(own_server: Server) -> None:
    own_server.start()
    own_server.kill()
    assert (own_server.home / "server.lock").exists()   # the file stays; the kernel dropped the lock
    own_server.start()
    assert requests.get(own_server.base + "/_lambdalite/health", timeout=5).status_code == 200


def test_a_busy_port_is_refused_before_the_home_is_touched(own_server: Server, tmp_path: Path) -> None:
    own_server.start()
    other_home = tmp_path / "other"
    done = serve("--port", str(own_server.port), "--home", str(other_home))
    assert done.returncode == 4, done
    assert f"cannot listen on 127.0.0.1:{own_server.port}" in done.stderr and "--port" in done.stderr
    assert "listening" not in done.stdout
    assert not other_home.exists()


def test_a_home_from_a_newer_release_is_refused_and_left_alone(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with sqlite3.connect(home / "lambdalite.db") as conn:
        conn.execute("CREATE TABLE later (x)")
        conn.execute(f"PRAGMA user_version = {LATEST + 5}")
    before = (home / "lambdalite.db").read_bytes()
    done = serve("--port", str(free_port()), "--home", str(home))
    assert done.returncode == 4, done
    assert "newer Lambdalite" in done.stderr and f"schema version {LATEST + 5}" in done.stderr
    assert (home / "lambdalite.db").read_bytes() == before


def test_port_0_listens_on_a_free_port_and_says_which(tmp_path: Path) -> None:
    proc = subprocess.Popen([LAMBDALITE, "serve", "--port", "0", "--home", str(tmp_path / "home")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        listening = json.loads(proc.stdout.readline())["listening"]
        assert not listening.endswith(":0")
        deadline = time.monotonic() + 30
        while True:
            try:
                assert requests.get(listening + "/_lambdalite/health", timeout=2).json()["pid"] == proc.pid
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        if proc.stdout is not None:
            proc.stdout.close()


def test_idle_timeout_0_stops_each_instance_after_its_invocation(own_server: Server) -> None:
    own_server.extra = ("--idle-timeout", "0")
    own_server.start()
    lam = boto_client(own_server.base)
    create_function(lam, "once", HELLO)
    assert "Init Duration" in reports(lam, "once")
    assert "Init Duration" in reports(lam, "once")   # a fresh instance again: none was kept


def test_max_concurrency_0_throttles_every_invocation(own_server: Server) -> None:
    own_server.extra = ("--max-concurrency", "0")
    own_server.start()
    lam = boto_client(own_server.base)
    create_function(lam, "never", HELLO)
    r = requests.post(f"{own_server.base}/2015-03-31/functions/never/invocations", data=b"{}", timeout=10)
    assert r.status_code == 429 and r.headers["x-amzn-ErrorType"] == "TooManyRequestsException"


def test_no_zygotes_starts_fresh_interpreters_and_max_instances_caps_them(own_server: Server) -> None:
    own_server.extra = ("--no-zygotes", "--max-instances", "1")
    own_server.start()
    lam = boto_client(own_server.base)
    create_function(lam, "pid", "import os, time\ndef handler(event, context):\n    time.sleep(0.3)\n"
                                "    return os.getpid()\n")
    calls = boto_client(own_server.base, max_pool_connections=4)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        pids = list(pool.map(lambda _: json.loads(calls.invoke(FunctionName="pid")["Payload"].read()), range(4)))
    assert len(set(pids)) == 1                                  # one instance served the four, in turn
    assert zygote_pids(own_server.proc.pid) == []               # and it is a fresh interpreter
    assert instance_pids(own_server.proc.pid) == pids[:1]
    listed = requests.get(f"{own_server.base}/_lambdalite/instances", timeout=10).json()
    assert listed == {"instances": [{"pid": pids[0], "function": "pid", "version": "$LATEST", "busy": False,
                                     "zygote": None}], "zygotes": []}


def test_health_says_how_instance_limits_are_enforced(server: Server) -> None:
    from lambdalite.pool.cgroups import Cgroups

    health = requests.get(server.base + "/_lambdalite/health", timeout=5).json()
    assert health["instanceLimits"] == ("cgroup-v1" if Cgroups.available() else "watchdog")


def test_bad_pool_flags_are_refused(tmp_path: Path) -> None:
    for flags, word in ((["--max-instances", "0"], "--max-instances"), (["--zygote-idle-timeout", "-1"],
                                                                         "--zygote-idle-timeout")):
        done = serve("--home", str(tmp_path / "home"), "--port", "0", *flags)
        assert done.returncode == 2 and word in done.stderr


def test_the_clock_does_not_move_without_test_clock(server: Server) -> None:
    r = requests.post(server.base + "/_lambdalite/clock", json={"advance_s": 5}, timeout=10)
    assert r.status_code == 403 and "--test-clock" in r.json()["message"]
    assert requests.get(server.base + "/_lambdalite/clock", timeout=10).json()["test"] is False


def test_idle_instances_stop_when_the_test_clock_passes_the_idle_timeout(own_server: Server) -> None:
    own_server.extra = ("--test-clock", "--idle-timeout", "60")
    own_server.start()
    lam = boto_client(own_server.base)
    create_function(lam, "idler", HELLO)
    assert "Init Duration" in reports(lam, "idler")
    clock = own_server.base + "/_lambdalite/clock"
    assert requests.post(clock, json={"advance_s": 59}, timeout=10).json() == {"now": 59.0, "test": True}
    assert "Init Duration" not in reports(lam, "idler")      # warm: 59 s of (test) idleness is not enough
    for bad in ({"advance_s": -1}, {"advance_s": "soon"}, {}):
        assert requests.post(clock, json=bad, timeout=10).status_code == 400
    requests.post(clock, json={"advance_s": 200}, timeout=10)
    deadline = time.monotonic() + 10
    while "Init Duration" not in (line := reports(lam, "idler")):
        assert time.monotonic() < deadline, line   # the reaper runs right after the advance
        time.sleep(0.05)


def test_scripts_serve_on_a_busy_port_deploys_nothing_and_exits(own_server: Server, tmp_path: Path) -> None:
    own_server.start()
    env = {**os.environ, "LAMBDALITE_VENV": str(Path(sys.executable).parent.parent)}
    done = subprocess.run([str(ROOT / "scripts" / "serve"), "--port", str(own_server.port), "--home",
                           str(tmp_path / "second")], capture_output=True, text=True, timeout=120, env=env,
                          check=False)
    assert done.returncode == 4, done
    assert "cannot listen" in done.stderr
    assert "deploying" not in done.stdout + done.stderr
    stacks = requests.get(own_server.base + "/_lambdalite/stacks", timeout=10).json()["stacks"]
    assert stacks == []


def test_scripts_serve_starts_the_guide_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "LAMBDALITE_VENV": str(Path(sys.executable).parent.parent)}
    script = subprocess.Popen([str(ROOT / "scripts" / "serve"), "--port", str(port), "--home", str(tmp_path / "h")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/PRD/addfive", params={"num": "5"}, timeout=5)
                if answer.status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline and script.poll() is None
            time.sleep(0.2)
        assert answer.text == "10"
        os.kill(script.pid, signal.SIGINT)   # the script's own trap stops the server (after the deploy ends)
        output, _ = script.communicate(timeout=60)
        # uvicorn re-raises the signal it stopped on, so the status is SIGTERM's, as for any stopped server
        assert script.returncode in (0, 128 + signal.SIGTERM), output
        assert "stack addfive: CREATE_COMPLETE" in output and f"http://127.0.0.1:{port}/PRD/addfive" in output
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/_lambdalite/health", timeout=5)
    finally:
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGKILL)
            script.communicate()


def test_sigterm_lets_an_invocation_in_flight_finish_then_stops_every_instance(own_server: Server) -> None:
    own_server.start()
    lam = boto_client(own_server.base)
    create_function(lam, "slow", "import time\ndef handler(e, c):\n    time.sleep(1.5)\n    return 'finished'\n",
                    Timeout=10)
    create_function(lam, "idle", HELLO)
    lam.invoke(FunctionName="idle", Payload=b"{}")
    assert own_server.proc is not None
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        call = pool.submit(lambda: json.loads(lam.invoke(FunctionName="slow", Payload=b"{}")["Payload"].read()))
        deadline = time.monotonic() + 10
        while len(function_instances(own_server.base, "slow")) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(function_instances(own_server.base, "slow")) == 1
        assert zygote_pids(own_server.proc.pid)   # instances are forked from a zygote by default
        instances = descendants(own_server.proc.pid)   # and everything else the server started
        time.sleep(0.3)
        os.kill(own_server.proc.pid, signal.SIGTERM)      # the server alone, as systemd or docker stop would
        assert call.result(timeout=30) == "finished"       # drained, not cut off
    own_server.proc.wait(30)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in instances) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in instances)


def test_no_instance_outlives_a_sigkilled_server(own_server: Server) -> None:
    own_server.start()
    lam = boto_client(own_server.base)
    create_function(lam, "busy", "import time\ndef handler(e, c):\n    time.sleep(60)\n", Timeout=90)
    create_function(lam, "idle", HELLO)
    create_function(lam, "detach", DETACH)
    lam.invoke(FunctionName="idle", Payload=b"{}")
    escaped = json.loads(lam.invoke(FunctionName="detach", Payload=b"{}")["Payload"].read())
    assert own_server.proc is not None and alive(escaped)
    def busy_call() -> None:
        try:
            requests.post(f"{own_server.base}/2015-03-31/functions/busy/invocations", data=b"{}", timeout=30)
        except requests.RequestException:
            pass    # the server is killed under it

    threading.Thread(target=busy_call, daemon=True).start()
    deadline = time.monotonic() + 10
    while len(function_instances(own_server.base, "busy")) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(instance_pids(own_server.proc.pid)) >= 3 and zygote_pids(own_server.proc.pid)
    # no instance, zygote, spare or process that left its session outlives the server
    instances = [*descendants(own_server.proc.pid), escaped]
    os.kill(own_server.proc.pid, signal.SIGKILL)
    own_server.proc.wait(10)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in instances) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in instances), "an instance outlived its server"
