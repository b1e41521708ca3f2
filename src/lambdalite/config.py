"""Server settings: from `lambdalite serve` flags, else LAMBDALITE_* variables, else defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9000
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"
DEFAULT_MAX_CONCURRENCY = 128   # in-flight invocations across the server; 64 clients of one function fit
DEFAULT_IDLE_TIMEOUT_S = 600.0  # an idle instance is stopped after this long


def default_home() -> Path:
    return Path(os.environ.get("LAMBDALITE_HOME") or Path.home() / ".lambdalite")


@dataclass(frozen=True)
class Settings:
    home: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S
    flush_interval_s: float = 0.2   # invocation records and logs are written in batches this often

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def from_env(cls, **given: object) -> Settings:
        """Flags given (not None) win over LAMBDALITE_* variables, which win over defaults."""
        env = os.environ
        values: dict[str, object] = {
            "home": Path(str(given.get("home") or default_home())).expanduser().resolve(),
            "host": given.get("host") or env.get("LAMBDALITE_HOST", DEFAULT_HOST),
            "port": int(str(given.get("port") or env.get("LAMBDALITE_PORT", DEFAULT_PORT))),
            "region": given.get("region") or env.get("LAMBDALITE_REGION", DEFAULT_REGION),
            "account": given.get("account") or env.get("LAMBDALITE_ACCOUNT", DEFAULT_ACCOUNT),
            "max_concurrency": int(str(given.get("max_concurrency")
                                       or env.get("LAMBDALITE_MAX_CONCURRENCY", DEFAULT_MAX_CONCURRENCY))),
            "idle_timeout_s": float(str(given.get("idle_timeout_s")
                                        or env.get("LAMBDALITE_IDLE_TIMEOUT", DEFAULT_IDLE_TIMEOUT_S))),
        }
        return cls(**values)  # type: ignore[arg-type]
