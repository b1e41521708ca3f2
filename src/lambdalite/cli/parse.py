"""Pure parsing of what users type on the command line: ages and times (--since), events (--event).

No I/O and no Click here: each function takes text and returns data or raises ValueError with a
message that names the problem, which the commands turn into a usage error (exit 2).
"""

from __future__ import annotations

import json
import re
from datetime import datetime

_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_AGE = re.compile(r"(?:\d+[smhdw])+", re.IGNORECASE)
_AGE_PART = re.compile(r"(\d+)([smhdw])", re.IGNORECASE)
SINCE_HELP = "an age such as 30s, 10m, 1h, 2d, 1h30m, or an ISO time such as 2026-01-12T09:30 (local) or ...Z"


def parse_age_s(text: str) -> int:
    """'1h30m' -> 5400. Units: s, m, h, d, w; several may follow each other."""
    compact = text.strip().replace(" ", "")
    if not compact or _AGE.fullmatch(compact) is None:
        raise ValueError(f"{text!r} is not an age; give {SINCE_HELP}")
    return sum(int(n) * _UNITS_S[unit.lower()] for n, unit in _AGE_PART.findall(compact))


def parse_time_ms(text: str) -> int:
    """An ISO 8601 time -> epoch ms. Without an offset it is the machine's local time."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is neither an age nor an ISO time; give {SINCE_HELP}") from None
    return int(moment.timestamp() * 1000)  # a naive datetime's timestamp() reads it as local time


def parse_since(text: str, now_ms: int) -> int:
    """--since: an age before `now_ms` or an absolute time, as epoch milliseconds."""
    stripped = text.strip()
    if stripped.isdigit():
        raise ValueError(f"{text!r} has no unit; write {stripped}s, {stripped}m or {stripped}h "
                         "(or an ISO time such as 2026-01-12T09:30)")
    if stripped[:1].isdigit() and stripped[-1:].lower() in _UNITS_S:
        return now_ms - parse_age_s(stripped) * 1000
    return parse_time_ms(stripped)


def parse_event(text: str | bytes, source: str) -> bytes:
    """Checks that an event is JSON and returns its bytes unchanged; `source` names it in errors."""
    raw = text.encode() if isinstance(text, str) else text
    try:
        json.loads(raw)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise ValueError(f"{source} is not valid JSON: {exc.msg} at {where}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{source} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return raw
