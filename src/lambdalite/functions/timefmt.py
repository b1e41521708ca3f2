"""Lambda's timestamp text: ``2026-01-01T00:00:00.000+0000`` (milliseconds, a literal +0000).

AWS prints LastModified this way (not ISO 8601 with a colon, not microseconds); pure.
"""

from __future__ import annotations

from datetime import UTC, datetime


def aws_timestamp(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    # Truncate to milliseconds rather than round, so a time never moves into the next second.
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"
