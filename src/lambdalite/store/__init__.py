"""The store: the only code that touches SQLite (`db.py`, `schema.py`) and blob files (`blobs.py`).

It keeps the services' objects as JSON documents whose shape the services own (functions, REST
APIs, stacks), plus its own records (`InvocationRecord`, `LogEvent`), and knows no rules. It is
the bottom layer: it imports nothing of the package but `errors`.
"""

from pathlib import Path

from .blobs import BlobStore
from .db import DATABASE_NAME, CostRow, Database, InvocationRecord, LogEvent, StoredLogEvent
from .home import HomeLock, lock_home
from .schema import check_version, stored_version


def check_home(home: Path) -> None:
    """Refuse a home whose store this version cannot use (HomeUnusable), writing nothing to it."""
    path = home / DATABASE_NAME
    check_version(path, stored_version(path))


__all__ = ["DATABASE_NAME", "BlobStore", "CostRow", "Database", "HomeLock", "InvocationRecord", "LogEvent",
           "StoredLogEvent", "check_home", "lock_home"]
