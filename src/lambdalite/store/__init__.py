"""The store: the only code that touches SQLite (`db.py`) and blob files (`blobs.py`).

It returns typed records (`functions.model`, `InvocationRecord`, `LogEvent`) and knows no rules.
"""

from .blobs import BlobStore
from .db import Database, InvocationRecord, LogEvent, StoredLogEvent

__all__ = ["BlobStore", "Database", "InvocationRecord", "LogEvent", "StoredLogEvent"]
