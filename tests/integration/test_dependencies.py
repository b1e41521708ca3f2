"""requirements.txt per function: built with uv into shared environments, Lambda's states while it
builds, the import path in AWS's order, and every way a build can fail (Failed, previous code kept)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ROLE, Server, boto_client, error_of, unique, zip_of

SIX = "import six\ndef handler(event, context):\n    return six.__version__\n"
PATHS = """
import sys, six
def handler(event, context):
    return {"path": sys.path, "six": six.__file__}
"""
PLATFORM = """
def handler(event, context):
    found = {}
    for name in ("uvicorn", "click", "lambdalite", "idna"):
        try:
            __import__(name)
            found[name] = True
        except ImportError:
            found[name] = False
    return found
"""


def create(lam, name: str, files: dict[str, str], wait: bool = True, **config: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    out: dict[str, Any] = lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
                                              Code={"ZipFile": zip_of(files)}, Timeout=10, **config)
    if wait:
        return settled(lam, name)
    return out


def settled(lam, name: str, timeout_s: float = 300) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while True:
        conf: dict[str, Any] = lam.get_function_configuration(FunctionName=name)
        if conf["State"] != "Pending" and conf["LastUpdateStatus"] != "InProgress":
            return conf
        assert time.monotonic() < deadline, conf
        time.sleep(0.1)


def result(lam, name: str) -> Any:  # type: ignore[no-untyped-def]
    out = lam.invoke(FunctionName=name, Payload=b"{}")
    body = out["Payload"].read()
    assert "FunctionError" not in out, body
    return json.loads(body)


@pytest.fixture(scope="module")
def deps_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    srv = Server(tmp_path_factory.mktemp("deps-home")).start()
    yield srv
    srv.stop()


@pytest.fixture
def dlam(deps_server: Server):  # type: ignore[no-untyped-def]
    return boto_client(deps_server.base)


def test_two_pins_of_one_package_live_side_by_side(dlam) -> None:  # type: ignore[no-untyped-def]
    new, old = unique("six-new"), unique("six-old")
    assert create(dlam, new, {"app.py": SIX, "requirements.txt": "six==1.16.0\n"})["State"] == "Active"
    assert create(dlam, old, {"app.py": SIX, "requirements.txt": "six==1.15.0\n"})["State"] == "Active"
    assert (result(dlam, new), result(dlam, old)) == ("1.16.0", "1.15.0")


def test_the_import_path_is_code_then_environment_then_bundle(dlam, deps_server: Server) -> None:  # type: ignore[no-untyped-def]
    name = unique("paths")
    create(dlam, name, {"app.py": PATHS, "requirements.txt": "six==1.16.0\n"})
    got = result(dlam, name)
    envs = deps_server.home / "envs"
    code, env, bundle = got["path"][:3]
    assert Path(code).parent == deps_server.home / "code"
    assert Path(env).parent == envs and got["six"].startswith(env)
    assert "/runtime/bundle/boto3-" in bundle
    # built compiled: instances never write bytecode, so an uncompiled package is compiled at each start
    assert list(Path(env).glob(f"__pycache__/six.{sys.implementation.cache_tag}.pyc"))


def test_the_same_requirements_share_one_environment_and_are_resolved_once(dlam, deps_server: Server) -> None:  # type: ignore[no-untyped-def]
    first, second = unique("share-a"), unique("share-b")
    create(dlam, first, {"app.py": SIX, "requirements.txt": "six==1.16.0\n\n"})
    before = {p.name for p in (deps_server.home / "envs").iterdir()}
    started = time.monotonic()
    create(dlam, second, {"app.py": SIX + "\n# another function\n", "requirements.txt": "six==1.16.0\n"})
    assert time.monotonic() - started < 5
    assert {p.name for p in (deps_server.home / "envs").iterdir()} == before   # no new environment


def test_the_platforms_packages_stay_invisible(dlam) -> None:  # type: ignore[no-untyped-def]
    bare, declared = unique("bare"), unique("declared")
    create(dlam, bare, {"app.py": PLATFORM})
    create(dlam, declared, {"app.py": PLATFORM, "requirements.txt": "idna==3.7\n"})
    # idna is installed on the server (requests needs it) but not in the boto3 bundle functions get
    assert result(dlam, bare) == {"uvicorn": False, "click": False, "lambdalite": False, "idna": False}
    assert result(dlam, declared) == {"uvicorn": False, "click": False, "lambdalite": False, "idna": True}


@pytest.mark.parametrize(("requirements", "named"), [
    ("no-such-package-lambdalite-test==9.9.9\n", "no-such-package-lambdalite-test"),
    ("six==1.16.0\nsix==1.15.0\n", "six"),                        # a version conflict
    ("six===\n", "six==="),                                       # a malformed line
    ("anyjson==0.3.3\n", "Failed to build `anyjson==0.3.3`"),     # no wheel, and its source does not build
])
def test_a_requirement_that_cannot_be_met_leaves_the_function_failed(dlam, requirements: str,  # type: ignore[no-untyped-def]
                                                                     named: str) -> None:
    name = unique("broken")
    conf = create(dlam, name, {"app.py": SIX, "requirements.txt": requirements})
    assert (conf["State"], conf["StateReasonCode"]) == ("Failed", "DependencyBuildFailed"), conf
    assert named in conf["StateReason"] and conf["LastUpdateStatus"] == "Failed"
    code, status, message = error_of(dlam.invoke, FunctionName=name, Payload=b"{}")
    assert (code, status) == ("ResourceConflictException", 409)
    assert message.endswith("The function is currently in the following state: Failed")


def test_a_failed_update_keeps_the_previous_code_serving(dlam) -> None:  # type: ignore[no-untyped-def]
    name = unique("keeps")
    create(dlam, name, {"app.py": SIX, "requirements.txt": "six==1.16.0\n"})
    dlam.update_function_code(FunctionName=name, ZipFile=zip_of({"app.py": "def handler(e, c):\n    return 'new'\n",
                                                                 "requirements.txt": "no-such-pkg-lambdalite-x==1\n"}))
    conf = settled(dlam, name)
    assert (conf["State"], conf["LastUpdateStatus"], conf["LastUpdateStatusReasonCode"]) == (
        "Active", "Failed", "DependencyBuildFailed")
    assert "no-such-pkg-lambdalite-x" in conf["LastUpdateStatusReason"]
    assert result(dlam, name) == "1.16.0"                          # the previous code still serves
    dlam.update_function_code(FunctionName=name, ZipFile=zip_of({"app.py": SIX, "requirements.txt": "six==1.15.0\n"}))
    assert settled(dlam, name)["LastUpdateStatus"] == "Successful"
    assert result(dlam, name) == "1.15.0"


def test_while_it_builds_the_function_is_pending_and_invoke_is_refused(dlam, deps_server: Server) -> None:  # type: ignore[no-untyped-def]
    name = unique("pending")
    # a requirement that takes a moment: resolve + install of a package not yet in this home
    out = create(dlam, name, {"app.py": SIX, "requirements.txt": "six==1.14.0\n"}, wait=False)
    assert (out["State"], out["StateReasonCode"]) == ("Pending", "Creating")
    conf = dlam.get_function_configuration(FunctionName=name)
    if conf["State"] == "Pending":   # still building: Invoke answers AWS's 409
        code, status, _ = error_of(dlam.invoke, FunctionName=name, Payload=b"{}")
        assert (code, status) == ("ResourceConflictException", 409)
    dlam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 600})
    assert result(dlam, name) == "1.14.0"
    builds = requests.get(deps_server.base + "/_lambdalite/builds", timeout=10).json()["builds"]
    assert all(b["function"] != name for b in builds)              # done: no longer listed


def test_a_pinned_boto3_wins_over_the_bundled_one(dlam) -> None:  # type: ignore[no-untyped-def]
    name = unique("boto")
    source = "import boto3\ndef handler(event, context):\n    return boto3.__version__\n"
    create(dlam, name, {"app.py": source, "requirements.txt": "boto3==1.35.0\n"})
    assert result(dlam, name) == "1.35.0"


def test_an_unreachable_index_fails_the_build_saying_so(tmp_path: Path) -> None:
    srv = Server(tmp_path / "home", env={"UV_DEFAULT_INDEX": "http://127.0.0.1:9/simple"})
    srv.home.mkdir()
    srv.start()
    try:
        lam = boto_client(srv.base)
        name = unique("offline")
        started = time.monotonic()
        conf = create(lam, name, {"app.py": SIX, "requirements.txt": "six==1.13.0\n"})
        assert time.monotonic() - started < 120
        assert (conf["State"], conf["StateReasonCode"]) == ("Failed", "DependencyBuildFailed")
        assert "could not reach the package index (http://127.0.0.1:9/simple)" in conf["StateReason"]
    finally:
        srv.stop()


def test_an_environment_no_function_uses_is_removed_after_the_grace_period(tmp_path: Path) -> None:
    srv = Server(tmp_path / "home", extra=("--test-clock",))
    srv.home.mkdir()
    srv.start()
    try:
        lam = boto_client(srv.base)
        create(lam, "kept", {"app.py": SIX, "requirements.txt": "six==1.16.0\n"})
        create(lam, "dropped", {"app.py": SIX, "requirements.txt": "six==1.15.0\n"})
        envs = srv.home / "envs"
        assert len([p for p in envs.iterdir() if not p.name.startswith(".")]) == 2
        lam.delete_function(FunctionName="dropped")
        clock = srv.base + "/_lambdalite/clock"
        requests.post(clock, json={"advance_s": 600}, timeout=10)      # unused, but within the grace period
        assert len(list(envs.iterdir())) == 2
        requests.post(clock, json={"advance_s": 3600}, timeout=10)
        deadline = time.monotonic() + 20
        while len(list(envs.iterdir())) != 1:   # the reaper runs every 30 s of the clock, off the event loop
            assert time.monotonic() < deadline
            requests.post(clock, json={"advance_s": 30}, timeout=10)
            time.sleep(0.05)
        assert result(lam, "kept") == "1.16.0"
    finally:
        srv.stop()


def test_a_server_killed_mid_build_rebuilds_at_restart_and_leaves_no_half_environment(tmp_path: Path) -> None:
    srv = Server(tmp_path / "home", env={"UV_CACHE_DIR": str(tmp_path / "cold-uv-cache")})   # a slow, cold build
    srv.home.mkdir()
    srv.start()
    try:
        lam = boto_client(srv.base)
        source = "import numpy\ndef handler(event, context):\n    return numpy.__version__\n"
        create(lam, "numeric", {"app.py": source, "requirements.txt": "numpy==2.1.3\n"}, wait=False)
        envs = srv.home / "envs"
        deadline = time.monotonic() + 60
        while not (building := [p for p in envs.glob(".building-*")]):
            assert time.monotonic() < deadline, "the build never started"
            time.sleep(0.01)
        srv.kill()                                                     # mid-build
        assert not any(p.is_dir() and not p.name.startswith(".") for p in envs.iterdir())   # nothing whole yet
        srv.start()
        assert not building[0].exists()                                # the leftover went at the start
        conf = settled(boto_client(srv.base), "numeric")
        assert conf["State"] == "Active", conf                         # built again, whole
        assert result(boto_client(srv.base), "numeric") == "2.1.3"
    finally:
        srv.stop()
