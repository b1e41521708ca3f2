"""The modules each function version's init imported: kept, merged, capped, and gone with the function."""

from __future__ import annotations

from pathlib import Path

from lambdalite.functions import preload
from lambdalite.functions.preload import InitModuleBook
from lambdalite.store.db import Database


def book(tmp_path: Path) -> tuple[InitModuleBook, Database]:
    db = Database(tmp_path / "db.sqlite")
    return InitModuleBook(db), db


def test_a_version_keeps_its_modules_in_the_order_init_imported_them(tmp_path: Path) -> None:
    modules, db = book(tmp_path)
    assert modules.record("fn", "$LATEST", ["numpy", "json", "numpy"]) is True
    assert modules.get("fn", "$LATEST") == ("numpy", "json")
    assert modules.get("fn", "1") == () and modules.get("other", "$LATEST") == ()
    again = InitModuleBook(db)
    again.load()
    assert again.get("fn", "$LATEST") == ("numpy", "json")


def test_only_new_names_are_written(tmp_path: Path) -> None:
    modules, db = book(tmp_path)
    modules.record("fn", "$LATEST", ["a", "b"])
    assert modules.record("fn", "$LATEST", ["b", "a"]) is False
    assert modules.record("fn", "$LATEST", ["c", "a"]) is True
    assert db.load_init_modules() == {("fn", "$LATEST"): ["a", "b", "c"]}


def test_versions_are_kept_apart(tmp_path: Path) -> None:
    modules, _ = book(tmp_path)
    modules.record("fn", "$LATEST", ["a"])
    modules.record("fn", "2", ["b"])
    assert modules.get("fn", "$LATEST") == ("a",) and modules.get("fn", "2") == ("b",)


def test_the_list_is_capped(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(preload, "MAX_MODULES", 3)
    modules, _ = book(tmp_path)
    modules.record("fn", "$LATEST", ["a", "b"])
    assert modules.record("fn", "$LATEST", ["c", "d", "e"]) is True
    assert modules.get("fn", "$LATEST") == ("a", "b", "c")
    assert modules.record("fn", "$LATEST", ["f"]) is False


def test_deleting_the_function_drops_its_modules(tmp_path: Path) -> None:
    modules, db = book(tmp_path)
    modules.record("fn", "$LATEST", ["a"])
    modules.record("keep", "$LATEST", ["b"])
    db.delete_function("fn")
    modules.forget("fn")
    assert modules.get("fn", "$LATEST") == () and db.load_init_modules() == {("keep", "$LATEST"): ["b"]}


def test_what_a_store_holds_that_is_not_a_list_of_names_is_ignored(tmp_path: Path) -> None:
    modules, db = book(tmp_path)
    db.put_init_modules("fn", "$LATEST", ["a", 3, None, "b"])  # type: ignore[list-item]
    modules.load()
    assert modules.get("fn", "$LATEST") == ("a", "b")
