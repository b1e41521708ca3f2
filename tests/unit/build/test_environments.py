"""Environments and the uv wrapper's rules, over a real store; uv itself only where it is quick."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from lambdalite.build import uv
from lambdalite.build.environments import BUILDING, Environments, environment_key, normalise
from lambdalite.errors import BuildFailed
from lambdalite.store import Database

PY = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture
def envs(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = Database(tmp_path / "lambdalite.db")
    now = [0.0]
    environments = Environments(tmp_path / "envs", db, timeout_s=120, grace_s=100, clock=lambda: now[0])
    environments.start()
    environments.now = now  # type: ignore[attr-defined]
    yield environments
    db.close()


def test_requirements_count_without_blank_lines_and_line_end_differences() -> None:
    assert normalise("six==1.16.0\r\n\n  \nidna  \n") == "six==1.16.0\nidna\n"
    assert normalise("") == ""


def test_the_key_hashes_lock_and_python() -> None:
    assert environment_key("six==1.16.0\n", "3.11") == environment_key("six==1.16.0\n", "3.11")
    assert environment_key("six==1.16.0\n", "3.11") != environment_key("six==1.16.0\n", "3.12")
    assert environment_key("six==1.16.0\n", "3.11") != environment_key("six==1.15.0\n", "3.11")


def test_a_build_killed_midway_leaves_nothing_under_a_final_name(tmp_path: Path) -> None:
    db = Database(tmp_path / "lambdalite.db")
    root = tmp_path / "envs"
    (root / f"{BUILDING}abc-123" / "half").mkdir(parents=True)
    Environments(root, db).start()
    assert list(root.iterdir()) == []
    db.close()


def test_an_empty_requirements_file_gives_an_empty_environment(envs: Environments) -> None:
    key, lock = envs.prepare("# nothing yet\n", sys.executable, PY, "fn")
    assert lock == "" and envs.path(key).is_dir() and list(envs.path(key).iterdir()) == []


def test_one_requirements_text_is_resolved_once_and_built_once_even_when_asked_twice_at_once(
        envs: Environments) -> None:
    answers: list[tuple[str, str]] = []
    def ask(function: str) -> None:
        answers.append(envs.prepare("six==1.16.0\n", sys.executable, PY, function))

    threads = [threading.Thread(target=ask, args=(f"f{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(answers) == 3 and len(set(answers)) == 1
    key, lock = answers[0]
    assert lock == "six==1.16.0\n" and (envs.path(key) / "six.py").is_file()
    assert [p.name for p in envs.root.iterdir()] == [key]          # one environment, no build leftovers
    assert envs.builds() == []


def test_unused_environments_go_after_the_grace_period(envs: Environments) -> None:
    for name in ("used", "unused"):
        (envs.root / name).mkdir()
    assert envs.remove_unused({"used"}) == []                       # unused from now on
    envs.now[0] = 99.0  # type: ignore[attr-defined]
    assert envs.remove_unused({"used"}) == []
    envs.now[0] = 100.0  # type: ignore[attr-defined]
    assert envs.remove_unused({"used"}) == ["unused"]
    assert [p.name for p in envs.root.iterdir()] == ["used"]


def test_an_environment_used_again_starts_its_grace_period_anew(envs: Environments) -> None:
    (envs.root / "back").mkdir()
    envs.remove_unused(set())
    envs.now[0] = 90.0  # type: ignore[attr-defined]
    envs.remove_unused({"back"})                                    # a function uses it again
    envs.now[0] = 150.0  # type: ignore[attr-defined]
    assert envs.remove_unused(set()) == []                          # unused again only since 150


def test_a_build_that_runs_out_of_time_is_stopped_and_says_how_to_allow_more() -> None:
    with pytest.raises(BuildFailed, match=r"installing took longer than 0.5 s .* --build-timeout"):
        uv.run(["sleep", "30"], 0.5, "installing")


def test_a_failing_command_reports_its_first_lines() -> None:
    with pytest.raises(BuildFailed, match="resolving failed: boom; second"):
        uv.run([sys.executable, "-c", "import sys; print('boom\\nsecond'); sys.exit(3)"], 30, "resolving",
                progress=lambda line: None)


def test_an_unreachable_index_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_DEFAULT_INDEX", "http://example.invalid/simple")
    message = uv.failure_message("resolving", "error: Failed to fetch: `http://example.invalid/simple/six/`\n"
                                 "  Caused by: dns error", 2.0)
    assert message.startswith("resolving failed: could not reach the package index (http://example.invalid/simple)")
    assert "UV_DEFAULT_INDEX" in message
