"""FunctionService's snapshots and states, over a real store in a temporary home.

`prepare` is the seam where interpreters are found (and, later, environments built); these tests
give it answers of their own: a warning, a failure, an exception, a slow one.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lambdalite import errors
from lambdalite.functions.model import LATEST, FunctionVersion, Prepared
from lambdalite.functions.service import FunctionService
from lambdalite.store import BlobStore, Database
from tests.conftest import ROLE, zip_of

V1 = zip_of("def handler(event, context):\n    return 1\n")
V2 = zip_of("def handler(event, context):\n    return 2\n")


def body(name: str = "fn", code: bytes = V1, **extra: Any) -> dict[str, Any]:
    return {"FunctionName": name, "Runtime": "python3.11", "Role": ROLE, "Handler": "app.handler",
            "Code": {"ZipFile": base64.b64encode(code).decode()}, **extra}


def zipped(code: bytes) -> dict[str, Any]:
    return {"ZipFile": base64.b64encode(code).decode()}


def service(home: Path, prepare: Callable[[FunctionVersion], Prepared] | None = None) -> FunctionService:
    fs = FunctionService(Database(home / "lambdalite.db"), BlobStore(home), "us-east-1", "000000000000", prepare)
    fs.load()
    return fs


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_create_settles_to_active_and_serves_that_snapshot(tmp_path: Path) -> None:
    async def scenario() -> None:
        fs = service(tmp_path)
        created = await fs.create(body())
        assert created.state == "Pending"
        with pytest.raises(errors.ResourceConflict, match="following state: Pending"):
            fs.runnable("fn", None)
        settled = await fs.settled("fn")
        assert (settled.state, settled.last_update_status) == ("Active", "Successful")
        assert settled.revision_id != created.revision_id
        snapshot, arn = fs.runnable("fn", None)
        assert snapshot is settled and arn.endswith(":function:fn")
        assert fs.runnable("fn", "$LATEST")[1].endswith(":function:fn:$LATEST")
    run(scenario())


def test_a_prepare_that_raises_leaves_the_function_failed_not_pending(tmp_path: Path) -> None:
    def broken(fn: FunctionVersion) -> Prepared:
        raise OSError("disk on fire")

    async def scenario() -> None:
        fs = service(tmp_path, broken)
        await fs.create(body())
        failed = await fs.settled("fn")
        assert (failed.state, failed.state_reason_code, failed.last_update_status) == ("Failed", "InternalError",
                                                                                        "Failed")
        assert "OSError: disk on fire" in (failed.state_reason or "")
        with pytest.raises(errors.ResourceConflict, match="following state: Failed"):
            fs.runnable("fn", None)
    run(scenario())


def test_a_failed_preparation_carries_its_reason_and_code(tmp_path: Path) -> None:
    async def scenario() -> None:
        fs = service(tmp_path, lambda fn: Prepared(failure="no wheel for pandas", reason_code="DependencyBuildFailed"))
        await fs.create(body())
        failed = await fs.settled("fn")
        assert (failed.state, failed.state_reason, failed.state_reason_code) == (
            "Failed", "no wheel for pandas", "DependencyBuildFailed")
    run(scenario())


def test_a_failed_update_keeps_the_previous_snapshot_serving_also_after_a_restart(tmp_path: Path) -> None:
    verdicts = {"ok": True}

    def prepare(fn: FunctionVersion) -> Prepared:
        return Prepared() if verdicts["ok"] else Prepared(failure="cannot build", reason_code="DependencyBuildFailed")

    async def scenario() -> None:
        fs = service(tmp_path, prepare)
        await fs.create(body())
        good = await fs.settled("fn")
        verdicts["ok"] = False
        updated = await fs.update_code("fn", zipped(V2))
        assert updated.last_update_status == "InProgress"
        assert fs.runnable("fn", None)[0] is good          # the update has not settled: the old code serves
        failed = await fs.settled("fn")
        assert (failed.state, failed.last_update_status, failed.last_update_status_reason_code) == (
            "Active", "Failed", "DependencyBuildFailed")
        assert failed.code_sha256 != good.code_sha256
        assert fs.runnable("fn", None)[0] == good          # still the previous code
        fs.db.close()
        again = service(tmp_path, prepare)
        assert again.runnable("fn", None)[0] == good       # the store kept what serves
        assert again.get("fn") == failed
        verdicts["ok"] = True
        await again.update_code("fn", zipped(V2))
        fixed = await again.settled("fn")
        assert again.runnable("fn", None)[0] is fixed and fixed.last_update_status == "Successful"
    run(scenario())


def test_settled_is_woken_by_the_transition_and_by_a_delete(tmp_path: Path) -> None:
    gate = threading.Event()

    def slow(fn: FunctionVersion) -> Prepared:
        gate.wait(10)
        return Prepared()

    async def scenario() -> None:
        fs = service(tmp_path, slow)
        await fs.create(body("a"))
        await fs.create(body("b"))
        waiting = asyncio.ensure_future(fs.settled("a"))
        gone = asyncio.ensure_future(fs.settled("b"))
        await asyncio.sleep(0.05)
        assert not waiting.done() and not gone.done()
        fs.delete("b", None)
        with pytest.raises(errors.ResourceNotFound):
            await gone
        gate.set()
        assert (await asyncio.wait_for(waiting, 5)).state == "Active"
    run(scenario())


def test_an_update_while_one_is_in_progress_is_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        fs = service(tmp_path)
        await fs.create(body())
        await fs.settled("fn")
        await fs.update_code("fn", zipped(V2))
        with pytest.raises(errors.ResourceConflict, match="An update is in progress for resource: "):
            fs.update_configuration("fn", {"Timeout": 9})
        await fs.settled("fn")
        assert fs.update_configuration("fn", {"Timeout": 9}).config["Timeout"] == 9
    run(scenario())


def test_code_already_in_the_store_is_used_by_hash(tmp_path: Path) -> None:
    async def scenario() -> None:
        fs = service(tmp_path)
        digest = await fs.code.keep(V2)
        created = await fs.create({k: v for k, v in body().items() if k != "Code"}, stored_code=digest)
        assert created.code_hex == digest and created.code_size == len(V2)
        assert (fs.code.folder(created.code_hex) / "app.py").read_text().endswith("return 2\n")
        with pytest.raises(errors.InvalidParameterValue, match="not on this server"):
            await fs.create({k: v for k, v in body("other").items() if k != "Code"}, stored_code="0" * 64)
        assert fs.get("other") is None
    run(scenario())


def test_listeners_hear_every_change_and_the_serving_snapshots(tmp_path: Path) -> None:
    heard: list[tuple[str, list[str]]] = []

    async def scenario() -> None:
        fs = service(tmp_path)
        fs.on_change(lambda name: heard.append((name, [f.revision_id for f in fs.serving(name)])))
        await fs.create(body())
        settled = await fs.settled("fn")
        fs.delete("fn", None)
        assert heard == [("fn", []), ("fn", [settled.revision_id]), ("fn", [])]
        assert fs.names() == [] and fs.serving("fn") == []
    run(scenario())


def test_test_events_go_with_their_function(tmp_path: Path) -> None:
    async def scenario() -> None:
        fs = service(tmp_path)
        with pytest.raises(errors.ResourceNotFound):
            fs.put_test_event("fn", "e1", "{}")
        await fs.create(body())
        fs.put_test_events("fn", {"e1": '{"a": 1}', "e2": "[]"})
        with pytest.raises(errors.InvalidRequestContent):
            fs.put_test_events("fn", {"e3": "{}", "e4": "not json"})
        assert fs.test_events("fn") == {"e1": '{"a": 1}', "e2": "[]"}   # all or nothing
        with pytest.raises(errors.ValidationError):
            fs.put_test_event("fn", "bad name!", "{}")
        fs.delete("fn", None)
        await fs.create(body())
        assert fs.test_events("fn") == {}
    run(scenario())


def test_unknown_qualifiers_are_404_until_versions_exist(tmp_path: Path) -> None:
    async def scenario() -> None:
        fs = service(tmp_path)
        await fs.create(body())
        await fs.settled("fn")
        for qualifier in ("1", "live"):
            with pytest.raises(errors.ResourceNotFound, match=f"function:fn:{qualifier}"):
                fs.runnable("fn", qualifier)
            with pytest.raises(errors.ResourceNotFound):
                fs.resolve("fn", qualifier)
        assert fs.resolve("fn", LATEST)[0].version == LATEST
    run(scenario())
