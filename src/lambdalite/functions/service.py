"""The functions service: create, read, update and delete functions and their policies.

It owns the in-memory snapshot that the invoke path reads (`current`: name -> FunctionVersion,
replaced whole on every change, never mutated), and writes through the store before it answers.
Rules come from the pure modules beside it (validate, names, archive); the API layer only parses
and renders.

State machine, as on AWS: CreateFunction answers `State: Pending`; a task then prepares the
function (finds its interpreter) and makes it `Active`. Updates answer `LastUpdateStatus:
InProgress` and become `Successful` the same way. Each transition gets a new RevisionId.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import errors
from ..store import BlobStore, Database
from . import archive, names, permissions, validate
from .model import LATEST, FunctionVersion, Policy
from .timefmt import aws_timestamp

log = logging.getLogger("lambdalite.functions")

IN_PROGRESS_REASON = "The function is being created."


def new_revision() -> str:
    return str(uuid.uuid4())


class FunctionService:
    def __init__(self, db: Database, blobs: BlobStore, region: str, account: str,
                 prepare: Callable[[FunctionVersion], str | None] | None = None) -> None:
        self.db = db
        self.blobs = blobs
        self.region = region
        self.account = account
        self.current: dict[str, FunctionVersion] = {}
        self.policies: dict[str, Policy] = {}
        self._prepare = prepare          # -> a warning to log once, or None
        self._listeners: list[Callable[[str], None]] = []
        self._refs: dict[tuple[str, str | None], tuple[str, str | None, str]] = {}  # see lookup()
        self._tasks: set[asyncio.Task[None]] = set()
        self._code_holders: list[Callable[[], set[str]]] = []

    # loading and snapshots -----------------------------------------------------------------
    def load(self) -> None:
        self.current = {fn.name: fn for fn in map(FunctionVersion.from_document, self.db.load_functions())}
        self.policies = {name: Policy.from_document(name, doc) for name, doc in self.db.load_policies().items()}
        for fn in self.current.values():
            if fn.state == "Pending" or fn.last_update_status == "InProgress":
                self._schedule_settle(fn.name)   # a kill -9 came between create and Active

    def on_change(self, listener: Callable[[str], None]) -> None:
        """`listener(name)` runs after a function changed or went away (instances retire)."""
        self._listeners.append(listener)

    def _publish(self, fn: FunctionVersion | None, name: str) -> None:
        if fn is None:
            self.current.pop(name, None)
        else:
            self.current[name] = fn
        for listener in self._listeners:
            listener(name)

    def hold_code(self, holder: Callable[[], set[str]]) -> None:
        """`holder()` names archives (hex SHA-256) that must outlive their last function: code
        uploaded for a deploy that has not happened yet, or kept to roll a deploy back."""
        self._code_holders.append(holder)

    def arn(self, name: str, qualifier: str | None = None) -> str:
        return names.function_arn(self.region, self.account, name, qualifier)

    async def code_archive(self, digest: str) -> bytes:
        """A stored code archive by its SHA-256 (hex): GetFunction's Code.Location serves it."""
        if not self.blobs.path(digest).exists():
            raise errors.ResourceNotFound(f"No code archive {digest} on this server.")
        return await asyncio.to_thread(self.blobs.read, digest)

    def code_dir(self, fn: FunctionVersion) -> Path:
        return self.blobs.code_dir(_hex(fn.code_sha256))

    # lookups -------------------------------------------------------------------------------
    def resolve(self, ref: str, qualifier: str | None, mutating: bool = False) -> tuple[FunctionVersion, str | None]:
        """The function a name or ARN (+ qualifier) names, or AWS's 404."""
        name, qualifier = names.parse_function_ref(ref, qualifier, self.region, self.account, mutating=mutating)
        fn = self.current.get(name)
        if fn is None or qualifier not in (None, LATEST):
            shown = qualifier if qualifier is not None else None
            raise errors.ResourceNotFound(f"Function not found: {self.arn(name, shown)}")
        return fn, qualifier

    def lookup(self, ref: str, qualifier: str | None) -> tuple[FunctionVersion, str]:
        """The invoke path's resolve: the function and the ARN as invoked (qualified only when the
        caller gave a qualifier). Parsing a reference is pure, so its result is kept per string."""
        parsed = self._refs.get((ref, qualifier))
        if parsed is None:
            name, q = names.parse_function_ref(ref, qualifier, self.region, self.account)
            if len(self._refs) > 10_000:
                self._refs.clear()
            parsed = self._refs[(ref, qualifier)] = (name, q, self.arn(name, q))
        fn = self.current.get(parsed[0])
        if fn is None or parsed[1] not in (None, LATEST):
            raise errors.ResourceNotFound(f"Function not found: {self.arn(parsed[0], parsed[1])}")
        return fn, parsed[2]

    def list(self) -> list[FunctionVersion]:
        return [self.current[n] for n in sorted(self.current)]

    # create / update / delete ----------------------------------------------------------------
    async def create(self, body: dict[str, Any]) -> FunctionVersion:
        spec = validate.validate_create(body, region=self.region, account=self.account)
        name = spec["FunctionName"]
        if name in self.current:
            raise errors.ResourceConflict(f"Function already exist: {name}")
        zip_bytes = _decode_zip(spec["Code"])
        sha_b64 = await self._store_code(zip_bytes)
        if name in self.current:  # created by a concurrent request while the code was unpacked
            raise errors.ResourceConflict(f"Function already exist: {name}")
        config = {k: v for k, v in spec.items() if k not in _TOP_LEVEL}
        fn = FunctionVersion(
            name=name, version=LATEST, runtime=spec["Runtime"], role=spec["Role"], handler=spec["Handler"],
            code_sha256=sha_b64, code_size=len(zip_bytes), config=config, revision_id=new_revision(),
            last_modified=aws_timestamp(time.time()), tags=dict(spec.get("Tags") or {}),
        )
        self.db.put_function(fn.name, fn.version, fn.to_document())
        self._publish(fn, name)
        self._schedule_settle(name)
        return fn

    async def update_code(self, ref: str, body: dict[str, Any]) -> FunctionVersion:
        fn, _ = self.resolve(ref, None, mutating=True)
        validate.check_revision(body.get("RevisionId"), fn.revision_id)
        self._refuse_if_in_progress(fn)
        zip_bytes = _decode_zip(_update_code_source(body))
        sha_b64 = await self._store_code(zip_bytes)
        fn = self.current.get(fn.name) or fn
        updated = fn.with_changes(code_sha256=sha_b64, code_size=len(zip_bytes), **self._in_progress())
        self.db.put_function(updated.name, updated.version, updated.to_document())
        self._publish(updated, fn.name)
        self._schedule_settle(fn.name)
        return updated

    def update_configuration(self, ref: str, body: dict[str, Any]) -> FunctionVersion:
        fn, _ = self.resolve(ref, None, mutating=True)
        validate.check_revision(body.get("RevisionId"), fn.revision_id)
        self._refuse_if_in_progress(fn)
        merged = validate.validate_update_configuration(body, self._as_config(fn))
        config = {k: v for k, v in merged.items() if k not in _TOP_LEVEL}
        updated = fn.with_changes(
            runtime=merged.get("Runtime", fn.runtime), role=merged.get("Role", fn.role),
            handler=merged.get("Handler", fn.handler), config=config, **self._in_progress())
        self.db.put_function(updated.name, updated.version, updated.to_document())
        self._publish(updated, fn.name)
        self._schedule_settle(fn.name)
        return updated

    def delete(self, ref: str, qualifier: str | None) -> None:
        fn, qualifier = self.resolve(ref, qualifier)
        if qualifier == LATEST:
            raise errors.InvalidParameterValue("$LATEST version cannot be deleted without deleting the function.")
        self.db.delete_function(fn.name)
        self.policies.pop(fn.name, None)
        self._publish(None, fn.name)
        in_use = {_hex(f.code_sha256) for f in self.current.values()}
        for holder in self._code_holders:
            in_use |= holder()
        self.blobs.remove_unused(in_use)

    # policies (stored and returned; not enforced yet) ----------------------------------------
    def add_permission(self, ref: str, qualifier: str | None, body: dict[str, Any]) -> dict[str, Any]:
        permissions.check_statement(body)
        if qualifier == LATEST or ref.endswith(":$LATEST"):
            names.parse_function_ref(ref, qualifier, self.region, self.account)
            raise errors.InvalidParameterValue("We currently do not support adding policies for $LATEST.")
        fn, qualifier = self.resolve(ref, qualifier, mutating=True)
        policy = self.policies.get(fn.name) or Policy(fn.name, new_revision())
        validate.check_revision(body.get("RevisionId"), policy.revision_id if policy.statements else None,
                                api="GetPolicy")
        sid = body["StatementId"]
        if any(s["Sid"] == sid for s in policy.statements):
            raise errors.ResourceConflict(
                f"The statement id ({sid}) provided already exists. Please provide a new statement id, "
                "or remove the existing statement.")
        statement = permissions.statement_of(body, self.arn(fn.name, qualifier))
        policy = Policy(fn.name, new_revision(), (*policy.statements, statement))
        self.db.put_policy(policy.function_name, policy.to_document())
        self.policies[fn.name] = policy
        return statement

    def remove_permission(self, ref: str, qualifier: str | None, sid: str, revision: str | None) -> None:
        try:
            fn, qualifier = self.resolve(ref, qualifier, mutating=True)
        except errors.ResourceNotFound:
            name, q = names.parse_function_ref(ref, qualifier, self.region, self.account)
            raise errors.ResourceNotFound(f"No policy found for: {self.arn(name, q)}") from None
        policy = self.policies.get(fn.name)
        if policy is None or not policy.statements:
            raise errors.ResourceNotFound("No policy is associated with the given resource.")
        validate.check_revision(revision, policy.revision_id, api="GetPolicy")
        kept = tuple(s for s in policy.statements if s["Sid"] != sid)
        if len(kept) == len(policy.statements):
            raise errors.ResourceNotFound(f"Statement {sid} is not found in resource policy.")
        policy = Policy(fn.name, new_revision(), kept)
        self.db.put_policy(policy.function_name, policy.to_document())
        self.policies[fn.name] = policy

    def get_policy(self, ref: str, qualifier: str | None) -> Policy:
        try:
            fn, _ = self.resolve(ref, qualifier)
        except errors.ResourceNotFound:
            raise errors.ResourceNotFound("The resource you requested does not exist.") from None
        policy = self.policies.get(fn.name)
        if policy is None or not policy.statements:
            raise errors.ResourceNotFound("The resource you requested does not exist.")
        return policy

    # internals -------------------------------------------------------------------------------
    async def _store_code(self, zip_bytes: bytes) -> str:
        """Keep the archive (content-addressed) and unpack it once; return AWS's CodeSha256."""
        sha_b64 = archive.code_sha256(zip_bytes)
        digest = _hex(sha_b64)
        target = self.blobs.code_dir(digest)
        if not target.exists():
            await asyncio.to_thread(archive.extract_zip, zip_bytes, target)
        await asyncio.to_thread(self.blobs.put, zip_bytes)
        return sha_b64

    def _as_config(self, fn: FunctionVersion) -> dict[str, Any]:
        return {**fn.config, "FunctionName": fn.name, "Runtime": fn.runtime, "Role": fn.role,
                "Handler": fn.handler}

    def _in_progress(self) -> dict[str, Any]:
        return {"revision_id": new_revision(), "last_modified": aws_timestamp(time.time()),
                "last_update_status": "InProgress", "last_update_status_reason": IN_PROGRESS_REASON,
                "last_update_status_reason_code": "Creating"}

    def _refuse_if_in_progress(self, fn: FunctionVersion) -> None:
        if fn.last_update_status == "InProgress" or fn.state == "Pending":
            raise errors.ResourceConflict(
                "The operation cannot be performed at this time. An update is in progress for resource: "
                + self.arn(fn.name))

    def _schedule_settle(self, name: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        task = loop.create_task(self._settle(name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle(self, name: str) -> None:
        """Pending -> Active and InProgress -> Successful, after preparing the function."""
        fn = self.current.get(name)
        if fn is None:
            return
        warning = await asyncio.to_thread(self._prepare, fn) if self._prepare else None
        latest = self.current.get(name)
        if latest is None or latest.revision_id != fn.revision_id:
            return  # changed meanwhile: that change settles itself
        if warning:
            log.warning("function %s: %s", name, warning)
        settled = latest.with_changes(
            state="Active", state_reason=None, state_reason_code=None, last_update_status="Successful",
            last_update_status_reason=None, last_update_status_reason_code=None, revision_id=new_revision())
        self.db.put_function(settled.name, settled.version, settled.to_document())
        self._publish(settled, name)

    async def drain(self) -> None:
        """Let pending state transitions finish (shutdown)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=10)


_TOP_LEVEL = {"FunctionName", "Runtime", "Role", "Handler", "Code", "Tags", "Publish", "RevisionId"}


def _decode_zip(code: dict[str, Any]) -> bytes:
    try:
        return base64.b64decode(code["ZipFile"], validate=True)
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise errors.InvalidParameterValue(
            "Could not unzip uploaded file. Please check your file, then try to upload again.") from None


def _update_code_source(body: dict[str, Any]) -> dict[str, Any]:
    """UpdateFunctionCode's code: a ZipFile (S3 and images are not built yet)."""
    if body.get("Publish"):
        raise errors.UnsupportedOperation("Publish is not supported yet: Lambdalite has no published "
                                          "versions yet. Update without Publish.")
    if "ZipFile" in body:
        return body
    if "S3Bucket" in body or "S3Key" in body or "ImageUri" in body:
        raise errors.UnsupportedOperation("Lambdalite takes function code as ZipFile only; S3 and "
                                          "container images are not supported yet.")
    raise errors.InvalidParameterValue("Please provide a source for function code.")


def _hex(sha_b64: str) -> str:
    return base64.b64decode(sha_b64).hex()


def policy_document(policy: Policy) -> str:
    return json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": list(policy.statements)},
                      separators=(",", ":"))
