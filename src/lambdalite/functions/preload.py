"""What each function version's init imported from outside its own code (the standard library, its
dependency environment, its layers), kept with the version so that the zygote its instances fork
from imports them ahead of time, after a server restart too (docs/instances.md).

The pool reports the names after each init; only a report with a name not seen before is written.
"""

from __future__ import annotations

from ..store.db import Database

MAX_MODULES = 5000   # a function importing more than this is not preloaded past it


class InitModuleBook:
    __slots__ = ("db", "_modules")

    def __init__(self, db: Database) -> None:
        self.db = db
        self._modules: dict[tuple[str, str], tuple[str, ...]] = {}

    def load(self) -> None:
        self._modules = {key: tuple(m for m in names if isinstance(m, str))[:MAX_MODULES]
                         for key, names in self.db.load_init_modules().items() if isinstance(names, list)}

    def get(self, name: str, version: str) -> tuple[str, ...]:
        return self._modules.get((name, version), ())

    def record(self, name: str, version: str, names: list[str]) -> bool:
        """Add what one init imported; True when that changed the stored list."""
        known = self._modules.get((name, version), ())
        seen = set(known)
        fresh = [n for n in dict.fromkeys(names) if n not in seen]
        if not fresh or len(known) >= MAX_MODULES:
            return False
        merged = (*known, *fresh)[:MAX_MODULES]
        self.db.put_init_modules(name, version, list(merged))
        self._modules[(name, version)] = merged
        return True

    def forget(self, name: str) -> None:
        """The function is gone (the store dropped its rows with it)."""
        for key in [k for k in self._modules if k[0] == name]:
            del self._modules[key]
