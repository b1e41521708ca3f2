"""Server settings: from `lambdalite serve` flags, else LAMBDALITE_* variables, else defaults."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9000
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"
DEFAULT_MAX_CONCURRENCY = 1000  # in-flight invocations across the server (AWS's default account limit)
DEFAULT_IDLE_TIMEOUT_S = 600.0  # an idle instance is stopped after this long (0: right after each invocation)
DEFAULT_ZYGOTE_IDLE_TIMEOUT_S = 600.0  # a zygote without instances for this long stops
DEFAULT_BUILD_TIMEOUT_S = 900.0  # resolving or installing one dependency environment may take this long
DEFAULT_MAX_ZIP_MB = 1024        # a function's or layer's zip (AWS: 50 MB uploaded directly)
DEFAULT_MAX_UNZIPPED_MB = 4096   # code and layers unzipped (AWS: 250 MB)
DEFAULT_RETENTION_DAYS = 7.0     # invocation records and log lines are kept this long
DEFAULT_MAX_RECORDS = 1_000_000  # and at most this many (the oldest go first)
DEFAULT_MAX_METRIC_SERIES = 1000  # (function, version) label sets per metric; later ones count as "_other"

T = TypeVar("T")


ROOT_HOME = Path("/var/lib/lambdalite")


def default_home() -> Path:
    """LAMBDALITE_HOME, else ~/.lambdalite; for root /var/lib/lambdalite, which function users can
    reach (/root cannot be entered by them: docs/security.md), unless /root/.lambdalite exists already."""
    given = os.environ.get("LAMBDALITE_HOME")
    if given:
        return Path(given)
    own = Path.home() / ".lambdalite"
    if hasattr(os, "geteuid") and os.geteuid() == 0 and not own.exists():
        return ROOT_HOME
    return own


@dataclass(frozen=True)
class Settings:
    home: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT               # 0: a free port, chosen when the server binds
    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY   # 0 throttles every invocation
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S
    zygotes: bool = True                   # False: every instance is a fresh interpreter
    max_instances: int | None = None       # live instances per function version (None: as many as it needs)
    zygote_idle_timeout_s: float = DEFAULT_ZYGOTE_IDLE_TIMEOUT_S
    test_clock: bool = False               # timers wait on a clock that only POST /_lambdalite/clock moves
    build_timeout_s: float = DEFAULT_BUILD_TIMEOUT_S
    max_zip_mb: int = DEFAULT_MAX_ZIP_MB
    max_unzipped_mb: int = DEFAULT_MAX_UNZIPPED_MB
    flush_interval_s: float = 0.2          # invocation records and logs are written in batches this often
    async_concurrency: int | None = None   # async events running at once, over all functions (None: the cores)
    async_share: float = 0.5               # of a function's reserved concurrency, what its async events may use
    records: bool = True                   # False: no invocation records, log lines or metrics (cost stays)
    retention_days: float = DEFAULT_RETENTION_DAYS
    max_records: int = DEFAULT_MAX_RECORDS
    max_metric_series: int = DEFAULT_MAX_METRIC_SERIES
    price_table: Path | None = None        # a JSON price table replacing AWS's us-east-1 prices
    free_tier: bool = False                # count AWS's monthly free tier in the cost
    allowed_hosts: tuple[str, ...] = ()    # Host names answered besides loopback's and the bound address
    insecure: bool = False                 # listen beyond loopback though requests are not checked
    metrics_token: str | None = None       # bearer token for /_lambdalite/metrics from beyond loopback

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @classmethod
    def from_env(cls, **given: Any) -> Settings:
        """Flags given (not None) win over LAMBDALITE_* variables (when set and not empty), which win
        over defaults. A given 0 is a value like any other (`--idle-timeout 0`, `--port 0`)."""
        return cls(
            home=Path(given["home"] if given.get("home") is not None else default_home()).expanduser().resolve(),
            host=_pick(given.get("host"), "LAMBDALITE_HOST", DEFAULT_HOST, str),
            port=_pick(given.get("port"), "LAMBDALITE_PORT", DEFAULT_PORT, int),
            region=_pick(given.get("region"), "LAMBDALITE_REGION", DEFAULT_REGION, str),
            account=_pick(given.get("account"), "LAMBDALITE_ACCOUNT", DEFAULT_ACCOUNT, str),
            max_concurrency=_pick(given.get("max_concurrency"), "LAMBDALITE_MAX_CONCURRENCY",
                                  DEFAULT_MAX_CONCURRENCY, int),
            idle_timeout_s=_pick(given.get("idle_timeout_s"), "LAMBDALITE_IDLE_TIMEOUT", DEFAULT_IDLE_TIMEOUT_S,
                                 float),
            zygotes=_pick(given.get("zygotes"), "LAMBDALITE_ZYGOTES", True, _boolean),
            max_instances=_pick(given.get("max_instances"), "LAMBDALITE_MAX_INSTANCES", None, _positive),
            zygote_idle_timeout_s=_pick(given.get("zygote_idle_timeout_s"), "LAMBDALITE_ZYGOTE_IDLE_TIMEOUT",
                                        DEFAULT_ZYGOTE_IDLE_TIMEOUT_S, float),
            test_clock=bool(given.get("test_clock")),
            build_timeout_s=_pick(given.get("build_timeout_s"), "LAMBDALITE_BUILD_TIMEOUT", DEFAULT_BUILD_TIMEOUT_S,
                                  float),
            max_zip_mb=_pick(given.get("max_zip_mb"), "LAMBDALITE_MAX_ZIP_MB", DEFAULT_MAX_ZIP_MB, int),
            max_unzipped_mb=_pick(given.get("max_unzipped_mb"), "LAMBDALITE_MAX_UNZIPPED_MB",
                                  DEFAULT_MAX_UNZIPPED_MB, int),
            async_concurrency=_pick(given.get("async_concurrency"), "LAMBDALITE_ASYNC_CONCURRENCY", None, _positive),
            async_share=_pick(given.get("async_share"), "LAMBDALITE_ASYNC_SHARE", 0.5, _share),
            records=_pick(given.get("records"), "LAMBDALITE_RECORDS", True, _boolean),
            retention_days=_pick(given.get("retention_days"), "LAMBDALITE_RETENTION_DAYS", DEFAULT_RETENTION_DAYS,
                                 _positive_float),
            max_records=_pick(given.get("max_records"), "LAMBDALITE_MAX_RECORDS", DEFAULT_MAX_RECORDS, _positive),
            max_metric_series=_pick(given.get("max_metric_series"), "LAMBDALITE_MAX_METRIC_SERIES",
                                    DEFAULT_MAX_METRIC_SERIES, _positive),
            price_table=_pick(given.get("price_table"), "LAMBDALITE_PRICE_TABLE", None,
                              lambda v: Path(v).expanduser().resolve()),
            free_tier=_pick(given.get("free_tier"), "LAMBDALITE_FREE_TIER", False, _boolean),
            insecure=bool(given.get("insecure")),
            metrics_token=_pick(given.get("metrics_token"), "LAMBDALITE_METRICS_TOKEN", None, str),
            allowed_hosts=tuple(given.get("allowed_hosts") or ()) or tuple(
                h.strip() for h in os.environ.get("LAMBDALITE_ALLOWED_HOSTS", "").split(",") if h.strip()),
        )


def _positive(value: Any) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(f"{value!r} is not a whole number of 1 or more")
    return number


def _positive_float(value: Any) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError(f"{value!r} is not a number above 0")
    return number


def _share(value: Any) -> float:
    number = float(value)
    if not 0 < number <= 1:
        raise ValueError(f"{value!r} is not a share above 0 and at most 1")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{value!r} is not a boolean")


def _pick(flag: Any, variable: str, default: T, convert: Callable[[Any], T]) -> T:
    if flag is not None:
        return convert(flag)
    raw = os.environ.get(variable)
    if raw is None or raw.strip() == "":
        return default
    try:
        return convert(raw)
    except ValueError:
        raise ValueError(f"{variable}={raw!r} is not a valid value") from None
