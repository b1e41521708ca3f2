"""What a function can see: its own path and environment, never the platform's packages."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest

from lambdalite import errors


async def test_platform_packages_are_not_importable_but_boto3_is(make_spec, invoke, bundle, code_folder) -> None:
    spec = make_spec("""
        import importlib, sys
        def handler(event, context):
            seen = {}
            for name in ["uvicorn", "lambdalite", "click", "requests", "boto3", "botocore"]:
                try:
                    importlib.import_module(name)
                    seen[name] = True
                except ImportError:
                    seen[name] = False
            import boto3
            client = boto3.client("lambda", region_name="us-east-1")
            return {"seen": seen, "path": sys.path, "service": client.meta.service_model.service_name}
    """)
    result = json.loads((await invoke(spec)).body)
    assert result["seen"] == {"uvicorn": False, "lambdalite": False, "click": False, "requests": False,
                              "boto3": True, "botocore": True}
    assert result["service"] == "lambda"
    assert result["path"][:2] == [code_folder(spec), str(bundle)]
    assert not any("site-packages" in entry for entry in result["path"])


async def test_environment_is_passed_through(make_spec, invoke, code_folder) -> None:
    spec = make_spec("""
        import os
        def handler(event, context):
            return {"mine": os.environ.get("MY_SETTING"), "cwd": os.getcwd(),
                    "trace": os.environ.get("_X_AMZN_TRACE_ID"),
                    "private": sorted(k for k in os.environ if k.startswith("_LAMBDALITE"))}
    """, env={"MY_SETTING": "on"})
    result = json.loads((await invoke(spec, trace_id="Root=1-5759e988-bd862e3fe1be46a994272793")).body)
    assert result == {"mine": "on", "cwd": code_folder(spec), "trace": "Root=1-5759e988-bd862e3fe1be46a994272793",
                      "private": []}
    assert json.loads((await invoke(spec)).body)["trace"] is None


async def test_a_dependency_environment_comes_after_the_code_and_its_pth_files_count(
        make_spec, invoke, code_folder, envs_root) -> None:
    env = envs_root / "env1"
    (env / "extra" / "inner").mkdir(parents=True)
    (env / "dep.py").write_text("WHO = 'the environment'\n")
    (env / "extra" / "inner" / "viapth.py").write_text("WHO = 'a .pth line'\n")
    (env / "paths.pth").write_text("# a comment\nextra/inner\nmissing/folder\nimport os; os.environ['PTH_RAN'] = '1'\n")
    spec = make_spec("""
        import os, sys, dep, viapth
        def handler(event, context):
            return {"path": sys.path[:4], "dep": dep.WHO, "pth": viapth.WHO, "ran": os.environ.get("PTH_RAN")}
    """)
    spec = type(spec)(**{**spec.__dict__, "environment": env.name})
    result = json.loads((await invoke(spec)).body)
    assert result["path"][:3] == [code_folder(spec), str(env), str(env / "extra" / "inner")]
    assert (result["dep"], result["pth"], result["ran"]) == ("the environment", "a .pth line", "1")


async def test_a_missing_environment_is_an_instance_failure(make_spec, invoke) -> None:
    spec = make_spec("def handler(event, context):\n    return 1\n")
    spec = type(spec)(**{**spec.__dict__, "environment": "never-built"})
    with pytest.raises(errors.InstanceFailure, match="could not start a worker"):
        await invoke(spec)


async def test_each_instance_has_its_own_tmpdir_for_its_lifetime(make_spec, invoke, backend) -> None:
    spec = make_spec("""
        import os, tempfile, time
        def handler(event, context):
            mine = os.path.join(tempfile.gettempdir(), "mine")
            kept = os.path.exists(mine)
            open(mine, "w").close()
            time.sleep(event.get("s", 0))
            return {"tmpdir": os.environ["TMPDIR"], "gettempdir": tempfile.gettempdir(), "kept": kept,
                    "pid": os.getpid()}
    """)
    a, b = [json.loads(o.body) for o in await asyncio.gather(invoke(spec, b'{"s": 0.3}'), invoke(spec, b'{"s": 0.3}'))]
    assert a["pid"] != b["pid"] and a["tmpdir"] != b["tmpdir"]
    assert a["gettempdir"] == a["tmpdir"] and not a["kept"] and not b["kept"]
    again = json.loads((await invoke(spec)).body)
    assert again["kept"]                                   # kept across the invocations of one instance
    await backend.retire(spec.key)
    deadline = time.monotonic() + 3
    while (os.path.exists(a["tmpdir"]) or os.path.exists(b["tmpdir"])) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not os.path.exists(a["tmpdir"]) and not os.path.exists(b["tmpdir"])   # and gone with it


async def test_an_instance_whose_tmpdir_outgrows_ephemeral_storage_is_stopped_with_its_files(
        make_spec, invoke, backend) -> None:
    spec = make_spec("""
        import os
        def handler(event, context):
            path = os.path.join(os.environ["TMPDIR"], "blob")
            with open(path, "ab") as out:
                out.write(os.urandom(event["mb"] << 20))
            return {"pid": os.getpid(), "path": path}
    """)
    spec = type(spec)(**{**spec.__dict__, "ephemeral_mb": 2})
    small = json.loads((await invoke(spec, b'{"mb": 1}')).body)
    await asyncio.sleep(0.3)
    assert small["pid"] in backend.instance_pids(spec.key)          # under the size: it serves on
    await asyncio.sleep(1.0)                                         # past the next check's interval
    big = json.loads((await invoke(spec, b'{"mb": 2}')).body)
    assert big["pid"] == small["pid"]
    deadline = time.monotonic() + 5
    while (big["pid"] in backend.instance_pids(spec.key) or os.path.exists(big["path"])) \
            and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert big["pid"] not in backend.instance_pids(spec.key)       # 3 MB > 2 MB: stopped
    assert not os.path.exists(big["path"])                           # and its files with it
    fresh = json.loads((await invoke(spec, b'{"mb": 1}')).body)
    assert fresh["pid"] != big["pid"]                                # the next call gets a clean instance
