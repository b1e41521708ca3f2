"""Regular expressions written by users (an integration response's `selectionPattern`, a model's
`pattern` and `patternProperties`), run so that none can stall the server: by the `regex` engine,
which cuts most catastrophic backtracking short, and with a time limit per match. A pattern that
cannot be read, or runs out of time, matches nothing (and the server log says which).

Python's `re` would run `(a+)+b` against 30 `a`s for minutes on the event loop's thread.
"""

from __future__ import annotations

import functools
import logging

import regex

log = logging.getLogger("lambdalite.gateway")

TIMEOUT_S = 0.1   # per match: far beyond any sane pattern, short enough that a burst cannot stall others


@functools.lru_cache(maxsize=2048)
def compiled(pattern: str, dotall: bool = False) -> regex.Pattern[str] | None:
    try:
        return regex.compile(pattern, regex.DOTALL if dotall else 0)
    except (regex.error, ValueError, OverflowError):
        return None   # a pattern that cannot be read never matches


def fullmatch(pattern: str, value: str, dotall: bool = False) -> bool:
    """Whether `pattern` matches the whole of `value` (Java's `String.matches`, as API Gateway's)."""
    return _matches(pattern, value, dotall, whole=True)


def search(pattern: str, value: str) -> bool:
    """Whether `pattern` matches somewhere in `value` (JSON Schema's `pattern`)."""
    return _matches(pattern, value, False, whole=False)


def _matches(pattern: str, value: str, dotall: bool, whole: bool) -> bool:
    found = compiled(pattern, dotall)
    if found is None:
        return False
    try:
        match = found.fullmatch if whole else found.search
        return match(value, timeout=TIMEOUT_S) is not None
    except TimeoutError:
        log.warning("pattern %r ran out of time (%.1f s) against %d characters: no match", pattern, TIMEOUT_S,
                    len(value))
        return False
