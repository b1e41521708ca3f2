"""`lambdalite logs`: a function's log lines, optionally followed as they arrive."""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterator

import click

from lambdalite.cli.options import since_option, with_client
from lambdalite.client import Client, LogEvent

POLL_INTERVAL_S = 0.5
PAGE_SIZE = 1000


def read_logs(client: Client, name: str, since_ms: int | None, follow: bool,
              group: str | None = None) -> Iterator[LogEvent]:
    """All events from `since_ms` on, page by page; with `follow`, then new ones as they come."""
    after: int | None = None
    while True:
        page = client.logs(name, since_ms=since_ms, after=after, limit=PAGE_SIZE, group=group)
        yield from page.events
        after = page.next
        if len(page.events) < PAGE_SIZE:
            if not follow:
                return
            time.sleep(POLL_INTERVAL_S)


@click.command()
@click.argument("name", metavar="NAME", required=False)
@click.option("--api", metavar="API", help="A REST API (name or id): its stage's API Gateway execution log instead.")
@click.option("--stage", metavar="STAGE", help="The stage of --api.")
@click.option("-f", "--follow", is_flag=True,
              help=f"Keep printing new lines (polls every {POLL_INTERVAL_S} s) until Ctrl-C.")
@since_option
@click.option("--filter", "terms", metavar="TEXT",
              help='Only the lines that contain every word of TEXT ("quoted phrases" count as one), as '
                   "CloudWatch's plain filter patterns do.")
@with_client
def logs(client: Client, name: str | None, api: str | None, stage: str | None, follow: bool, since: int | None,
         terms: str | None) -> None:
    """Print the log lines of function NAME (all of them unless --since), oldest first; or, with
    --api and --stage, the stage's execution log (why a request failed; every step at INFO)."""
    wanted = filter_terms(terms) if terms else []
    group = None
    if api is not None or stage is not None:
        if name is not None or api is None or stage is None:
            raise click.UsageError("give a function NAME, or --api API and --stage STAGE (not both)")
        group = execution_log_group(client, api, stage)
    elif name is None:
        raise click.UsageError("give a function NAME (or --api API --stage STAGE for an API's execution log)")
    try:
        for event in read_logs(client, name or "", since, follow, group):
            if all(term in event.message for term in wanted):
                click.echo(event.message, nl=not event.message.endswith("\n"))
    except KeyboardInterrupt:  # the way to stop --follow: not an error
        pass


def filter_terms(text: str) -> list[str]:
    """Words and "quoted phrases", each of which a line must contain."""
    try:
        return [t for t in shlex.split(text) if t]
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: {exc}", param_hint="--filter") from None


def execution_log_group(client: Client, api: str, stage: str) -> str:
    """API Gateway's execution log group of a REST API (by id, or by a name only one API has) and stage."""
    apis = client.list_apis()
    found = [a for a in apis if a.get("id") == api] or [a for a in apis if a.get("name") == api]
    if len(found) != 1:
        raise click.UsageError(f"{'no' if not found else 'more than one'} REST API is named {api!r}"
                               + ("; give its id" if found else "; `lambdalite apis` lists them"))
    if stage not in {s.get("stageName") for s in found[0].get("stages") or []}:
        raise click.UsageError(f"API {api} has no stage {stage!r}")
    return f"API-Gateway-Execution-Logs_{found[0]['id']}/{stage}"
