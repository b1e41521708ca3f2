"""`lambdalite deploy` (a SAM template -> a stack) and `lambdalite test` (saved test events), through the SDK."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import click

from lambdalite.cli.failures import CommandFailed, FunctionFailed
from lambdalite.cli.functions import event_payload
from lambdalite.cli.options import with_client
from lambdalite.cli.output import describe_function_error, format_table
from lambdalite.client import Client
from lambdalite.errors import BuildFailed, StackRejected, TemplateMissing


class DeployRejected(CommandFailed):
    exit_code = 1


def parse_overrides(values: tuple[str, ...]) -> dict[str, str]:
    """`K=V` each, or several in one value as `sam deploy` takes them ("A=1 B=2")."""
    out: dict[str, str] = {}
    for value in values:
        for pair in value.split():
            key, sep, val = pair.partition("=")
            if not sep or not key:
                raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--parameter-overrides")
            out[key] = val
    return out


@click.command()
@click.argument("folder", metavar="[DIR]", default=".", type=click.Path(path_type=Path))
@click.option("--stack-name", metavar="NAME", help="The stack's name. [default: DIR's folder name]")
@click.option("--parameter-overrides", "overrides", multiple=True, metavar="K=V",
              help="A template parameter's value; repeat, or give several as 'A=1 B=2'.")
@click.option("--aws-limits", is_flag=True,
              help="Also warn about code that would not fit on AWS Lambda (50 MB zipped, 250 MB unzipped).")
@click.option("--no-wait", is_flag=True,
              help="Return once the template is accepted; the stack is applied in the background (an alias "
                   "shifting traffic by its DeploymentPreference may take minutes): `lambdalite ls` shows it.")
@with_client
def deploy(client: Client, folder: Path, stack_name: str | None, overrides: tuple[str, ...],
           aws_limits: bool, no_wait: bool) -> None:
    """Deploy DIR/template.yaml (AWS SAM) as a stack: functions, REST APIs, permissions.

    Code folders are zipped here and uploaded only when the server lacks them; the stack is applied
    all or nothing. An alias with a DeploymentPreference shifts its traffic step by step, each step
    printed; errors over its threshold roll the whole update back. Exit status: 0 deployed (or
    unchanged), 1 problems (listed, nothing changed), 2 no template / usage error, 3 the server
    answered an error or could not be reached.
    """
    try:
        result = client.deploy(folder, stack_name, parse_overrides(overrides), progress=click.echo,
                               aws_limits=aws_limits, wait=not no_wait)
    except TemplateMissing as e:
        raise click.UsageError(str(e)) from None
    except StackRejected as e:
        for problem in e.problems:
            click.echo(problem, err=True)
        raise DeployRejected(f"{len(e.problems)} problem(s): the stack was not deployed; "
                             "what was deployed before keeps serving") from None
    click.echo(deploy_summary(result))


def deploy_summary(result: dict[str, Any]) -> str:
    """What deploy prints last: the status, warnings, the stage URLs and the Outputs."""
    lines = [f"stack {result['stack']}: {result['status']}" + ("" if result.get("changed") else " (unchanged)")]
    lines += [f"warning: {w}" for w in result.get("warnings") or []]
    if result.get("stages"):
        lines += ["", "Stage URLs:"] + [f"  {url}" for url in result["stages"]]
    outputs = result.get("outputs") or []
    if outputs:
        rows = [[o["OutputKey"], o.get("OutputValue", ""), o.get("Description", "")] for o in outputs]
        lines += ["", "Outputs:", format_table(("KEY", "VALUE", "DESCRIPTION"), rows)]
    return "\n".join(lines)


@click.command(name="test")
@click.argument("name", metavar="NAME")
@click.argument("event", metavar="[EVENT]", required=False)
@click.option("--save", "save_as", metavar="EVENT", help="Save the event given with --event or -e under this name.")
@click.option("--event", "event_json", metavar="JSON", help="The event to save, as JSON text.")
@click.option("-e", "--event-file", type=click.File("rb"), metavar="FILE", help="The event to save, from FILE.")
@click.option("--log", is_flag=True, help="Print the function's log lines (START ... REPORT) first.")
@with_client
def run_test(client: Client, name: str, event: str | None, save_as: str | None, event_json: str | None,
             event_file: BinaryIO | None, log: bool) -> None:
    """Run function NAME's saved test EVENT, as the console's Test button does; its result is the last line.

    NAME is the function's name, or its logical id in a template when one stack has it. With --save
    EVENT (and --event JSON or -e FILE) the event is stored instead; `lambdalite deploy` stores the
    events/*.json beside a template.
    """
    function = client.function_for(name)
    if save_as is not None:
        payload = event_payload(event_json, event_file)
        if not payload:
            raise click.UsageError("--save needs the event: --event JSON or -e FILE")
        client.save_test_event(function, save_as, payload)
        click.echo(f"Saved test event {save_as} of function {function}.")
        return
    if event is None:
        saved = ", ".join(sorted(client.test_events(function))) or "none yet"
        raise click.UsageError(f"give the EVENT to run; function {function} has: {saved}")
    result = client.invoke(function, payload=client.test_event(function, event), log=log)
    if log and result.log:
        click.echo(result.log, nl=not result.log.endswith("\n"))
    click.echo(result.payload)
    if result.function_error:
        raise FunctionFailed(describe_function_error(function, result.function_error, result.payload,
                                                     result.request_id))


@click.command(name="export")
@click.argument("folder", metavar="[DIR]", default=".", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Where the zips and template.json go.")
def export_app(folder: Path, out: Path) -> None:
    """Make DIR (a SAM app) ready for AWS Lambda: a zip per function and layer with its requirements
    installed for Lambda's platform (wheels only), and OUT/template.json pointing at them, for
    `sam deploy` or `aws cloudformation package`. Runs here; no server needed.
    """
    from lambdalite.export import export

    try:
        template = export(folder, out, say=click.echo)
    except TemplateMissing as e:
        raise click.UsageError(str(e)) from None
    except BuildFailed as e:
        raise DeployRejected(str(e)) from None
    click.echo(f"wrote {template}")
