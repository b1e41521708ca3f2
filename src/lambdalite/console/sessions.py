"""Console sessions on a server with keys: a browser cannot sign requests, so `lambdalite console`
(signed) asks for a one-time login link; opening it sets a cookie that admits that browser's
requests as the server's own key would be.

The cookie is HttpOnly and SameSite=Strict (a page of another site never sends it), and the
perimeter refuses any request whose `Origin` is not the server's own; changes (anything but GET and
HEAD) must carry that `Origin`. A login link works once, within LINK_TTL_S; a session lasts
SESSION_TTL_S; both live in memory (a restart ends them).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable

COOKIE = "lambdalite_console"
LINK_TTL_S = 120.0
SESSION_TTL_S = 12 * 3600.0


class Sessions:
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._links: dict[str, float] = {}      # one-time token -> until when it may be used
        self._sessions: dict[str, float] = {}   # session id -> until when it is good

    def link(self) -> str:
        """A new one-time login token."""
        self._forget_old()
        token = secrets.token_urlsafe(32)
        self._links[token] = self._now() + LINK_TTL_S
        return token

    def login(self, token: str) -> str | None:
        """The session a valid, unused token opens; None for any other token."""
        until = next((u for t, u in self._links.items() if hmac.compare_digest(t, token)), None)
        if until is None:
            return None
        del self._links[token]
        if until < self._now():
            return None
        session = secrets.token_urlsafe(32)
        self._sessions[session] = self._now() + SESSION_TTL_S
        return session

    def valid(self, session: str) -> bool:
        until = self._sessions.get(session)
        return until is not None and until >= self._now()

    def _forget_old(self) -> None:
        now = self._now()
        self._links = {t: u for t, u in self._links.items() if u >= now}
        self._sessions = {s: u for s, u in self._sessions.items() if u >= now}


def cookie_of(headers: list[tuple[bytes, bytes]]) -> str | None:
    for key, value in headers:
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                name, _, found = part.strip().partition("=")
                if name == COOKIE:
                    return found
    return None
