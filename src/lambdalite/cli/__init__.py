"""The `lambdalite` command.

Owns the command line only: parsing, printing and exit codes. Every command talks to the server
through `lambdalite.client` (the SDK), never to the store; `serve` imports the server lazily.
Exit codes: 0 ok, 1 the function failed, 2 usage error, 3 the server answered an error or could
not be reached, 4 `serve` could not start (see `failures.py`).
"""

from __future__ import annotations

import click

from lambdalite.cli.apis import list_apis
from lambdalite.cli.console import console
from lambdalite.cli.functions import (
    alias_command,
    failed_command,
    invoke,
    list_functions,
    map_command,
    publish,
    remove_function,
    schedules_command,
    traffic_command,
)
from lambdalite.cli.keys import keys
from lambdalite.cli.logs import logs
from lambdalite.cli.observe import budget, cost, stats
from lambdalite.cli.serve import serve
from lambdalite.cli.stacks import deploy, export_app, run_test


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="lambdalite", prog_name="lambdalite")
def main() -> None:
    """Lambdalite: AWS-Lambda-compatible Python functions on your own machine.

    Start a server with `lambdalite serve`; the other commands talk to it at --endpoint
    (LAMBDALITE_ENDPOINT, else http://127.0.0.1:9000).
    """


for command in (serve, deploy, export_app, invoke, run_test, list_functions, logs, remove_function, list_apis,
                publish, alias_command, traffic_command, map_command, schedules_command,
                failed_command, cost, budget, stats, keys, console):
    main.add_command(command)

__all__ = ["main"]
