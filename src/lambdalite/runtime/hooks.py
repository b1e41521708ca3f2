"""`snapshot_restore_py`, as Lambda's Python runtime bundles it: code to run around a snapshot.

A function imports it by that name (the worker registers this module under it before user code
runs). `register_before_snapshot(func, *args, **kwargs)` and `register_after_restore(...)` work as
calls and as decorators. Before-snapshot hooks run in reverse registration order, once, in the
template after init; after-restore hooks in registration order, in every instance forked from it.
Outside a snapshot (an on-demand instance) neither kind runs, as on AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
_before: list[Hook] = []
_after: list[Hook] = []


def register_before_snapshot(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    _before.append((func, args, kwargs))
    return func


def register_after_restore(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    _after.append((func, args, kwargs))
    return func


def get_before_snapshot() -> list[Hook]:
    return list(_before)


def get_after_restore() -> list[Hook]:
    return list(_after)


def run_before_snapshot() -> None:
    for func, args, kwargs in reversed(_before):
        func(*args, **kwargs)


def run_after_restore() -> None:
    for func, args, kwargs in _after:
        func(*args, **kwargs)
