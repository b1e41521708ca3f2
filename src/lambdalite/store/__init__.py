"""The store: the only code that touches SQLite (`db.py`, `schema.py`) and blob files (`blobs.py`).

It keeps the services' objects as JSON documents whose shape the services own (functions, REST
APIs, stacks), plus its own records (`InvocationRecord`, `LogEvent`), and knows no rules. It is
the bottom layer: it imports nothing of the package but `errors`.
"""

from .blobs import BlobStore
from .db import Database, InvocationRecord, LogEvent, StoredLogEvent

__all__ = ["BlobStore", "Database", "InvocationRecord", "LogEvent", "StoredLogEvent"]
