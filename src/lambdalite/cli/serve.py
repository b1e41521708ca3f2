"""`lambdalite serve`: run the server in the foreground."""

from __future__ import annotations

from pathlib import Path

import click

from lambdalite.cli.failures import ServeRefused
from lambdalite.config import (
    DEFAULT_ACCOUNT,
    DEFAULT_BUILD_TIMEOUT_S,
    DEFAULT_HOST,
    DEFAULT_IDLE_TIMEOUT_S,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_METRIC_SERIES,
    DEFAULT_MAX_RECORDS,
    DEFAULT_MAX_UNZIPPED_MB,
    DEFAULT_MAX_ZIP_MB,
    DEFAULT_PORT,
    DEFAULT_REGION,
    DEFAULT_RETENTION_DAYS,
    DEFAULT_ZYGOTE_IDLE_TIMEOUT_S,
    Settings,
)
from lambdalite.errors import ServerCannotStart


def _default(variable: str, value: object) -> str:
    return f"[default: {variable}, else {value}]"


@click.command()
@click.option("--host", help=f"Interface to listen on. {_default('LAMBDALITE_HOST', DEFAULT_HOST)}")
@click.option("--port", type=click.IntRange(0, 65535),
              help=f"Port to listen on; 0 picks a free one. {_default('LAMBDALITE_PORT', DEFAULT_PORT)}")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path),
              help="Where functions, code and logs are kept. "
                   "[default: LAMBDALITE_HOME, else ~/.lambdalite; as root /var/lib/lambdalite]")
@click.option("--region", help=f"Region in ARNs and URLs. {_default('LAMBDALITE_REGION', DEFAULT_REGION)}")
@click.option("--account", help=f"Account id in ARNs. {_default('LAMBDALITE_ACCOUNT', DEFAULT_ACCOUNT)}")
@click.option("--max-concurrency", type=click.IntRange(min=0),
              help="In-flight invocations across the server; more are throttled (429), 0 throttles all. "
                   + _default("LAMBDALITE_MAX_CONCURRENCY", DEFAULT_MAX_CONCURRENCY))
@click.option("--idle-timeout", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Stop an instance idle this long; 0 stops it right after each invocation. "
                   + _default("LAMBDALITE_IDLE_TIMEOUT", f"{DEFAULT_IDLE_TIMEOUT_S:g}"))
@click.option("--max-instances", type=click.IntRange(min=1), metavar="N",
              help="At most N live instances per function; more concurrent calls wait for one (a cap for "
                   "small machines and benchmarks). [default: LAMBDALITE_MAX_INSTANCES, else as many as "
                   "the calls need, started at most as many at once as there are cores]")
@click.option("--zygotes/--no-zygotes", default=None,
              help="Fork new instances from a zygote per dependency environment (milliseconds), or start "
                   "each as a fresh interpreter. " + _default("LAMBDALITE_ZYGOTES", "on"))
@click.option("--zygote-idle-timeout", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Stop a zygote that has had no instance for this long. "
                   + _default("LAMBDALITE_ZYGOTE_IDLE_TIMEOUT", f"{DEFAULT_ZYGOTE_IDLE_TIMEOUT_S:g}"))
@click.option("--build-timeout", type=click.FloatRange(min=1), metavar="SECONDS",
              help="Resolving, or installing, one function's requirements.txt may take this long. "
                   + _default("LAMBDALITE_BUILD_TIMEOUT", f"{DEFAULT_BUILD_TIMEOUT_S:g}"))
@click.option("--max-zip-mb", type=click.IntRange(min=1), metavar="MB",
              help="A function's or layer's zip may be this large (AWS: 50). "
                   + _default("LAMBDALITE_MAX_ZIP_MB", DEFAULT_MAX_ZIP_MB))
@click.option("--max-unzipped-mb", type=click.IntRange(min=1), metavar="MB",
              help="A function's code and layers unzipped may be this large (AWS: 250). "
                   + _default("LAMBDALITE_MAX_UNZIPPED_MB", DEFAULT_MAX_UNZIPPED_MB))
@click.option("--async-concurrency", type=click.IntRange(min=1), metavar="N",
              help="Async (Event) invocations running at once, over all functions. [default: "
                   "LAMBDALITE_ASYNC_CONCURRENCY, else the cores]")
@click.option("--async-share", type=click.FloatRange(0, 1, min_open=True), metavar="SHARE",
              help="Of a function's reserved concurrency, the share its async invocations may use, so that a "
                   "backlog leaves room for synchronous calls. [default: LAMBDALITE_ASYNC_SHARE, else 0.5]")
@click.option("--records/--no-records", default=None,
              help="Keep invocation records, log lines and metrics (cost and budgets are kept either way). "
                   + _default("LAMBDALITE_RECORDS", "on"))
@click.option("--retention-days", type=click.FloatRange(min=0, min_open=True), metavar="DAYS",
              help="Invocation records and log lines older than this are deleted (in the background). "
                   + _default("LAMBDALITE_RETENTION_DAYS", f"{DEFAULT_RETENTION_DAYS:g}"))
@click.option("--max-records", type=click.IntRange(min=1), metavar="N",
              help="At most N invocation records (and N invocations' log lines); the oldest go first. "
                   + _default("LAMBDALITE_MAX_RECORDS", DEFAULT_MAX_RECORDS))
@click.option("--max-metric-series", type=click.IntRange(min=1), metavar="N",
              help="At most N (function, version) series per metric in /_lambdalite/metrics; later ones are "
                   "counted under function=\"_other\". " + _default("LAMBDALITE_MAX_METRIC_SERIES",
                                                                      DEFAULT_MAX_METRIC_SERIES))
@click.option("--price-table", type=click.Path(dir_okay=False, exists=True, path_type=Path), metavar="FILE",
              help="A JSON price table replacing AWS's us-east-1 Lambda prices (docs/cost.md has its shape). "
                   + _default("LAMBDALITE_PRICE_TABLE", "AWS's"))
@click.option("--free-tier/--no-free-tier", default=None,
              help="Count AWS's monthly free tier (1M requests, 400,000 GB-s) in the cost. "
                   + _default("LAMBDALITE_FREE_TIER", "off: the cost shown is what the work costs"))
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="Another Host name the management and invoke APIs answer to (repeatable; besides localhost, "
                   "127.0.0.1, [::1], the --host address and *.execute-api.localhost). "
                   "[default: LAMBDALITE_ALLOWED_HOSTS, comma-separated]")
@click.option("--insecure", is_flag=True,
              help="Listen beyond loopback although no credentials are configured, so that anyone who can "
                   "reach the port can run code on this machine. See docs/security.md.")
@click.option("--metrics-token", metavar="TOKEN",
              help="Bearer token /_lambdalite/metrics asks of scrapers beyond loopback (Prometheus cannot "
                   "sign). [default: LAMBDALITE_METRICS_TOKEN]")
@click.option("--test-clock", is_flag=True,
              help="Timers (idle timeouts, ...) wait on a clock that stands still until "
                   "POST /_lambdalite/clock {\"advance_s\": N} moves it. For tests.")
def serve(host: str | None, port: int | None, home: Path | None, region: str | None, account: str | None,
          max_concurrency: int | None, idle_timeout: float | None, max_instances: int | None, zygotes: bool | None,
          zygote_idle_timeout: float | None, build_timeout: float | None,
          max_zip_mb: int | None, max_unzipped_mb: int | None, async_concurrency: int | None,
          async_share: float | None, test_clock: bool, **observing: object) -> None:
    """Run the Lambdalite server in the foreground until Ctrl-C.

    One port answers the Lambda API (boto3 and the AWS CLI with --endpoint-url), API Gateway
    stages and Lambdalite's own /_lambdalite/ endpoints. Flags win over LAMBDALITE_* variables.
    """
    from lambdalite.observe.pricing import PriceTable, PriceTableError
    from lambdalite.server import serve as run_server  # heavy; only this command needs the server

    try:
        settings = Settings.from_env(host=host, port=port, home=home, region=region, account=account,
                                     max_concurrency=max_concurrency, idle_timeout_s=idle_timeout,
                                     zygotes=zygotes, zygote_idle_timeout_s=zygote_idle_timeout,
                                     max_instances=max_instances,
                                     build_timeout_s=build_timeout, max_zip_mb=max_zip_mb,
                                     max_unzipped_mb=max_unzipped_mb, test_clock=test_clock,
                                     async_concurrency=async_concurrency, async_share=async_share,
                                     **observing)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    try:
        PriceTable.load(settings.price_table)
    except PriceTableError as e:
        raise click.UsageError(f"--price-table: {e}") from None
    try:
        run_server(settings)
    except ServerCannotStart as e:
        raise ServeRefused(str(e)) from None
