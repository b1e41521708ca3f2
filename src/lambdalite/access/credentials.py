"""Short-lived keys for function instances, as Lambda hands each execution environment its role's
session credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`).

One set per instance, made when it starts and forgotten when it ends; each is good for `LIFETIME_S`
at most, and the pool stops an instance before its keys run out (`pool.local.MAX_INSTANCE_AGE_S`).
Kept in memory only: a restart ends every instance, and so every key.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass

LIFETIME_S = 12 * 3600.0
_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class Principal:
    """Who signs with an instance's keys: its function, through its role."""

    function_name: str
    role_arn: str
    account: str

    @property
    def arn(self) -> str:
        """The assumed-role session ARN IAM names in its refusals."""
        role = self.role_arn.rsplit("/", 1)[-1] or "unknown-role"
        return f"arn:aws:sts::{self.account}:assumed-role/{role}/{self.function_name}"


@dataclass(frozen=True)
class SessionCredentials:
    key_id: str
    secret: str
    token: str
    expires: float     # on the book's clock (epoch seconds)
    principal: Principal

    def environment(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.key_id, "AWS_SECRET_ACCESS_KEY": self.secret,
                "AWS_SESSION_TOKEN": self.token}


class CredentialBook:
    def __init__(self, now: Callable[[], float], account: str) -> None:
        self._now = now
        self._account = account
        self._issued: dict[str, SessionCredentials] = {}

    def issue(self, function_name: str, role_arn: str) -> SessionCredentials:
        key_id = "ASIA" + "".join(secrets.choice(_ALPHABET) for _ in range(16))   # AWS's temporary-key prefix
        issued = SessionCredentials(key_id, secrets.token_urlsafe(30), secrets.token_urlsafe(48),
                                    self._now() + LIFETIME_S, Principal(function_name, role_arn, self._account))
        self._issued[key_id] = issued
        return issued

    def revoke(self, key_id: str) -> None:
        self._issued.pop(key_id, None)

    def get(self, key_id: str) -> SessionCredentials | None:
        return self._issued.get(key_id)

    def expired(self, issued: SessionCredentials) -> bool:
        return self._now() >= issued.expires

    def __len__(self) -> int:
        return len(self._issued)
