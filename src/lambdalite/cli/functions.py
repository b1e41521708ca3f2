"""`lambdalite invoke`, `ls` and `rm`: functions, through the SDK only."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, TextIO

import click

from lambdalite.cli.failures import FunctionFailed
from lambdalite.cli.options import function_name, with_client
from lambdalite.cli.output import describe_function_error, format_table, function_table, stack_table, traffic_table
from lambdalite.cli.parse import parse_event
from lambdalite.client import Client, InvocationError


def event_payload(event_json: str | None, event_file: BinaryIO | None) -> bytes:
    """The event's bytes from --event or -e FILE (checked to be JSON); none at all is an empty body."""
    if event_json is not None and event_file is not None:
        raise click.UsageError("give the event with --event or with -e/--event-file, not both")
    try:
        if event_file is not None:
            return parse_event(event_file.read(), f"the event file {event_file.name}")
        return parse_event(event_json, "--event") if event_json is not None else b""
    except ValueError as exc:
        hint = """; quote it for the shell, e.g. --event '{"num": "15"}'""" if event_file is None else ""
        raise click.UsageError(f"{exc}{hint}") from None


@click.command()
@function_name
@click.option("--event", "event_json", metavar="JSON",
              help="""The event as JSON text, e.g. '{"num": "15"}'. Without an event the function gets {}.""")
@click.option("-e", "--event-file", type=click.File("rb"), metavar="FILE",
              help="Read the event from FILE ('-': stdin).")
@click.option("-q", "--qualifier", metavar="Q", help="$LATEST, a version number or an alias name.")
@click.option("--log", is_flag=True, help="Print the log tail (START ... REPORT) on stderr first.")
@with_client
def invoke(client: Client, name: str, event_json: str | None, event_file: BinaryIO | None,
           qualifier: str | None, log: bool) -> None:
    """Invoke function NAME and print what it returned.

    Exit status: 0 on success, 1 when the function failed (its error object is printed),
    2 on a usage error, 3 when the server answered an error or could not be reached.
    """
    result = client.invoke(name, payload=event_payload(event_json, event_file), qualifier=qualifier, log=log)
    if log and result.log:
        click.echo(result.log, err=True, nl=not result.log.endswith("\n"))
    click.echo(result.payload)
    if result.function_error:
        raise FunctionFailed(describe_function_error(name, result.function_error, result.payload,
                                                     result.request_id))


@click.command(name="ls")
@with_client
def list_functions(client: Client) -> None:
    """List the functions (name, runtime, memory, timeout, last modified), then the stacks."""
    functions = client.list_functions()
    if functions:
        click.echo(function_table(functions))
    else:
        click.echo(f"No functions at {client.endpoint}; create one with boto3, the AWS CLI "
                   "or `lambdalite deploy`.", err=True)
    stacks = client.list_stacks()
    if stacks:
        if functions:
            click.echo("")
        click.echo(stack_table(stacks))


@click.command(name="rm")
@click.argument("name", metavar="[NAME]", required=False)
@click.option("--stack", metavar="STACK", help="Delete stack STACK and everything it made instead.")
@with_client
def remove_function(client: Client, name: str | None, stack: str | None) -> None:
    """Delete function NAME, or with --stack a whole stack (its functions and APIs)."""
    if (name is None) == (stack is None):
        raise click.UsageError("give a function NAME or --stack STACK")
    if stack is not None:
        client.delete_stack(stack)
        click.echo(f"Deleted stack {stack} and everything it made from {client.endpoint}.")
        return
    assert name is not None
    client.delete_function(name)
    click.echo(f"Deleted function {name} from {client.endpoint}.")


@click.command()
@function_name
@click.option("--description", metavar="TEXT", help="The version's description.")
@with_client
def publish(client: Client, name: str, description: str | None) -> None:
    """Publish function NAME's $LATEST as a new version and print its number.

    Versions are immutable and numbered 1, 2, ...; when nothing changed since the newest version,
    that version is the answer and no new one is made (as on AWS).
    """
    wait_settled(client, name)
    before = {v["Version"] for v in client.list_versions(name)}
    version = client.publish_version(name, description)
    number = version["Version"]
    if number in before:
        click.echo(f"{name}: nothing changed since version {number}; no new version", err=True)
    else:
        click.echo(f"{name}: published version {number} (code {version['CodeSha256']})", err=True)
    click.echo(number)


def wait_settled(client: Client, name: str, timeout_s: float = 600) -> None:
    """Wait while the function is being created or updated (publishing then would be refused)."""
    deadline = time.monotonic() + timeout_s
    said = False
    while True:
        conf = client.get_function(name)["Configuration"]
        if conf.get("State") != "Pending" and conf.get("LastUpdateStatus") != "InProgress":
            return
        if not said:
            click.echo(f"{name}: waiting for its update to finish before publishing ...", err=True)
            said = True
        if time.monotonic() > deadline:
            raise click.ClickException(f"{name} is still being updated after {timeout_s:.0f} s; publish later")
        time.sleep(0.2)


def parse_weight(text: str) -> tuple[str, float]:
    version, sep, share = text.partition("=")
    try:
        if not sep or not version.strip().isdigit():
            raise ValueError
        return version.strip(), float(share)
    except ValueError:
        raise click.BadParameter(f"{text!r}: give VERSION=SHARE, e.g. --weight 2=0.1", param_hint="--weight") from None


@click.command(name="alias")
@function_name
@click.argument("alias", metavar="ALIAS")
@click.option("--version", "version", required=True, metavar="V", help="The version ALIAS points at.")
@click.option("--weight", metavar="V2=SHARE",
              help="Send SHARE (0 to 1) of the invocations to version V2 instead, e.g. --weight 2=0.1.")
@click.option("--description", metavar="TEXT", help="The alias's description.")
@click.option("--shadow", metavar="V2", help="Also run every call on version V2, off the caller's path, and "
                                             "compare the answers (Lambdalite's shadow traffic; see `traffic`).")
@click.option("--compare", metavar="PATH", help="With --shadow: compare only this part of the answers, a "
                                              "dotted path such as body.class (a proxy response's body is "
                                              "parsed as JSON first).")
@click.option("--no-shadow", is_flag=True, help="Stop the alias's shadow traffic.")
@with_client
def alias_command(client: Client, name: str, alias: str, version: str, weight: str | None,
                  description: str | None, shadow: str | None, compare: str | None, no_shadow: bool) -> None:
    """Point ALIAS of function NAME at a version (creating the alias when it is new).

    Invoke it as NAME:ALIAS (`lambdalite invoke NAME:live`), or put it in an API Gateway integration's
    function ARN. Without --weight any earlier split is removed.
    """
    if shadow is not None and no_shadow:
        raise click.UsageError("give --shadow V2 or --no-shadow, not both")
    weights = dict([parse_weight(weight)]) if weight else {}
    made = client.put_alias(name, alias, version, weights, description)
    if shadow is not None or no_shadow:
        shadowed = client.set_shadow(name, alias, None if no_shadow else shadow, compare)
        if shadowed.get("ShadowVersion"):
            click.echo(f"{name}:{alias} is shadowed by version {shadowed['ShadowVersion']}", err=True)
    routing = (made.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    extra = sum(routing.values())
    parts = [f"version {made['FunctionVersion']} ({1 - extra:.0%})"] + [f"version {v} ({w:.0%})"
                                                                          for v, w in routing.items()]
    click.echo(f"{name}:{alias} -> " + ", ".join(parts) if routing else f"{name}:{alias} -> version "
               f"{made['FunctionVersion']}")


@click.command(name="traffic")
@function_name
@click.argument("alias", metavar="ALIAS")
@with_client
def traffic_command(client: Client, name: str, alias: str) -> None:
    """Champion vs challenger: each version behind ALIAS (calls, errors, share, p50/p99 latency) and,
    when the alias has a shadow, how often its answers agree, with examples that did not."""
    click.echo(traffic_table(client.traffic(name, alias)))


@click.command(name="map")
@function_name
@click.option("--items", "items_file", required=True, type=click.File("r"), metavar="FILE.jsonl",
              help="One JSON payload per line ('-': stdin).")
@click.option("--out", "out_file", type=click.File("w"), metavar="FILE.jsonl",
              help="Where the results go, one line per item in input order [default: stdout].")
@click.option("--concurrency", type=click.IntRange(min=1), help="Items run at once [default: the server's cores].")
@click.option("--retries", type=click.IntRange(min=0), default=0, show_default=True,
              help="Tries again an item whose function failed this many more times.")
@click.option("-q", "--qualifier", metavar="Q", help="$LATEST, a version number or an alias name.")
@with_client
def map_command(client: Client, name: str, items_file: TextIO, out_file: TextIO | None, concurrency: int | None,
                retries: int, qualifier: str | None) -> None:
    """Invoke NAME once per line of FILE.jsonl and write one line per item, in input order:
    {"index": i, "result": ...} or {"index": i, "error": {"type": ..., "message": ...}}.

    A progress bar shows on stderr. Ctrl-C stops and writes the items that finished. Exit status: 0
    when every item succeeded, 1 when some failed (their lines say why), 2 on a usage error (a line
    that is not JSON is named before anything runs), 3 when the server failed.
    """
    payloads = read_items(items_file)
    results: dict[int, Any] = {}
    with map_progress(len(payloads)) as advance:
        try:
            for index, result in client.imap(name, payloads, qualifier=qualifier, concurrency=concurrency,
                                             retries=retries):
                results[index] = result
                advance(isinstance(result, InvocationError))
        except KeyboardInterrupt:
            click.echo(f"stopped: {len(results)} of {len(payloads)} items finished", err=True)
    out: TextIO = out_file if out_file is not None else sys.stdout
    failed = 0
    for index in sorted(results):
        result = results[index]
        if isinstance(result, InvocationError):
            failed += 1
            line = {"index": index, "error": {"type": result.error_type, "message": result.message,
                                              "requestId": result.request_id}}
        else:
            line = {"index": index, "result": result}
        out.write(json.dumps(line) + "\n")
    out.flush()
    if failed:
        raise FunctionFailed(f"{failed} of {len(payloads)} items failed")


def read_items(source: TextIO) -> list[Any]:
    items = []
    for number, line in enumerate(source, 1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except ValueError as exc:
            raise click.UsageError(f"{getattr(source, 'name', 'the items')} line {number} is not JSON: {exc}") from None
    return items


@contextlib.contextmanager
def map_progress(total: int) -> Iterator[Callable[[bool], None]]:
    """A progress bar on stderr (done, failed, rate, time left) while items finish."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(f"{task.speed:.0f}/s" if task.speed else "-/s")

    failed = [0]
    columns = (TextColumn("map"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[failed]} failed"),
               Rate(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task("map", total=total, failed=0)

        def advance(failure: bool) -> None:
            failed[0] += failure
            progress.update(task, advance=1, failed=failed[0])
        yield advance


@click.command(name="schedules")
@with_client
def schedules_command(client: Client) -> None:
    """List the schedules of the deployed stacks (SAM Schedule / ScheduleV2 events) with their next run."""
    found = client.schedules()
    if not found:
        click.echo(f"No schedules at {client.endpoint}: a SAM function's Schedule or ScheduleV2 event makes one.",
                   err=True)
        return
    rows = [[s["stack"], s["name"], s["expression"] + (f" ({s['timezone']})" if s.get("timezone") else ""),
             s["function"] + (f":{s['qualifier']}" if s.get("qualifier") else ""),
             s["next"] or ("disabled" if not s.get("enabled", True) else "none")] for s in found]
    click.echo(format_table(("STACK", "NAME", "EXPRESSION", "FUNCTION", "NEXT RUN (UTC)"), rows))


@click.command(name="failed")
@function_name
@click.option("--replay", is_flag=True, help="Send each kept event to NAME again (async), and drop the records.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@with_client
def failed_command(client: Client, name: str, replay: bool, limit: int) -> None:
    """List the async outcomes kept for NAME: records for destinations and dead-letter queues that have
    no service here (SQS, SNS, EventBridge, S3), newest first; --replay sends their events again."""
    if replay:
        click.echo(f"{name}: {client.replay_failed(name)} events sent again")
        return
    records = client.failed(name, limit)
    if not records:
        click.echo(f"{name}: nothing kept", err=True)
        return
    rows = []
    for item in records:
        record = item["record"]
        event = record.get("requestPayload", record.get("body"))
        rows.append([str(item["id"]), time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(item["created"])),
                     str((record.get("requestContext") or {}).get("condition", "")), item["destination"],
                     (json.dumps(event) if not isinstance(event, str) else event)[:60]])
    click.echo(format_table(("ID", "WHEN (UTC)", "CONDITION", "DESTINATION", "EVENT"), rows))
