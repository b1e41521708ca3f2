"""`lambdalite logs`: a function's log lines, optionally followed as they arrive."""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterator

import click

from lambdalite.cli.options import function_name, since_option, with_client
from lambdalite.client import Client, LogEvent

POLL_INTERVAL_S = 0.5
PAGE_SIZE = 1000


def read_logs(client: Client, name: str, since_ms: int | None, follow: bool) -> Iterator[LogEvent]:
    """All events from `since_ms` on, page by page; with `follow`, then new ones as they come."""
    after: int | None = None
    while True:
        page = client.logs(name, since_ms=since_ms, after=after, limit=PAGE_SIZE)
        yield from page.events
        after = page.next
        if len(page.events) < PAGE_SIZE:
            if not follow:
                return
            time.sleep(POLL_INTERVAL_S)


@click.command()
@function_name
@click.option("-f", "--follow", is_flag=True,
              help=f"Keep printing new lines (polls every {POLL_INTERVAL_S} s) until Ctrl-C.")
@since_option
@click.option("--filter", "terms", metavar="TEXT",
              help='Only the lines that contain every word of TEXT ("quoted phrases" count as one), as '
                   "CloudWatch's plain filter patterns do.")
@with_client
def logs(client: Client, name: str, follow: bool, since: int | None, terms: str | None) -> None:
    """Print the log lines of function NAME (all of them unless --since), oldest first."""
    wanted = filter_terms(terms) if terms else []
    try:
        for event in read_logs(client, name, since, follow):
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
