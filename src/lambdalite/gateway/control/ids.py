"""API Gateway's identifiers: lower-case letters and digits; 10 for APIs and roots, 6 for the rest."""

from __future__ import annotations

import secrets
import string
import time

ALPHABET = string.ascii_lowercase + string.digits
API_ID_LENGTH = 10    # REST API ids and root resource ids (`ki5uhiune6`)
CHILD_ID_LENGTH = 6   # resources, deployments, models, validators (`g5atc8`)


def new_id(length: int = CHILD_ID_LENGTH, taken: object = ()) -> str:
    """A fresh id of `length` characters, not in `taken` (anything supporting `in`)."""
    while True:
        candidate = "".join(secrets.choice(ALPHABET) for _ in range(length))
        if candidate not in taken:  # type: ignore[operator]
            return candidate


def now() -> int:
    """`createdDate`/`lastUpdatedDate`: epoch seconds, as AWS puts them on the wire."""
    return int(time.time())
