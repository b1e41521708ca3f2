"""Instance specs, one per serving (name, version) snapshot."""

from __future__ import annotations

from lambdalite.functions.model import LATEST, FunctionVersion
from lambdalite.invoke.specs import SpecFactory, spec_key

CODE = "OIDTi6nJB//xTzWvPguxPDAv2CwP+q6CyFdv4UtU71o="   # base64 of a SHA-256


def snapshot(version: str = LATEST, revision: str = "r1", **config: object) -> FunctionVersion:
    return FunctionVersion(name="fn", version=version, runtime="python3.11", role="role", handler="app.handler",
                           code_sha256=CODE, code_size=10, revision_id=revision, last_modified="t",
                           config={"Timeout": 7, "MemorySize": 256, "Environment": {"Variables": {"MINE": "1"}},
                                   **config}, state="Active")


def test_a_spec_names_code_by_hash_and_carries_no_local_path() -> None:
    spec = SpecFactory("http://127.0.0.1:9000", "eu-west-1").spec_for(snapshot())
    assert spec.code == "3880d38ba9c907fff14f35af3e0bb13c302fd82c0ffaae82c8576fe14b54ef5a"
    assert (spec.runtime, spec.timeout_s, spec.memory_mb) == ("python3.11", 7.0, 256)
    assert spec.env["MINE"] == "1" and spec.env["AWS_REGION"] == "eu-west-1"
    assert spec.env["AWS_ENDPOINT_URL_LAMBDA"] == "http://127.0.0.1:9000"
    assert "LAMBDA_TASK_ROOT" not in spec.env and "LAMBDA_RUNTIME_DIR" not in spec.env
    assert spec.environment is None and spec.layers == ()


def test_two_versions_of_one_function_keep_a_spec_each() -> None:
    retired: list[str] = []
    specs = SpecFactory("http://x", "us-east-1", retire=retired.append)
    latest, one = specs.spec_for(snapshot()), specs.spec_for(snapshot("1", "r0"))
    assert latest.key != one.key
    assert specs.spec_for(snapshot()) is latest and specs.spec_for(snapshot("1", "r0")) is one
    assert retired == []
    assert specs.spec_for(snapshot(revision="r2")) is latest   # a new revision that changed nothing runnable
    assert retired == []
    newer = specs.spec_for(snapshot(revision="r3", Timeout=8))  # a changed one replaces its spec only
    assert newer.key == spec_key(snapshot(revision="r3", Timeout=8)) != latest.key
    assert retired == [latest.key]
    assert specs.spec_for(snapshot("1", "r0")) is one


def test_forget_retires_only_what_no_longer_serves() -> None:
    retired: list[str] = []
    specs = SpecFactory("http://x", "us-east-1", retire=retired.append)
    latest, one = specs.spec_for(snapshot()), specs.spec_for(snapshot("1", "r0"))
    specs.forget("fn", still_serving=[snapshot(), snapshot("1", "r0")])   # an update began: both still serve
    assert retired == []
    specs.forget("fn", still_serving=[snapshot("1", "r0")])
    assert retired == [latest.key]
    specs.forget("fn")                                                   # deleted
    assert retired == [latest.key, one.key]


def test_the_key_follows_what_runs_not_the_revision() -> None:
    base = spec_key(snapshot())
    assert spec_key(snapshot(revision="r9")) == base
    assert spec_key(snapshot(MemorySize=512)) != base
    assert spec_key(snapshot(Environment={"Variables": {"MINE": "2"}})) != base
    assert spec_key(snapshot("1")) != base


def test_a_snapshot_spec_says_so() -> None:
    specs = SpecFactory("http://x", "us-east-1")
    plain = specs.build(snapshot())
    snap = specs.build(snapshot(Environment={"Variables": {"LAMBDALITE_SNAPSHOT": "init"}}))
    assert (plain.snapshot, plain.env["AWS_LAMBDA_INITIALIZATION_TYPE"]) == (False, "on-demand")
    assert (snap.snapshot, snap.env["AWS_LAMBDA_INITIALIZATION_TYPE"]) == (True, "snap-start")
