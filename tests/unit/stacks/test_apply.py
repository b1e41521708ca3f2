"""Applying a plan through the services, over a real store: a change that fails to prepare is a
problem and is rolled back, and a failed earlier update does not stop the next deploy."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lambdalite.errors import Problems
from lambdalite.functions.model import FunctionVersion, Prepared
from lambdalite.functions.service import FunctionService
from lambdalite.gateway.control.service import GatewayService
from lambdalite.stacks.apply import Applier, Managed
from lambdalite.stacks.model import PlannedFunction, StackPlan
from lambdalite.store import BlobStore, Database
from tests.conftest import ROLE, zip_of

GOOD = zip_of("def handler(event, context):\n    return 'good'\n")
BETTER = zip_of("def handler(event, context):\n    return 'better'\n")
BAD = zip_of("def handler(event, context):\n    return 'bad'\n")


def plan(digest: str) -> StackPlan:
    create = {"FunctionName": "fn", "Runtime": "python3.11", "Role": ROLE, "Handler": "app.handler"}
    return StackPlan(stack_name="s", functions=[PlannedFunction("Fn", "fn", create, code_sha256=digest)], apis=[],
                     permissions=[], resources=[], outputs={}, parameters={}, warnings=[], expanded_template={})


def test_a_failed_preparation_rolls_back_and_a_failed_update_does_not_block_the_next(tmp_path: Path) -> None:
    async def scenario() -> None:
        db = Database(tmp_path / "lambdalite.db")
        blobs = BlobStore(tmp_path)
        bad: set[str] = set()

        def prepare(fn: FunctionVersion) -> Prepared:
            return Prepared(failure="cannot build", reason_code="DependencyBuildFailed") if fn.code_hex in bad \
                else Prepared()

        functions = FunctionService(db, blobs, "us-east-1", "000000000000", prepare)
        gateway = GatewayService(db, "us-east-1", "000000000000")
        good, better, broken = [await functions.code.keep(z) for z in (GOOD, BETTER, BAD)]
        bad.add(broken)

        async def apply(digest: str, previous: Managed) -> Applier:
            applier = Applier(functions, gateway, "s", previous, set(), set())
            applier.preflight(plan(digest))
            try:
                await applier.apply(plan(digest))
            except Problems:
                await applier.rollback()
                raise
            return applier

        await apply(good, Managed())
        made = Managed(functions={"Fn": "fn"})
        with pytest.raises(Problems, match="fn failed to become ready: cannot build"):
            await apply(broken, made)
        restored = await functions.settled("fn")
        assert restored.code_hex == good and restored.last_update_status == "Successful"   # rolled back
        await functions.update_code("fn", {}, stored_code=broken)     # a failed update, made by hand
        failed = await functions.settled("fn")
        assert failed.last_update_status == "Failed"
        await apply(better, made)                                       # the next deploy fixes it
        fixed = await functions.settled("fn")
        assert (fixed.code_hex, fixed.last_update_status) == (better, "Successful")
        assert functions.runnable("fn", None)[0] is fixed
        db.close()

    asyncio.run(scenario())
